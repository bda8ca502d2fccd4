#include "dataplane/runtime/runtime.h"

#include "dataplane/upstream/clusters_view.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ctrl/ca/csr.h"
#include "ctrl/client/certificate_client.h"
#include "ctrl/compile/compiler.h"
#include "dataplane/admin/http_server.h"
#include "dataplane/admin/telemetry.h"
#include "dataplane/log.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/tcp/settings.h"
#include "dataplane/version.h"

RTE_LOG_REGISTER(lg_dataplane_logtype, lg.dataplane, INFO);

namespace lg {
namespace {

constexpr unsigned kInboxSize = 1024;
constexpr unsigned kTimerTicksPerSecond = 10000;  // 100 µs: TCP's finest timer is coarser
// Access log records per worker: requests in flight plus what the writer
// has yet to render (it drains every few milliseconds).
constexpr uint32_t kAccessLogRecords = 4096;

// Envoy's %HOSTNAME%.
std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? name : "";
}

std::string mac_text(const rte_ether_addr& mac) {
  char buf[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(buf, sizeof(buf), &mac);
  return buf;
}

// linegate-agent's CA (Istio's CreateCertificate), one call at a time from
// the identity thread.
runtime::SignFn agent_signer(const std::string& target) {
  return [target](const std::string& csr, std::chrono::seconds ttl, std::vector<std::string>* chain,
                  std::string* error) {
    return ctrl::request_certificate(target, csr, ttl.count(), std::chrono::seconds(10), *chain, *error);
  };
}

admin::StatsView stats_source(const void* ctx) { return static_cast<const Runtime*>(ctx)->stats(); }

}  // namespace

Runtime::Runtime(Bootstrap bootstrap) : b_(std::move(bootstrap)) {}

Runtime::~Runtime() { shutdown(); }

bool Runtime::start(std::string* error) {
  started_at_ = std::chrono::steady_clock::now();
  // Block the stop signals in every thread EAL creates; the control thread
  // takes them from a signalfd, so no handler runs inside a worker.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    *error = std::string("signalfd: ") + strerror(errno);
    return false;
  }
  if (!init_eal(error) || !open_ports(error) || !start_workers(error) || !start_identity(error) ||
      !start_config(error) ||
      !start_admin(error)) {
    shutdown();
    return false;
  }
  admin::telemetry_attach(&stats_source, this);
  live_ = true;
  LG_LOG(INFO, "node %s live: %zu port(s), %u worker(s), admin on %s:%u", b_.node.id.c_str(), ports_.size(),
         b_.workers, b_.admin.host.c_str(), admin_->port());
  return true;
}

bool Runtime::init_eal(std::string* error) {
  const EalPlan plan = plan_eal(b_, probe_hugepages(), allowed_cpus());
  std::vector<char*> argv;
  std::vector<std::string> args = plan.args;  // rte_eal_init may permute argv
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string cmdline;
  for (const std::string& a : plan.args) cmdline += " " + a;
  fprintf(stderr, "linegate: EAL arguments:%s\n", cmdline.c_str());
  if (!plan.notice.empty()) fprintf(stderr, "linegate: %s\n", plan.notice.c_str());
  if (rte_eal_init(static_cast<int>(argv.size() - 1), argv.data()) < 0) {
    *error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno) +
             " (arguments:" + cmdline + ")";
    return false;
  }
  eal_up_ = true;
  runtime_dir_ = rte_eal_get_runtime_dir();
  if (rte_lcore_count() < b_.workers + 1) {
    *error = "workers: " + std::to_string(b_.workers) + " needs " + std::to_string(b_.workers + 1) +
             " lcores (one control + one per worker), EAL gave " + std::to_string(rte_lcore_count());
    return false;
  }
  return true;
}

