#include "tls/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace lg::tls {

// Found by ADL from gtest's printer: readable failure messages.
inline void PrintTo(HelloStatus s, std::ostream* os) { *os << hello_status_name(s); }

namespace {

using Bytes = std::vector<uint8_t>;
using Status = HelloStatus;

// ---- real ClientHellos from OpenSSL ------------------------------------------

struct ClientOptions {
  const char* sni = nullptr;
  bool tls12_only = false;
  std::vector<std::string> alpn;
};

// The bytes an OpenSSL client writes first: its ClientHello flight.
Bytes openssl_hello(const ClientOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  EXPECT_NE(ctx, nullptr);
  if (o.tls12_only) {
    EXPECT_EQ(SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION), 1);
  }
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);  // ssl owns both
  if (o.sni != nullptr) {
    EXPECT_EQ(SSL_set_tlsext_host_name(ssl, o.sni), 1);
  }
  if (!o.alpn.empty()) {
    Bytes wire;
    for (const std::string& p : o.alpn) {
      wire.push_back(static_cast<uint8_t>(p.size()));
      wire.insert(wire.end(), p.begin(), p.end());
    }
    EXPECT_EQ(SSL_set_alpn_protos(ssl, wire.data(), static_cast<unsigned>(wire.size())), 0);  // 0 = success
  }
  EXPECT_EQ(SSL_connect(ssl), -1);
  EXPECT_EQ(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
  char* p = nullptr;
  const long n = BIO_get_mem_data(wbio, &p);
  Bytes out(p, p + n);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

const Bytes& tls13_hello() {
  static const Bytes b = openssl_hello({.sni = "www.Example.COM", .alpn = {"h2", "http/1.1"}});
  return b;
}
const Bytes& tls12_hello() {
  static const Bytes b = openssl_hello({.sni = "api.example.net", .tls12_only = true, .alpn = {"http/1.1"}});
  return b;
}
const Bytes& no_sni_hello() {
  static const Bytes b = openssl_hello({});
  return b;
}

// ---- parsing helpers -----------------------------------------------------------

struct Result {
  Status status;
  uint32_t need;
  ClientHelloInfo info;
};

// Parses the first n bytes of b from an exact-size heap copy, so ASan
// reports any read past the n-th byte.
Result parse(const Bytes& b, size_t n, uint32_t max_bytes = kMaxClientHello) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[n]);
  std::copy(b.begin(), b.begin() + static_cast<long>(n), copy.get());
  Result r{};
  r.need = 12345;  // must be overwritten
  r.status = parse_client_hello(std::span<const uint8_t>(copy.get(), n), &r.info, &r.need, max_bytes);
  return r;
}
Result parse(const Bytes& b) { return parse(b, b.size()); }

std::vector<std::string> alpn_list(const ClientHelloInfo& info) {
  std::vector<std::string> v;
  for (unsigned i = 0; i < info.alpn_count; ++i) v.emplace_back(info.alpn_view(i));
  return v;
}

// ---- building records and hellos by hand ---------------------------------------

void put16(Bytes& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put24(Bytes& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v >> 16));
  put16(b, v);
}
void append(Bytes& b, const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); }
Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes vec8(const Bytes& x) {
  Bytes b{static_cast<uint8_t>(x.size())};
  append(b, x);
  return b;
}
Bytes vec16(const Bytes& x) {
  Bytes b;
  put16(b, static_cast<uint32_t>(x.size()));
  append(b, x);
  return b;
}

struct Ext {
  uint16_t type;
  Bytes data;
};

Bytes sni_data(std::string_view host) {
  Bytes entry{0};  // host_name
  append(entry, vec16(str(host)));
  return vec16(entry);
}
Bytes alpn_data(std::initializer_list<std::string_view> protos) {
  Bytes list;
  for (std::string_view p : protos) append(list, vec8(str(p)));
  return vec16(list);
}
Bytes versions_data(std::initializer_list<uint16_t> vs) {
  Bytes list;
  for (uint16_t v : vs) put16(list, v);
  return vec8(list);
}

