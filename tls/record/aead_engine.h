// Record crypto on Intel IPsec-MB: one engine (IMB_MGR) per lcore; the
// records a worker seals or opens in one loop pass are submitted as one
// burst, across connections, so the multi-buffer code keeps its lanes full.
#pragma once

// intel-ipsec-mb.h defines SHA1, MD5, ... as macros, which would rewrite
// OpenSSL's declarations of those names included after it: the OpenSSL
// headers the includers use (ssl.h and what it pulls in) come first here.
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <intel-ipsec-mb.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tls/record/keys.h"

namespace lg::tls {

// A key in the form IPsec-MB works from: AES round keys and the GHASH table
// (GCM), or the raw key (ChaCha20-Poly1305). Prepared once per key.
struct alignas(64) AeadKey {
  gcm_key_data gcm;
  uint8_t chacha[kMaxKeyLen];
  Aead aead = Aead::aes_128_gcm;
};

// One record's AEAD operation. Sealing writes ciphertext to dst and the tag
// to tag; opening writes plaintext to dst and sets ok when tag matches.
// src and dst may be the same buffer (in place); aad may point into it.
struct AeadOp {
  const AeadKey* key = nullptr;
  uint8_t nonce[kNonceLen];
  const uint8_t* aad = nullptr;
  uint32_t aad_len = 0;
  uint8_t aad_storage[13];  // TLS 1.2's AAD is built here (RFC 5246 §6.2.3.3)
  const uint8_t* src = nullptr;
  uint8_t* dst = nullptr;
  uint32_t len = 0;
  uint8_t* tag = nullptr;  // seal: written; open: the received tag
  bool ok = false;         // open: authenticated; seal: done
  uint8_t computed[kTagLen];  // open: the tag computed over what arrived
};

class AeadEngine {
 public:
  static constexpr unsigned kMaxBurst = 64;  // jobs per IPsec-MB burst

  // nullptr and *error when IPsec-MB cannot start (no AES-NI: the caller
  // keeps OpenSSL's record layer).
  static std::unique_ptr<AeadEngine> create(std::string* error);
  ~AeadEngine();
  AeadEngine(const AeadEngine&) = delete;
  AeadEngine& operator=(const AeadEngine&) = delete;

  void prepare(const TrafficKeys& keys, AeadKey* out) const;
  void seal(std::span<AeadOp> ops);
  void open(std::span<AeadOp> ops);  // op.ok false: forged or damaged record
  const char* arch() const;          // "AVX512", "AVX2", "SSE", ...

 private:
  AeadEngine() = default;
  void run(std::span<AeadOp> ops, bool encrypt);
  IMB_MGR* mgr_ = nullptr;
  IMB_ARCH arch_ = IMB_ARCH_NONE;
};

}  // namespace lg::tls