bool Runtime::open_ports(std::string* error) {
  const unsigned n_ports = static_cast<unsigned>(b_.ports.size());
  uint32_t max_frame = 0;
  for (const PortConfig& p : b_.ports) max_frame = std::max<uint32_t>(max_frame, p.mtu + RTE_ETHER_HDR_LEN + 8);
  const uint16_t data_room =
      static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + std::max<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, max_frame));
  pool_ = rte_pktmbuf_pool_create("lg_mbufs", b_.mbufs_per_port * n_ports, 256, 0, data_room,
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    *error = "cannot create the mbuf pool (" + std::to_string(b_.mbufs_per_port * n_ports) +
             " mbufs): " + rte_strerror(rte_errno) + "; lower mbufs_per_port or reserve more hugepages";
    return false;
  }
  for (unsigned i = 0; i < n_ports; ++i) {
    const PortConfig& pc = b_.ports[i];
    drv::PortSpec spec;
    spec.name = pc.name;
    spec.device = pc.device;
    spec.mtu = pc.mtu;
    spec.queues = static_cast<uint16_t>(b_.workers);
    spec.rx_desc = pc.rx_desc;
    spec.tx_desc = pc.tx_desc;
    spec.pool = pool_;
    auto port = drv::Port::open(spec, error);
    if (!port) return false;
    // The multicast filter needs the MAC, which the device only tells once probed.
    port->set_multicast(net::iface_multicast_macs(pc, port->mac()));
    ifaces_.push_back(net::make_iface(i, port->id(), port->mac(), pc, port->offloads()));
    ifaces_.back().queues = port->queues();
    link_up_.push_back(false);
    ports_.push_back(std::move(port));
  }
  link_ups_ = std::make_unique<std::atomic<uint32_t>[]>(ports_.size());
  return true;
}

bool Runtime::start_workers(std::string* error) {
  counters_ = std::make_unique<CounterSet>(b_.workers);
  if (b_.tls.ticket_key_rotation_s != 0) {
    ticket_keys_ = tls::TicketKeys::create(std::chrono::seconds(b_.tls.ticket_key_rotation_s), error);
    if (!ticket_keys_) return false;
  }
  // Names keep their counters for the process's life; twice the per-snapshot
  // limits leaves room for renames across pushes.
  registry_ = std::make_unique<upstream::UpstreamRegistry>(
      b_.workers, static_cast<uint32_t>(std::min<uint64_t>(2ull * b_.config_limits.max_clusters, UINT32_MAX - 1)),
      static_cast<uint32_t>(std::min<uint64_t>(2ull * b_.config_limits.max_listeners, UINT32_MAX - 1)));
  publisher_ = config::TablePublisher::create(b_.workers, error);
  if (!publisher_) return false;
  pollers_ = drv::Pollers::create(b_.workers, error);
  if (!pollers_) return false;
  config_ = std::make_unique<config::ConfigManager>(b_, *publisher_, registry_.get(), ticket_keys_.get());
  seen_generation_ = std::make_unique<SeenGeneration[]>(b_.workers);
  active_ = std::make_unique<ActiveCount[]>(b_.workers);
  const int socket = static_cast<int>(rte_socket_id());
  if (b_.workers > 1) {
    for (unsigned w = 0; w < b_.workers; ++w) {
      const std::string name = "lg_inbox_" + std::to_string(w);
      rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(net::NeighMsg), kInboxSize, socket, RING_F_SC_DEQ);
      if (r == nullptr) {
        *error = "cannot create ring " + name + ": " + rte_strerror(rte_errno);
        return false;
      }
      inboxes_.push_back(r);
    }
  }
  access_log_sink_ = access_log::Sink::create(b_.workers, kAccessLogRecords, error);
  if (!access_log_sink_) return false;
  access_log_writer_ = std::make_unique<access_log::Writer>(*access_log_sink_, host_name());
  const uint64_t hz = rte_get_tsc_hz();
  const tcp::TcpConfig tcp_cfg = tcp::config_from(b_.tcp);
  std::vector<drv::ImpairConfig> impair;
  for (const PortConfig& pc : b_.ports)
    impair.push_back(drv::ImpairConfig{pc.impair.loss, pc.impair.reorder, pc.impair.duplicate, pc.impair.corrupt,
                                       pc.impair.delay_us, pc.impair.seed});
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (unsigned w = 0; w < b_.workers; ++w, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    WorkerConfig wc;
    wc.index = w;
    wc.lcore = lcore;
    wc.idle_sleep_us = b_.idle_sleep_us;
    wc.timer_tick_cycles = std::max<uint64_t>(1, hz / kTimerTicksPerSecond);
    wc.stop = &stop_workers_;
    wc.net.worker = w;
    wc.net.ifaces = ifaces_;
    wc.net.pool = pool_;
    wc.net.socket_id = socket;
    wc.net.neigh = net::NeighParams::defaults(hz);
    wc.tcp = tcp_cfg;
    wc.apps = b_.test_apps;
    wc.impair = impair;
    wc.tsc_hz = hz;
    wc.config = publisher_.get();
    wc.pollers = pollers_.get();
    wc.link_ups = link_ups_.get();
    wc.seen_generation = &seen_generation_[w].value;
    wc.registry = registry_.get();
    wc.proxy.max_sessions = b_.proxy.max_sessions;
    wc.proxy.hello_timeout_ms = b_.proxy.hello_timeout_ms;
    wc.proxy.max_connect_attempts = static_cast<uint8_t>(b_.proxy.max_connect_attempts);
    wc.http.max_streams = b_.proxy.max_sessions;
    wc.http.max_upstream_conns = b_.proxy.max_sessions;
    wc.http.max_body_bytes = b_.proxy.max_request_bytes;
    wc.http.access_log = access_log_sink_.get();
    wc.tls.record_offload = b_.tls.record_offload;
    wc.tls.record_buffers = b_.tls.record_buffers;
    wc.tls.max_connections = b_.tls.max_connections;
    wc.tls.hello_timeout_ms = b_.proxy.hello_timeout_ms;
    wc.drain = &drain_;
    wc.active = &active_[w].value;
    if (!inboxes_.empty()) {
      wc.net.inbox = inboxes_[w];
      for (unsigned p = 0; p < b_.workers; ++p)
        if (p != w) wc.net.peers.push_back(inboxes_[p]);
    }
    auto worker = std::make_unique<Worker>(wc, counters_->worker(w));
    if (!worker->ok()) {
      const std::string what =
          !worker->tls_ok() ? "cannot create its TLS record buffers (" + std::to_string(b_.tls.record_buffers) +
                                  " of " + std::to_string(TlsSettings::kRecordBufferBytes / 1024) +
                                  " KB; tls.record_buffers)"
                            : "cannot create its neighbor or connection table (" +
                                  std::to_string(tcp_cfg.max_connections) + " connections)";
      *error = "worker " + std::to_string(w) + ": " + what + ": " + rte_strerror(rte_errno);
      return false;
    }
    workers_.push_back(std::move(worker));
  }
  for (auto& w : workers_) {
    const int rc = rte_eal_remote_launch(&Worker::main, w.get(), w->lcore());
    if (rc != 0) {
      *error = "cannot launch worker on lcore " + std::to_string(w->lcore()) + ": " + rte_strerror(-rc);
      stop_workers_ = true;
      rte_eal_mp_wait_lcore();
      return false;
    }
    workers_running_ = true;
  }
  return true;
}

