#include "tls/record/keys.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <memory>
#include <string_view>

namespace lg::tls {

namespace {

struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

bool kdf_derive(const char* name, OSSL_PARAM* params, std::span<uint8_t> out) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  if (!kdf) return false;
  std::unique_ptr<EVP_KDF_CTX, KdfFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  return ctx && EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1;
}

// RFC 8446 §7.1 HKDF-Expand-Label with an empty context.
bool expand_label(const EVP_MD* hash, std::span<const uint8_t> secret, std::string_view label,
                  std::span<uint8_t> out) {
  // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } HkdfLabel;
  uint8_t info[2 + 1 + 255 + 1];
  constexpr std::string_view kPrefix = "tls13 ";
  if (out.size() > 0xffff || kPrefix.size() + label.size() > 255) return false;
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(out.size() >> 8);
  info[n++] = static_cast<uint8_t>(out.size());
  info[n++] = static_cast<uint8_t>(kPrefix.size() + label.size());
  std::memcpy(info + n, kPrefix.data(), kPrefix.size());
  n += kPrefix.size();
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = 0;  // empty context
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(hash)), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
      OSSL_PARAM_construct_end(),
  };
  return kdf_derive(OSSL_KDF_NAME_HKDF, params, out);
}

}  // namespace

bool tls13_traffic_keys(Aead aead, const EVP_MD* hash, std::span<const uint8_t> secret, TrafficKeys* out) {
  out->aead = aead;
  return expand_label(hash, secret, "key", {out->key, key_len(aead)}) &&
         expand_label(hash, secret, "iv", {out->iv, kNonceLen});
}

bool tls13_next_secret(const EVP_MD* hash, std::span<const uint8_t> secret, std::span<uint8_t> next) {
  if (next.size() != static_cast<size_t>(EVP_MD_get_size(hash))) return false;
  return expand_label(hash, secret, "traffic upd", next);
}

bool tls12_key_block(Aead aead, const EVP_MD* prf_hash, std::span<const uint8_t> master_secret,
                     std::span<const uint8_t> client_random, std::span<const uint8_t> server_random,
                     TrafficKeys* client_write, TrafficKeys* server_write) {
  const size_t klen = key_len(aead);
  // RFC 5288 §3: 4-byte salt; RFC 7905 §2: the full 12-byte IV.
  const size_t ivlen = aead == Aead::chacha20_poly1305 ? kNonceLen : 4;
  uint8_t block[2 * kMaxKeyLen + 2 * kNonceLen];
  static const char kLabel[] = "key expansion";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(prf_hash)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<uint8_t*>(master_secret.data()),
                                        master_secret.size()),
      // The seed parameters are concatenated: label, server_random, client_random.
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<char*>(kLabel), sizeof(kLabel) - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<uint8_t*>(server_random.data()),
                                        server_random.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<uint8_t*>(client_random.data()),
                                        client_random.size()),
      OSSL_PARAM_construct_end(),
  };
  if (!kdf_derive(OSSL_KDF_NAME_TLS1_PRF, params, {block, 2 * klen + 2 * ivlen})) return false;
  *client_write = TrafficKeys{};
  *server_write = TrafficKeys{};
  client_write->aead = server_write->aead = aead;
  std::memcpy(client_write->key, block, klen);
  std::memcpy(server_write->key, block + klen, klen);
  std::memcpy(client_write->iv, block + 2 * klen, ivlen);
  std::memcpy(server_write->iv, block + 2 * klen + ivlen, ivlen);
  return true;
}

}  // namespace lg::tls
