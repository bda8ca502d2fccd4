// Keeps the gateway's workload identity (tls/session/workload_identity.h)
// current on its own thread, and hands every new one to a callback (the
// ConfigManager rebuilds the serving tables with it):
//  - files (bootstrap identity.cert_chain/private_key/root_cert, Istio's
//    mounted cert-chain.pem, key.pem, root-cert.pem): re-read when any of
//    them changes, so a rotation by whatever mounts them takes effect;
//  - the agent's CA: a fresh key and CSR for
//    spiffe://<trust_domain>/ns/<namespace>/sa/<service_account>, signed by
//    linegate-agent, renewed at half its lifetime (istio-agent's default),
//    retried with backoff while the agent is away.
// A certificate that does not check out is logged and the previous one
// stays.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/bootstrap/bootstrap.h"
#include "tls/session/workload_identity.h"

namespace lg::runtime {

// Asks the CA to sign csr_pem for ttl; the chain comes back leaf first and
// root last. False with *error.
using SignFn = std::function<bool(const std::string& csr_pem, std::chrono::seconds ttl,
                                  std::vector<std::string>* chain, std::string* error)>;
// Makes a key and a CSR naming spiffe_id. False with *error.
using CsrFn = std::function<bool(const std::string& spiffe_id, std::string* key_pem, std::string* csr_pem,
                                 std::string* error)>;

struct IdentityStatus {
  std::shared_ptr<const tls::WorkloadIdentity> identity;  // in use; null until one is
  uint64_t updates = 0;  // identities handed over (the first one included)
  uint64_t failures = 0;  // loads or signings that failed
  std::string last_error;
};

class IdentitySource {
 public:
  using Apply = std::function<std::optional<std::string>(std::shared_ptr<const tls::WorkloadIdentity>)>;

  // From b.identity; `sign`/`csr` are used for an identity from the agent
  // (b.identity.from_agent()), named from b.node.ns.
  IdentitySource(const Bootstrap& b, Apply apply, SignFn sign, CsrFn csr);
  ~IdentitySource();  // stop()
  IdentitySource(const IdentitySource&) = delete;
  IdentitySource& operator=(const IdentitySource&) = delete;

  // Gets the first identity before returning (files: they must load, or
  // false with *error; the agent: tried once, a failure leaves the thread
  // retrying), then starts the thread.
  bool start(std::string* error);
  void stop();
  IdentityStatus status() const;

 private:
  using clock = std::chrono::steady_clock;
  void run();
  // One attempt; true when a new identity was handed over.
  bool refresh(std::string* error);
  bool load_files(std::string* error);
  bool from_agent(std::string* error);
  bool hand_over(std::shared_ptr<const tls::WorkloadIdentity> id, std::string* error);
  std::string files_stamp() const;

  const IdentitySettings settings_;
  const std::string spiffe_id_;  // what the agent is asked for
  const std::string agent_;
  Apply apply_;
  SignFn sign_;
  CsrFn csr_;
  std::string stamp_;  // files: sizes and mtimes last loaded

  mutable std::mutex mu_;  // the fields below
  std::condition_variable cv_;
  bool stopping_ = false;
  IdentityStatus status_;
  // Agent: when to renew status_.identity, half of what was left when it
  // came (a CA backdates notBefore for clock skew, so half the nominal
  // lifetime can be due already).
  clock::time_point renew_at_;
  std::thread thread_;
};

}  // namespace lg::runtime
