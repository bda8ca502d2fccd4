// One direction of a connection's record protection once the handshake is
// done: TLS 1.3 records (RFC 8446 §5.2-5.4), TLS 1.2 AES-GCM (RFC 5288) and
// ChaCha20-Poly1305 (RFC 7905) records (RFC 5246 §6.2.3.3). It frames
// records and keeps the sequence number; the crypto is an AeadOp the caller
// batches with other connections' into one AeadEngine burst.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tls/record/aead_engine.h"

namespace lg::tls {

enum class OpenStatus : uint8_t {
  ok,
  bad_record_mac,     // authentication failed (RFC 8446 §5.2: alert bad_record_mac)
  record_overflow,    // longer than the protocol allows
  decode_error,       // too short to be a record of this protection
  unexpected_message  // TLS 1.3 inner plaintext with no content type (all zeros, §5.4)
};

class RecordProtection {
 public:
  // first_sequence: records already protected under these keys by OpenSSL
  // (TLS 1.2's Finished is record 0; TLS 1.3 tickets sent before hand-over).
  RecordProtection(Version version, const AeadEngine& engine, const TrafficKeys& keys, uint64_t first_sequence = 0);

  // TLS 1.3 KeyUpdate (§4.6.3): the next generation of keys; the sequence
  // number starts again at 0 (§5.3).
  void rekey(const TrafficKeys& keys);
  uint64_t sequence() const { return seq_; }
  Version version() const { return version_; }

  // A sealed record is prefix_len() bytes, the plaintext, then suffix_len().
  size_t prefix_len() const;
  size_t suffix_len() const;

  // `record` has prefix_len() bytes of room, `len` bytes of plaintext
  // (len <= kMaxPlaintext), then suffix_len() bytes of room. Writes the
  // header (and TLS 1.3's inner content type) and sets up `op` to encrypt in
  // place; after AeadEngine::seal the record is complete. Returns its length.
  size_t prepare_seal(ContentType type, uint8_t* record, size_t len, AeadOp* op);

  // `record` is one whole record as framed on the wire (header included).
  // Sets up `op` to decrypt in place; the sequence number is consumed.
  OpenStatus prepare_open(uint8_t* record, size_t record_len, AeadOp* op);
  // After AeadEngine::open: the content type and where the plaintext is
  // (TLS 1.3: padding removed and the inner type read, §5.4).
  OpenStatus finish_open(const uint8_t* record, const AeadOp& op, ContentType* type, const uint8_t** plaintext,
                         size_t* len) const;

 private:
  void nonce_for(uint64_t seq, uint8_t* nonce) const;  // iv XOR seq (RFC 8446 §5.3, RFC 7905 §2)
  bool explicit_nonce() const { return version_ == Version::tls12 && key_.aead != Aead::chacha20_poly1305; }

  AeadKey key_;
  const AeadEngine& engine_;
  Version version_;
  uint8_t iv_[kNonceLen];
  uint64_t seq_ = 0;
};

}  // namespace lg::tls
