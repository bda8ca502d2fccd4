// DestinationRule ClientTLSSettings → OpenSSL client contexts (upstream_tls.h).
#include "dataplane/config/tls_inputs.h"
#include "dataplane/config/tls_servers.h"
#include "dataplane/config/upstream_tls.h"

namespace lg::config {
namespace pb = linegate::snapshot::v1;

namespace {

// The cluster's client config, or false with *error.
bool client_config(const Snapshot& s, const pb::Cluster& cl, tls::ClientTlsConfig* c, std::string* error) {
  const pb::UpstreamTls& t = cl.policy().tls();
  if (t.mode() == pb::UPSTREAM_TLS_MUTUAL) {
    tls::CertificateKey ck;
    if (!t.credential_name().empty()) {
      const pb::Secret* sec = find_secret(s, t.credential_name());
      if (sec == nullptr || sec->cert_chain().empty() || sec->private_key().empty()) {
        *error = "credential " + t.credential_name() + " not found or without a certificate and key";
        return false;
      }
      ck = {"credential " + t.credential_name(), sec->cert_chain(), sec->private_key()};
    } else if (!t.client_certificate().empty() && !t.private_key().empty()) {
      ck.name = "file " + t.client_certificate();
      if (!read_file(t.client_certificate(), &ck.cert_chain_pem, error) ||
          !read_file(t.private_key(), &ck.private_key_pem, error))
        return false;
    } else {
      *error = "MUTUAL without a client certificate (credentialName or clientCertificate and privateKey)";
      return false;
    }
    c->certificate = std::move(ck);
  }
  c->insecure_skip_verify = t.insecure_skip_verify();
  if (!c->insecure_skip_verify) {
    const std::string& ca_name = !t.ca_credential_name().empty() ? t.ca_credential_name() : t.credential_name();
    if (!ca_name.empty()) {
      const pb::Secret* ca = find_secret(s, ca_name);
      // A credential without a CA verifies against the system's trust store.
      if (ca == nullptr && ca_name != t.credential_name()) {
        *error = "CA credential " + ca_name + " not found";
        return false;
      }
      if (ca != nullptr) c->ca_pem = ca->ca_cert();
    }
    if (c->ca_pem.empty() && !t.ca_certificates().empty() && !read_file(t.ca_certificates(), &c->ca_pem, error))
      return false;
  }
  const auto& sans = t.subject_alt_names();
  if (!tls::parse_peer_requirements(std::vector<std::string>(sans.begin(), sans.end()), {}, {},
                                    &c->server_requirements, error))
    return false;
  return true;
}

}  // namespace

std::shared_ptr<const UpstreamTls> build_upstream_tls(const Snapshot& s) {
  auto out = std::make_shared<UpstreamTls>();
  out->clusters.resize(static_cast<size_t>(s.clusters_size()));
  for (int ci = 0; ci < s.clusters_size(); ++ci) {
    const pb::Cluster& cl = s.clusters(ci);
    const auto mode = cl.policy().tls().mode();
    // Auto mTLS (no DestinationRule tls, a mesh service) would speak Istio
    // mTLS to endpoints labelled for it; without a workload certificate the
    // gateway sends plain text, as it does to the others.
    if (mode == pb::UPSTREAM_TLS_DISABLE || cl.sni_dnat() || cl.policy().tls().auto_mtls()) continue;
    UpstreamTlsCluster& u = out->clusters[static_cast<size_t>(ci)];
    const std::string who = "cluster " + cl.name();
    if (mode == pb::UPSTREAM_TLS_ISTIO_MUTUAL) {
      u.error = who + ": ISTIO_MUTUAL needs the gateway's workload certificate, which it does not have";
      continue;
    }
    // Istio's default SNI is the destination host; a wildcard host has none.
    const std::string& sni = cl.policy().tls().sni();
    u.sni = !sni.empty() ? sni : cl.host().starts_with('*') ? std::string() : cl.host();
    tls::ClientTlsConfig config;
    config.verify_host = u.sni;
    if (!client_config(s, cl, &config, &u.error)) {
      u.error = who + ": " + u.error;
      continue;
    }
    std::string why;
    u.context = tls::ClientContext::build(config, &why);
    if (u.context == nullptr) u.error = who + ": " + why;
  }
  return out;
}

const UpstreamTlsCluster* origination(const RuntimeTables& t, uint32_t ci) {
  const UpstreamTls* u = t.upstream_tls.get();
  if (u == nullptr || ci >= u->clusters.size()) return nullptr;
  const UpstreamTlsCluster& c = u->clusters[ci];
  return c.context != nullptr || !c.error.empty() ? &c : nullptr;
}

std::vector<std::string> tls_errors(const RuntimeTables& t) {
  std::vector<std::string> out;
  if (t.tls_servers != nullptr)
    for (const TlsServer& s : t.tls_servers->servers)
      if (!s.error.empty()) out.push_back(s.error);
  if (t.upstream_tls != nullptr)
    for (const UpstreamTlsCluster& c : t.upstream_tls->clusters)
      if (!c.error.empty()) out.push_back(c.error);
  return out;
}

}  // namespace lg::config
