#include "tls/session/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace lg::tls {

namespace {

int ctx_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool random_key(void* key, size_t len) { return RAND_bytes(static_cast<unsigned char*>(key), static_cast<int>(len)) == 1; }

// RFC 5077 §4's recommended construction: AES-256-CBC, HMAC-SHA-256.
bool key_cipher(const uint8_t* aes, const uint8_t* hmac, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
                EVP_MAC_CTX* mac, bool encrypt) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_init(mac, hmac, 32, params) == 1 &&
         EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), nullptr, aes, iv, encrypt ? 1 : 0) == 1;
}

}  // namespace

TicketKeys::TicketKeys(std::chrono::seconds period, std::chrono::milliseconds min_period)
    : period_(period), min_period_(min_period), last_rotation_(std::chrono::steady_clock::now()) {}

std::unique_ptr<TicketKeys> TicketKeys::create(std::chrono::seconds period, std::string* error,
                                               std::chrono::milliseconds min_period) {
  std::unique_ptr<TicketKeys> k(new TicketKeys(period, min_period));
  Keys first{};
  const bool ok = random_key(&first.current, sizeof(Key));
  if (ok) k->write(k->slots_[0], first);
  OPENSSL_cleanse(&first, sizeof first);
  if (!ok) {
    *error = "no random bytes for the session ticket keys (OpenSSL's random generator failed)";
    return nullptr;
  }
  return k;
}

// The writer half of a seqlock (odd version: being written), after Boehm,
// "Can seqlocks get along with programming language memory models?" (2012).
void TicketKeys::write(Slot& slot, const Keys& keys) {
  uint64_t w[kWords];
  std::memcpy(w, &keys, sizeof w);
  const uint64_t v = slot.version.load(std::memory_order_relaxed);
  slot.version.store(v + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (unsigned i = 0; i < kWords; ++i) slot.words[i].store(w[i], std::memory_order_relaxed);
  slot.version.store(v + 2, std::memory_order_release);
  OPENSSL_cleanse(w, sizeof w);
}

void TicketKeys::read(Keys* out) const {
  uint64_t w[kWords];
  for (;;) {
    const Slot& slot = slots_[live_.load(std::memory_order_acquire) % kSlots];
    const uint64_t before = slot.version.load(std::memory_order_acquire);
    for (unsigned i = 0; i < kWords; ++i) w[i] = slot.words[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((before & 1) == 0 && slot.version.load(std::memory_order_relaxed) == before) break;
  }
  std::memcpy(out, w, sizeof w);
  OPENSSL_cleanse(w, sizeof w);
}

bool TicketKeys::rotate() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_rotation_ < min_period_) return false;
  Keys next;
  read(&next);
  next.previous = next.current;
  next.has_previous = 1;
  const bool ok = random_key(&next.current, sizeof(Key));
  if (ok) {
    // The slot three rotations old: readers left it long ago (see Slot).
    const unsigned live = live_.load(std::memory_order_relaxed);
    write(slots_[(live + 1) % kSlots], next);
    live_.store(live + 1, std::memory_order_release);
    last_rotation_ = now;
    rotations_.fetch_add(1, std::memory_order_relaxed);
  }
  OPENSSL_cleanse(&next, sizeof next);
  return ok;
}

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, ctx_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
  // A ticket opens under the key that sealed it and under the next one: two
  // periods. The session timeout is what the ticket's lifetime hint says
  // (RFC 5077 §3.3, RFC 8446 §4.6.1) and what OpenSSL checks on resumption.
  SSL_CTX_set_timeout(ctx, static_cast<long>(lifetime().count()));
}

// OpenSSL's contract: sealing returns 1 (name and IV filled, cipher and MAC
// keyed); opening returns 1 (current key), 2 (an older key: re-issue the
// ticket) or 0 (unknown: full handshake).
int TicketKeys::on_ticket(SSL* ssl, unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                          EVP_MAC_CTX* mac, int encrypt) {
  const auto* self = static_cast<const TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index()));
  if (self == nullptr) return encrypt == 1 ? -1 : 0;
  Keys k;
  self->read(&k);
  int rc = 0;
  if (encrypt == 1) {
    std::memcpy(name, k.current.name, sizeof(k.current.name));
    rc = RAND_bytes(iv, 16) == 1 && key_cipher(k.current.aes, k.current.hmac, iv, cipher, mac, true) ? 1 : -1;
  } else if (std::memcmp(name, k.current.name, sizeof(k.current.name)) == 0) {
    rc = key_cipher(k.current.aes, k.current.hmac, iv, cipher, mac, false) ? 1 : -1;
  } else if (k.has_previous != 0 && std::memcmp(name, k.previous.name, sizeof(k.previous.name)) == 0) {
    rc = key_cipher(k.previous.aes, k.previous.hmac, iv, cipher, mac, false) ? 2 : -1;
  }
  OPENSSL_cleanse(&k, sizeof k);
  return rc;
}

}  // namespace lg::tls
