// The OpenSSL context a gateway originates TLS with toward one upstream
// cluster (DestinationRule trafficPolicy.tls SIMPLE / MUTUAL), built on the
// control thread from the snapshot and shared read-only by the workers'
// handshakes.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls/record/suite.h"
#include "tls/session/context_util.h"
#include "tls/session/peer_verify.h"

namespace lg::tls {

struct ClientTlsConfig {
  std::optional<CertificateKey> certificate;  // MUTUAL: what the gateway presents
  // Verifies the upstream's chain; empty: the system's trust store
  // (OpenSSL's default paths), as Istio does for an egress without
  // caCertificates.
  std::string ca_pem;
  bool insecure_skip_verify = false;  // no chain or name check at all
  // subjectAltNames: one of the upstream certificate's SANs must match.
  // Empty: its names must cover verify_host instead (Envoy's auto SAN
  // validation against the SNI, RFC 6125 §6.4 with one-label wildcards).
  PeerRequirements server_requirements;
  std::string verify_host;
  Version min_version = Version::tls12;
  Version max_version = Version::tls13;
  std::vector<std::string> cipher_suites;  // TLS 1.2, OpenSSL names; empty = Envoy's default
  std::vector<std::string> alpn;           // offered, in preference order
};

class ClientContext {
 public:
  // nullptr with *error naming what is wrong and OpenSSL's reason.
  static std::unique_ptr<ClientContext> build(const ClientTlsConfig& config, std::string* error);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }

 private:
  ClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
};

}  // namespace lg::tls