void Runtime::log_tls_errors() const {
  const config::ConfigManager::Status st = config_->status();
  for (const std::string& e : st.tls_errors) LG_LOG(WARNING, "snapshot %s: %s", st.version.c_str(), e.c_str());
}

void Runtime::configure_access_logs() const {
  config_->with_tables([&](const config::RuntimeTables* t) {
    const std::vector<std::string> errors =
        access_log_writer_->configure(t ? t->snapshot->telemetry() : linegate::snapshot::v1::Telemetry());
    for (const std::string& e : errors) LG_LOG(WARNING, "%s", e.c_str());
  });
}

std::optional<std::string> Runtime::logged(std::optional<std::string> rejected) const {
  if (!rejected) {
    log_tls_errors();
    configure_access_logs();
  }
  return rejected;
}

bool Runtime::start_identity(std::string* error) {
  if (!b_.identity.from_files() && !b_.identity.from_agent()) return true;
  identity_ = std::make_unique<runtime::IdentitySource>(
      b_,
      [this](std::shared_ptr<const tls::WorkloadIdentity> id) { return logged(config_->set_identity(std::move(id))); },
      agent_signer(b_.agent.address), ctrl::ca::make_key_and_csr);
  return identity_->start(error);
}

bool Runtime::start_config(std::string* error) {
  if (!b_.config_dir.empty()) {
    std::vector<std::string> problems, warnings;
    const bool ok = config_->load_local(b_.config_dir, &problems, &warnings);
    for (const std::string& w : warnings) LG_LOG(WARNING, "config_dir: %s", w.c_str());
    if (!ok) {
      *error = "config_dir " + b_.config_dir + ":";
      for (const std::string& p : problems) *error += "\n  " + p;
      return false;
    }
    LG_LOG(INFO, "config_dir %s: serving version %s", b_.config_dir.c_str(), config_->status().version.c_str());
    log_tls_errors();
    configure_access_logs();
    return true;
  }
  if (b_.agent.address.empty()) {
    LG_LOG(INFO, "no agent and no config_dir: serving without routing config");
    return true;
  }
  ctrl::DiscoveryClientOptions opts;
  opts.agent = b_.agent.address;
  opts.node = {b_.node.id, b_.node.cluster, b_.node.network, b_.node.ns, b_.node.labels, kVersion};
  opts.backoff_initial = std::chrono::milliseconds(b_.agent.initial_backoff_ms);
  opts.backoff_max = std::chrono::milliseconds(b_.agent.max_backoff_ms);
  opts.log = [](std::string_view line) { LG_LOG(INFO, "agent: %.*s", static_cast<int>(line.size()), line.data()); };
  discovery_ = std::make_unique<ctrl::DiscoveryClient>(
      std::move(opts), [this](const config::Snapshot& s) { return logged(config_->apply(s)); });
  if (!discovery_->start()) {
    *error = "cannot start the discovery client for agent " + b_.agent.address;
    return false;
  }
  return true;
}

