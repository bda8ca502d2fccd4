// An OpenSSL client and server joined by memory BIOs, for tests and
// benchmarks of the record layer: a self-signed P-256 certificate, one
// protocol version and suite, and the server's record keys as linegate's
// handshake code takes them over (tls/session/hand_over).
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tls/record/protection.h"
#include "tls/session/hand_over.h"

namespace lg::tls_testing {

using Bytes = std::vector<uint8_t>;

Bytes from_hex(std::string s);

struct PairOptions {
  tls::Version version = tls::Version::tls13;
  std::string suite;  // TLS 1.3 ciphersuite or TLS 1.2 cipher list
  tls::Aead aead = tls::Aead::aes_128_gcm;
};

// One record at a time through the engine, for tests: `plain` sealed as a
// record of `type`; `record` (a copy) opened into *type and *plain.
Bytes seal_one(tls::RecordProtection& tx, tls::AeadEngine& engine, tls::ContentType type, const Bytes& plain);
tls::OpenStatus open_one(tls::RecordProtection& rx, tls::AeadEngine& engine, Bytes record, tls::ContentType* type,
                         Bytes* plain);

// Contexts pinned to o.version and o.suite: a server with a fresh
// self-signed P-256 certificate (no session tickets, key log captured), and
// a client that does not verify it. nullptr and *error on failure.
SSL_CTX* server_context(const PairOptions& o, std::string* error);
SSL_CTX* client_context(const PairOptions& o, std::string* error);

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

  // The server's record layer as linegate takes it over: keys, the sequence
  // numbers its next records take, TLS 1.3's secrets.
  tls::HandOver server_keys;

 private:
  OpenSslPair() = default;

  SSL_CTX *sctx_ = nullptr, *cctx_ = nullptr;
  SSL *server_ = nullptr, *client_ = nullptr;
  BIO *to_server_ = nullptr, *from_server_ = nullptr, *to_client_ = nullptr, *from_client_ = nullptr;
  tls::KeyLog key_log_;
};

}  // namespace lg::tls_testing
