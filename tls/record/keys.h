// Record keys from what the handshake agreed: TLS 1.3 traffic secrets
// (RFC 8446 §7.1-7.3, HKDF-Expand-Label) and TLS 1.2 master secrets (the
// RFC 5246 §6.3 key block, TLS PRF). OpenSSL's KDFs do the hashing.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <span>

#include "tls/record/suite.h"

namespace lg::tls {

struct TrafficKeys {
  Aead aead = Aead::aes_128_gcm;
  uint8_t key[kMaxKeyLen]{};
  // TLS 1.3 and ChaCha20-Poly1305 (RFC 7905): the 12-byte IV XORed with the
  // sequence number. TLS 1.2 AES-GCM: the 4-byte implicit salt in iv[0..3].
  uint8_t iv[kNonceLen]{};
};

// §7.3: key = HKDF-Expand-Label(secret, "key", "", key_length),
//        iv = HKDF-Expand-Label(secret, "iv", "", 12).
bool tls13_traffic_keys(Aead aead, const EVP_MD* hash, std::span<const uint8_t> secret, TrafficKeys* out);

// §7.2: application_traffic_secret_N+1 =
//        HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length).
bool tls13_next_secret(const EVP_MD* hash, std::span<const uint8_t> secret, std::span<uint8_t> next);

// RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion",
// server_random + client_random); AEAD suites have no MAC keys, so it is
// client key, server key, client IV, server IV.
bool tls12_key_block(Aead aead, const EVP_MD* prf_hash, std::span<const uint8_t> master_secret,
                     std::span<const uint8_t> client_random, std::span<const uint8_t> server_random,
                     TrafficKeys* client_write, TrafficKeys* server_write);

}  // namespace lg::tls
