// Session ticket keys (RFC 5077 tickets in TLS 1.2, PSK tickets in TLS 1.3,
// RFC 8446 §4.6.1) that rotate: the current key seals new tickets; the
// previous one still opens tickets for one more period, and those get
// re-issued under the current key. Older tickets mean a full handshake.
//
// One set serves the whole process and outlives every SSL_CTX it is
// installed in, so a ticket survives the contexts a config push or a
// certificate rotation replaces. Rotation happens on the control thread;
// handshakes on the workers read the keys without locks or waiting.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace lg::tls {

class TicketKeys {
 public:
  // A random first key. `period` is how long a key seals new tickets (the
  // caller rotates on that schedule); a ticket then opens for two periods at
  // most, which is the lifetime contexts give their sessions. Rotations
  // closer than min_period are refused: two quick rotations would void
  // every ticket. nullptr with *error when the random generator fails.
  static std::unique_ptr<TicketKeys> create(std::chrono::seconds period, std::string* error,
                                            std::chrono::milliseconds min_period = std::chrono::seconds(1));
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // A new current key; the current one becomes the previous. false: too
  // soon after the last rotation, or no random bytes (the keys stay).
  bool rotate();

  // Makes ctx's tickets use these keys, with sessions that live two
  // periods; the keys must outlive ctx.
  void install(SSL_CTX* ctx);

  std::chrono::seconds period() const { return period_; }
  std::chrono::seconds lifetime() const { return 2 * period_; }
  uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

 private:
  struct Key {
    uint8_t name[16];
    uint8_t aes[32];
    uint8_t hmac[32];
  };
  struct Keys {  // what a handshake reads
    Key current, previous;
    uint64_t has_previous;
  };
  static_assert(sizeof(Keys) % sizeof(uint64_t) == 0);
  static constexpr unsigned kWords = sizeof(Keys) / sizeof(uint64_t);

  // A slot is rewritten three rotations after readers stopped being sent
  // to it, so a reader normally copies it untouched. One stalled that long
  // (preempted on a shared core, stopped in a debugger) could race the
  // writer: the version (odd while being written, seqlock-style) tells it
  // to start over from `live_`, which names a slot already complete, so a
  // reader never waits for the writer. The words are relaxed atomics so the
  // racing copy is defined behaviour.
  static constexpr unsigned kSlots = 4;
  struct alignas(64) Slot {
    std::atomic<uint64_t> version{0};
    std::atomic<uint64_t> words[kWords];
  };

  TicketKeys(std::chrono::seconds period, std::chrono::milliseconds min_period);
  static int on_ticket(SSL* ssl, unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                       EVP_MAC_CTX* mac, int encrypt);
  void write(Slot& slot, const Keys& keys);
  void read(Keys* out) const;

  Slot slots_[kSlots];
  std::atomic<unsigned> live_{0};  // slot handshakes read (mod kSlots)
  std::atomic<uint64_t> rotations_{0};
  const std::chrono::seconds period_;
  const std::chrono::milliseconds min_period_;
  std::chrono::steady_clock::time_point last_rotation_;  // control thread only
};

}  // namespace lg::tls