// A TLS 1.3-style ClientHello body (RFC 8446 §4.1.2) with the given extensions.
Bytes hello_body(const std::vector<Ext>& exts, bool with_extension_block = true) {
  Bytes b;
  put16(b, 0x0303);
  b.insert(b.end(), 32, 0xAA);       // random
  append(b, vec8(Bytes(32, 0xBB)));  // legacy_session_id
  append(b, vec16({0x13, 0x01, 0x13, 0x02, 0xC0, 0x2F}));
  append(b, vec8({0}));  // null compression
  if (with_extension_block) {
    Bytes block;
    for (const Ext& e : exts) {
      put16(block, e.type);
      append(block, vec16(e.data));
    }
    append(b, vec16(block));
  }
  return b;
}

Bytes handshake(const Bytes& body, uint8_t type = 1) {
  Bytes b{type};
  put24(b, static_cast<uint32_t>(body.size()));
  append(b, body);
  return b;
}

// Splits a handshake message over records of at most `frag` payload bytes.
Bytes frame(const Bytes& hs, size_t frag = 16384) {
  Bytes b;
  for (size_t off = 0; off < hs.size(); off += frag) {
    const size_t n = std::min(frag, hs.size() - off);
    b.push_back(22);
    put16(b, 0x0301);
    put16(b, static_cast<uint32_t>(n));
    b.insert(b.end(), hs.begin() + static_cast<long>(off), hs.begin() + static_cast<long>(off + n));
  }
  return b;
}

Bytes frame_hello(const std::vector<Ext>& exts) { return frame(handshake(hello_body(exts))); }

// The handshake message carried by a well-formed record stream.
Bytes unframe(const Bytes& records) {
  Bytes hs;
  for (size_t pos = 0; pos + 5 <= records.size();) {
    const size_t n = size_t{records[pos + 3]} << 8 | records[pos + 4];
    hs.insert(hs.end(), records.begin() + static_cast<long>(pos + 5), records.begin() + static_cast<long>(pos + 5 + n));
    pos += 5 + n;
  }
  return hs;
}

Bytes reframe(const Bytes& records, size_t frag) { return frame(unframe(records), frag); }

// The client random, session id and X25519 key share change on every run;
// fixed values keep the mutation test reproducible.
Bytes scrub(Bytes b) {
  std::fill(b.begin() + 11, b.begin() + 43, 0x5A);  // random
  std::fill(b.begin() + 44, b.begin() + 44 + b[43], 0x5B);
  const uint8_t x25519_share[] = {0x00, 0x1D, 0x00, 0x20};
  auto it = std::search(b.begin(), b.end(), std::begin(x25519_share), std::end(x25519_share));
  if (it != b.end() && it + 4 + 32 <= b.end()) std::fill(it + 4, it + 4 + 32, 0x5C);
  return b;
}

// ---- real hellos ---------------------------------------------------------------

TEST(ClientHello, OpenSslTls13WithSniAndAlpn) {
  const Bytes& h = tls13_hello();
  ASSERT_GT(h.size(), 100u);
  Result r = parse(h);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.need, h.size());
  EXPECT_TRUE(r.info.has_sni);
  EXPECT_EQ(r.info.sni_view(), "www.example.com");  // lower-cased
  EXPECT_STREQ(r.info.sni, "www.example.com");
  EXPECT_EQ(alpn_list(r.info), (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_STREQ(r.info.alpn[1], "http/1.1");
  EXPECT_EQ(r.info.legacy_version, 0x0303);
  EXPECT_TRUE(r.info.tls13_offered);
}

TEST(ClientHello, OpenSslTls12Only) {
  const Bytes& h = tls12_hello();
  Result r = parse(h);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.need, h.size());
  EXPECT_EQ(r.info.sni_view(), "api.example.net");
  EXPECT_EQ(alpn_list(r.info), (std::vector<std::string>{"http/1.1"}));
  EXPECT_EQ(r.info.legacy_version, 0x0303);
  EXPECT_FALSE(r.info.tls13_offered);
}

