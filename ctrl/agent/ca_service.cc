#include "ctrl/agent/ca_service.h"

#include "ctrl/compile/secrets.h"

#include <grpcpp/grpcpp.h>

#include <exception>

namespace lg::ctrl {

namespace {

namespace auth = istio::v1::auth;

constexpr const char* kCacertsName = "cacerts";
// A P-384 or RSA-4096 CSR is a few KiB; anything far larger is not one.
constexpr size_t kMaxCsrBytes = 64 * 1024;

const Resource* find_cacerts(const ConfigState& cfg, const std::string& ns) {
  for (const Resource& r : cfg.resources)
    if (r.group.empty() && r.kind == "Secret" && r.ns == ns && r.name == kCacertsName) return &r;
  return nullptr;
}

}  // namespace

CaService::CaService(Options options) : opts_(std::move(options)) {}

void CaService::log(const std::string& line) const {
  if (!opts_.log) return;
  try {
    opts_.log(line);
  } catch (...) {
  }
}

bool CaService::start(std::string& error) {
  if (!opts_.enabled) {
    log("CA: off (--ca off); CreateCertificate answers UNAVAILABLE");
    return true;
  }
  std::string why;
  auto ca = ca::CertificateAuthority::self_signed(opts_.policy, &why);
  if (!ca) {
    error = "CA: " + why;
    return false;
  }
  {
    std::lock_guard lk(mu_);
    self_signed_ = ca;
  }
  use(std::move(ca), "generated");
  log("CA: anyone who reaches this port can get a certificate for any identity in trust domain " +
      opts_.policy.trust_domain + " (no caller authentication)");
  return true;
}

void CaService::use(std::shared_ptr<const ca::CertificateAuthority> ca, const std::string& why) {
  std::string line = "CA: " + why + "; signing " + opts_.policy.trust_domain + " identities with " + ca->describe();
  {
    std::lock_guard lk(mu_);
    current_ = std::move(ca);
  }
  log(line);
}

std::shared_ptr<const ca::CertificateAuthority> CaService::current() const {
  std::lock_guard lk(mu_);
  return current_;
}

void CaService::config_changed(const std::shared_ptr<const ConfigState>& config) {
  if (!opts_.enabled || !config) return;
  std::lock_guard ulk(update_mu_);
  if (config->generation <= generation_seen_) return;
  generation_seen_ = config->generation;
  const std::string where = "Secret " + opts_.root_namespace + "/" + kCacertsName;
  const Resource* secret = find_cacerts(*config, opts_.root_namespace);
  if (!secret) {
    if (cacerts_seen_.empty()) return;
    cacerts_seen_.clear();
    std::shared_ptr<const ca::CertificateAuthority> self;
    {
      std::lock_guard lk(mu_);
      self = self_signed_;
    }
    if (self) use(std::move(self), where + " is gone: back to the self-signed root");
    return;
  }
  auto data = compile::secret_data(*secret);
  const std::string contents =
      data["ca-cert.pem"] + '\0' + data["ca-key.pem"] + '\0' + data["cert-chain.pem"] + '\0' + data["root-cert.pem"];
  if (contents == cacerts_seen_) return;  // another part of the config changed
  cacerts_seen_ = contents;
  std::string error;
  std::shared_ptr<const ca::CertificateAuthority> ca;
  for (const char* key : {"ca-cert.pem", "ca-key.pem", "root-cert.pem"})
    if (data[key].empty() && error.empty()) error = std::string("no ") + key + " key";
  if (error.empty())
    ca = ca::CertificateAuthority::from_cacerts(data["ca-cert.pem"], data["ca-key.pem"], data["cert-chain.pem"],
                                                data["root-cert.pem"], opts_.policy, &error);
  if (ca) {
    use(std::move(ca), "loaded " + where);
    return;
  }
  auto still = current();
  log("CA: " + where + " rejected: " + error + "; still signing with " +
      (still ? still->describe() : std::string("nothing")));
}

grpc::ServerUnaryReactor* CaService::CreateCertificate(grpc::CallbackServerContext* ctx,
                                                       const auth::IstioCertificateRequest* req,
                                                       auth::IstioCertificateResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  grpc::Status status;
  try {
    const std::string peer = ctx->peer();
    auto ca = current();
    if (!ca) {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            opts_.enabled ? "the agent's CA is not ready" : "the agent's CA is off (--ca off)");
    } else if (req->csr().size() > kMaxCsrBytes) {
      status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "csr: " + std::to_string(req->csr().size()) + " bytes, more than a CSR can be");
    } else {
      ca::SignResult r = ca->sign(req->csr(), std::chrono::seconds(req->validity_duration()));
      if (!r.ok()) {
        log("CA: refused a CSR from " + peer + ": " + r.error);
        status = grpc::Status(r.ca_fault ? grpc::StatusCode::UNAVAILABLE : grpc::StatusCode::INVALID_ARGUMENT, r.error);
      } else {
        for (auto& pem : r.chain) resp->add_cert_chain(std::move(pem));
        log("CA: issued " + r.identity + " ttl " + std::to_string(r.ttl.count()) + "s serial " + r.serial + " to " +
            peer + " (" + ca->source() + ")");
      }
    }
  } catch (const std::exception& e) {
    status = grpc::Status(grpc::StatusCode::INTERNAL, std::string("CA: ") + e.what());
  }
  reactor->Finish(status);
  return reactor;
}

}  // namespace lg::ctrl