bool Runtime::start_admin(std::string* error) {
  admin_ = admin::HttpServer::listen(b_.admin.host, b_.admin.port, error);
  if (!admin_) {
    *error = "admin: " + *error;
    return false;
  }
  register_admin_routes();
  return true;
}

void Runtime::start_drain() {
  if (drain_.exchange(true)) return;
  live_ = false;  // /ready answers 503 DRAINING: load balancers move away
  drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(b_.proxy.drain_timeout_ms);
}

bool Runtime::drain_finished() const {
  if (std::chrono::steady_clock::now() >= drain_deadline_) {
    LG_LOG(INFO, "drain timeout: stopping");
    return true;
  }
  // Workers publish their counts once per pass after they saw the flag;
  // give them a pass before trusting a zero.
  if (std::chrono::steady_clock::now() < drain_deadline_ - std::chrono::milliseconds(b_.proxy.drain_timeout_ms) +
                                             std::chrono::milliseconds(50))
    return false;
  for (unsigned w = 0; w < b_.workers; ++w)
    if (active_[w].value.load(std::memory_order_relaxed) != 0) return false;
  LG_LOG(INFO, "drained: stopping");
  return true;
}

void Runtime::register_admin_routes() {
  using admin::HttpRequest;
  using admin::HttpResponse;
  admin_->route(
      "/ready",
      [this](const HttpRequest&) {
        const bool live = live_.load();
        return HttpResponse{live ? 200 : 503, "text/plain; charset=UTF-8", live ? "LIVE\n" : "DRAINING\n", {}};
      },
      "200 LIVE when the dataplane serves; 503 otherwise");
  admin_->route(
      "/drain",
      [this](const HttpRequest&) {
        start_drain();
        return HttpResponse{200, "text/plain; charset=UTF-8", "draining\n", {}};
      },
      "stop accepting, finish in-flight requests with Connection: close, exit when idle or at proxy.drain_timeout_ms",
      true);
  admin_->route(
      "/stats",
      [this](const HttpRequest& req) {
        const std::string format = req.query_param("format");
        if (format == "json") return HttpResponse{200, "application/json", admin::render_json(stats()), {}};
        if (format == "prometheus")
          return HttpResponse{200, "text/plain; version=0.0.4", admin::render_prometheus(stats()), {}};
        return HttpResponse{200, "text/plain; charset=UTF-8", admin::render_text(stats()), {}};
      },
      "counters as name: value lines; ?format=json or ?format=prometheus");
  admin_->route(
      "/stats/prometheus",
      [this](const HttpRequest&) {
        return HttpResponse{200, "text/plain; version=0.0.4", admin::render_prometheus(stats()), {}};
      },
      "counters in Prometheus text exposition format");
  admin_->route(
      "/server_info",
      [this](const HttpRequest&) {
        const admin::StatsView v = stats();
        nlohmann::ordered_json j = {{"version", v.version},
                                    {"state", v.state},
                                    {"uptime_seconds", v.uptime_s},
                                    {"node", {{"id", v.node_id}, {"cluster", v.cluster}, {"network", v.network}}},
                                    {"workers", b_.workers},
                                    {"config", admin::config_json(v.config)},
                                    {"workload_identity", admin::identity_json(v.identity)},
                                    {"ports", nlohmann::ordered_json::array()}};
        for (const admin::PortView& p : v.ports)
          j["ports"].push_back({{"name", p.name}, {"device", p.device}, {"driver", p.driver}, {"mac", p.mac},
                                {"link_up", p.link.up}, {"queues", p.queues}, {"rss", p.rss}});
        return HttpResponse{200, "application/json", j.dump(2) + "\n", {}};
      },
      "node identity, version, state, ports");
  admin_->route(
      "/clusters",
      [this](const HttpRequest& req) {
        std::string body;
        const bool json = req.query_param("format") == "json";
        config_->with_tables([&](const config::RuntimeTables* t) { body = upstream::render_clusters(t, json); });
        return HttpResponse{200, json ? "application/json" : "text/plain; charset=UTF-8", body, {}};
      },
      "upstream clusters and endpoints: weights, health flags, connection counts; ?format=json");
  admin_->route(
      "/config_dump",
      [this](const HttpRequest&) {
        const std::shared_ptr<const config::Snapshot> snap = config_->current();
        if (!snap) return HttpResponse{404, "text/plain; charset=UTF-8", "no config applied yet\n", {}};
        return HttpResponse{200, "application/json", ctrl::snapshot_to_json(*snap) + "\n", {}};
      },
      "the GatewaySnapshot serving now, as JSON (private keys redacted)");
  admin_->route(
      "/quitquitquit",
      [this](const HttpRequest&) {
        quit_ = true;
        return HttpResponse{200, "text/plain; charset=UTF-8", "OK\n", {}};
      },
      "stop the dataplane gracefully", true);
}

