// linegate-config-bench: how long a routing change takes from YAML to the
// workers, and what a route costs in memory, for --routes N VirtualService
// routes (default: 1,000 and 10,000).
//
// The config is what a large ingress carries: one Gateway, --services
// ServiceEntries each with a two-subset DestinationRule, and VirtualServices
// of 10 HTTP routes each (uri prefix + header match, a 90/10 canary split).
//
// Offline phases, each timed alone on one thread:
//   parse     YAML text → resources (ctrl/crd loader)
//   analyze   schema + CEL + semantic + cross-resource checks (ctrl/validate)
//   compile   resources → GatewaySnapshot for the node (ctrl/compile)
//   serialize deterministic bytes (what travels and what is hashed)
//   tables    snapshot → runtime tables (dataplane/config)
// End to end, through the real pieces in one process:
//   apply → agent validates + compiles → gRPC stream → DiscoveryClient →
//   tables built → RCU publish with a worker thread reading every pass →
//   grace period over. "push" is apply → snapshot handed to the gateway;
//   "swap" is tables built + published + the old ones freed.
// Memory per route: serialized snapshot, the snapshot in memory (protobuf's
// SpaceUsedLong), runtime tables; and jemalloc's allocated-bytes delta over
// holding one snapshot plus its tables.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <jemalloc/jemalloc.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "ctrl/agent/agent.h"
#include "ctrl/client/discovery_client.h"
#include "ctrl/compile/compiler.h"
#include "ctrl/crd/loader.h"
#include "ctrl/validate/analyze.h"
#include "dataplane/config/publisher.h"
#include "dataplane/config/runtime_tables.h"
#include "dataplane/runtime/eal.h"

namespace lg::bench {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
constexpr unsigned kRoutesPerVs = 10;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string make_config(unsigned routes, unsigned services, unsigned variant) {
  std::ostringstream o;
  o << "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: ingress, namespace: istio-system}\n"
       "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
       "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n";
  for (unsigned s = 0; s < services; ++s) {
    o << "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: svc" << s
      << ", namespace: istio-system}\nspec:\n  hosts: [svc" << s
      << ".bench.internal]\n  location: MESH_INTERNAL\n  resolution: STATIC\n"
         "  ports: [{number: 8080, name: http, protocol: HTTP}]\n  endpoints:\n"
      << "  - {address: 10." << (s >> 8 & 255) << "." << (s & 255) << ".1, labels: {version: v1}}\n"
      << "  - {address: 10." << (s >> 8 & 255) << "." << (s & 255) << ".2, labels: {version: v2}}\n";
    o << "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: svc" << s
      << ", namespace: istio-system}\nspec:\n  host: svc" << s
      << ".bench.internal\n  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1000}}}\n"
         "  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}\n";
  }
  const unsigned vss = (routes + kRoutesPerVs - 1) / kRoutesPerVs;
  unsigned made = 0;
  for (unsigned v = 0; v < vss; ++v) {
    o << "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs" << v
      << ", namespace: istio-system}\nspec:\n  hosts: [app" << v << ".example.com]\n  gateways: [ingress]\n  http:\n";
    for (unsigned r = 0; r < kRoutesPerVs && made < routes; ++r, ++made) {
      const unsigned svc = made % services;
      o << "  - name: r" << r << "\n    match:\n    - uri: {prefix: /api/v" << variant << "/r" << r
        << "}\n      headers: {x-tenant: {exact: t" << r << "}}\n    route:\n"
        << "    - {destination: {host: svc" << svc << ".bench.internal, subset: v1, port: {number: 8080}}, weight: 90}\n"
        << "    - {destination: {host: svc" << svc << ".bench.internal, subset: v2, port: {number: 8080}}, weight: 10}\n";
    }
  }
  return o.str();
}

uint64_t jemalloc_allocated() {
  uint64_t epoch = 1;
  size_t sz = sizeof(epoch);
  mallctl("epoch", &epoch, &sz, &epoch, sz);
  size_t allocated = 0;
  sz = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &sz, nullptr, 0) != 0) return 0;
  return allocated;
}

Bootstrap bench_node() {
  Bootstrap b;
  b.node.id = "bench-gw";
  b.node.ns = "istio-system";
  b.node.labels = {{"istio", "ingressgateway"}};
  return b;
}