TEST(ClientHello, OpenSslWithoutSniOrAlpn) {
  Result r = parse(no_sni_hello());
  ASSERT_EQ(r.status, Status::done);
  EXPECT_FALSE(r.info.has_sni);
  EXPECT_EQ(r.info.sni_len, 0u);
  EXPECT_EQ(r.info.alpn_count, 0u);
  EXPECT_TRUE(r.info.tls13_offered);
}

TEST(ClientHello, BytesAfterTheHelloAreNotExamined) {
  Bytes h = tls13_hello();
  const size_t n = h.size();
  // e.g. TLS 1.3 middlebox-compat change_cipher_spec and early data records
  append(h, {20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xDE, 0xAD});
  Result r = parse(h);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.need, n);
  EXPECT_EQ(r.info.sni_view(), "www.example.com");
}

// ---- incremental input ---------------------------------------------------------

// Every strict prefix is need_more with *need in (k, size]; *need stays the
// same until it is reached, so no prefix shorter than *need answers anything
// else (the caller may wait for *need bytes without missing a decision).
void expect_honest_prefixes(const Bytes& h) {
  uint32_t prev_need = 0;
  for (size_t k = 0; k < h.size(); ++k) {
    Result r = parse(h, k);
    ASSERT_EQ(r.status, Status::need_more) << "prefix " << k;
    ASSERT_GT(r.need, k) << "prefix " << k;
    ASSERT_LE(r.need, h.size()) << "prefix " << k;
    if (k > 0 && k < prev_need) {
      ASSERT_EQ(r.need, prev_need) << "prefix " << k;
    }
    prev_need = r.need;
  }
  Result r = parse(h);
  ASSERT_EQ(r.status, Status::done);
  ASSERT_EQ(r.need, h.size());
}

// The stream split into two parts at every offset: the first part alone is
// need_more, both together are done.
TEST(ClientHello, SplitAtEveryOffset) {
  for (const Bytes* h : {&tls13_hello(), &tls12_hello(), &no_sni_hello()}) {
    SCOPED_TRACE(h->size());
    expect_honest_prefixes(*h);
  }
}

TEST(ClientHello, SplitAtEveryOffsetOfAFragmentedHello) {
  for (size_t frag : {1, 3, 50}) {
    SCOPED_TRACE(frag);
    expect_honest_prefixes(reframe(tls13_hello(), frag));
  }
}

// Calling again only once *need bytes are there takes a handful of calls, not
// one per byte: no quadratic re-parsing.
TEST(ClientHello, FollowingNeedTakesFewCalls) {
  for (size_t frag : {size_t{16384}, size_t{100}}) {
    const Bytes h = reframe(tls13_hello(), frag);
    const size_t records = (unframe(h).size() + frag - 1) / frag;
    size_t have = 0;
    unsigned calls = 0;
    Result r{};
    for (;;) {
      r = parse(h, have);
      ++calls;
      if (r.status != Status::need_more) break;
      ASSERT_GT(r.need, have);
      have = r.need;
    }
    EXPECT_EQ(r.status, Status::done);
    EXPECT_EQ(r.info.sni_view(), "www.example.com");
    // bytes 1 and 2, the first record header, the handshake header, one per record, done
    EXPECT_EQ(calls, records + 5) << "frag " << frag;
  }
}

TEST(ClientHello, HandshakeFragmentedOverManyRecords) {
  const Result whole = parse(tls13_hello());
  ASSERT_EQ(whole.status, Status::done);
  for (size_t frag : {1, 2, 3, 4, 5, 7, 64, 200}) {
    SCOPED_TRACE(frag);
    const Bytes h = reframe(tls13_hello(), frag);
    ASSERT_GT(h.size(), tls13_hello().size());
    Result r = parse(h);
    ASSERT_EQ(r.status, Status::done);
    EXPECT_EQ(r.need, h.size());
    EXPECT_EQ(r.info.sni_view(), "www.example.com");
    EXPECT_EQ(alpn_list(r.info), alpn_list(whole.info));
    EXPECT_TRUE(r.info.tls13_offered);
  }
}

