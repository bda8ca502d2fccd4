// Session ticket keys (RFC 5077 tickets in TLS 1.2, PSK tickets in TLS 1.3)
// that rotate: the current key seals new tickets; the previous one still
// opens tickets for one more period, and those get re-issued under the
// current key. Older tickets mean a full handshake. Rotation happens on the
// control thread; handshakes on the workers read the keys without locks.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace lg::tls {

class TicketKeys {
 public:
  // A random first key. Rotations closer than min_period are refused, so a
  // worker reading the keys finishes long before its slot is reused.
  explicit TicketKeys(std::chrono::milliseconds min_period = std::chrono::seconds(1));
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // A new current key; the current one becomes the previous. false: too
  // soon after the last rotation.
  bool rotate();

  // Makes ctx's tickets use these keys; they must outlive ctx.
  void install(SSL_CTX* ctx);

 private:
  struct Key {
    uint8_t name[16];
    uint8_t aes[32];
    uint8_t hmac[32];
  };
  struct Ring {  // what a handshake reads
    Key current, previous;
    bool has_previous = false;
  };
  static constexpr unsigned kSlots = 4;
  static int on_ticket(SSL* ssl, unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                       EVP_MAC_CTX* mac, int encrypt);
  Ring read() const;

  Ring slots_[kSlots];
  std::atomic<unsigned> live_{0};  // slot handshakes read
  std::chrono::milliseconds min_period_;
  std::chrono::steady_clock::time_point last_rotation_;
};

}  // namespace lg::tls