template <typename F>
double median_ms(unsigned reps, F&& f) {
  std::vector<double> v;
  for (unsigned i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    f();
    v.push_back(ms_since(t0));
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A worker stand-in: reads the tables once per pass and reports quiescence,
// as dataplane/runtime/worker.cc does, so publish() waits a real grace period.
class Reader {
 public:
  explicit Reader(config::TablePublisher& pub) : pub_(pub), thread_([this] { run(); }) {}
  ~Reader() {
    stop_ = true;
    thread_.join();
  }
  uint64_t seen() const { return seen_.load(); }

 private:
  void run() {
    pub_.register_reader(0);
    while (!stop_.load(std::memory_order_relaxed)) {
      if (const config::RuntimeTables* t = pub_.tables()) {
        seen_.store(t->generation, std::memory_order_relaxed);
        pub_.adopted(0, t->generation);  // as a worker does once it moved its state over
      }
      pub_.quiescent(0);
      std::this_thread::sleep_for(std::chrono::microseconds(50));  // a worker's idle nap
    }
    pub_.unregister_reader(0);
  }
  config::TablePublisher& pub_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> seen_{0};
  std::thread thread_;
};

struct EndToEnd {
  double apply_to_push_ms = 0, swap_ms = 0, total_ms = 0;
  std::string version;
};

json run_one(unsigned routes, unsigned services, unsigned reps) {
  const Bootstrap node = bench_node();
  const ctrl::GatewayNode gnode{node.node.id, "", "", node.node.ns, node.node.labels};
  const std::string yaml = make_config(routes, services, 0);
  json r;
  r["routes"] = routes;
  r["services"] = services;
  r["yaml_bytes"] = yaml.size();

  std::vector<ctrl::Resource> res;
  r["parse_ms"] = median_ms(reps, [&] {
    ctrl::Diagnostics d;
    res = ctrl::load_text(yaml, "bench.yaml", d);
  });
  r["analyze_ms"] = median_ms(reps, [&] {
    ctrl::Diagnostics d;
    ctrl::analyze(res, d);
    if (d.has_errors()) {
      for (const auto& x : d.items())
        if (x.severity == ctrl::Severity::error) fprintf(stderr, "%s\n", x.format().c_str());
      std::exit(1);
    }
  });
  linegate::snapshot::v1::GatewaySnapshot snap;
  r["compile_ms"] = median_ms(reps, [&] { snap = ctrl::compile_snapshot(res, gnode); });
  std::string bytes;
  r["serialize_ms"] = median_ms(reps, [&] { bytes = ctrl::serialize_snapshot(snap); });
  auto shared = std::make_shared<const linegate::snapshot::v1::GatewaySnapshot>(snap);
  std::string error;
  r["tables_ms"] = median_ms(reps, [&] {
    if (!config::build_tables(shared, node, &error)) {
      fprintf(stderr, "tables: %s\n", error.c_str());
      std::exit(1);
    }
  });

  // Memory: one snapshot and its tables, as a gateway holds them.
  const uint64_t before = jemalloc_allocated();
  std::unique_ptr<config::RuntimeTables> tables;
  {
    linegate::snapshot::v1::GatewaySnapshot parsed;
    parsed.ParseFromString(bytes);
    tables = config::build_tables(std::make_shared<const linegate::snapshot::v1::GatewaySnapshot>(std::move(parsed)),
                                  node, &error);
  }
  const uint64_t held = jemalloc_allocated() - before;
  r["snapshot_wire_bytes_per_route"] = static_cast<double>(bytes.size()) / routes;
  r["snapshot_memory_bytes_per_route"] = static_cast<double>(tables->snapshot->SpaceUsedLong()) / routes;
  r["tables_bytes_per_route"] = static_cast<double>(tables->table_bytes()) / routes;
  r["gateway_heap_bytes_per_route"] = static_cast<double>(held) / routes;
  tables.reset();

  // End to end through an agent and a gateway client in this process.
  auto pub = config::TablePublisher::create(1, &error);
  if (!pub) {
    fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  Reader reader(*pub);
  ctrl::AgentOptions ao;
  ao.listen = "127.0.0.1:0";
  ctrl::Agent agent(ao);
  if (!agent.start(error)) {
    fprintf(stderr, "agent: %s\n", error.c_str());
    std::exit(1);
  }
  std::mutex mu;
  std::condition_variable cv;
  uint64_t handled = 0;
  Clock::time_point pushed_at;
  double swap_ms = 0;
  ctrl::DiscoveryClientOptions co;
  co.agent = "127.0.0.1:" + std::to_string(agent.port());
  co.node = {node.node.id, "", "", node.node.ns, node.node.labels, "bench"};
  ctrl::DiscoveryClient client(co, [&](const linegate::snapshot::v1::GatewaySnapshot& s) -> std::optional<std::string> {
    const auto t0 = Clock::now();
    std::string err;
    auto t = config::build_tables(std::make_shared<const linegate::snapshot::v1::GatewaySnapshot>(s), node, &err);
    if (!t) return err;
    pub->publish(std::move(t));
    std::lock_guard lock(mu);
    pushed_at = t0;
    swap_ms = ms_since(t0);
    ++handled;
    cv.notify_all();
    return std::nullopt;
  });
  client.start();
  std::vector<double> push, swap, total;
  for (unsigned i = 0; i <= reps; ++i) {  // the first apply only warms the stream up
    linegate::discovery::v1::ApplyRequest req;
    auto* f = req.add_files();
    f->set_name("bench.yaml");
    f->set_content(make_config(routes, services, i + 1));
    uint64_t before_apply;
    {
      std::lock_guard lock(mu);
      before_apply = handled;
    }
    const auto t0 = Clock::now();
    const auto resp = agent.apply(req);
    if (!resp.accepted()) {
      for (const auto& d : resp.diagnostics()) fprintf(stderr, "%s\n", d.text().c_str());
      fprintf(stderr, "apply rejected\n");
      std::exit(1);
    }
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(120), [&] { return handled > before_apply; })) {
      fprintf(stderr, "no snapshot reached the gateway within 120 s\n");
      std::exit(1);
    }
    const double t = ms_since(t0);
    if (i == 0) continue;
    push.push_back(std::chrono::duration<double, std::milli>(pushed_at - t0).count());
    swap.push_back(swap_ms);
    total.push_back(t);
  }
  client.stop();
  agent.stop();
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  r["apply_to_push_ms"] = med(push);
  r["swap_ms"] = med(swap);
  r["apply_to_swapped_ms"] = med(total);
  r["reader_generation"] = reader.seen();
  return r;
}

}  // namespace
}  // namespace lg::bench

