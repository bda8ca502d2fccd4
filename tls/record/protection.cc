#include "tls/record/protection.h"

#include <cstring>

namespace lg::tls {

namespace {

void put16(uint8_t* p, size_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void put64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

size_t get16(const uint8_t* p) { return size_t{p[0]} << 8 | p[1]; }

// RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length
// (of the plaintext).
void tls12_aad(AeadOp* op, uint64_t seq, uint8_t type, size_t version, size_t len) {
  put64(op->aad_storage, seq);
  op->aad_storage[8] = type;
  put16(op->aad_storage + 9, version);
  put16(op->aad_storage + 11, len);
  op->aad = op->aad_storage;
  op->aad_len = 13;
}

// The AEAD runs over `sealed` bytes at payload, in place; the tag follows.
void in_place(AeadOp* op, uint8_t* payload, size_t sealed) {
  op->src = payload;
  op->dst = payload;
  op->len = static_cast<uint32_t>(sealed);
  op->tag = payload + sealed;
}

// RFC 8446 §5.2: TLSCiphertext.length is at most 2^14 + 256; RFC 5246
// §6.2.3: 2^14 + 2048. Both bound what arrives before it is opened.
constexpr size_t kMaxCiphertext13 = kMaxPlaintext + 256;
constexpr size_t kMaxCiphertext12 = kMaxPlaintext + 2048;

}  // namespace

RecordProtection::RecordProtection(Version version, const AeadEngine& engine, const TrafficKeys& keys,
                                   uint64_t first_sequence)
    : engine_(engine), version_(version) {
  rekey(keys);
  seq_ = first_sequence;
}

void RecordProtection::rekey(const TrafficKeys& keys) {
  engine_.prepare(keys, &key_);
  std::memcpy(iv_, keys.iv, kNonceLen);
  seq_ = 0;
}

size_t RecordProtection::prefix_len() const { return kHeaderLen + (explicit_nonce() ? kExplicitNonceLen : 0); }

size_t RecordProtection::suffix_len() const { return kTagLen + (version_ == Version::tls13 ? 1 : 0); }

void RecordProtection::nonce_for(uint64_t seq, uint8_t* nonce) const {
  std::memcpy(nonce, iv_, kNonceLen);
  for (int i = 0; i < 8; ++i) nonce[kNonceLen - 1 - i] ^= static_cast<uint8_t>(seq >> (8 * i));
}

size_t RecordProtection::prepare_seal(ContentType type, uint8_t* record, size_t len, AeadOp* op) {
  if (len > kMaxPlaintext || seq_ == UINT64_MAX) return 0;  // never wrap (RFC 8446 §5.3)
  const uint64_t seq = seq_++;
  op->key = &key_;
  op->ok = false;
  uint8_t* payload = record + prefix_len();
  size_t sealed = len;  // bytes the AEAD covers
  if (version_ == Version::tls13) {
    // §5.2: the real type goes inside; outside it is application_data 0x0303.
    payload[len] = static_cast<uint8_t>(type);
    sealed = len + 1;
    record[0] = static_cast<uint8_t>(ContentType::application_data);
    put16(record + 1, 0x0303);
    put16(record + 3, sealed + kTagLen);
    nonce_for(seq, op->nonce);
    op->aad = record;  // §5.2: additional_data is the record header
    op->aad_len = kHeaderLen;
  } else {
    record[0] = static_cast<uint8_t>(type);
    put16(record + 1, 0x0303);
    put16(record + 3, prefix_len() - kHeaderLen + len + kTagLen);
    if (explicit_nonce()) {
      // RFC 5288 §3: salt || nonce_explicit; the sequence number is a
      // nonce that never repeats under one key.
      std::memcpy(op->nonce, iv_, 4);
      put64(op->nonce + 4, seq);
      std::memcpy(record + kHeaderLen, op->nonce + 4, kExplicitNonceLen);
    } else {
      nonce_for(seq, op->nonce);
    }
    tls12_aad(op, seq, static_cast<uint8_t>(type), 0x0303, len);
  }
  in_place(op, payload, sealed);
  return prefix_len() + sealed + kTagLen;
}

OpenStatus RecordProtection::prepare_open(uint8_t* record, size_t record_len, AeadOp* op) {
  if (record_len < kHeaderLen || get16(record + 3) != record_len - kHeaderLen) return OpenStatus::decode_error;
  const size_t body = record_len - kHeaderLen;
  if (body > (version_ == Version::tls13 ? kMaxCiphertext13 : kMaxCiphertext12)) return OpenStatus::record_overflow;
  const size_t overhead = prefix_len() - kHeaderLen + kTagLen + (version_ == Version::tls13 ? 1 : 0);
  // A TLS 1.3 record too short to hold a content type cannot authenticate.
  if (body < overhead) return version_ == Version::tls13 ? OpenStatus::bad_record_mac : OpenStatus::decode_error;
  const size_t sealed = record_len - prefix_len() - kTagLen;
  // RFC 8446 §5.4: the inner plaintext is at most 2^14 + 1 bytes; RFC 5246
  // §6.2.3: the plaintext at most 2^14. Refused before any crypto.
  if (sealed > (version_ == Version::tls13 ? kMaxPlaintext + 1 : kMaxPlaintext)) return OpenStatus::record_overflow;
  if (seq_ == UINT64_MAX) return OpenStatus::bad_record_mac;
  const uint64_t seq = seq_++;
  op->key = &key_;
  op->ok = false;
  uint8_t* payload = record + prefix_len();
  if (version_ == Version::tls13) {
    nonce_for(seq, op->nonce);
    op->aad = record;
    op->aad_len = kHeaderLen;
  } else {
    if (explicit_nonce()) {
      std::memcpy(op->nonce, iv_, 4);
      std::memcpy(op->nonce + 4, record + kHeaderLen, kExplicitNonceLen);
    } else {
      nonce_for(seq, op->nonce);
    }
    tls12_aad(op, seq, record[0], get16(record + 1), sealed);
  }
  in_place(op, payload, sealed);
  return OpenStatus::ok;
}

OpenStatus RecordProtection::finish_open(const uint8_t* record, const AeadOp& op, ContentType* type,
                                         const uint8_t** plaintext, size_t* len) const {
  if (!op.ok) return OpenStatus::bad_record_mac;
  *plaintext = op.dst;
  if (version_ == Version::tls12) {
    *type = static_cast<ContentType>(record[0]);
    *len = op.len;
    return OpenStatus::ok;
  }
  // §5.4: the content type is the last non-zero byte; zeros after it are padding.
  size_t n = op.len;
  while (n > 0 && op.dst[n - 1] == 0) --n;
  if (n == 0) return OpenStatus::unexpected_message;
  *type = static_cast<ContentType>(op.dst[n - 1]);
  *len = n - 1;
  return OpenStatus::ok;
}

}  // namespace lg::tls
