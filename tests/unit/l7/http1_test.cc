// lg::http1: request/response heads, the strict rejections, limits,
// streaming (need_more at every split), SIMD scan boundaries and the
// chunked decoder.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "l7/http1/http1.h"

namespace lg::http1 {
namespace {

struct Parsed {
  std::string buf;  // the views in head point here
  ParseStatus st;
  ParseError err;
  MessageHead head;
};

// MessageHead is large (a fixed header array); keep it off the stack.
std::unique_ptr<Parsed> req(std::string_view s, const Limits& limits = {}) {
  auto p = std::make_unique<Parsed>();
  p->buf = s;
  p->st = parse_request(p->buf.data(), p->buf.size(), &p->head, &p->err, limits);
  return p;
}

std::unique_ptr<Parsed> resp(std::string_view s, Method m = Method::get) {
  auto p = std::make_unique<Parsed>();
  p->buf = s;
  p->st = parse_response(p->buf.data(), p->buf.size(), m, &p->head, &p->err);
  return p;
}

#define EXPECT_REJECT(raw, code, why)                                        \
  do {                                                                       \
    auto r_ = req(raw);                                                      \
    EXPECT_EQ(r_->st, ParseStatus::error) << (raw);                          \
    EXPECT_EQ(r_->err.status, code) << (raw);                                \
    EXPECT_STREQ(r_->err.detail, why) << (raw);                              \
  } while (0)

TEST(Http1Request, SimpleGet) {
  const std::string raw = "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  auto r = req(raw);
  ASSERT_EQ(r->st, ParseStatus::done);
  const MessageHead& h = r->head;
  EXPECT_EQ(h.method, Method::get);
  EXPECT_EQ(h.method_text, "GET");
  EXPECT_EQ(h.target, "/a/b?x=1&y=2");
  EXPECT_EQ(h.path, "/a/b");
  EXPECT_EQ(h.query, "x=1&y=2");
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.header_count, 2);
  EXPECT_EQ(h.headers[1].name, "Accept");
  EXPECT_EQ(h.headers[1].value, "*/*");
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.head_bytes, raw.size());
  EXPECT_EQ(h.body, BodyKind::none);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.upgrade);
  EXPECT_FALSE(h.expect_continue);
  // Views point into the buffer: no copies.
  EXPECT_EQ(h.target.data(), r->buf.data() + 4);
}

TEST(Http1Request, ValueOwsTrimmedAndEmptyValue) {
  auto r = req("GET / HTTP/1.1\r\nHost:x\r\nA: \t v a l \t \r\nB:\r\nC:   \r\n\r\n");
  ASSERT_EQ(r->st, ParseStatus::done);
  EXPECT_EQ(r->head.host, "x");
  EXPECT_EQ(r->head.headers[1].value, "v a l");
  EXPECT_EQ(r->head.headers[2].value, "");
  EXPECT_EQ(r->head.headers[3].value, "");
}