TEST(ClientHello, EmptyInputNeedsOneByte) {
  Result r = parse(Bytes{}, 0);
  EXPECT_EQ(r.status, Status::need_more);
  EXPECT_EQ(r.need, 1u);
}

// ---- not TLS --------------------------------------------------------------------

TEST(ClientHello, NotTlsFromTheFirstBytes) {
  EXPECT_EQ(parse(str("GET / HTTP/1.1\r\n")).status, Status::not_tls);
  EXPECT_EQ(parse(str("SSH-2.0-OpenSSH_9.2\r\n")).status, Status::not_tls);
  EXPECT_EQ(parse(Bytes{0x80, 0x2E, 0x01, 0x03, 0x01}).status, Status::not_tls);   // SSLv2-compatible hello
  EXPECT_EQ(parse(Bytes{23, 3, 3, 0, 5, 1, 2, 3, 4, 5}).status, Status::not_tls);  // application data first
  EXPECT_EQ(parse(Bytes{22, 2, 0, 0, 5}).status, Status::not_tls);                 // record version 2.x
  EXPECT_EQ(parse(Bytes{'G'}).status, Status::not_tls);                            // decided from one byte
  EXPECT_EQ(parse(Bytes{22, 0x47}).status, Status::not_tls);
  Result r = parse(str("GET /"));
  EXPECT_EQ(r.need, 0u);
}

// ---- malformed --------------------------------------------------------------------

Status status_of(const Bytes& b) { return parse(b).status; }

TEST(ClientHello, RecordLayerErrors) {
  const Bytes good = frame_hello({{0, sni_data("a.example")}});
  ASSERT_EQ(status_of(good), Status::done);

  Bytes zero_first = {22, 3, 1, 0, 0};
  append(zero_first, good);
  EXPECT_EQ(status_of(zero_first), Status::malformed) << "zero-length first record";

  Bytes frag = reframe(good, 10);
  Bytes zero_mid(frag.begin(), frag.begin() + 15);
  append(zero_mid, {22, 3, 1, 0, 0});
  zero_mid.insert(zero_mid.end(), frag.begin() + 15, frag.end());
  EXPECT_EQ(status_of(zero_mid), Status::malformed) << "zero-length record in the middle";

  Bytes alert_mid = frag;
  alert_mid[15] = 21;  // second record is an alert
  EXPECT_EQ(status_of(alert_mid), Status::malformed) << "non-handshake record interleaved";

  Bytes bad_version_mid = frag;
  bad_version_mid[16] = 4;
  EXPECT_EQ(status_of(bad_version_mid), Status::malformed);

  Bytes oversized = {22, 3, 1, 0x40, 0x01};  // 16385-byte record (RFC 8446 §5.1)
  oversized.resize(5 + 16385);
  EXPECT_EQ(parse(oversized, oversized.size(), 1 << 20).status, Status::malformed);

  Bytes server_hello = frame(handshake(hello_body({}), 2));
  EXPECT_EQ(status_of(server_hello), Status::malformed) << "handshake type server_hello";

  Bytes split_header = frame(handshake(hello_body({}), 2), 2);  // type known only from the 1st record
  EXPECT_EQ(status_of(split_header), Status::malformed);

  // The record carries bytes past the handshake message it announces.
  Bytes hs = handshake(hello_body({}));
  hs.push_back(0);
  EXPECT_EQ(status_of(frame(hs)), Status::malformed);
  Bytes record_overruns = good;
  record_overruns[4] = static_cast<uint8_t>(record_overruns[4] + 1);  // record length 1 too long
  record_overruns.push_back(0);
  EXPECT_EQ(status_of(record_overruns), Status::malformed);
}

