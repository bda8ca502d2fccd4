#include "tls/session/handshake.h"

#include <openssl/err.h>

namespace lg::tls {

namespace {

// Records in a run of bytes OpenSSL wrote (it writes whole records).
uint64_t count_records(const uint8_t* p, size_t n) {
  uint64_t records = 0;
  for (size_t off = 0; off + kHeaderLen <= n; ++records) off += kHeaderLen + (size_t{p[off + 3]} << 8 | p[off + 4]);
  return records;
}

}  // namespace

Handshake::Handshake(SSL_CTX* ctx, Role role, const std::string& sni) : ssl_(SSL_new(ctx)), role_(role) {
  if (ssl_ == nullptr) {
    state_ = State::failed;
    failure_ = "cannot create an SSL object";
    return;
  }
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);  // empty means "wait for more", not EOF
  SSL_set_bio(ssl_, rbio_, wbio_);
  attach_key_log(ssl_, &log_);
  if (role == Role::server) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl_, sni.c_str()) != 1) {
    state_ = State::failed;
    failure_ = "SNI refused: " + sni;
  }
}

Handshake::~Handshake() { SSL_free(ssl_); }

Handshake::State Handshake::input(const uint8_t* data, size_t len) {
  if (state_ != State::in_progress) return state_;
  if (len > 0 && BIO_write(rbio_, data, static_cast<int>(len)) != static_cast<int>(len)) {
    state_ = State::failed;
    failure_ = "out of memory";
    return state_;
  }
  const size_t written_before = BIO_ctrl_pending(wbio_);
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = State::done;
    // TLS 1.3: what a server's completing call wrote is session tickets,
    // under its application keys (RFC 8446 §4.6.1); our records follow them.
    // (A client's completing call wrote its Finished, under handshake keys.)
    if (role_ == Role::server && SSL_version(ssl_) == TLS1_3_VERSION) {
      char* p = nullptr;
      const long n = BIO_get_mem_data(wbio_, &p);
      if (n > 0 && static_cast<size_t>(n) > written_before)
        app_records_written_ = count_records(reinterpret_cast<uint8_t*>(p) + written_before,
                                             static_cast<size_t>(n) - written_before);
    }
    return state_;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return state_;
  state_ = State::failed;
  const unsigned long e = ERR_peek_error();  // 0 when the queue is empty
  failure_reason_ = ERR_GET_REASON(e);
  const char* reason = ERR_reason_error_string(e);
  failure_ = reason != nullptr ? reason : "handshake failed (SSL error " + std::to_string(err) + ")";
  return state_;
}

size_t Handshake::pending_output() const { return wbio_ != nullptr ? BIO_ctrl_pending(wbio_) : 0; }

size_t Handshake::take_output(uint8_t* out, size_t cap) {
  if (wbio_ == nullptr) return 0;
  const int n = BIO_read(wbio_, out, static_cast<int>(std::min<size_t>(cap, INT32_MAX)));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool Handshake::hand_over(HandOver* out, std::vector<uint8_t>* leftover, std::string* error) {
  if (state_ != State::done) {
    *error = "the handshake is not done";
    return false;
  }
  if (!tls::hand_over(ssl_, log_, out, error)) return false;
  out->tx_sequence += app_records_written_;
  // OpenSSL reads a record at a time (no read-ahead): whatever it has not
  // taken from the memory BIO came after the peer's last flight.
  leftover->resize(BIO_ctrl_pending(rbio_));
  if (!leftover->empty()) BIO_read(rbio_, leftover->data(), static_cast<int>(leftover->size()));
  return true;
}

bool Handshake::feed(const uint8_t* data, size_t len) {
  return len == 0 || BIO_write(rbio_, data, static_cast<int>(len)) == static_cast<int>(len);
}

size_t Handshake::pending_input() const {
  return (rbio_ != nullptr ? BIO_ctrl_pending(rbio_) : 0) + (ssl_ != nullptr ? static_cast<size_t>(SSL_pending(ssl_)) : 0);
}

long Handshake::read_plain(uint8_t* out, size_t cap) {
  if (state_ != State::done) return kFailed;
  ERR_clear_error();
  const int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(cap, INT32_MAX)));
  if (n > 0) return n;
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return 0;
    case SSL_ERROR_ZERO_RETURN:
      return kClosed;
    default: {
      state_ = State::failed;
      const char* reason = ERR_reason_error_string(ERR_peek_error());
      failure_ = reason != nullptr ? reason : "record layer failure";
      return kFailed;
    }
  }
}

bool Handshake::write_plain(const uint8_t* data, size_t len) {
  // A memory BIO never refuses: SSL_write takes everything or fails.
  return state_ == State::done && (len == 0 || SSL_write(ssl_, data, static_cast<int>(len)) == static_cast<int>(len));
}

void Handshake::close_notify() {
  if (state_ == State::done) SSL_shutdown(ssl_);
}

}  // namespace lg::tls
