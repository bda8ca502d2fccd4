// linegate-loadgen: HTTP/1.1 and TCP load generator and responder, on the
// dataplane's own ports, network layer and TCP stack. One generator lcore
// does the work; the main thread prints progress and, at the end, the
// summary and the JSON. Exit codes: 0 done, 1 failed at run time (EAL,
// ports, link), 2 bad command line.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "bench/loadgen/generator.h"
#include "bench/loadgen/report.h"
#include "dataplane/net/iface.h"
#include "dataplane/runtime/eal.h"
#include "drivers/port.h"

namespace lg::bench {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

constexpr double kLinkWaitSeconds = 30;

class Process {
 public:
  ~Process() { teardown(); }

  bool start(const Options& o, std::string* error) {
    const EalPlan plan = plan_eal(o.bootstrap, probe_hugepages(), allowed_cpus());
    std::vector<std::string> args = plan.args;
    args[0] = "linegate-loadgen";
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!plan.notice.empty()) fprintf(stderr, "linegate-loadgen: %s\n", plan.notice.c_str());
    if (rte_eal_init(static_cast<int>(argv.size() - 1), argv.data()) < 0) {
      *error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
      return false;
    }
    eal_ = true;
    runtime_dir_ = rte_eal_get_runtime_dir();
    if (rte_lcore_count() < 2) {
      *error = "EAL gave " + std::to_string(rte_lcore_count()) + " lcore(s); the generator needs 2 (control + generator)";
      return false;
    }
    pollers_ = drv::Pollers::create(1, error);
    if (!pollers_) return false;
    const auto n_ports = static_cast<unsigned>(o.bootstrap.ports.size());
    pool_ = rte_pktmbuf_pool_create("lg_loadgen", o.bootstrap.mbufs_per_port * n_ports, 256, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    if (pool_ == nullptr) {
      *error = std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno) +
               " (lower --mbufs or reserve hugepages: scripts/hugepages.sh)";
      return false;
    }
    for (unsigned i = 0; i < n_ports; ++i) {
      const PortConfig& pc = o.bootstrap.ports[i];
      drv::PortSpec spec;
      spec.name = pc.name;
      spec.device = pc.device;
      spec.mtu = pc.mtu;
      spec.queues = 1;
      spec.pool = pool_;
      // A memif client cannot start before its server listens, nor while the
      // server still holds the previous client's session: retry a while.
      const bool memif_client =
          pc.device.rfind("net_memif", 0) == 0 && pc.device.find("role=server") == std::string::npos;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kLinkWaitSeconds);
      auto port = drv::Port::open(spec, error);
      while (!port && memif_client && !g_stop.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        port = drv::Port::open(spec, error);
      }
      if (!port) return false;
      port->set_multicast(net::iface_multicast_macs(pc, port->mac()));
      ifaces_.push_back(net::make_iface(i, port->id(), port->mac(), pc, port->offloads()));
      ports_.push_back(std::move(port));
    }
    return true;
  }

  // memif links come up when both ends are there, taps when the kernel side
  // is set up: sending before would only feed retransmission timers.
  bool wait_for_links(std::string* error) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kLinkWaitSeconds);
    bool told = false;
    while (!g_stop.load()) {
      const drv::Port* down = nullptr;
      for (const auto& p : ports_)
        if (!p->link().up) down = p.get();
      if (down == nullptr) return true;
      if (!told) {
        fprintf(stderr, "linegate-loadgen: waiting for the link of %s (%s)\n", down->name().c_str(), down->driver());
        told = true;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        *error = "link of port " + down->name() + " still down after " + std::to_string(int(kLinkWaitSeconds)) +
                 " s (memif peer not started? tap not up?)";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *error = "interrupted";
    return false;
  }

  std::span<const net::Iface> ifaces() const { return ifaces_; }
  rte_mempool* pool() const { return pool_; }
  drv::Pollers* pollers() const { return pollers_.get(); }

  void teardown() {
    ports_.clear();
    pollers_.reset();
    if (pool_ != nullptr) rte_mempool_free(pool_);
    pool_ = nullptr;
    if (eal_) {
      rte_eal_cleanup();
      remove_runtime_dir(runtime_dir_);
      eal_ = false;
    }
  }

 private:
  bool eal_ = false;
  std::string runtime_dir_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<drv::Pollers> pollers_;  // memif teardown waits for the generator's bursts
  std::vector<std::unique_ptr<drv::Port>> ports_;
  std::vector<net::Iface> ifaces_;
};