TEST(Http1Request, Methods) {
  const std::pair<const char*, Method> known[] = {
      {"GET", Method::get},         {"HEAD", Method::head},       {"POST", Method::post},
      {"PUT", Method::put},         {"DELETE", Method::delete_},  {"OPTIONS", Method::options},
      {"TRACE", Method::trace},     {"PATCH", Method::patch},     {"PURGE", Method::other},
      {"get", Method::other},       {"MKCOLA", Method::other},    {"M-SEARCH", Method::other},
  };
  for (const auto& [m, e] : known) {
    auto r = req(std::string(m) + " / HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(r->st, ParseStatus::done) << m;
    EXPECT_EQ(r->head.method, e) << m;
    EXPECT_EQ(r->head.method_text, m);
  }
  auto c = req("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  ASSERT_EQ(c->st, ParseStatus::done);
  EXPECT_EQ(c->head.method, Method::connect);
  EXPECT_EQ(c->head.authority, "example.com:443");
  EXPECT_REJECT("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_method");
  EXPECT_REJECT(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_method");
  EXPECT_REJECT("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_method");
}

TEST(Http1Request, TargetForms) {
  auto a = req("GET http://Example.COM:8080?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  ASSERT_EQ(a->st, ParseStatus::done);
  EXPECT_EQ(a->head.scheme, "http");
  EXPECT_EQ(a->head.authority, "Example.COM:8080");
  EXPECT_EQ(a->head.path, "/");
  EXPECT_EQ(a->head.query, "q");
  auto b = req("GET https://h/p/q#frag HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(b->st, ParseStatus::done);
  EXPECT_EQ(b->head.path, "/p/q");
  EXPECT_EQ(b->head.query, "");
  auto o = req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o->st, ParseStatus::done);
  EXPECT_EQ(o->head.path, "*");

  EXPECT_REJECT("GET http://other/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.host_mismatch");
  EXPECT_REJECT("GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n", 400, "http1.host_mismatch");
  EXPECT_REJECT("GET http://h/ HTTP/1.1\r\nHost: h:80\r\n\r\n", 400, "http1.host_mismatch");
  EXPECT_EQ(req("GET http://h/ HTTP/1.0\r\n\r\n")->st, ParseStatus::done);
  EXPECT_REJECT("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("CONNECT http://h:1/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("CONNECT h:x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET http:/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
  EXPECT_REJECT("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_url");
  EXPECT_REJECT("GET / \r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
}

TEST(Http1Request, Versions) {
  auto r = req("GET / HTTP/1.0\r\n\r\n");  // Host is optional in 1.0
  ASSERT_EQ(r->st, ParseStatus::done);
  EXPECT_EQ(r->head.version_minor, 0);
  EXPECT_FALSE(r->head.keep_alive);
  EXPECT_REJECT("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "http1.invalid_version");
  EXPECT_REJECT("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, "http1.invalid_version");
  EXPECT_REJECT("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505, "http1.invalid_version");
  EXPECT_REJECT("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
  EXPECT_REJECT("GET / http/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
  EXPECT_REJECT("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
  EXPECT_REJECT("GET / RTSP/1.0\r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
  EXPECT_REJECT("GET / HTTP/11\r\nHost: h\r\n\r\n", 400, "http1.invalid_version");
}

TEST(Http1Request, Host) {
  EXPECT_REJECT("GET / HTTP/1.1\r\n\r\n", 400, "http1.missing_host");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "http1.multiple_host");
  EXPECT_REJECT("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "http1.multiple_host");
  auto r = req("GET / HTTP/1.1\r\nHOST: \r\n\r\n");  // empty Host is allowed (RFC 9112 §3.2)
  ASSERT_EQ(r->st, ParseStatus::done);
  EXPECT_EQ(r->head.host, "");
}

TEST(Http1Request, Framing) {
  auto cl = req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0012\r\n\r\n");
  ASSERT_EQ(cl->st, ParseStatus::done);
  EXPECT_EQ(cl->head.body, BodyKind::length);
  EXPECT_EQ(cl->head.content_length, 12u);
  auto max = req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
  ASSERT_EQ(max->st, ParseStatus::done);
  EXPECT_EQ(max->head.content_length, 9223372036854775807ull);
  auto te = req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ChunKed\r\n\r\n");
  ASSERT_EQ(te->st, ParseStatus::done);
  EXPECT_EQ(te->head.body, BodyKind::chunked);
  auto conn = req("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 5\r\n\r\n");
  ASSERT_EQ(conn->st, ParseStatus::done);
  EXPECT_EQ(conn->head.body, BodyKind::none);  // RFC 9110 §9.3.6: a tunnel follows

  const char* bad_cl[] = {"", "+5", "-5", "5 5", "5,5", "5, 5", "0x5", "5a", "9223372036854775808",
                          "99999999999999999999", "1e3"};
  for (const char* v : bad_cl)
    EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::string(v) + "\r\n\r\n", 400,
                  "http1.invalid_content_length");
  EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400,
                "http1.invalid_content_length");
  EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
                "http1.invalid_content_length");
  EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "http1.content_length_and_chunked_not_allowed");
  EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400,
                "http1.content_length_and_chunked_not_allowed");
  EXPECT_REJECT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "http1.invalid_transfer_encoding");
  const char* bad_te[] = {"gzip", "chunked, gzip", "gzip, chunked", "chunked, chunked", "chunkedchunked",
                          "identity", "chunked;q=1"};
  for (const char* v : bad_te)
    EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(v) + "\r\n\r\n", 501,
                  "http1.invalid_transfer_encoding");
  EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                501, "http1.invalid_transfer_encoding");
  EXPECT_REJECT("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400, "http1.invalid_transfer_encoding");
  EXPECT_REJECT("CONNECT h:1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
                "http1.invalid_transfer_encoding");
}

TEST(Http1Request, LineStructure) {
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\n\r\n", 400, "http1.obs_fold");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\tc\r\n\r\n", 400, "http1.obs_fold");
  EXPECT_REJECT("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, "http1.obs_fold");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "http1.whitespace_before_colon");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400, "http1.whitespace_before_colon");
  EXPECT_REJECT("GET / HTTP/1.1\r\n: h\r\nHost: h\r\n\r\n", 400, "http1.invalid_characters");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost h\r\n\r\n", 400, "http1.whitespace_before_colon");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost\r\n\r\n", 400, "http1.invalid_characters");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", 400, "http1.invalid_characters");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: h\r\nA: b\rc\r\n\r\n", 400, "http1.invalid_line_ending");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: h\r\nA: b\nc\r\n\r\n", 400, "http1.invalid_line_ending");
  EXPECT_REJECT("GET / HTTP/1.1\nHost: h\r\n\r\n", 400, "http1.invalid_line_ending");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: h\n\n", 400, "http1.invalid_line_ending");
  EXPECT_REJECT("GET / HTTP/1.1\r\nHost: h\r\n\n", 400, "http1.invalid_line_ending");
  EXPECT_REJECT("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_line_ending");
  EXPECT_REJECT("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "http1.invalid_line_ending");
  // Bare LF is seen before the head ends.
  auto early = req("GET / HTTP/1.1\nHost: h\n");
  EXPECT_EQ(early->st, ParseStatus::error);
  // Empty lines before the request line are skipped (RFC 9112 §2.2).
  auto lead = req("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(lead->st, ParseStatus::done);
  EXPECT_EQ(lead->head.head_bytes, 4 + 27u);
  EXPECT_EQ(lead->head.method, Method::get);
  EXPECT_EQ(req("\r\n")->st, ParseStatus::need_more);
  EXPECT_EQ(req("\r")->st, ParseStatus::need_more);
  EXPECT_EQ(req("")->st, ParseStatus::need_more);
}

TEST(Http1Request, FieldBytes) {
  // Every byte value in a field value: VCHAR, obs-text, SP, HTAB pass.
  for (int c = 0; c < 256; ++c) {
    std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX: a";
    raw += static_cast<char>(c);
    raw += "b\r\n\r\n";
    auto r = req(raw);
    const bool ok = c == '\t' || (c >= 0x20 && c != 0x7f);
    EXPECT_EQ(r->st, ok ? ParseStatus::done : ParseStatus::error) << c;
    if (ok) {
      EXPECT_EQ(r->head.headers[1].value, std::string("a") + static_cast<char>(c) + "b");
    }
  }
  // And in a field name: tchar only.
  const std::string tchars = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX";
    raw += static_cast<char>(c);
    raw += "Y: v\r\n\r\n";
    // "X:Y: v" is the field X with the value "Y: v".
    const bool ok = std::isalnum(c) || c == ':' || (c && tchars.find(static_cast<char>(c)) != std::string::npos);
    EXPECT_EQ(req(raw)->st, ok ? ParseStatus::done : ParseStatus::error) << c;
  }
}

// The SIMD scanners work 16 (32) bytes at a time: put the bad byte at every
// offset across several blocks, and the line end at every alignment.
TEST(Http1Request, ScanBoundaries) {
  const char bad[] = {'\0', '\x01', '\x08', '\x0b', '\x1f', '\x7f', '\n', '\r'};
  for (char b : bad) {
    for (size_t pos = 0; pos <= 70; ++pos) {
      std::string value(71, 'v');
      value[pos] = b;
      auto r = req("GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "\r\n\r\n");
      EXPECT_EQ(r->st, ParseStatus::error) << int(b) << " at " << pos;
    }
  }
  for (char good : {'\t', '\x80', '\xff', ' ', '~'}) {
    for (size_t pos = 0; pos <= 70; ++pos) {
      std::string value(71, 'v');
      value[pos] = good;
      auto r = req("GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "Z\r\n\r\n");
      ASSERT_EQ(r->st, ParseStatus::done) << int(good) << " at " << pos;
      // Leading OWS is not part of the value.
      const bool ows = good == ' ' || good == '\t';
      EXPECT_EQ(r->head.headers[1].value, (pos == 0 && ows ? value.substr(1) : value) + "Z");
    }
  }
  for (size_t len = 0; len <= 70; ++len) {
    const std::string value(len, 'v');
    const std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "\r\n\r\nNEXT";
    auto r = req(raw);
    ASSERT_EQ(r->st, ParseStatus::done) << len;
    EXPECT_EQ(r->head.headers[1].value, value);
    EXPECT_EQ(r->head.head_bytes, raw.size() - 4);
  }
  for (char b : {' ', '\t', '\x7f', '\x80', '\x01', '"' /* allowed */}) {
    for (size_t pos = 0; pos <= 70; ++pos) {
      std::string target = "/" + std::string(70, 't');
      target[pos + 1 > 70 ? 70 : pos + 1] = b;
      auto r = req("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
      EXPECT_EQ(r->st, b == '"' ? ParseStatus::done : ParseStatus::error) << int(b) << " at " << pos;
    }
  }
}

TEST(Http1Request, NeedMoreAtEverySplit) {
  const std::string cases[] = {
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\nPOST /upload?x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\nConnection: close\r\n\r\n",
      "PUT /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nX-Long: " +
          std::string(100, 'x') + "\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
  };
  for (const auto& raw : cases) {
    auto full = req(raw);
    ASSERT_EQ(full->st, ParseStatus::done) << raw;
    for (size_t k = 0; k < raw.size(); ++k) {
      auto part = req(std::string_view(raw).substr(0, k));
      EXPECT_EQ(part->st, ParseStatus::need_more) << k << " of " << raw;
    }
    // The same result from a buffer with more bytes after the head.
    auto more = req(raw + "GARBAGE");
    ASSERT_EQ(more->st, ParseStatus::done);
    EXPECT_EQ(more->head.head_bytes, full->head.head_bytes);
    EXPECT_EQ(more->head.header_count, full->head.header_count);
    EXPECT_EQ(more->head.body, full->head.body);
    EXPECT_EQ(more->head.content_length, full->head.content_length);
  }
}

TEST(Http1Request, Limits) {
  Limits l;
  l.max_head_bytes = 100;
  l.max_uri_bytes = 20;
  l.max_headers = 3;
  // 431 before the head ends once it cannot fit.
  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(80, 'x');
  EXPECT_EQ(req(big, l)->st, ParseStatus::error);
  EXPECT_EQ(req(big, l)->err.status, 431);
  EXPECT_EQ(req(big.substr(0, 100), l)->st, ParseStatus::need_more);
  std::string done = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(70, 'x') + "\r\n\r\n";
  EXPECT_EQ(req(done, l)->err.status, 431);
  // 414 while the request line is still arriving.
  const std::string longuri = "GET /" + std::string(20, 'u');
  EXPECT_EQ(req(longuri, l)->st, ParseStatus::error);
  EXPECT_EQ(req(longuri, l)->err.status, 414);
  EXPECT_EQ(req(longuri.substr(0, longuri.size() - 1), l)->st, ParseStatus::need_more);
  EXPECT_EQ(req("GET /" + std::string(20, 'u') + " HTTP/1.1\r\nHost: h\r\n\r\n", l)->err.status, 414);
  EXPECT_EQ(req("GET /" + std::string(19, 'u') + " HTTP/1.1\r\nHost: h\r\n\r\n", l)->st, ParseStatus::done);
  // 431 for the header count, complete or not.
  const std::string three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n";
  EXPECT_EQ(req(three + "\r\n", l)->st, ParseStatus::done);
  EXPECT_EQ(req(three + "C: 3\r\n\r\n", l)->err.status, 431);
  EXPECT_STREQ(req(three + "C: 3\r\n\r\n", l)->err.detail, "http1.too_many_headers");
  EXPECT_EQ(req(three + "C: 3\r\n", l)->err.status, 431);
  EXPECT_EQ(req(three + "C: 3\r\n", l)->st, ParseStatus::error);
  // The default: 100 headers.
  std::string hundred = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 1; i < 100; ++i) hundred += "X: y\r\n";
  EXPECT_EQ(req(hundred + "\r\n")->st, ParseStatus::done);
  EXPECT_EQ(req(hundred + "X: y\r\n\r\n")->err.status, 431);
}

TEST(Http1Request, Pipelining) {
  const std::string a = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  const std::string b = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string all = a + "abc" + b;
  auto r1 = req(all);
  ASSERT_EQ(r1->st, ParseStatus::done);
  EXPECT_EQ(r1->head.head_bytes, a.size());
  EXPECT_EQ(r1->head.content_length, 3u);
  auto r2 = req(std::string_view(all).substr(a.size() + 3));
  ASSERT_EQ(r2->st, ParseStatus::done);
  EXPECT_EQ(r2->head.path, "/b");
  EXPECT_EQ(r2->head.head_bytes, b.size());
}

TEST(Http1Request, ConnectionUpgradeExpect) {
  struct C {
    const char* head;
    bool keep_alive, upgrade, expect;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\n", true, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n", false, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n", false, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n", false, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n", false, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n", true, false, false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n", true, false, false},
      {"GET / HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n", true, false, false},
      {"GET / HTTP/1.0\r\n", false, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n", true, true, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive,upgrade\r\nUpgrade: h2c\r\n", true, true, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n", true, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n", true, false, false},
      {"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n", true, false, true},
      {"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue-x\r\n", true, false, false},
      {"GET / HTTP/1.0\r\nExpect: 100-continue\r\n", false, false, false},
  };
  for (const auto& c : cases) {
    auto r = req(std::string(c.head) + "\r\n");
    ASSERT_EQ(r->st, ParseStatus::done) << c.head;
    EXPECT_EQ(r->head.keep_alive, c.keep_alive) << c.head;
    EXPECT_EQ(r->head.upgrade, c.upgrade) << c.head;
    EXPECT_EQ(r->head.expect_continue, c.expect) << c.head;
  }
}

TEST(Http1Headers, FindAndHopByHop) {
  auto r = req("GET / HTTP/1.1\r\nHost: h\r\nX-Foo: 1\r\nx-foo: 2\r\n\r\n");
  ASSERT_EQ(r->st, ParseStatus::done);
  const Header* f = find_header(r->head, "X-FOO");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->value, "1");
  EXPECT_EQ(find_header(r->head, "X-Fo"), nullptr);
  for (const char* n : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Transfer-Encoding", "UPGRADE"})
    EXPECT_TRUE(is_hop_by_hop(n, "")) << n;
  for (const char* n : {"Host", "Proxy-Authorization", "Proxy-Authenticate", "Trailer", "X-A"})
    EXPECT_FALSE(is_hop_by_hop(n, "")) << n;
  EXPECT_TRUE(is_hop_by_hop("X-A", "close, x-a"));
  EXPECT_TRUE(is_hop_by_hop("x-b", " X-B ,close"));
  EXPECT_FALSE(is_hop_by_hop("x-b", "x-bb"));
}

TEST(Http1Response, StatusLine) {
  auto r = resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  ASSERT_EQ(r->st, ParseStatus::done);
  EXPECT_EQ(r->head.status, 200);
  EXPECT_EQ(r->head.reason, "OK");
  EXPECT_EQ(r->head.body, BodyKind::length);
  EXPECT_EQ(r->head.content_length, 5u);
  auto empty = resp("HTTP/1.0 404 \r\n\r\n");
  ASSERT_EQ(empty->st, ParseStatus::done);
  EXPECT_EQ(empty->head.reason, "");
  EXPECT_EQ(empty->head.version_minor, 0);
  EXPECT_FALSE(empty->head.keep_alive);
  auto none = resp("HTTP/1.1 500\r\n\r\n");
  ASSERT_EQ(none->st, ParseStatus::done);
  EXPECT_EQ(none->head.status, 500);
  auto spaces = resp("HTTP/1.1 503 Service  Unavailable \xe9\r\n\r\n");
  ASSERT_EQ(spaces->st, ParseStatus::done);
  EXPECT_EQ(spaces->head.reason, "Service  Unavailable \xe9");
  for (const char* bad : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
                          "HTTP/1.1 099 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1\t200 OK\r\n\r\n",
                          "HTTP/1.1 abc OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "ICE/1.0 200 OK\r\n\r\n"}) {
    auto b = resp(bad);
    EXPECT_EQ(b->st, ParseStatus::error) << bad;
  }
  EXPECT_EQ(resp("HTTP/2.0 200 OK\r\n\r\n")->err.status, 505);
}

TEST(Http1Response, BodyKinds) {
  struct C {
    const char* raw;
    Method m;
    BodyKind body;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\n\r\n", Method::get, BodyKind::until_close},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", Method::head, BodyKind::none},
      {"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", Method::get, BodyKind::none},
      {"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", Method::get, BodyKind::none},
      {"HTTP/1.1 100 Continue\r\n\r\n", Method::post, BodyKind::none},
      {"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n", Method::get, BodyKind::none},
      {"HTTP/1.1 200 OK\r\n\r\n", Method::connect, BodyKind::none},
      {"HTTP/1.1 407 Auth\r\n\r\n", Method::connect, BodyKind::until_close},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Method::get, BodyKind::chunked},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Method::get, BodyKind::chunked},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", Method::get,
       BodyKind::chunked},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Method::get, BodyKind::until_close},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Method::get, BodyKind::length},
  };
  for (const auto& c : cases) {
    auto r = resp(c.raw, c.m);
    ASSERT_EQ(r->st, ParseStatus::done) << c.raw;
    EXPECT_EQ(r->head.body, c.body) << c.raw;
  }
  auto up = resp("HTTP/1.1 101 Switching\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n");
  EXPECT_TRUE(up->head.upgrade);
  for (const char* bad : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"}) {
    EXPECT_EQ(resp(bad)->st, ParseStatus::error) << bad;
  }
  const std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  for (size_t k = 0; k < raw.size(); ++k)
    EXPECT_EQ(resp(std::string_view(raw).substr(0, k))->st, ParseStatus::need_more) << k;
}

// Chunked decoding driven like a connection: bytes arrive in pieces.
struct ChunkedResult {
  ChunkedDecoder::Status st;
  std::string data;
  size_t consumed = 0;  // bytes of the input taken when done
  std::string error;
};

ChunkedResult decode(const std::string& in, const std::vector<size_t>& pieces, uint32_t max_trailer = 60 * 1024) {
  ChunkedDecoder d(max_trailer);
  d.reset();
  ChunkedResult r{ChunkedDecoder::Status::need_more, "", 0, ""};
  size_t pos = 0, piece = 0;
  while (pos < in.size()) {
    const size_t avail_end = std::min(in.size(), pos + (pieces.empty() ? in.size() : pieces[piece++ % pieces.size()]));
    size_t at = pos;
    while (at < avail_end) {
      if (d.data_remaining()) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(d.data_remaining(), avail_end - at));
        r.data.append(in, at, take);
        d.skip_data(take);
        at += take;
        continue;
      }
      size_t used = 0;
      r.st = d.feed(in.data() + at, avail_end - at, &used);
      at += used;
      if (r.st == ChunkedDecoder::Status::error) {
        r.error = d.error();
        return r;
      }
      if (r.st == ChunkedDecoder::Status::done) {
        r.consumed = at;
        return r;
      }
    }
    pos = avail_end;
  }
  return r;
}

