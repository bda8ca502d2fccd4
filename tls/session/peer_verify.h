// What a TLS endpoint requires of its peer's certificate beyond a chain to
// the trusted CA: Istio's subjectAltNames, verifyCertificateSpki and
// verifyCertificateHash (Envoy's CertificateValidationContext semantics).
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lg::tls {

using Sha256 = std::array<uint8_t, 32>;

struct PeerRequirements {
  std::vector<std::string> subject_alt_names;  // one of the certificate's SANs equals one of these
  // Either list matching accepts the certificate (Envoy: "a hash matching a
  // value from either of the lists").
  std::vector<Sha256> spki_sha256;  // SHA-256 of the DER SubjectPublicKeyInfo
  std::vector<Sha256> cert_sha256;  // SHA-256 of the DER certificate
  bool empty() const { return subject_alt_names.empty() && spki_sha256.empty() && cert_sha256.empty(); }
};

// Istio's spellings: SPKI pins in base64, certificate hashes in hex with or
// without colons (any case). false with *error naming the bad value.
bool parse_peer_requirements(const std::vector<std::string>& subject_alt_names,
                             const std::vector<std::string>& spki_base64, const std::vector<std::string>& cert_hex,
                             PeerRequirements* out, std::string* error);

enum class PeerFailure : uint8_t { none, subject_alt_name, hash };  // Envoy: fail_verify_san, fail_verify_cert_hash
PeerFailure check_peer(X509* leaf, const PeerRequirements& req);

// Installs a verify callback on ctx that, once OpenSSL accepted the chain,
// checks the leaf against req (ctx keeps it). A refused certificate ends the
// handshake with bad_certificate; peer_failure() says why.
void require_peer(SSL_CTX* ctx, PeerRequirements req);
PeerFailure peer_failure(const SSL* ssl);

}  // namespace lg::tls