int run(const Options& o) {
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  // The tap PMD learns of received frames through a signal (a real-time one
  // in DPDK 22.11). Blocked here before EAL starts its threads and unblocked
  // only on the generator lcore, it lands on the thread that polls instead
  // of waking the control thread on the same CPU for every frame.
  const sigset_t io = wakeup_signals();
  pthread_sigmask(SIG_BLOCK, &io, nullptr);
  Process proc;
  std::string error;
  if (!proc.start(o, &error)) {
    fprintf(stderr, "linegate-loadgen: %s\n", error.c_str());
    return 1;
  }
  if (!proc.wait_for_links(&error)) {
    fprintf(stderr, "linegate-loadgen: %s\n", error.c_str());
    return 1;
  }
  const uint64_t hz = rte_get_tsc_hz();
  CounterSet counters(1);
  Live live;
  GeneratorConfig gc;
  gc.options = &o;
  gc.ifaces = proc.ifaces();
  gc.pool = proc.pool();
  gc.pollers = proc.pollers();
  gc.tsc_hz = hz;
  gc.stop = &g_stop;
  {
    Generator gen(gc, counters.worker(0), live);
    if (!gen.init(&error)) {
      fprintf(stderr, "linegate-loadgen: %s\n", error.c_str());
      return 1;
    }
    const unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    if (const int rc = rte_eal_remote_launch(&Generator::main, &gen, lcore); rc != 0) {
      fprintf(stderr, "linegate-loadgen: cannot launch the generator on lcore %u: %s\n", lcore, rte_strerror(-rc));
      return 1;
    }
    if (o.responder)
      fprintf(stderr, "linegate-loadgen: responder on port %u%s\n", o.responder->listen,
              o.responder->source_port ? (", stream source on port " + std::to_string(o.responder->source_port)).c_str() : "");
    // Progress once a second: a live line on a terminal, a line each
    // second otherwise (logs).
    const bool tty = isatty(STDERR_FILENO) != 0;
    const double total = o.client ? o.client->warmup_s + o.client->duration_s : 0;
    const auto started = std::chrono::steady_clock::now();
    auto last = started;
    uint64_t last_req = 0, last_lat = 0, last_bytes = 0, last_answered = 0;
    while (live.phase.load() != Phase::done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto now = std::chrono::steady_clock::now();
      const double interval = std::chrono::duration<double>(now - last).count();
      if (interval < 1.0 || !o.progress) continue;
      const double elapsed = std::chrono::duration<double>(now - started).count();
      const uint64_t req = live.requests.get(), lat = live.latency_ns.get(), bytes = live.bytes.get();
      const uint64_t answered = live.responder_requests.get();
      const std::string line =
          o.client ? progress_line(live, elapsed, total, req - last_req, lat - last_lat, bytes - last_bytes, interval)
                   : responder_progress_line(elapsed, answered - last_answered, interval);
      fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line.c_str());
      last = now;
      last_req = req;
      last_lat = lat;
      last_bytes = bytes;
      last_answered = answered;
    }
    rte_eal_wait_lcore(lcore);
    if (tty && o.progress) fprintf(stderr, "\n");

    RunFigures f;
    f.options = &o;
    f.client = gen.client() ? &gen.client()->results() : nullptr;
    f.responder = gen.responder() ? &gen.responder()->results() : nullptr;
    f.tsc_hz = hz;
    f.total_cycles = gen.total_cycles();
    f.busy_cycles = counters.worker(0).loop.busy_cycles;
    f.counters = &counters.worker(0);
    f.tls = gen.tls_counters();
    const nlohmann::ordered_json j = report_json(f);
    fputs(summary_table(j).c_str(), stdout);
    fflush(stdout);
    if (!o.json_file.empty()) {
      std::ofstream out(o.json_file);
      out << j.dump(2) << "\n";
      if (!out) {
        fprintf(stderr, "linegate-loadgen: cannot write %s\n", o.json_file.c_str());
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace lg::bench

int main(int argc, char** argv) {
  std::string error;
  int code = 0;
  const auto o = lg::bench::parse_options(argc, argv, &error, &code);
  if (!o) {
    fprintf(code == 0 ? stdout : stderr, code == 0 ? "%s" : "linegate-loadgen: %s\n", error.c_str());
    return code;
  }
  return lg::bench::run(*o);
}