TEST(ClientHello, HandshakeLengthBeyondTheDataIsNeedMore) {
  // Handshake length 1 more than the body: the record ends early and a second
  // record is awaited.
  Bytes body = hello_body({});
  Bytes hs{1};
  put24(hs, static_cast<uint32_t>(body.size() + 1));
  append(hs, body);
  Bytes b = frame(hs);
  Result r = parse(b);
  EXPECT_EQ(r.status, Status::need_more);
  EXPECT_EQ(r.need, b.size() + 5);
  append(b, {22, 3, 3, 0, 1, 0});  // the missing byte: now the body has a trailing byte
  EXPECT_EQ(status_of(b), Status::malformed);
}

TEST(ClientHello, BodyFieldErrors) {
  const Bytes body = hello_body({{0, sni_data("a.example")}});
  ASSERT_EQ(status_of(frame(handshake(body))), Status::done);
  const auto with = [&](size_t off, uint8_t v) {
    Bytes b = body;
    b[off] = v;
    return status_of(frame(handshake(b)));
  };
  // body layout: version 0..1, random 2..33, session id length 34
  EXPECT_EQ(with(34, 33), Status::malformed) << "session id longer than 32";
  EXPECT_EQ(with(34, 31), Status::malformed) << "session id length shifts everything";
  // cipher suites length at 67..68 (6)
  EXPECT_EQ(with(68, 5), Status::malformed) << "odd cipher_suites length";
  EXPECT_EQ(with(68, 0), Status::malformed) << "empty cipher_suites";
  EXPECT_EQ(with(67, 0xFF), Status::malformed) << "cipher_suites overrun";
  // compression methods length at 75
  EXPECT_EQ(with(75, 0), Status::malformed) << "no compression method";
  EXPECT_EQ(with(75, 200), Status::malformed) << "compression overrun";
  // extensions block length at 77..78
  EXPECT_EQ(with(78, static_cast<uint8_t>(body[78] + 1)), Status::malformed) << "extension block overrun";
  EXPECT_EQ(with(78, static_cast<uint8_t>(body[78] - 1)), Status::malformed) << "bytes after extension block";
  // the extension's own length at 81..82
  EXPECT_EQ(with(82, static_cast<uint8_t>(body[82] + 1)), Status::malformed) << "extension overruns block";
  // Truncated in the middle of the fixed fields.
  Bytes short_body(body.begin(), body.begin() + 40);
  EXPECT_EQ(status_of(frame(handshake(short_body))), Status::malformed);
  EXPECT_EQ(status_of(frame(handshake({}))), Status::malformed) << "empty ClientHello";
  Bytes half_block(body.begin(), body.begin() + 78);  // one byte of the block length
  EXPECT_EQ(status_of(frame(handshake(half_block))), Status::malformed);
}

TEST(ClientHello, ExtensionBlockIsOptionalInTls12) {
  Result r = parse(frame(handshake(hello_body({}, false))));
  ASSERT_EQ(r.status, Status::done);
  EXPECT_FALSE(r.info.has_sni);
  EXPECT_FALSE(r.info.tls13_offered);
  EXPECT_EQ(parse(frame_hello({})).status, Status::done) << "empty extension block";
}

TEST(ClientHello, DuplicateExtensionsAreMalformed) {
  EXPECT_EQ(status_of(frame_hello({{0xFF01, {0}}, {0x0A0A, {}}, {0xFF01, {0}}})), Status::malformed);
  EXPECT_EQ(status_of(frame_hello({{0, sni_data("a.b")}, {0, sni_data("a.b")}})), Status::malformed);
  // Types spread over the whole range, none repeated, then one repeat.
  std::vector<Ext> exts;
  for (uint32_t t = 3; t < 65536; t += 997) exts.push_back({static_cast<uint16_t>(t), {}});
  EXPECT_EQ(status_of(frame_hello(exts)), Status::done);
  exts.push_back({static_cast<uint16_t>(3 + 997 * 40), {}});
  EXPECT_EQ(status_of(frame_hello(exts)), Status::malformed);
  // Neighbouring types share a word of the set.
  EXPECT_EQ(status_of(frame_hello({{64, {}}, {65, {}}, {127, {}}, {128, {}}})), Status::done);
  EXPECT_EQ(status_of(frame_hello({{64, {}}, {65, {}}, {127, {}}, {65, {}}})), Status::malformed);
}

