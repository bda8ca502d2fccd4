// Test peers for tls/session: certificates issued on the fly (a CA, leaves
// it signs, P-256 or RSA-2048) as PEM, and an OpenSSL client on memory BIOs
// driven against a Handshake.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <string>

#include "tls/session/handshake.h"
#include "tls/testing/openssl_pair.h"

namespace lg::tls_testing {

struct Credential {
  std::string cert_pem, key_pem;
};

enum class KeyType { p256, rsa2048 };

// A certificate for `cn`: self-signed CA (basicConstraints CA:TRUE) when
// issuer is nullptr, else a leaf the issuer signs. san: a subjectAltName
// extension in OpenSSL's config form ("DNS:a.example.com,URI:spiffe://...").
// ca: an intermediate CA the issuer signs.
Credential issue(const std::string& cn, KeyType type, const Credential* issuer = nullptr, const std::string& san = "",
                 bool ca = false);

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
X509Ptr pem_cert(const std::string& pem);  // the first certificate in pem
// The credential's certificate and key become ctx's.
void use_credential(SSL_CTX* ctx, const Credential& c);

class MemoryClient {
 public:
  explicit MemoryClient(SSL_CTX* ctx);
  ~MemoryClient();
  MemoryClient(const MemoryClient&) = delete;
  MemoryClient& operator=(const MemoryClient&) = delete;
  SSL* ssl() const { return ssl_; }
  Bytes written() const;                    // what the client sent since the last call
  void receive(const uint8_t* p, size_t n) const;

 private:
  SSL* ssl_;
  BIO *in_, *out_;
};

// Flights both ways until the server is done or failed (or 10 rounds);
// after_client_step runs after each of the client's handshake steps.
void handshake(tls::Handshake& server, MemoryClient& client,
               const std::function<void()>& after_client_step = [] {});

}  // namespace lg::tls_testing