TEST(Http1Chunked, SplitsAgree) {
  const std::string body =
      "5\r\nhello\r\n1a;ext=1;q=\"a \\\" b\" ; bare\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "000010\r\n0123456789ABCDEF\r\n0;last\r\nTrailer-A: x\r\nB:\r\n\r\nNEXT";
  const std::string expect = "hello" + std::string("abcdefghijklmnopqrstuvwxyz") + "0123456789ABCDEF";
  auto whole = decode(body, {});
  ASSERT_EQ(whole.st, ChunkedDecoder::Status::done) << whole.error;
  EXPECT_EQ(whole.data, expect);
  EXPECT_EQ(whole.consumed, body.size() - 4);
  auto bytewise = decode(body, {1});
  ASSERT_EQ(bytewise.st, ChunkedDecoder::Status::done) << bytewise.error;
  EXPECT_EQ(bytewise.data, expect);
  EXPECT_EQ(bytewise.consumed, body.size() - 4);
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::vector<size_t> pieces;
    for (int k = 0; k < 16; ++k) pieces.push_back(1 + rng() % 9);
    auto r = decode(body, pieces);
    ASSERT_EQ(r.st, ChunkedDecoder::Status::done) << r.error;
    EXPECT_EQ(r.data, expect);
    EXPECT_EQ(r.consumed, body.size() - 4);
  }
}