TEST(ClientHello, PreSharedKeyMustBeLast) {
  EXPECT_EQ(status_of(frame_hello({{0, sni_data("a.b")}, {41, {1, 2, 3}}})), Status::done);
  EXPECT_EQ(status_of(frame_hello({{41, {1, 2, 3}}, {0, sni_data("a.b")}})), Status::malformed);
}

TEST(ClientHello, ServerNameErrors) {
  const auto sni_status = [](const Bytes& data) { return status_of(frame_hello({{0, data}})); };
  EXPECT_EQ(sni_status(sni_data("ok.example")), Status::done);
  Bytes d = sni_data("ok.example");
  d[1] = static_cast<uint8_t>(d[1] + 1);
  EXPECT_EQ(sni_status(d), Status::malformed) << "list length longer than the extension";
  d[1] = static_cast<uint8_t>(d[1] - 2);
  EXPECT_EQ(sni_status(d), Status::malformed) << "list length shorter than the extension";
  d = sni_data("ok.example");
  d[4] = static_cast<uint8_t>(d[4] + 1);
  EXPECT_EQ(sni_status(d), Status::malformed) << "host_name overruns the list";
  EXPECT_EQ(sni_status({}), Status::malformed) << "empty extension (the server's form)";
  EXPECT_EQ(sni_status({0, 0}), Status::malformed) << "empty list";
  EXPECT_EQ(sni_status(sni_data("")), Status::malformed) << "empty host_name";
  for (std::string_view bad : {"a b.example", "a/b", "caf\xc3\xa9.example", "a..b", ".a", ".", "a:443", "a*.b"}) {
    EXPECT_EQ(sni_status(sni_data(bad)), Status::malformed) << bad;
  }
  EXPECT_EQ(sni_status(sni_data(std::string_view("a\0b", 3))), Status::malformed) << "NUL";
  EXPECT_EQ(sni_status(sni_data(std::string(256, 'a'))), Status::malformed) << "longer than 255";

  EXPECT_EQ(sni_status(vec16({0, 0, 3, 'a', '.', 'b', 0, 0, 3, 'c', '.', 'd'})), Status::malformed) << "two host_names";
}

TEST(ClientHello, ServerNameNormalisation) {
  const auto sni_of = [](const Bytes& data) {
    Result r = parse(frame_hello({{0, data}}));
    EXPECT_EQ(r.status, Status::done);
    EXPECT_EQ(std::strlen(r.info.sni), r.info.sni_len);
    return std::string(r.info.sni_view());
  };
  EXPECT_EQ(sni_of(sni_data("Foo-Bar_9.EXAMPLE.org")), "foo-bar_9.example.org");
  EXPECT_EQ(sni_of(sni_data("example.com.")), "example.com") << "trailing dot dropped";
  EXPECT_EQ(sni_of(sni_data("localhost")), "localhost");
  const std::string longest =
      std::string(63, 'A') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(63, 'd');
  ASSERT_EQ(longest.size(), 255u);
  std::string lower = longest;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  EXPECT_EQ(sni_of(sni_data(longest)), lower);
  // An entry of an unknown name type (RFC 6066 §3: 16-bit length prefixed) is skipped.
  EXPECT_EQ(sni_of(vec16({7, 0, 2, 'x', 'y', 0, 0, 3, 'a', '.', 'b'})), "a.b");
  Result r = parse(frame_hello({{0, vec16({7, 0, 2, 'x', 'y'})}}));
  EXPECT_EQ(r.status, Status::done);
  EXPECT_FALSE(r.info.has_sni);
}

