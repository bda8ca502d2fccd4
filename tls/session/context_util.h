// What building a server context and a client context share: PEM
// certificates and keys into an SSL_CTX, trusted CAs, versions, the TLS 1.2
// suite list, with errors that name the credential and OpenSSL's reason.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/record/suite.h"

namespace lg::tls {

struct CertificateKey {
  std::string name;            // for messages: the credential or file
  std::string cert_chain_pem;  // leaf first
  std::string private_key_pem;
};

// OpenSSL's reason for the last error (the error queue is cleared).
std::string openssl_reason();

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Every certificate in `pem`, in order (a chain: leaf first); empty when
// none parses.
std::vector<X509Ptr> read_certificates(const std::string& pem);
// The first private key in `pem`, or null. Encrypted keys read as none
// (an empty passphrase, never a prompt on the terminal): Istio's
// credentials are unencrypted.
PkeyPtr read_private_key(const std::string& pem);

// The leaf, its chain and the matching private key; the context keeps one
// chain per key type.
bool use_certificate_key(SSL_CTX* ctx, const CertificateKey& ck, std::string* error);

// Every certificate in `pem` becomes a trust anchor of ctx; with names, also
// their subjects (a server's certificate_authorities list). `what` names the
// bundle in errors.
bool trust_cas(SSL_CTX* ctx, const std::string& pem, const char* what, STACK_OF(X509_NAME) * names,
               std::string* error);

// min ≤ max, versions set, renegotiation and compression off (renegotiation
// would move keys under the record layer's feet; compression is CRIME), and
// the TLS 1.2 suites (empty: Envoy's default AEAD list).
bool common_settings(SSL_CTX* ctx, Version min, Version max, const std::vector<std::string>& cipher_suites,
                     std::string* error);

// RFC 7301 §3.1's wire form: each name length-prefixed. false: a name is
// empty or over 255 bytes.
bool alpn_wire(const std::vector<std::string>& protocols, std::vector<uint8_t>* out, std::string* error);

}  // namespace lg::tls
