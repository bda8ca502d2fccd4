// An OpenSSL client and server joined by memory BIOs, for tests and
// benchmarks of the record layer: a self-signed P-256 certificate, one
// protocol version and suite, and the server's secrets from its key log, from
// which its record keys are derived as linegate's handshake code takes them.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tls/record/keys.h"

namespace lg::tls_testing {

using Bytes = std::vector<uint8_t>;

Bytes from_hex(std::string s);

struct PairOptions {
  tls::Version version = tls::Version::tls13;
  std::string suite;  // TLS 1.3 ciphersuite or TLS 1.2 cipher list
  tls::Aead aead = tls::Aead::aes_128_gcm;
};

class OpenSslPair {
 public:
  // Runs the handshake to completion; nullptr and *error if it fails.
  static std::unique_ptr<OpenSslPair> connect(const PairOptions& o, std::string* error);
  ~OpenSslPair();

  SSL* client() const { return client_; }
  SSL* server() const { return server_; }
  void to_client(const uint8_t* p, size_t n) const;  // bytes the client will read
  Bytes from_client() const;                         // bytes the client wrote
  Bytes from_server() const;                         // bytes OpenSSL's server wrote
  void server_to_client() const;                     // OpenSSL server → client
  void client_to_server() const;
  void discard_server_output();  // OpenSSL's server writes into a null BIO from now on

  const EVP_MD* hash() const { return hash_; }
  // The server's receive (client_write) and send (server_write) keys and the
  // sequence numbers the next records take; TLS 1.3 also the secrets.
  tls::TrafficKeys client_write, server_write;
  uint64_t first_sequence = 0;
  Bytes client_secret, server_secret;

 private:
  OpenSslPair() = default;
  bool derive_keys(const PairOptions& o, std::string* error);
  static void keylog(const SSL* ssl, const char* line);

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX *sctx_ = nullptr, *cctx_ = nullptr;
  SSL *server_ = nullptr, *client_ = nullptr;
  BIO *to_server_ = nullptr, *from_server_ = nullptr, *to_client_ = nullptr, *from_client_ = nullptr;
  const EVP_MD* hash_ = nullptr;
  std::map<std::string, Bytes> secrets_;  // NSS key log labels → secret
};

}  // namespace lg::tls_testing
