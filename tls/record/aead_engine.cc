#include "tls/record/aead_engine.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

namespace lg::tls {

std::unique_ptr<AeadEngine> AeadEngine::create(std::string* error) {
  std::unique_ptr<AeadEngine> e(new AeadEngine());
  e->mgr_ = alloc_mb_mgr(0);
  if (e->mgr_ == nullptr) {
    *error = "IPsec-MB: cannot allocate a manager";
    return nullptr;
  }
  init_mb_mgr_auto(e->mgr_, &e->arch_);
  if (imb_get_errno(e->mgr_) != 0 || e->arch_ == IMB_ARCH_NONE || e->arch_ == IMB_ARCH_NOAESNI) {
    *error = std::string("IPsec-MB: no usable architecture (") + imb_get_strerror(imb_get_errno(e->mgr_)) +
             "); AES-NI is needed";
    return nullptr;
  }
  return e;
}

AeadEngine::~AeadEngine() {
  if (mgr_ != nullptr) free_mb_mgr(mgr_);
}

const char* AeadEngine::arch() const {
  switch (arch_) {
    case IMB_ARCH_AVX512: return "AVX512";
    case IMB_ARCH_AVX2: return "AVX2";
    case IMB_ARCH_AVX: return "AVX";
    case IMB_ARCH_SSE: return "SSE";
    default: return "none";
  }
}

void AeadEngine::prepare(const TrafficKeys& keys, AeadKey* out) const {
  out->aead = keys.aead;
  switch (keys.aead) {
    case Aead::aes_128_gcm: IMB_AES128_GCM_PRE(mgr_, keys.key, &out->gcm); break;
    case Aead::aes_256_gcm: IMB_AES256_GCM_PRE(mgr_, keys.key, &out->gcm); break;
    case Aead::chacha20_poly1305: std::memcpy(out->chacha, keys.key, kMaxKeyLen); break;
  }
}

void AeadEngine::seal(std::span<AeadOp> ops) { run(ops, true); }
void AeadEngine::open(std::span<AeadOp> ops) { run(ops, false); }

void AeadEngine::run(std::span<AeadOp> ops, bool encrypt) {
  IMB_JOB* jobs[kMaxBurst];
  size_t next = 0;
  while (next < ops.size()) {
    const auto want = static_cast<uint32_t>(std::min<size_t>(kMaxBurst, ops.size() - next));
    uint32_t got = IMB_GET_NEXT_BURST(mgr_, want, jobs);
    if (got == 0) {  // the queue is full of earlier jobs: finish them
      IMB_FLUSH_BURST(mgr_, kMaxBurst, jobs);
      continue;
    }
    for (uint32_t i = 0; i < got; ++i) {
      AeadOp& op = ops[next + i];
      IMB_JOB* j = jobs[i];
      const bool gcm = op.key->aead != Aead::chacha20_poly1305;
      j->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
      j->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
      j->src = op.src;
      j->dst = op.dst;
      j->cipher_start_src_offset_in_bytes = 0;
      j->msg_len_to_cipher_in_bytes = op.len;
      j->hash_start_src_offset_in_bytes = 0;
      j->msg_len_to_hash_in_bytes = op.len;
      j->iv = op.nonce;
      j->iv_len_in_bytes = kNonceLen;
      j->auth_tag_output = encrypt ? op.tag : op.computed;
      j->auth_tag_output_len_in_bytes = kTagLen;
      j->key_len_in_bytes = key_len(op.key->aead);
      j->user_data = &op;
      if (gcm) {
        j->cipher_mode = IMB_CIPHER_GCM;
        j->hash_alg = IMB_AUTH_AES_GMAC;
        j->enc_keys = &op.key->gcm;
        j->dec_keys = &op.key->gcm;
        j->u.GCM.aad = op.aad;
        j->u.GCM.aad_len_in_bytes = op.aad_len;
      } else {
        j->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
        j->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
        j->enc_keys = op.key->chacha;
        j->dec_keys = op.key->chacha;
        j->u.CHACHA20_POLY1305.aad = op.aad;
        j->u.CHACHA20_POLY1305.aad_len_in_bytes = op.aad_len;
      }
    }
    // Jobs come back in submission order; some stay queued until flushed.
    uint32_t done = IMB_SUBMIT_BURST(mgr_, got, jobs);
    done += IMB_FLUSH_BURST(mgr_, got - done, jobs + done);
    for (uint32_t i = 0; i < done; ++i) {
      AeadOp& op = *static_cast<AeadOp*>(jobs[i]->user_data);
      const bool completed = jobs[i]->status == IMB_STATUS_COMPLETED;
      op.ok = completed && (encrypt || CRYPTO_memcmp(op.computed, op.tag, kTagLen) == 0);
    }
    next += got;
  }
}

}  // namespace lg::tls
