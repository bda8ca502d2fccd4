#include "tls/client_hello.h"

#include <algorithm>
#include <cstring>

namespace lg::tls {

namespace {

constexpr uint8_t kContentHandshake = 22;      // RFC 8446 §5.1 ContentType.handshake
constexpr uint8_t kHandshakeClientHello = 1;   // RFC 8446 §4 HandshakeType.client_hello
constexpr uint32_t kRecordHeader = 5;          // type, legacy_record_version, length
constexpr uint32_t kHandshakeHeader = 4;       // msg_type, uint24 length
constexpr uint32_t kMaxRecordPayload = 16384;  // RFC 8446 §5.1: TLSPlaintext.length <= 2^14
constexpr uint32_t kMaxHostName = 255;         // as BoringSSL's TLSEXT_MAXLEN_host_name

constexpr uint16_t kExtServerName = 0;          // RFC 6066 §3
constexpr uint16_t kExtAlpn = 16;               // RFC 7301 §3.1
constexpr uint16_t kExtPreSharedKey = 41;       // RFC 8446 §4.2.11
constexpr uint16_t kExtSupportedVersions = 43;  // RFC 8446 §4.2.1
constexpr uint8_t kNameTypeHostName = 0;        // RFC 6066 §3
constexpr uint16_t kTls13 = 0x0304;

uint32_t be16(const uint8_t* p) { return uint32_t{p[0]} << 8 | p[1]; }
uint32_t be24(const uint8_t* p) { return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2]; }

// Result of walking the record layer up to the end of the ClientHello.
struct Framing {
  uint32_t hello_end = 0;  // stream offset just past the hello's last record
  uint32_t hs_total = 0;   // handshake message length including its header
  uint32_t first_len = 0;  // payload length of the first record
};

// Walks the records that carry the handshake message without interpreting
// the message body. Every check is made at a "milestone" (a record header,
// the handshake header, the hello's end) using only bytes before it, and
// need_more reports the next milestone, so a caller that waits for *need bytes
// never misses an answer: shorter inputs can only give need_more.
HelloStatus walk_records(const uint8_t* d, uint32_t avail, uint32_t max_bytes, uint32_t* need, Framing* f) {
  const auto want = [&](uint64_t n) {
    if (n > max_bytes) return HelloStatus::too_large;
    *need = static_cast<uint32_t>(n);
    return HelloStatus::need_more;
  };
  // Decide not_tls from the first two bytes alone, so a plaintext or SSLv2
  // client is recognised without waiting for a record header it may never send.
  if (avail < 1) return want(1);
  if (d[0] != kContentHandshake) return HelloStatus::not_tls;
  if (avail < 2) return want(2);
  if (d[1] != 3) return HelloStatus::not_tls;

  uint8_t hs_hdr[kHandshakeHeader];
  uint32_t pos = 0;       // stream offset of the next record header
  uint32_t hs_have = 0;   // handshake bytes in the records before `pos`
  uint32_t hs_total = 0;  // 0 until the handshake header is complete
  for (;;) {
    if (avail - pos < kRecordHeader) return want(uint64_t{pos} + kRecordHeader);
    // RFC 8446 §5.1: handshake messages must not be interleaved with other
    // record types, and zero-length handshake fragments are forbidden.
    if (d[pos] != kContentHandshake || d[pos + 1] != 3) return HelloStatus::malformed;
    const uint32_t len = be16(d + pos + 3);
    if (len == 0 || len > kMaxRecordPayload) return HelloStatus::malformed;
    const uint32_t body = pos + kRecordHeader;
    const uint64_t rec_end = uint64_t{body} + len;
    if (pos == 0) f->first_len = len;

    if (hs_total == 0) {
      // The 4-byte handshake header may itself be split over records.
      const uint32_t take = std::min(len, kHandshakeHeader - hs_have);
      if (avail - body < take) return want(uint64_t{body} + take);
      std::memcpy(hs_hdr + hs_have, d + body, take);
      if (hs_have + take < kHandshakeHeader) {  // the whole record was header bytes
        hs_have += len;
        pos = static_cast<uint32_t>(rec_end);
        continue;
      }
      if (hs_hdr[0] != kHandshakeClientHello) return HelloStatus::malformed;
      hs_total = kHandshakeHeader + be24(hs_hdr + 1);
      // The hello cannot end sooner, even if all of its rest came in this record.
      if (uint64_t{body} + (hs_total - hs_have) > max_bytes) return HelloStatus::too_large;
    }
    // ClientHello is the client's only handshake message before the server
    // answers (RFC 8446 §2; early data and change_cipher_spec come in records
    // of their own), so a handshake record running past it is not a valid flight.
    if (len > hs_total - hs_have) return HelloStatus::malformed;
    if (rec_end > max_bytes) return HelloStatus::too_large;
    if (rec_end > avail) {
      // Nothing is decided at the end of a record that does not finish the
      // hello, so wait for the next record's header too.
      const bool last = len == hs_total - hs_have;
      return want(last ? rec_end : rec_end + kRecordHeader);
    }
    hs_have += len;
    pos = static_cast<uint32_t>(rec_end);
    if (hs_have == hs_total) {
      f->hello_end = pos;
      f->hs_total = hs_total;
      return HelloStatus::done;
    }
  }
}

// Reads the handshake message as one byte stream although it may be split
// over several records (RFC 8446 §5.1): it steps over record headers that
// walk_records() has already validated, so it needs no copy of the message.
// Nested length-prefixed vectors are bounded with push_limit()/pop_limit().
class HandshakeReader {
 public:
  HandshakeReader(const uint8_t* d, uint32_t first_len, uint32_t hs_total)
      : d_(d), pos_(kRecordHeader), rec_left_(first_len), limit_(hs_total) {}