int main(int argc, char** argv) {
  CLI::App app{"linegate-config-bench: YAML → agent → gateway → workers, time and memory per route"};
  std::vector<unsigned> routes{1000, 10000};
  unsigned services = 100, reps = 3;
  std::string json_path;
  bool quick = false;
  app.add_option("--routes", routes, "VirtualService routes per run (one run per value)")->check(CLI::Range(10u, 1000000u));
  app.add_option("--services", services, "ServiceEntries (each with a 2-subset DestinationRule)")
      ->check(CLI::Range(1u, 65535u));
  app.add_option("--reps", reps, "repetitions per phase; the median is reported")->check(CLI::Range(1u, 50u));
  app.add_option("--json", json_path, "write every figure to this file");
  app.add_flag("--quick", quick, "100 routes, 10 services, 1 repetition (smoke test)");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    routes = {100};
    services = 10;
    reps = 1;
  }
  lg::ScratchEal eal("config-bench", 128);
  if (!eal.ok()) return 1;
  lg::bench::json all = lg::bench::json::array();
  printf("%8s %9s %9s %9s %9s %9s | %9s %9s %9s | %9s %9s %9s %9s\n", "routes", "parse", "analyze", "compile",
         "serialize", "tables", "push", "swap", "total", "wire B/r", "pb B/r", "tbl B/r", "heap B/r");
  for (unsigned n : routes) {
    lg::bench::json r = lg::bench::run_one(n, std::min(services, n), reps);
    printf("%8u %7.1fms %7.1fms %7.1fms %7.1fms %7.1fms | %7.1fms %7.1fms %7.1fms | %9.0f %9.0f %9.0f %9.0f\n", n,
           r["parse_ms"].get<double>(), r["analyze_ms"].get<double>(), r["compile_ms"].get<double>(),
           r["serialize_ms"].get<double>(), r["tables_ms"].get<double>(), r["apply_to_push_ms"].get<double>(),
           r["swap_ms"].get<double>(), r["apply_to_swapped_ms"].get<double>(),
           r["snapshot_wire_bytes_per_route"].get<double>(), r["snapshot_memory_bytes_per_route"].get<double>(),
           r["tables_bytes_per_route"].get<double>(), r["gateway_heap_bytes_per_route"].get<double>());
    fflush(stdout);
    all.push_back(std::move(r));
  }
  if (!json_path.empty()) std::ofstream(json_path) << all.dump(2) << "\n";
  return 0;
}