TEST(Http1Chunked, Accepted) {
  for (const char* ok : {"0\r\n\r\n", "A\r\n0123456789\r\n0\r\n\r\n", "1 ;a\r\nx\r\n0\r\n\r\n",
                         "1; a = b\r\nx\r\n0\r\n\r\n", "1;a=\"\"\r\nx\r\n0\r\n\r\n", "1;a=b;c\r\nx\r\n0\r\n\r\n",
                         "7fffffffffffffff\r\n", "0\r\nX: \x80\tv\r\n\r\n"}) {
    auto r = decode(ok, {1});
    EXPECT_NE(r.st, ChunkedDecoder::Status::error) << ok << ": " << r.error;
  }
}

TEST(Http1Chunked, Rejected) {
  const char* bad[] = {
      "\r\n",                          // no size
      "g\r\n",                         // non-hex
      "-1\r\n",                        // sign
      "+1\r\n",                        // sign
      "0x1\r\n",                       // prefix
      "8000000000000000\r\n",          // 2^63
      "10000000000000000\r\n",         // overflow
      "1 \r\nx\r\n0\r\n\r\n",          // whitespace not before ';'
      "1\t\r\n",                       //
      "1;\r\n",                        // no extension name
      "1;=v\r\n",                      //
      "1;a=\r\n",                      // no value
      "1;a=\"x\r\n",                   // unterminated quote
      "1;a=\"x\"y\r\n",                // junk after quote
      "1;a b\r\n",                     // two names
      "1;a=b c\r\n",                   // two values
      "1;a@\r\n",                      //
      "1;a=\"\x01\"\r\n",              // CTL in quoted-string
      "1\rx",                          // bare CR
      "1\n",                           // bare LF
      "1\r\nxy\r\n",                   // more data than the size
      "1\r\nx\n",                      // LF without CR after data
      "1\r\nx\r0\r\n",                 //
      "0\r\n X: y\r\n\r\n",            // obs-fold in trailers
      "0\r\nX : y\r\n\r\n",            // whitespace before colon
      "0\r\nX: \x7f\r\n\r\n",          // DEL in a trailer value
      "0\r\nX\r\n\r\n",                // no colon
      "0\r\n\r\r",                     // bare CR at the end
      "0\r\nX: y\n\r\n",               // bare LF in trailers
  };
  for (const char* b : bad) {
    auto whole = decode(b, {});
    EXPECT_EQ(whole.st, ChunkedDecoder::Status::error) << b;
    auto bytes = decode(b, {1});
    EXPECT_EQ(bytes.st, ChunkedDecoder::Status::error) << b;
  }
}

