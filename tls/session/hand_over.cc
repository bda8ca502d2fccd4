#include "tls/session/hand_over.h"

#include <openssl/crypto.h>

#include <string_view>

namespace lg::tls {

namespace {

int key_log_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool from_hex(std::string_view s, std::vector<uint8_t>* out) {
  if (s.size() % 2 != 0 || s.size() > 2 * kMaxSecretLen) return false;
  out->resize(s.size() / 2);
  for (size_t i = 0; i < out->size(); ++i) {
    const int hi = OPENSSL_hexchar2int(static_cast<unsigned char>(s[2 * i]));
    const int lo = OPENSSL_hexchar2int(static_cast<unsigned char>(s[2 * i + 1]));
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// "<LABEL> <client_random hex> <secret hex>"
void on_key_log_line(const SSL* ssl, const char* line) {
  auto* log = static_cast<KeyLog*>(SSL_get_ex_data(ssl, key_log_index()));
  if (log == nullptr) return;
  const std::string_view l(line);
  const size_t a = l.find(' '), b = l.find(' ', a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return;
  const std::string_view label = l.substr(0, a), secret = l.substr(b + 1);
  std::vector<uint8_t>* into = label == "CLIENT_TRAFFIC_SECRET_0"   ? &log->client_traffic_secret_0
                               : label == "SERVER_TRAFFIC_SECRET_0" ? &log->server_traffic_secret_0
                               : label == "CLIENT_RANDOM"           ? &log->master_secret
                                                                    : nullptr;
  if (into != nullptr && !from_hex(secret, into)) into->clear();
}

}  // namespace

void capture_key_log(SSL_CTX* ctx) { SSL_CTX_set_keylog_callback(ctx, on_key_log_line); }

bool attach_key_log(SSL* ssl, KeyLog* log) { return SSL_set_ex_data(ssl, key_log_index(), log) == 1; }

bool offloadable(const SSL* ssl, Version* version, Aead* aead) {
  const int v = SSL_version(ssl);
  if (v != TLS1_3_VERSION && v != TLS1_2_VERSION) return false;
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
  if (c == nullptr) return false;
  switch (SSL_CIPHER_get_cipher_nid(c)) {
    case NID_aes_128_gcm: *aead = Aead::aes_128_gcm; break;
    case NID_aes_256_gcm: *aead = Aead::aes_256_gcm; break;
    case NID_chacha20_poly1305: *aead = Aead::chacha20_poly1305; break;
    default: return false;
  }
  *version = v == TLS1_3_VERSION ? Version::tls13 : Version::tls12;
  return true;
}

bool hand_over(const SSL* ssl, const KeyLog& log, HandOver* out, std::string* error) {
  if (!offloadable(ssl, &out->version, &out->aead)) {
    *error = std::string("suite not offloaded: ") + SSL_get_cipher_name(ssl);
    return false;
  }
  out->hash = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(ssl));
  const bool server = SSL_is_server(ssl) == 1;
  TrafficKeys client_write, server_write;
  if (out->version == Version::tls13) {
    if (log.client_traffic_secret_0.empty() || log.server_traffic_secret_0.empty()) {
      *error = "the key log gave no TLS 1.3 traffic secrets";
      return false;
    }
    if (!tls13_traffic_keys(out->aead, out->hash, log.client_traffic_secret_0, &client_write) ||
        !tls13_traffic_keys(out->aead, out->hash, log.server_traffic_secret_0, &server_write)) {
      *error = "HKDF-Expand-Label failed";
      return false;
    }
    out->rx_secret = server ? log.client_traffic_secret_0 : log.server_traffic_secret_0;
    out->tx_secret = server ? log.server_traffic_secret_0 : log.client_traffic_secret_0;
    out->rx_sequence = out->tx_sequence = 0;
  } else {
    uint8_t cr[SSL3_RANDOM_SIZE], sr[SSL3_RANDOM_SIZE];
    if (log.master_secret.empty() || SSL_get_client_random(ssl, cr, sizeof(cr)) != sizeof(cr) ||
        SSL_get_server_random(ssl, sr, sizeof(sr)) != sizeof(sr)) {
      *error = "the key log gave no TLS 1.2 master secret";
      return false;
    }
    if (!tls12_key_block(out->aead, out->hash, log.master_secret, cr, sr, &client_write, &server_write)) {
      *error = "TLS PRF failed";
      return false;
    }
    out->rx_sequence = out->tx_sequence = 1;
  }
  out->rx = server ? client_write : server_write;
  out->tx = server ? server_write : client_write;
  return true;
}

}  // namespace lg::tls
