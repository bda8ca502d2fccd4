// The control thread's side of configuration: takes a GatewaySnapshot (from
// the agent's stream or compiled from config_dir), checks what only this node
// can check, builds the runtime tables off the fast path, publishes them to
// the workers (RCU), and remembers the last good snapshot. A snapshot that
// fails any step is rejected with a reason (the NACK) and changes nothing.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ctrl/proto/snapshot.pb.h"
#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/config/publisher.h"
#include "dataplane/config/runtime_tables.h"

namespace lg::config {

using Snapshot = linegate::snapshot::v1::GatewaySnapshot;

class ConfigManager {
 public:
  // ticket_keys: installed in every snapshot's TLS contexts and outliving
  // them (null: no session tickets).
  ConfigManager(const Bootstrap& bootstrap, TablePublisher& publisher, upstream::UpstreamRegistry* registry = nullptr,
                tls::TicketKeys* ticket_keys = nullptr);

  // nullopt: applied and serving; otherwise why it was rejected. Thread-safe
  // (the discovery client calls it from its own thread).
  std::optional<std::string> apply(const Snapshot& snapshot);

  // A new (or renewed) workload certificate: the serving snapshot's tables
  // are built again with it, so new handshakes present it; connections
  // already up keep theirs. nullopt: in use (or kept for the first
  // snapshot); otherwise why those tables could not be built (the old ones
  // keep serving).
  std::optional<std::string> set_identity(std::shared_ptr<const tls::WorkloadIdentity> identity);

  // Standalone mode: reads, analyzes and compiles `path` for this node, then
  // apply()s the result. Returns false with every problem in *errors;
  // warnings (unsupported fields, ...) go to *warnings either way.
  bool load_local(const std::string& path, std::vector<std::string>* errors, std::vector<std::string>* warnings);

  std::shared_ptr<const Snapshot> current() const;
  struct Status {
    std::string version;
    uint64_t update_success = 0, update_rejected = 0;
    std::string last_error;
    std::vector<std::string> tls_errors;  // of the serving snapshot (upstream_tls.h)
  };
  Status status() const;
  // Runs fn on the tables the workers use now (admin); no publish meanwhile.
  template <typename Fn>
  void with_tables(Fn&& fn) {
    std::lock_guard apply_lock(apply_mu_);
    fn(publisher_.tables());
  }

 private:
  const Bootstrap& b_;
  TablePublisher& publisher_;
  upstream::UpstreamRegistry* registry_;
  std::mutex apply_mu_;    // one apply at a time (the publish waits for a grace period); guards tls_env_
  TlsEnv tls_env_;

  // Builds and publishes tables for `snapshot` (apply_mu_ held).
  std::optional<std::string> build_and_publish(std::shared_ptr<const Snapshot> snapshot);
  mutable std::mutex mu_;  // the fields below: apply() vs admin readers
  std::shared_ptr<const Snapshot> current_;
  Status status_;
};

}  // namespace lg::config
