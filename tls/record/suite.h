// The AEAD record protections linegate seals and opens itself (everything
// else stays on OpenSSL's record layer), and the wire constants they need.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lg::tls {

enum class Aead : uint8_t { aes_128_gcm, aes_256_gcm, chacha20_poly1305 };

inline constexpr size_t key_len(Aead a) { return a == Aead::aes_128_gcm ? 16 : 32; }
inline constexpr const char* aead_name(Aead a) {
  return a == Aead::aes_128_gcm ? "AES-128-GCM" : a == Aead::aes_256_gcm ? "AES-256-GCM" : "CHACHA20-POLY1305";
}

inline constexpr size_t kNonceLen = 12;
inline constexpr size_t kTagLen = 16;
inline constexpr size_t kMaxKeyLen = 32;
inline constexpr size_t kMaxSecretLen = 48;  // SHA-384
inline constexpr size_t kHeaderLen = 5;      // type, legacy version, length
inline constexpr size_t kMaxPlaintext = 16384;  // 2^14 (RFC 8446 §5.1, RFC 5246 §6.2.1)
// TLS 1.2 AES-GCM sends the nonce's last 8 bytes with each record (RFC 5288 §3).
inline constexpr size_t kExplicitNonceLen = 8;

enum class Version : uint16_t { tls12 = 0x0303, tls13 = 0x0304 };

enum class ContentType : uint8_t { change_cipher_spec = 20, alert = 21, handshake = 22, application_data = 23 };

// Alerts (RFC 8446 §6, RFC 5246 §7.2): the ones linegate's record layer
// sends or acts on.
enum class AlertLevel : uint8_t { warning = 1, fatal = 2 };
enum class Alert : uint8_t {
  close_notify = 0,
  unexpected_message = 10,
  bad_record_mac = 20,
  record_overflow = 22,
  decode_error = 50,
  internal_error = 80,
  user_canceled = 90,
  no_renegotiation = 100,
};

}  // namespace lg::tls
