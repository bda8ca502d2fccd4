// A worker lcore: run to completion over its RX queues. One pass of the loop:
// RX bursts → network layer → neighbor news from other workers → timers →
// TX flush → report quiescence for the config tables (RCU). Nothing here locks, allocates from the heap, logs or makes a
// syscall, except the nap taken when a pass finds nothing to do.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/counters/counters.h"
#include "dataplane/apps/test_apps.h"
#include "dataplane/config/publisher.h"
#include "dataplane/l4/tcp_proxy.h"
#include "dataplane/l7/http_proxy.h"
#include "dataplane/upstream/cluster_manager.h"
#include "dataplane/net/net_worker.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "drivers/impair.h"
#include "drivers/pollers.h"

namespace lg {

struct WorkerConfig {
  unsigned index = 0;
  unsigned lcore = 0;
  unsigned idle_sleep_us = 0;
  uint64_t timer_tick_cycles = 0;
  const std::atomic<bool>* stop = nullptr;
  net::NetWorkerConfig net;
  tcp::TcpConfig tcp;
  std::vector<TestAppConfig> apps;
  std::vector<drv::ImpairConfig> impair;  // per port; disabled entries cost nothing
  uint64_t tsc_hz = 0;
  config::TablePublisher* config = nullptr;       // RCU-published routing tables
  drv::Pollers* pollers = nullptr;                 // quiescent once a pass, after the last burst
  const std::atomic<uint32_t>* link_ups = nullptr;  // per port: times its link came up; worker 0 announces us
  std::atomic<uint64_t>* seen_generation = nullptr;  // this worker's slot: tables generation last read
  upstream::UpstreamRegistry* registry = nullptr;    // cluster/listener counters and shared limits
  l4::ProxyConfig proxy;
  l7::HttpProxyConfig http;
  tlsterm::TlsWorkerConfig tls;
  const std::atomic<bool>* drain = nullptr;  // set once: stop accepting, finish what is in flight
  std::atomic<uint32_t>* active = nullptr;   // this worker's slot: HTTP streams + TCP sessions open
};

class Worker {
 public:
  Worker(const WorkerConfig& cfg, LcoreCounters& counters);
  bool ok() const { return net_.ok() && tcp_.ok() && tls_.ok(); }
  bool tls_ok() const { return tls_.ok(); }
  unsigned lcore() const { return cfg_.lcore; }
  static int main(void* self);  // rte_eal_remote_launch entry

 private:
  int run();
  // The impairment stages count for themselves; add what changed to the
  // port's counters (only ports with impairment configured).
  void export_impair_counters();
  // A port whose link came up since the last pass gets our addresses announced.
  void announce_link_ups();

  WorkerConfig cfg_;
  LcoreCounters& counters_;
  TimerWheel timers_;
  net::NetWorker net_;
  tcp::TcpStack tcp_;
  apps::TestApps apps_;
  upstream::ClusterManager clusters_;
  tlsterm::TlsWorker tls_;  // before the proxies, which use it
  l4::TcpProxy proxy_;
  l7::HttpProxy http_;
  bool draining_ = false;
  std::vector<std::unique_ptr<drv::ImpairStage>> rx_impair_, tx_impair_;  // per port
  std::vector<drv::ImpairStats> impair_seen_;  // per port: both directions, as last exported
  std::vector<uint32_t> announced_;            // per port: link_ups last announced
};

}  // namespace lg
