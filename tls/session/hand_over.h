// What linegate's record layer takes over from a finished OpenSSL handshake:
// the negotiated version and AEAD, both directions' keys (and, for TLS 1.3,
// the traffic secrets KeyUpdate derives from), captured through OpenSSL's key
// log callback (the only way OpenSSL 3.0 exposes them).
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tls/record/keys.h"

namespace lg::tls {

// The secrets one connection's key log gave (NSS key log labels).
struct KeyLog {
  std::vector<uint8_t> client_traffic_secret_0, server_traffic_secret_0;  // TLS 1.3
  std::vector<uint8_t> master_secret;                                     // TLS 1.2
};

// Installs the capturing callback on a context; attach() names where a
// connection's secrets go (the KeyLog must outlive the handshake).
void capture_key_log(SSL_CTX* ctx);
bool attach_key_log(SSL* ssl, KeyLog* log);

struct HandOver {
  Version version = Version::tls13;
  Aead aead = Aead::aes_128_gcm;
  const EVP_MD* hash = nullptr;  // the suite's (HKDF / PRF)
  TrafficKeys rx, tx;            // what we open, what we seal
  uint64_t rx_sequence = 0, tx_sequence = 0;
  std::vector<uint8_t> rx_secret, tx_secret;  // TLS 1.3: for KeyUpdate
};

// The negotiated suite, when linegate's record layer can take it (TLS 1.2 or
// 1.3 with AES-128/256-GCM or ChaCha20-Poly1305); false otherwise, and the
// connection stays on OpenSSL's record layer.
bool offloadable(const SSL* ssl, Version* version, Aead* aead);

// Keys for the side `ssl` is (server or client) from its key log. The
// sequence numbers are left at 0 (TLS 1.3) or 1 (TLS 1.2: each side's
// Finished was record 0 under the new keys, RFC 5246 §7.1); the caller adds
// records OpenSSL protected after that. false with *error on failure.
bool hand_over(const SSL* ssl, const KeyLog& log, HandOver* out, std::string* error);

}  // namespace lg::tls