  bool at_limit() const { return off_ == limit_; }

  bool u8(uint8_t* v) { return copy(v, 1); }
  bool u16(uint16_t* v) {
    uint8_t b[2];
    if (!copy(b, 2)) return false;
    *v = static_cast<uint16_t>(be16(b));
    return true;
  }

  bool skip(uint32_t n) { return advance(n, nullptr); }
  bool copy(void* dst, uint32_t n) { return advance(n, static_cast<uint8_t*>(dst)); }

  // Restricts reads to the next `len` bytes; fails if they overrun the
  // enclosing limit. Returns the enclosing limit for pop_limit().
  bool push_limit(uint32_t len, uint32_t* saved) {
    if (len > limit_ - off_) return false;
    *saved = limit_;
    limit_ = off_ + len;
    return true;
  }
  // Fails unless the limited vector was consumed exactly.
  bool pop_limit(uint32_t saved) {
    if (off_ != limit_) return false;
    limit_ = saved;
    return true;
  }

 private:
  bool advance(uint32_t n, uint8_t* dst) {
    if (n > limit_ - off_) return false;
    off_ += n;
    while (n > 0) {
      if (rec_left_ == 0) {  // next record: its header was checked by walk_records()
        rec_left_ = be16(d_ + pos_ + 3);
        pos_ += kRecordHeader;
      }
      const uint32_t k = std::min(n, rec_left_);
      if (dst != nullptr) {
        std::memcpy(dst, d_ + pos_, k);
        dst += k;
      }
      pos_ += k;
      rec_left_ -= k;
      n -= k;
    }
    return true;
  }