TEST(Http1Chunked, Bounds) {
  const std::string long_ext = "1;" + std::string(5000, 'e') + "\r\n";
  auto r = decode(long_ext, {7});
  EXPECT_EQ(r.st, ChunkedDecoder::Status::error);
  EXPECT_EQ(r.error, "http1.chunk_line_too_long");
  const std::string trailers = "0\r\nX: " + std::string(200, 't') + "\r\n\r\n";
  auto t = decode(trailers, {3}, 100);
  EXPECT_EQ(t.st, ChunkedDecoder::Status::error);
  EXPECT_EQ(t.error, "http1.trailers_too_large");
  EXPECT_EQ(decode(trailers, {3}, 1000).st, ChunkedDecoder::Status::done);
  // The line limit is per line: many chunks are fine.
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "1\r\nx\r\n";
  many += "0\r\n\r\n";
  auto m = decode(many, {5});
  ASSERT_EQ(m.st, ChunkedDecoder::Status::done) << m.error;
  EXPECT_EQ(m.data, std::string(2000, 'x'));
}

TEST(Http1Chunked, ErrorAndDoneAreSticky) {
  ChunkedDecoder d;
  size_t used = 0;
  EXPECT_EQ(d.feed("0\r\n\r\nX", 6, &used), ChunkedDecoder::Status::done);
  EXPECT_EQ(used, 5u);
  EXPECT_EQ(d.feed("X", 1, &used), ChunkedDecoder::Status::done);
  EXPECT_EQ(used, 0u);
  d.reset();
  EXPECT_EQ(d.feed("z", 1, &used), ChunkedDecoder::Status::error);
  EXPECT_EQ(d.feed("0\r\n\r\n", 5, &used), ChunkedDecoder::Status::error);
  d.reset();
  EXPECT_EQ(d.feed("3\r\nab", 5, &used), ChunkedDecoder::Status::data);
  EXPECT_EQ(used, 3u);
  EXPECT_EQ(d.data_remaining(), 3u);
}

}  // namespace
}  // namespace lg::http1