admin::StatsView Runtime::stats() const {
  admin::StatsView v;
  v.node_id = b_.node.id;
  v.cluster = b_.node.cluster;
  v.network = b_.node.network;
  v.version = kVersion;
  v.state = live_.load() ? "LIVE" : "DRAINING";
  v.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  v.tsc_hz = rte_get_tsc_hz();
  for (size_t i = 0; i < ports_.size(); ++i) {
    const drv::Port& p = *ports_[i];
    v.ports.push_back({p.name(), b_.ports[i].device, p.driver(), mac_text(p.mac()), p.queues(), p.offloads().rss,
                       p.link(), p.stats()});
  }
  if (counters_) v.totals = counters_->totals();
  if (ticket_keys_) v.tls_ticket_key_rotations = ticket_keys_->rotations();
  if (access_log_writer_) {
    const access_log::WriterStats a = access_log_writer_->stats();
    v.access_log = {a.written, a.filtered, a.filter_errors, a.write_failed, a.dropped, a.truncated};
  }
  if (identity_) {
    const runtime::IdentityStatus st = identity_->status();
    const auto unix_s = [](std::chrono::system_clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    };
    v.identity.configured = true;
    v.identity.updates = st.updates;
    v.identity.failures = st.failures;
    v.identity.last_error = st.last_error;
    if (const tls::WorkloadIdentity* id = st.identity.get()) {
      v.identity.spiffe_id = id->spiffe_id;
      v.identity.source = id->source;
      v.identity.not_before = unix_s(id->not_before);
      v.identity.not_after = unix_s(id->not_after);
    }
  }
  if (registry_) {
    for (auto& c : registry_->cluster_totals()) v.clusters.push_back({std::move(c.name), std::move(c.values)});
    for (auto& l : registry_->listener_totals()) v.listeners.push_back({std::move(l.name), std::move(l.values)});
  }
  if (config_) {
    const config::ConfigManager::Status st = config_->status();
    v.config.version = st.version;
    v.config.update_success = st.update_success;
    v.config.update_rejected = st.update_rejected;
    v.config.last_error = st.last_error;
    v.config.tls_errors = st.tls_errors;
    v.config.generation = publisher_->generation();
    for (unsigned w = 0; w < b_.workers; ++w)
      v.config.worker_generation.push_back(seen_generation_[w].value.load(std::memory_order_relaxed));
  }
  if (!b_.config_dir.empty()) {
    v.config.source = "config_dir " + b_.config_dir;
  } else if (!b_.agent.address.empty()) {
    v.config.source = "agent " + b_.agent.address;
    v.config.connected = discovery_ && discovery_->state().connected;
  } else {
    v.config.source = "none";
  }
  return v;
}