  const uint8_t* d_;
  uint32_t pos_;       // stream offset of the next unread byte
  uint32_t rec_left_;  // unread payload bytes in the current record
  uint32_t off_ = 0;   // offset in the handshake message
  uint32_t limit_;     // reads must not pass this message offset
};

// Which of the 65536 extension types were seen (RFC 8446 §4.2 forbids
// repeats). An 8 KiB bitmap would have to be cleared for every hello; here a
// 64-bit word is initialised on first touch, tracked in a 128-byte summary.
class ExtensionTypeSet {
 public:
  // False if `type` was inserted before.
  bool insert(uint16_t type) {
    const uint32_t w = type >> 6;
    const uint64_t bit = uint64_t{1} << (type & 63);
    uint64_t& summary = touched_[w >> 6];
    const uint64_t wbit = uint64_t{1} << (w & 63);
    if ((summary & wbit) == 0) {
      summary |= wbit;
      words_[w] = bit;
      return true;
    }
    if ((words_[w] & bit) != 0) return false;
    words_[w] |= bit;
    return true;
  }

 private:
  uint64_t touched_[16] = {};
  uint64_t words_[1024];  // words_[w] is meaningful only once touched_ has bit w
};

// Letters, digits, '-', '_' and '.'. '_' is not valid in a host name (RFC
// 1123 §2.1) but appears in real service names, so it is let through.
bool host_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// Validates and lower-cases the host name in place; drops one trailing dot
// (RFC 6066 §3 sends names without it, but the FQDN form names the same host).
bool normalise_host_name(char* name, uint16_t* len) {
  uint32_t n = *len;
  if (n > 0 && name[n - 1] == '.') --n;
  if (n == 0) return false;
  bool label_empty = true;
  for (uint32_t i = 0; i < n; ++i) {
    const auto c = static_cast<uint8_t>(name[i]);
    if (!host_char(c)) return false;
    if (c == '.') {
      if (label_empty) return false;  // leading dot or ".."
      label_empty = true;
      continue;
    }
    label_empty = false;
    if (c >= 'A' && c <= 'Z') name[i] = static_cast<char>(c + ('a' - 'A'));
  }
  name[n] = '\0';
  *len = static_cast<uint16_t>(n);
  return true;
}

// RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>, each entry a
// NameType and, for host_name, HostName<1..2^16-1>. Entries of other name
// types are skipped: the RFC requires their data to start with a 16-bit length.
bool parse_server_name(HandshakeReader& r, ClientHelloInfo* info) {
  uint16_t list_len;
  uint32_t saved;
  if (!r.u16(&list_len) || list_len == 0 || !r.push_limit(list_len, &saved)) return false;
  while (!r.at_limit()) {
    uint8_t type;
    uint16_t len;
    if (!r.u8(&type) || !r.u16(&len)) return false;
    if (type != kNameTypeHostName) {
      if (!r.skip(len)) return false;
      continue;
    }
    // "The ServerNameList MUST NOT contain more than one name of the same name_type."
    if (info->has_sni || len == 0 || len > kMaxHostName) return false;
    if (!r.copy(info->sni, len)) return false;
    info->sni_len = len;
    if (!normalise_host_name(info->sni, &info->sni_len)) return false;
    info->has_sni = true;
  }
  return r.pop_limit(saved);
}

// RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each
// ProtocolName<1..2^8-1> ("empty strings MUST NOT be included").
bool parse_alpn(HandshakeReader& r, ClientHelloInfo* info) {
  constexpr uint8_t kSlots = sizeof(info->alpn) / sizeof(info->alpn[0]);
  uint16_t list_len;
  uint32_t saved;
  if (!r.u16(&list_len) || list_len < 2 || !r.push_limit(list_len, &saved)) return false;
  while (!r.at_limit()) {
    uint8_t len;
    if (!r.u8(&len) || len == 0) return false;
    const uint8_t i = info->alpn_count;
    if (i < kSlots && len < sizeof(info->alpn[0])) {
      if (!r.copy(info->alpn[i], len)) return false;
      info->alpn[i][len] = '\0';
      info->alpn_len[i] = len;
      info->alpn_count = static_cast<uint8_t>(i + 1);
    } else if (!r.skip(len)) {
      return false;
    }
  }
  return r.pop_limit(saved);
}

// RFC 8446 §4.2.1, ClientHello form: ProtocolVersion versions<2..254>.
bool parse_supported_versions(HandshakeReader& r, ClientHelloInfo* info) {
  uint8_t list_len;
  uint32_t saved;
  if (!r.u8(&list_len) || list_len < 2 || list_len % 2 != 0 || !r.push_limit(list_len, &saved)) return false;
  while (!r.at_limit()) {
    uint16_t v;
    if (!r.u16(&v)) return false;
    if (v == kTls13) info->tls13_offered = true;
  }
  return r.pop_limit(saved);
}

// Extension extensions<8..2^16-1> (RFC 8446 §4.1.2; <0..2^16-1> in RFC 5246).
bool parse_extensions(HandshakeReader& r, ClientHelloInfo* info) {
  uint16_t block_len;
  uint32_t block_saved;
  if (!r.u16(&block_len) || !r.push_limit(block_len, &block_saved)) return false;
  ExtensionTypeSet seen;
  bool after_psk = false;
  while (!r.at_limit()) {
    uint16_t type;
    uint16_t len;
    uint32_t saved;
    if (!r.u16(&type) || !r.u16(&len) || !r.push_limit(len, &saved)) return false;
    // RFC 8446 §4.2.11: pre_shared_key MUST be the last extension.
    if (after_psk || !seen.insert(type)) return false;
    after_psk = type == kExtPreSharedKey;
    bool ok;
    switch (type) {
      case kExtServerName: ok = parse_server_name(r, info); break;
      case kExtAlpn: ok = parse_alpn(r, info); break;
      case kExtSupportedVersions: ok = parse_supported_versions(r, info); break;
      default: ok = r.skip(len); break;
    }
    if (!ok || !r.pop_limit(saved)) return false;
  }
  return r.pop_limit(block_saved);
}

// RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2. The whole message is available.
bool parse_body(HandshakeReader& r, ClientHelloInfo* info) {
  uint8_t len8;
  uint16_t len16;
  if (!r.skip(kHandshakeHeader) || !r.u16(&info->legacy_version) || !r.skip(32)) return false;  // random
  // legacy_session_id<0..32>
  if (!r.u8(&len8) || len8 > 32 || !r.skip(len8)) return false;
  // cipher_suites<2..2^16-2>, two bytes each
  if (!r.u16(&len16) || len16 < 2 || len16 % 2 != 0 || !r.skip(len16)) return false;
  // legacy_compression_methods<1..2^8-1>
  if (!r.u8(&len8) || len8 < 1 || !r.skip(len8)) return false;
  // RFC 5246 §7.4.1.2: a TLS 1.2 hello may end here, without an extension block.
  if (r.at_limit()) return true;
  return parse_extensions(r, info) && r.at_limit();
}

}  // namespace

const char* hello_status_name(HelloStatus s) {
  switch (s) {
    case HelloStatus::need_more: return "need_more";
    case HelloStatus::done: return "done";
    case HelloStatus::not_tls: return "not_tls";
    case HelloStatus::malformed: return "malformed";
    case HelloStatus::too_large: return "too_large";
  }
  return "unknown";
}

HelloStatus parse_client_hello(std::span<const uint8_t> data, ClientHelloInfo* info, uint32_t* need,
                               uint32_t max_bytes) {
  *need = 0;
  // Bytes past max_bytes are never examined.
  const auto avail = static_cast<uint32_t>(std::min<size_t>(data.size(), max_bytes));
  Framing f;
  uint32_t want = 0;
  const HelloStatus s = walk_records(data.data(), avail, max_bytes, &want, &f);
  if (s == HelloStatus::need_more) *need = want;
  if (s != HelloStatus::done) return s;

  *info = ClientHelloInfo{};
  HandshakeReader r(data.data(), f.first_len, f.hs_total);
  if (!parse_body(r, info)) return HelloStatus::malformed;
  *need = f.hello_end;
  return HelloStatus::done;
}

}  // namespace lg::tls
