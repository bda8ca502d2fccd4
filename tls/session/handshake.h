// A TLS handshake, server (termination) or client (origination), run by
// OpenSSL over byte streams (memory BIOs): the TCP stack hands in what
// arrived and takes what to send. When it is done on an offloadable suite,
// linegate's record layer takes over: the keys, the sequence numbers OpenSSL
// already used (a server's TLS 1.3 session tickets), and the bytes that
// arrived behind the peer's last flight, which are records under the peer's
// application keys.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tls/session/hand_over.h"

namespace lg::tls {

class Handshake {
 public:
  enum class State : uint8_t { in_progress, done, failed };
  enum class Role : uint8_t { server, client };

  // ctx must have capture_key_log() installed. A client sends `sni` as its
  // server_name (none when empty); its ClientHello comes from the first
  // input(), which may carry no bytes.
  explicit Handshake(SSL_CTX* ctx, Role role = Role::server, const std::string& sni = {});
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // Bytes from the peer; runs the handshake as far as they allow.
  State input(const uint8_t* data, size_t len);
  State state() const { return state_; }
  // Bytes for the peer (flights, tickets, an alert on failure).
  size_t pending_output() const;
  size_t take_output(uint8_t* out, size_t cap);

  // After done, with pending_output() taken: the record layer's start and
  // the bytes received behind the handshake (for a client: the server's
  // TLS 1.3 session tickets, under its application keys). false with *error when the
  // suite stays on OpenSSL (use ssl() then) or the keys cannot be had.
  bool hand_over(HandOver* out, std::vector<uint8_t>* leftover, std::string* error);

  // OpenSSL's own record layer once done (suites linegate does not offload,
  // or offload turned off): ciphertext in, plaintext out and in, records out
  // through take_output().
  bool feed(const uint8_t* data, size_t len);
  // Ciphertext fed but not yet opened, plus plaintext OpenSSL opened but not
  // yet read: work that waits for no more bytes from the peer.
  size_t pending_input() const;
  // Plaintext bytes read (> 0); 0: nothing complete yet; kClosed: the
  // peer's close_notify; kFailed: a fatal error (failure() says which;
  // an alert may be waiting in the output).
  static constexpr long kClosed = -1, kFailed = -2;
  long read_plain(uint8_t* out, size_t cap);
  bool write_plain(const uint8_t* data, size_t len);
  void close_notify();  // our close_notify alert, into the output

  const std::string& failure() const { return failure_; }  // OpenSSL's reason, once failed
  // The handshake's OpenSSL reason code (SSL_R_*), 0 when it has none.
  int failure_reason() const { return failure_reason_; }
  SSL* ssl() const { return ssl_; }
  bool is_server() const { return role_ == Role::server; }

 private:
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;
  KeyLog log_;
  State state_ = State::in_progress;
  Role role_;
  uint64_t app_records_written_ = 0;  // TLS 1.3: records OpenSSL sealed under the application keys
  std::string failure_;
  int failure_reason_ = 0;
};

}  // namespace lg::tls
