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
  return true;
}

bool http_family(int protocol) {
  return protocol == pb::PROTOCOL_HTTP || protocol == pb::PROTOCOL_HTTP2 || protocol == pb::PROTOCOL_GRPC ||
         protocol == pb::PROTOCOL_GRPC_WEB || protocol == pb::PROTOCOL_HTTP_PROXY;
}

// ISTIO_MUTUAL (set, or by auto mTLS): the gateway's SPIFFE certificate,
// the mesh's roots, the destination's identities, and Istio's ALPN, by which
// a PERMISSIVE sidecar tells its mesh's mTLS from the application's own TLS.
bool istio_mutual_config(const pb::Cluster& cl, const tls::WorkloadIdentity* id, tls::ClientTlsConfig* c,
                         std::string* error) {
  if (!workload_certificate(id, &c->certificate.emplace(), error)) return false;
  c->ca_pem = id->roots_pem;
  // Envoy's istio.alpn override: HTTP/1.1 upstreams, else Istio's TCP list.
  c->alpn = http_family(cl.protocol()) ? std::vector<std::string>{"istio-http/1.1", "istio", "http/1.1"}
                                       : std::vector<std::string>{"istio-peer-exchange", "istio"};
  return true;
}

}  // namespace

std::shared_ptr<const UpstreamTls> build_upstream_tls(const Snapshot& s, const RuntimeTables& t,
                                                      const tls::WorkloadIdentity* identity) {
  auto out = std::make_shared<UpstreamTls>();
  out->clusters.resize(static_cast<size_t>(s.clusters_size()));
  out->istio_endpoint.resize(t.endpoints.size());
  for (int ci = 0; ci < s.clusters_size(); ++ci) {
    const pb::Cluster& cl = s.clusters(ci);
    const pb::UpstreamTls& tls = cl.policy().tls();
    if (tls.mode() == pb::UPSTREAM_TLS_DISABLE || cl.sni_dnat()) continue;
    // Auto mTLS needs the gateway's own certificate; without one it sends
    // plain text (to every endpoint), as it would to workloads without a
    // sidecar.
    if (tls.auto_mtls() && identity == nullptr) continue;
    UpstreamTlsCluster& u = out->clusters[static_cast<size_t>(ci)];
    const std::string who = "cluster " + cl.name();
    u.auto_mtls = tls.auto_mtls();
    if (u.auto_mtls) {
      const ClusterSlot& cs = t.clusters[static_cast<size_t>(ci)];
      for (int j = 0; j < cl.endpoints_size() && j < static_cast<int>(cs.endpoint_count); ++j)
        out->istio_endpoint[cs.endpoint_first + static_cast<uint32_t>(j)] =
            cl.endpoints(j).tls_mode() == "istio" && !cl.endpoints(j).peer_mtls_disabled();
    }
    tls::ClientTlsConfig config;
    bool ok;
    if (tls.mode() == pb::UPSTREAM_TLS_ISTIO_MUTUAL) {
      // The compiler set Istio's SNI (outbound_.<port>_.<subset>_.<host>)
      // and the service's identities; the peer's name is its SPIFFE ID, so
      // there is no host name to check.
      u.sni = tls.sni();
      ok = istio_mutual_config(cl, identity, &config, &u.error);
    } else {
      // Istio's default SNI is the destination host; a wildcard host has none.
      u.sni = !tls.sni().empty() ? tls.sni() : cl.host().starts_with('*') ? std::string() : cl.host();
      config.verify_host = u.sni;
      ok = client_config(s, cl, &config, &u.error);
    }
    const auto& sans = tls.subject_alt_names();
    ok = ok && tls::parse_peer_requirements(std::vector<std::string>(sans.begin(), sans.end()), {}, {},
                                            &config.server_requirements, &u.error);
    if (ok) u.context = tls::ClientContext::build(config, &u.error);
    if (u.context == nullptr) u.error = who + ": " + u.error;
  }
  return out;
}

const UpstreamTlsCluster* origination(const RuntimeTables& t, uint32_t ci, uint32_t ei) {
  const UpstreamTls* u = t.upstream_tls.get();
  if (u == nullptr || ci >= u->clusters.size()) return nullptr;
  const UpstreamTlsCluster& c = u->clusters[ci];
  if (c.context == nullptr) return c.error.empty() ? nullptr : &c;  // refused, whatever the endpoint
  if (c.auto_mtls && (ei >= u->istio_endpoint.size() || !u->istio_endpoint[ei])) return nullptr;
  return &c;
}

bool tls_unavailable(const RuntimeTables& t, uint32_t ci) {
  const UpstreamTlsCluster* c = origination(t, ci, kNone);
  return c != nullptr && c->context == nullptr;
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
