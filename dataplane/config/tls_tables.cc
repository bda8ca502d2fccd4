// Gateway ServerTLSSettings → OpenSSL contexts (tls_servers.h).
#include <algorithm>

#include "dataplane/config/tls_inputs.h"
#include "dataplane/config/tls_servers.h"

namespace lg::config {
namespace pb = linegate::snapshot::v1;

namespace {

// SIMPLE / MUTUAL / OPTIONAL_MUTUAL: certificates from credentials or
// files, and for the mutual modes the CA that verifies clients.
bool credential_config(const Snapshot& s, const pb::ServerTls& t, tls::ServerTlsConfig* c, std::string* error) {
  for (const std::string& name : t.credential_names()) {
    const pb::Secret* sec = find_secret(s, name);
    if (sec == nullptr || sec->cert_chain().empty() || sec->private_key().empty()) {
      *error = "credential " + name + " not found or without a certificate and key";
      return false;
    }
    c->certificates.push_back({"credential " + name, sec->cert_chain(), sec->private_key()});
  }
  auto add_files = [&](const std::string& cert, const std::string& key) {
    tls::CertificateKey k{"file " + cert, {}, {}};
    if (!read_file(cert, &k.cert_chain_pem, error) || !read_file(key, &k.private_key_pem, error)) return false;
    c->certificates.push_back(std::move(k));
    return true;
  };
  // Files when there are no credentials: serverCertificate, then every
  // entry of tlsCertificates (an RSA and an ECDSA pair).
  if (c->certificates.empty()) {
    if (!t.server_certificate().empty() && !add_files(t.server_certificate(), t.private_key())) return false;
    for (const pb::TlsCertificateFiles& f : t.tls_certificates())
      if (!add_files(f.server_certificate(), f.private_key())) return false;
  }
  if (c->certificates.empty()) {
    *error = "no certificate (credentialName or serverCertificate)";
    return false;
  }
  if (t.mode() != pb::SERVER_TLS_MUTUAL && t.mode() != pb::SERVER_TLS_OPTIONAL_MUTUAL) return true;
  c->client_certificate =
      t.mode() == pb::SERVER_TLS_MUTUAL ? tls::ClientCertificate::required : tls::ClientCertificate::optional;
  if (!t.ca_credential_name().empty()) {
    const pb::Secret* ca = find_secret(s, t.ca_credential_name());
    if (ca == nullptr || ca->ca_cert().empty()) {
      *error = "CA credential " + t.ca_credential_name() + " not found or without ca.crt";
      return false;
    }
    c->client_ca_pem = ca->ca_cert();
  } else if (!t.ca_certificates().empty()) {
    if (!read_file(t.ca_certificates(), &c->client_ca_pem, error)) return false;
  } else {
    *error = "MUTUAL without a CA (caCertificates or a -cacert credential)";
    return false;
  }
  return true;
}

// ISTIO_MUTUAL: the gateway's own SPIFFE certificate, and clients'
// certificates required and checked against the mesh's roots (Istio's
// gateway mTLS from sidecars or other meshes' gateways).
bool istio_mutual_config(const tls::WorkloadIdentity* id, tls::ServerTlsConfig* c, std::string* error) {
  if (!workload_certificate(id, &c->certificates.emplace_back(), error)) return false;
  c->client_certificate = tls::ClientCertificate::required;
  c->client_ca_pem = id->roots_pem;
  return true;
}

// The server's config, or false with *error (a missing credential).
bool server_config(const Snapshot& s, const pb::Server& srv, const tls::WorkloadIdentity* id,
                   tls::ServerTlsConfig* c, std::string* error) {
  const pb::ServerTls& t = srv.tls();
  if (!(t.mode() == pb::SERVER_TLS_ISTIO_MUTUAL ? istio_mutual_config(id, c, error)
                                                 : credential_config(s, t, c, error)))
    return false;
  if (c->client_certificate != tls::ClientCertificate::none) {
    const auto list = [](const auto& field) { return std::vector<std::string>(field.begin(), field.end()); };
    if (!tls::parse_peer_requirements(list(t.subject_alt_names()), list(t.verify_certificate_spki()),
                                      list(t.verify_certificate_hash()), &c->client_requirements, error))
      return false;
  }
  c->min_version = tls_version(t.min_protocol_version(), tls::Version::tls12);
  c->max_version = tls_version(t.max_protocol_version(), tls::Version::tls13);
  c->cipher_suites.assign(t.cipher_suites().begin(), t.cipher_suites().end());
  if (srv.protocol() == pb::PROTOCOL_HTTPS) c->alpn = {"http/1.1"};
  return true;
}

}  // namespace

bool terminates_tls(int mode) {
  return mode == pb::SERVER_TLS_SIMPLE || mode == pb::SERVER_TLS_MUTUAL || mode == pb::SERVER_TLS_OPTIONAL_MUTUAL ||
         mode == pb::SERVER_TLS_ISTIO_MUTUAL;
}

uint32_t TlsServers::select(const ListenerSlot& l, std::string_view sni) const {
  uint32_t chosen = kNone;
  int best = -1;
  for (uint32_t i = 0; i < l.server_count; ++i) {
    const size_t k = size_t{l.server_first} + i;
    if (k >= servers.size() || servers[k].mode == 0) continue;
    if (chosen == kNone) chosen = i;  // without SNI or a match: the first server
    for (const TlsServer::Pattern& p : servers[k].names) {
      const int score = name_match_score(p.name, p.wildcard, sni);
      if (score > best) {  // ties keep the earlier server
        best = score;
        chosen = i;
      }
    }
  }
  return chosen;
}

std::shared_ptr<const TlsServers> build_tls_servers(const Snapshot& s, const RuntimeTables& t,
                                                    const TlsEnv& env, std::string* error) {
  auto out = std::make_shared<TlsServers>();
  for (size_t li = 0; li < t.listeners.size(); ++li) {
    const ListenerSlot& l = t.listeners[li];
    const pb::Listener& pl = s.listeners(static_cast<int>(l.snapshot_index));
    out->servers.resize(std::max<size_t>(out->servers.size(), size_t{l.server_first} + l.server_count));
    for (uint32_t i = 0; i < l.server_count; ++i) {
      const pb::Server& srv = pl.servers(static_cast<int>(i));
      const auto mode = srv.tls().mode();
      if (!terminates_tls(mode)) continue;
      TlsServer& ts = out->servers[size_t{l.server_first} + i];
      ts.mode = static_cast<uint8_t>(mode);
      for (const std::string& h : srv.sni_hosts().empty() ? srv.hosts() : srv.sni_hosts()) {
        std::string n = h;
        std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return std::tolower(ch); });
        const bool wildcard = n.starts_with('*');
        ts.names.push_back({wildcard ? n.substr(1) : std::move(n), wildcard});  // "*.a.com" → ".a.com", "*" → ""
      }
      // PeerAuthentication DISABLE: the names route plain-text requests;
      // no handshake ever needs a context (nor waits for an identity).
      if (!l.terminates_tls) continue;
      const std::string who = "listener " + pl.name() + " server " + srv.name();
      tls::ServerTlsConfig config;
      if (!server_config(s, srv, env.identity.get(), &config, &ts.error)) {
        ts.error = who + ": " + ts.error;
        continue;
      }
      config.ticket_keys = env.ticket_keys;
      std::string why;
      ts.context = tls::ServerContext::build(config, &why);
      if (ts.context == nullptr) {
        *error = who + ": " + why;
        return nullptr;
      }
    }
  }
  return out;
}

}  // namespace lg::config
