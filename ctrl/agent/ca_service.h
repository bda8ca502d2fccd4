// linegate-agent as istiod's CA: IstioCertificateService (ctrl/proto/ca.proto)
// on the agent's gRPC port. A caller sends a CSR for
// spiffe://<trust-domain>/ns/<ns>/sa/<sa>; the agent signs it
// (ctrl/ca/authority.h) and returns the chain, leaf first, root last.
//
// Trust model, plainly: there is no caller authentication. istiod checks a
// Kubernetes service-account JWT and only signs the caller's own identity;
// this service does not. Whoever can reach the agent's port can obtain a
// certificate for ANY identity in the trust domain. Expose the port only to
// the gateways (loopback, a private network, a NetworkPolicy), or run with
// --ca off.
//
// Which CA signs: a Secret `cacerts` in the root namespace in the accepted
// config (Istio's plug-in CA layout: ca-cert.pem, ca-key.pem, root-cert.pem,
// optional cert-chain.pem) when there is one and it is usable; else a root
// the agent generates at start and keeps for its lifetime. A cacerts that
// does not load leaves the previous CA signing, with the reason logged.
// The CA is swapped under a mutex; RPCs in flight finish with the CA they
// started with.
#pragma once

#include "ctrl/agent/config_store.h"
#include "ctrl/ca/authority.h"
#include "ctrl/proto/ca.grpc.pb.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace lg::ctrl {

class CaService final : public istio::v1::auth::IstioCertificateService::CallbackService {
 public:
  struct Options {
    bool enabled = true;  // false (--ca off): every call is UNAVAILABLE, cacerts included
    ca::IssuePolicy policy;
    std::string root_namespace = "istio-system";
    std::function<void(std::string_view)> log;  // one line per issuance, refusal and CA change
  };

  explicit CaService(Options options);

  // Generates the self-signed root. False with `error` set when the policy
  // is unusable (trust domain, TTLs) or OpenSSL fails. Nothing to do when
  // disabled.
  bool start(std::string& error);
  // The accepted config is now `config`: follows its cacerts Secret.
  // Configs older than one already seen are ignored (callers race).
  void config_changed(const std::shared_ptr<const ConfigState>& config);
  // The CA signing now; null when disabled or not started.
  std::shared_ptr<const ca::CertificateAuthority> current() const;

  grpc::ServerUnaryReactor* CreateCertificate(grpc::CallbackServerContext* ctx,
                                              const istio::v1::auth::IstioCertificateRequest* req,
                                              istio::v1::auth::IstioCertificateResponse* resp) override;

 private:
  void log(const std::string& line) const;
  // Sets current_ and says so; `mu_` not held.
  void use(std::shared_ptr<const ca::CertificateAuthority> ca, const std::string& why);

  const Options opts_;
  std::mutex update_mu_;  // one config_changed at a time
  uint64_t generation_seen_ = 0;
  std::string cacerts_seen_;  // contents of the cacerts Secret last considered; "" = none
  mutable std::mutex mu_;
  std::shared_ptr<const ca::CertificateAuthority> self_signed_;
  std::shared_ptr<const ca::CertificateAuthority> current_;
};

}  // namespace lg::ctrl
