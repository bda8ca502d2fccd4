// Shared pieces of the request and response parsers. Internal to l7/http1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "l7/http1/http1.h"

namespace lg::http1::detail {

// tchar (RFC 9110 §5.6.2): the bytes of tokens, field names and methods.
struct ByteClass {
  bool in[256];
};
constexpr ByteClass make_tchar_class() {
  ByteClass t{};
  for (unsigned c = 0; c < 256; ++c) {
    const unsigned l = c | 0x20;
    t.in[c] = (c >= '0' && c <= '9') || (l >= 'a' && l <= 'z');
  }
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t.in[static_cast<uint8_t>(c)] = true;
  return t;
}
inline constexpr ByteClass kTchar = make_tchar_class();
inline bool tchar(char c) { return kTchar.in[static_cast<uint8_t>(c)]; }

inline ParseStatus fail(ParseError* err, uint16_t status, const char* detail) {
  err->status = status;
  err->detail = detail;
  return ParseStatus::error;
}

// Calls f(token) for each element of a comma-separated list (RFC 9110 §5.6.1),
// OWS trimmed, empty elements skipped.
template <class F>
void for_each_list_item(std::string_view list, F&& f) {
  size_t i = 0;
  while (i <= list.size()) {
    size_t j = list.find(',', i);
    if (j == std::string_view::npos) j = list.size();
    std::string_view item = list.substr(i, j - i);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) f(item);
    i = j + 1;
  }
}

// Resets everything but the header array (which header_count bounds).
void reset_head(MessageHead* h);

// Finds the head in buf: skips empty lines before the start line (RFC 9112
// §2.2), locates the blank line and checks the byte and line limits.
// done: *start is the start line's offset and h->head_bytes the head's end.
ParseStatus locate_head(const char* buf, size_t len, const Limits& limits, size_t* start, MessageHead* h,
                        ParseError* err);

// "HTTP/x.y" at p (8 bytes available): 0 or 1 (the minor version), -1 when
// it is not an HTTP-version, -2 when it is one we don't speak (→ 505).
int parse_version(const char* p);

// Parses the field lines in [p, end), each ending in CRLF (already proven by
// the head scan), into h->headers, then derives framing, Host, Connection
// and Expect. The caller has set version_minor (and method for requests).
ParseStatus parse_fields(const char* p, const char* end, bool request, MessageHead* h, ParseError* err,
                         const Limits& limits);

// Validates one field line's bytes in [p, end) (no CRLF) and splits it.
// Returns the error detail or null. Shared with chunked trailers.
const char* split_field(const char* p, const char* end, Header* out);

}  // namespace lg::http1::detail
