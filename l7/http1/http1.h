// Strict HTTP/1.1 message framing (RFC 9112) for the L7 gateway and the
// load generator: request and response heads parsed from contiguous bytes
// into views (no copy), and a chunked-body decoder that only looks at the
// framing so chunk data can be forwarded without being touched.
//
// Strict means what a gateway in front of other parsers must do to stop
// request smuggling: anything RFC 9112 lets a recipient reject, or that
// another parser could read differently, is an error (400 and close):
// Content-Length with Transfer-Encoding, differing or malformed
// Content-Length, a Transfer-Encoding other than a final "chunked",
// obs-fold, bare CR or LF, whitespace before a colon or at the start of the
// head, bytes outside the field grammar, absolute-form whose authority
// differs from Host, a missing or duplicated Host in HTTP/1.1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lg::http1 {

inline constexpr unsigned kMaxHeaders = 100;  // Envoy's default max_headers_count

struct Limits {
  uint32_t max_head_bytes = 60 * 1024;  // request line + headers (Envoy: max_request_headers_kb 60) → 431
  uint32_t max_uri_bytes = 8 * 1024;    // request-target → 414
  uint32_t max_headers = kMaxHeaders;   // → 431
};

enum class ParseStatus : uint8_t { need_more, done, error };

struct ParseError {
  uint16_t status = 0;        // the answer: 400, 414, 431, 501 (unknown transfer coding), 505 (version)
  const char* detail = "";    // Envoy-style details for the access log, e.g. "http1.invalid_characters"
};

enum class Method : uint8_t { other, get, head, post, put, delete_, connect, options, trace, patch };

enum class BodyKind : uint8_t {
  none,         // no body (requests without framing headers; 1xx/204/304 and responses to HEAD)
  length,       // Content-Length
  chunked,      // Transfer-Encoding: chunked
  until_close,  // responses only: no framing, body ends with the connection
};

struct Header {
  std::string_view name;   // as received
  std::string_view value;  // leading/trailing OWS removed
};

struct MessageHead {
  // Request line (requests).
  Method method = Method::other;
  std::string_view method_text;
  std::string_view target;     // request-target as received
  std::string_view path;       // origin-form path, or the path of absolute-form ("/" when empty); without query
  std::string_view query;      // after '?', without it ("" when none)
  std::string_view scheme;     // absolute-form only
  std::string_view authority;  // absolute-form / authority-form (CONNECT) only
  // Status line (responses).
  uint16_t status = 0;
  std::string_view reason;
  uint8_t version_minor = 1;   // HTTP/1.0 or HTTP/1.1

  Header headers[kMaxHeaders];
  uint16_t header_count = 0;
  uint32_t head_bytes = 0;     // through the blank line ending the head

  // Derived from the headers.
  BodyKind body = BodyKind::none;
  uint64_t content_length = 0;   // for BodyKind::length
  std::string_view host;         // Host value (requests); "" when absent
  bool keep_alive = true;        // version default adjusted by Connection: close / keep-alive
  bool upgrade = false;          // Connection: upgrade with an Upgrade header
  bool expect_continue = false;  // Expect: 100-continue (requests)
};

// Parses one request head from the start of buf. need_more: the head is not
// complete yet (and is within the limits so far). done: *out is filled and
// out->head_bytes says where the body starts. error: *err says what to answer.
ParseStatus parse_request(const char* buf, size_t len, MessageHead* out, ParseError* err, const Limits& limits = {});

// Parses one response head. request_method decides whether a body follows
// (HEAD and CONNECT-2xx responses have none).
ParseStatus parse_response(const char* buf, size_t len, Method request_method, MessageHead* out, ParseError* err,
                           const Limits& limits = {});

// ASCII case-insensitive equality: field names, tokens, schemes.
bool iequals(std::string_view a, std::string_view b);

// The first header with this name (ASCII case-insensitive), or null.
const Header* find_header(const MessageHead& h, std::string_view name);

// Whether a hop-by-hop header (RFC 9110 §7.6.1: Connection and the fields it
// lists, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade,
// Proxy-Authenticate/-Authorization is NOT included: Envoy forwards them).
// `connection` is the message's Connection value (its listed names count).
bool is_hop_by_hop(std::string_view name, std::string_view connection);

// Chunked transfer coding (RFC 9112 §7.1), strictly: hex sizes without
// sign, prefix or overflow, extensions only as ;token[=token|quoted-string],
// CRLF after every chunk, trailers as header fields, the whole framing
// bounded. It reads framing bytes only: after a chunk-size line it says how
// many data bytes follow, and the caller passes them on (zero copy) and
// reports them with skip_data().
class ChunkedDecoder {
 public:
  enum class Status : uint8_t {
    need_more,  // all of the given bytes were framing and consumed; more needed
    data,       // *consumed bytes of framing taken; data_remaining() data bytes follow
    done,       // the last chunk and the trailers ended after *consumed bytes
    error,      // malformed; error() says why
  };

  explicit ChunkedDecoder(uint32_t max_trailer_bytes = 60 * 1024) : max_trailer_bytes_(max_trailer_bytes) {}
  void reset();
  // Feeds framing bytes (never call it while data_remaining() > 0).
  Status feed(const char* p, size_t n, size_t* consumed);
  uint64_t data_remaining() const { return remaining_; }
  void skip_data(uint64_t n) { remaining_ -= n; }
  const char* error() const { return error_; }

 private:
  // Implementation state (chunked.cc).
  uint8_t state_ = 0;
  uint64_t remaining_ = 0;
  uint64_t size_ = 0;
  uint32_t line_bytes_ = 0;
  uint32_t trailer_bytes_ = 0;
  uint32_t max_trailer_bytes_;
  const char* error_ = "";
};

}  // namespace lg::http1
