// The generator lcore: the dataplane's network layer and TCP stack driven
// run-to-completion (RX bursts → net → TCP → client/responder → timers → TX
// flush), with the client and responder roles on top. Busy cycles are
// counted as the dataplane counts its own, so the generator's cost per
// request is measured the same way as the gateway's.
#pragma once

#include <signal.h>

#include <atomic>
#include <memory>
#include <span>
#include <string>

#include "bench/loadgen/client.h"
#include "bench/loadgen/live.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/responder.h"
#include "dataplane/counters/counters.h"
#include "dataplane/net/net_worker.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "dataplane/tls/tls_worker.h"
#include "dataplane/upstream/registry.h"
#include "drivers/pollers.h"
#include "tls/session/client_context.h"

namespace lg::bench {

// Signals drivers use to say "frames arrived" (the tap PMD's); they belong
// on the generator lcore.
sigset_t wakeup_signals();

struct GeneratorConfig {
  const Options* options = nullptr;
  std::span<const net::Iface> ifaces;
  rte_mempool* pool = nullptr;
  uint64_t tsc_hz = 0;
  const std::atomic<bool>* stop = nullptr;  // set by the control thread (signal)
  drv::Pollers* pollers = nullptr;          // quiescent once a pass, after the last burst
};

class Generator {
 public:
  Generator(const GeneratorConfig& cfg, LcoreCounters& counters, Live& live);
  bool init(std::string* error);
  static int main(void* self);  // rte_eal_remote_launch entry

  const Client* client() const { return client_.get(); }
  const Responder* responder() const { return responder_.get(); }
  uint64_t total_cycles() const { return total_cycles_; }
  // --tls: the client's handshake counters (Envoy's ssl.* names), summed.
  std::vector<std::pair<std::string, uint64_t>> tls_counters() const;

 private:
  int run();
  bool init_tls(const ClientOptions& c, std::string* error);

  GeneratorConfig cfg_;
  LcoreCounters& counters_;
  Live& live_;
  TimerWheel timers_;
  net::NetWorker net_;
  tcp::TcpStack tcp_;
  // --tls: counters (one "cluster", the target), the context, the channels.
  std::unique_ptr<upstream::UpstreamRegistry> tls_registry_;
  std::unique_ptr<tls::ClientContext> tls_context_;
  std::unique_ptr<tlsterm::TlsWorker> tls_;
  ClientTls client_tls_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Responder> responder_;
  uint64_t total_cycles_ = 0;
};

}  // namespace lg::bench
