#include "tls/session/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace lg::tls {

namespace {

int ctx_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

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

TicketKeys::TicketKeys(std::chrono::milliseconds min_period) : min_period_(min_period) {
  RAND_bytes(reinterpret_cast<unsigned char*>(&slots_[0].current), sizeof(Key));
  last_rotation_ = std::chrono::steady_clock::now();
}

bool TicketKeys::rotate() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_rotation_ < min_period_) return false;
  last_rotation_ = now;
  const unsigned live = live_.load(std::memory_order_relaxed);
  Ring& next = slots_[(live + 1) % kSlots];
  next.previous = slots_[live % kSlots].current;
  next.has_previous = true;
  RAND_bytes(reinterpret_cast<unsigned char*>(&next.current), sizeof(Key));
  live_.store(live + 1, std::memory_order_release);
  return true;
}

TicketKeys::Ring TicketKeys::read() const { return slots_[live_.load(std::memory_order_acquire) % kSlots]; }

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, ctx_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
}

// OpenSSL's contract: sealing returns 1 (name and IV filled, cipher and MAC
// keyed); opening returns 1 (current key), 2 (an older key: re-issue the
// ticket) or 0 (unknown: full handshake).
int TicketKeys::on_ticket(SSL* ssl, unsigned char name[16], unsigned char iv[16], EVP_CIPHER_CTX* cipher,
                          EVP_MAC_CTX* mac, int encrypt) {
  const auto* self = static_cast<const TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index()));
  if (self == nullptr) return 0;
  const Ring r = self->read();
  if (encrypt == 1) {
    std::memcpy(name, r.current.name, sizeof(r.current.name));
    if (RAND_bytes(iv, 16) != 1) return -1;
    return key_cipher(r.current.aes, r.current.hmac, iv, cipher, mac, true) ? 1 : -1;
  }
  if (std::memcmp(name, r.current.name, sizeof(r.current.name)) == 0)
    return key_cipher(r.current.aes, r.current.hmac, iv, cipher, mac, false) ? 1 : -1;
  if (r.has_previous && std::memcmp(name, r.previous.name, sizeof(r.previous.name)) == 0)
    return key_cipher(r.previous.aes, r.previous.hmac, iv, cipher, mac, false) ? 2 : -1;
  return 0;
}

}  // namespace lg::tls
