// The linegate process from start to stop: EAL, the mbuf pool, ports,
// workers, and the control thread (admin server, telemetry, link watch,
// signals). Only the control thread calls these methods.
#pragma once

#include <rte_mempool.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/access_log/sink.h"
#include "dataplane/access_log/writer.h"
#include "dataplane/admin/stats_view.h"
#include "ctrl/client/discovery_client.h"
#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/config/config_manager.h"
#include "dataplane/config/publisher.h"
#include "dataplane/counters/counters.h"
#include "dataplane/net/iface.h"
#include "dataplane/runtime/identity_source.h"
#include "dataplane/runtime/worker.h"
#include "drivers/port.h"
#include "tls/session/ticket_keys.h"

namespace lg {

namespace admin {
class HttpServer;
}

class Runtime {
 public:
  explicit Runtime(Bootstrap bootstrap);
  ~Runtime();  // stops workers, closes ports, cleans EAL up

  // Brings everything up; false with *error set on failure (what was started is undone).
  bool start(std::string* error);
  // Serves the control thread until SIGINT/SIGTERM or POST /quitquitquit.
  void run();

  admin::StatsView stats() const;

 private:
  bool init_eal(std::string* error);
  bool open_ports(std::string* error);
  bool start_workers(std::string* error);
  bool start_admin(std::string* error);
  // Standalone (config_dir) compiles now; agent mode starts the discovery
  // client, which applies snapshots as they come.
  bool start_identity(std::string* error);
  bool start_config(std::string* error);
  void log_tls_errors() const;  // the serving snapshot's TLS contexts that did not build
  void configure_access_logs() const;  // the serving snapshot's access logs to the writer
  // After an apply or a new identity: on success, the TLS errors are logged.
  std::optional<std::string> logged(std::optional<std::string> rejected) const;
  void start_drain();
  bool drain_finished() const;
  void register_admin_routes();
  void watch_links();
  void shutdown();

  Bootstrap b_;
  bool eal_up_ = false;
  std::string runtime_dir_;
  rte_mempool* pool_ = nullptr;
  std::vector<std::unique_ptr<drv::Port>> ports_;
  std::vector<net::Iface> ifaces_;
  std::vector<bool> link_up_;
  std::unique_ptr<std::atomic<uint32_t>[]> link_ups_;  // per port: times its link came up (workers announce)
  std::unique_ptr<CounterSet> counters_;
  std::vector<rte_ring*> inboxes_;
  // Session ticket keys for every snapshot's TLS contexts: they outlive the
  // contexts and the handshakes that use them (null: tls.ticket_key_rotation_s 0).
  std::unique_ptr<tls::TicketKeys> ticket_keys_;
  std::unique_ptr<upstream::UpstreamRegistry> registry_;  // outlives the tables and workers using its ids
  std::unique_ptr<config::TablePublisher> publisher_;
  std::unique_ptr<drv::Pollers> pollers_;  // memif teardown waits for the workers' bursts
  std::unique_ptr<config::ConfigManager> config_;
  std::unique_ptr<ctrl::DiscoveryClient> discovery_;
  // Access log records (workers → writer) and the writer thread; the
  // writer takes the access logs of every snapshot applied.
  std::unique_ptr<access_log::Sink> access_log_sink_;
  std::unique_ptr<access_log::Writer> access_log_writer_;
  std::unique_ptr<runtime::IdentitySource> identity_;  // workload certificate (bootstrap identity:)
  // Tables generation each worker last read, one cache line each.
  struct alignas(64) SeenGeneration {
    std::atomic<uint64_t> value{0};
  };
  std::unique_ptr<SeenGeneration[]> seen_generation_;
  // Streams and sessions each worker has open (for the end of a drain).
  struct alignas(64) ActiveCount {
    std::atomic<uint32_t> value{0};
  };
  std::unique_ptr<ActiveCount[]> active_;
  std::atomic<bool> drain_{false};
  std::chrono::steady_clock::time_point drain_deadline_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool workers_running_ = false;
  std::atomic<bool> stop_workers_{false};
  std::atomic<bool> quit_{false};
  std::unique_ptr<admin::HttpServer> admin_;
  int signal_fd_ = -1;
  std::chrono::steady_clock::time_point started_at_;
  std::atomic<bool> live_{false};
};

}  // namespace lg