void Runtime::watch_links() {
  for (size_t i = 0; i < ports_.size(); ++i) {
    const drv::LinkStatus l = ports_[i]->link();
    if (l.up == link_up_[i]) continue;
    link_up_[i] = l.up;
    if (l.up) link_ups_[i].fetch_add(1, std::memory_order_relaxed);
    LG_LOG(INFO, "port %s: link %s%s", ports_[i]->name().c_str(), l.up ? "up" : "down",
           l.up && l.speed_mbps ? (", " + std::to_string(l.speed_mbps) + " Mb/s").c_str() : "");
  }
}

void Runtime::run() {
  using clock = std::chrono::steady_clock;
  auto next_link_check = clock::now();
  auto next_ticket_rotation = clock::now() + (ticket_keys_ ? ticket_keys_->period() : std::chrono::seconds(0));
  const int wake[] = {signal_fd_};
  while (!quit_.load()) {
    admin_->poll(drain_.load() ? 20 : 200, wake);
    signalfd_siginfo si;
    if (read(signal_fd_, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
      // SIGTERM drains first (a rolling restart loses no request); a second
      // signal, SIGINT, or drain_timeout_ms 0 stops at once.
      if (si.ssi_signo == SIGTERM && !drain_.load() && b_.proxy.drain_timeout_ms != 0) {
        LG_LOG(INFO, "signal %s: draining (at most %u ms)", strsignal(static_cast<int>(si.ssi_signo)),
               b_.proxy.drain_timeout_ms);
        start_drain();
      } else {
        LG_LOG(INFO, "signal %s: stopping", strsignal(static_cast<int>(si.ssi_signo)));
        break;
      }
    }
    if (drain_.load() && drain_finished()) break;
    publisher_->reclaim();
    if (clock::now() >= next_link_check) {
      watch_links();
      next_link_check = clock::now() + std::chrono::seconds(1);
    }
    if (ticket_keys_ && clock::now() >= next_ticket_rotation) {
      // The schedule restarts from each rotation, so rotations are never
      // closer than the period (TicketKeys refuses quicker ones).
      if (ticket_keys_->rotate()) {
        next_ticket_rotation = clock::now() + ticket_keys_->period();
      } else {
        LG_LOG(WARNING, "session ticket keys not rotated (no random bytes); retrying in 1 s");
        next_ticket_rotation = clock::now() + std::chrono::seconds(1);
      }
    }
  }
  live_ = false;
}

void Runtime::shutdown() {
  live_ = false;
  admin::telemetry_detach();
  admin_.reset();
  discovery_.reset();  // no snapshot arrives once workers stop
  identity_.reset();   // nor a certificate
  if (workers_running_) {
    stop_workers_ = true;
    rte_eal_mp_wait_lcore();
    workers_running_ = false;
  }
  workers_.clear();  // frees neighbor tables (and mbufs they held) before the pool
  access_log_writer_.reset();  // writes what the workers submitted
  access_log_sink_.reset();
  config_.reset();
  publisher_.reset();  // frees the tables serving last
  ticket_keys_.reset();  // after every context installed with them
  pollers_.reset();
  for (rte_ring* r : inboxes_) rte_ring_free(r);
  inboxes_.clear();
  ports_.clear();  // stop + close; tap interfaces disappear here
  if (pool_ != nullptr) {
    rte_mempool_free(pool_);
    pool_ = nullptr;
  }
  if (eal_up_) {
    rte_eal_cleanup();
    eal_up_ = false;
    remove_runtime_dir(runtime_dir_);
    LG_LOG_STDERR("stopped; ports closed and EAL cleaned up");
  }
  if (signal_fd_ >= 0) {
    close(signal_fd_);
    signal_fd_ = -1;
  }
}

}  // namespace lg