TEST(ClientHello, Alpn) {
  const auto parse_alpn = [](const Bytes& data) { return parse(frame_hello({{16, data}})); };
  Result r = parse_alpn(alpn_data({"h2", "http/1.1", "spdy/3", "h3", "acme-tls/1", "x"}));
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(alpn_list(r.info), (std::vector<std::string>{"h2", "http/1.1", "spdy/3", "h3"})) << "first four kept";

  const std::string p31(31, 'p'), p32(32, 'q'), p200(200, 'r');
  r = parse_alpn(alpn_data({p200, p32, "h2", p31}));
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(alpn_list(r.info), (std::vector<std::string>{"h2", p31})) << "names of 32+ bytes skipped";
  EXPECT_EQ(std::strlen(r.info.alpn[1]), 31u);

  EXPECT_EQ(parse_alpn(alpn_data({"h2", ""})).status, Status::malformed) << "empty protocol name";
  EXPECT_EQ(parse_alpn({0, 0}).status, Status::malformed) << "empty list";
  EXPECT_EQ(parse_alpn({}).status, Status::malformed) << "no list";
  Bytes d = alpn_data({"h2", "http/1.1"});
  d[1] = static_cast<uint8_t>(d[1] - 1);
  EXPECT_EQ(parse_alpn(d).status, Status::malformed) << "list length mismatch";
  d = alpn_data({"h2", "http/1.1"});
  d[5] = 9;  // "http/1.1" claims 9 bytes
  EXPECT_EQ(parse_alpn(d).status, Status::malformed) << "name overruns the list";
}

TEST(ClientHello, SupportedVersions) {
  const auto with_versions = [](const Bytes& data) { return parse(frame_hello({{43, data}})); };
  Result r = with_versions(versions_data({0x0A0A, 0x0304, 0x0303}));  // GREASE first
  ASSERT_EQ(r.status, Status::done);
  EXPECT_TRUE(r.info.tls13_offered);
  r = with_versions(versions_data({0x0303, 0x0302}));
  ASSERT_EQ(r.status, Status::done);
  EXPECT_FALSE(r.info.tls13_offered);
  EXPECT_EQ(with_versions({3, 3, 4, 3}).status, Status::malformed) << "odd length";
  EXPECT_EQ(with_versions({0}).status, Status::malformed) << "empty";
  EXPECT_EQ(with_versions({4, 3, 4}).status, Status::malformed) << "overrun";
  EXPECT_EQ(with_versions({2, 3, 4, 0}).status, Status::malformed) << "trailing byte";
}

// ---- size bound -------------------------------------------------------------------

