// The OpenSSL context a TLS-terminating Gateway server handshakes with, built
// on the control thread from what the snapshot carries (Gateway
// ServerTLSSettings: credentials, CA, versions, cipher suites, mode) and
// shared read-only by the workers' handshakes.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/record/suite.h"
#include "tls/session/context_util.h"
#include "tls/session/peer_verify.h"
#include "tls/session/ticket_keys.h"

namespace lg::tls {

enum class ClientCertificate : uint8_t { none, optional, required };

struct ServerTlsConfig {
  std::vector<CertificateKey> certificates;  // one per key type (ECDSA, RSA); the client's offer picks
  ClientCertificate client_certificate = ClientCertificate::none;
  std::string client_ca_pem;  // verifies client certificates (MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL)
  PeerRequirements client_requirements;  // subjectAltNames, verifyCertificateSpki/Hash
  Version min_version = Version::tls12;  // Istio gateways: TLS 1.2 unless set
  Version max_version = Version::tls13;
  // TLS 1.2 suites in OpenSSL names; empty = Envoy's default AEAD list.
  std::vector<std::string> cipher_suites;
  std::vector<std::string> alpn;  // in preference order, e.g. {"http/1.1"}
  // Session resumption by tickets sealed with these process-wide keys,
  // which must outlive the context; nullptr: no tickets, every handshake
  // is a full one. (No server-side session cache either way.)
  TicketKeys* ticket_keys = nullptr;
};

class ServerContext {
 public:
  // nullptr with *error naming the credential and OpenSSL's reason.
  static std::unique_ptr<ServerContext> build(const ServerTlsConfig& config, std::string* error);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }

 private:
  ServerContext() = default;
  SSL_CTX* ctx_ = nullptr;
  // Length-prefixed protocol list the ALPN callback selects from (while the
  // ClientHello is processed, in the pass that still holds these tables).
  std::vector<uint8_t> alpn_wire_;
};

}  // namespace lg::tls
