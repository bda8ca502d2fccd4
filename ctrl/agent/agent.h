// linegate-agent's server: config from watched directories and `linegatectl
// apply`, validated as a whole (ctrl/agent/config_store.h), compiled per
// gateway and pushed over the discovery stream (ctrl/proto/discovery.proto);
// and, on the same port, a workload CA (ctrl/agent/ca_service.h).
// A library so tests run it in-process; main.cc only parses flags and waits
// for a signal.
#pragma once

#include "ctrl/agent/config_store.h"
#include "ctrl/ca/authority.h"
#include "ctrl/proto/discovery.pb.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl {

struct AgentOptions {
  std::vector<std::string> watch_dirs;
  std::string listen = "127.0.0.1:15010";  // "HOST:PORT"; port 0 picks a free one (see Agent::port())
  std::chrono::milliseconds debounce{200};
  // Namespace of gateways whose node does not name one.
  std::string root_namespace = "istio-system";
  AnalyzeOptions analyze;
  // Workload CA: IstioCertificateService on the same port
  // (ctrl/agent/ca_service.h; no caller authentication, read it first).
  enum class CaMode { self_signed, off };
  CaMode ca = CaMode::self_signed;  // self_signed: a generated root until a cacerts Secret plugs one in
  std::string trust_domain = "cluster.local";
  std::chrono::seconds workload_cert_ttl{24 * 3600};           // when the CSR asks for none
  std::chrono::seconds max_workload_cert_ttl{90 * 24 * 3600};  // longer requests are cut to this
  // One line per event (gateway connected/ACK/NACK/disconnected, config
  // accepted/rejected); called from several threads, one line at a time.
  std::function<void(std::string_view)> log;
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();  // stop()
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Reads the watched directories, starts watching them and serving. False
  // with `error` set when it cannot listen or watch. A config with errors
  // does not stop the start: it is logged, and nothing is served until a
  // valid one arrives.
  bool start(std::string& error);
  // Closes every stream and stops the threads. Idempotent.
  void stop();
  // The port it listens on (after start()).
  int port() const;

  // What the AgentAdmin RPCs do, callable in-process.
  linegate::discovery::v1::ApplyResponse apply(const linegate::discovery::v1::ApplyRequest& request);
  linegate::discovery::v1::ProxyStatusResponse proxy_status() const;
  std::shared_ptr<const ConfigState> config() const;
  // Rereads the watched directories now (the watcher does this after its debounce).
  void reload_watched();
  // The workload CA signing now; null with --ca off or before start().
  std::shared_ptr<const ca::CertificateAuthority> certificate_authority() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lg::ctrl