TEST(ClientHello, TooLarge) {
  const Bytes& h = tls13_hello();
  const auto n = static_cast<uint32_t>(h.size());
  EXPECT_EQ(parse(h, h.size(), n).status, Status::done);
  Result r = parse(h, h.size(), n - 1);
  EXPECT_EQ(r.status, Status::too_large);
  EXPECT_EQ(r.need, 0u);
  // Known from the handshake header alone.
  EXPECT_EQ(parse(h, 9, n - 1).status, Status::too_large);
  EXPECT_EQ(parse(h, 8, n - 1).status, Status::need_more);

  // Declared length far beyond the default bound: rejected after 9 bytes.
  const Bytes huge = {22, 3, 1, 0x40, 0x00, 1, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(parse(huge).status, Status::too_large);
  // ... even when its first record holds nothing but the handshake header.
  const Bytes huge_split = {22, 3, 1, 0, 4, 1, 0x00, 0x40, 0x00};
  EXPECT_EQ(parse(huge_split).status, Status::too_large);
  const Bytes fits_split = {22, 3, 1, 0, 4, 1, 0x00, 0x3F, 0xE0};  // the rest fits in one more record
  Result fits = parse(fits_split);
  EXPECT_EQ(fits.status, Status::need_more);
  EXPECT_EQ(fits.need, 14u);
  // A message that fits but whose many record headers do not.
  const Bytes frag = reframe(h, 10);
  EXPECT_EQ(parse(frag, frag.size(), static_cast<uint32_t>(frag.size())).status, Status::done);
  EXPECT_EQ(parse(frag, frag.size(), static_cast<uint32_t>(frag.size() - 1)).status, Status::too_large);
  // need_more never asks for more than the bound.
  for (size_t k = 0; k < frag.size(); ++k) {
    r = parse(frag, k, static_cast<uint32_t>(frag.size() - 1));
    if (r.status == Status::need_more) {
      ASSERT_LT(r.need, frag.size());
    } else {
      ASSERT_EQ(r.status, Status::too_large);
    }
  }
  // Bytes beyond max_bytes are not looked at.
  EXPECT_EQ(parse(h, h.size(), 0).status, Status::too_large);
  EXPECT_EQ(parse(h, h.size(), 1).status, Status::too_large);
}

// ---- robustness -------------------------------------------------------------------

bool valid_host(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return !s.empty() && s.front() != '.' && s.back() != '.';
}

// 20k random byte flips and truncations of real hellos (one record and
// fragmented): no crash or overread (run under ASan), results consistent.
TEST(ClientHello, MutationsNeverCrash) {
  const Bytes seeds[] = {scrub(tls13_hello()), reframe(scrub(tls13_hello()), 37), scrub(tls12_hello())};
  std::mt19937 rng(20240605);
  unsigned counts[5] = {};
  for (int i = 0; i < 20000; ++i) {
    Bytes m = seeds[i % 3];
    const unsigned op = rng() % 4;
    if (op != 2) {
      const size_t at = rng() % m.size();
      m[at] = (op == 0) ? static_cast<uint8_t>(m[at] ^ (1u << (rng() % 8))) : static_cast<uint8_t>(rng());
    }
    if (op >= 2) m.resize(rng() % m.size());
    const Result r = parse(m);
    ++counts[static_cast<unsigned>(r.status)];
    switch (r.status) {
      case Status::need_more:
        ASSERT_GT(r.need, m.size());
        ASSERT_LE(r.need, kMaxClientHello);
        break;
      case Status::done: {
        ASSERT_LE(r.need, m.size());
        ASSERT_LE(r.info.alpn_count, 4u);
        for (unsigned a = 0; a < r.info.alpn_count; ++a) {
          ASSERT_GT(r.info.alpn_len[a], 0u);
          ASSERT_LT(r.info.alpn_len[a], 32u);
        }
        if (r.info.has_sni) {
          ASSERT_TRUE(valid_host(r.info.sni_view())) << r.info.sni_view();
          ASSERT_EQ(std::strlen(r.info.sni), r.info.sni_len);
        }
        const Result exact = parse(m, r.need);  // the hello's own bytes suffice
        ASSERT_EQ(exact.status, Status::done);
        ASSERT_EQ(exact.info.sni_view(), r.info.sni_view());
        break;
      }
      default: ASSERT_EQ(r.need, 0u);
    }
    // A random prefix: shorter inputs up to its *need give the same need_more.
    const size_t k = rng() % (m.size() + 1);
    const Result p = parse(m, k);
    if (p.status == Status::need_more) {
      ASSERT_GT(p.need, k);
      const size_t j = k + rng() % (std::min<size_t>(p.need, m.size() + 1) - k);
      const Result q = parse(m, j);
      ASSERT_EQ(q.status, Status::need_more) << "prefix " << j << " of " << m.size();
      ASSERT_EQ(q.need, p.need);
    }
  }
  // The loop reached every kind of outcome, so the checks above ran.
  EXPECT_GT(counts[static_cast<unsigned>(Status::done)], 1000u);
  EXPECT_GT(counts[static_cast<unsigned>(Status::malformed)], 1000u);
  EXPECT_GT(counts[static_cast<unsigned>(Status::need_more)], 1000u);
  EXPECT_GT(counts[static_cast<unsigned>(Status::not_tls)], 0u);
}

}  // namespace
}  // namespace lg::tls
