// Response heads: the status line (RFC 9112 §4) and the body length rules
// that depend on the request (RFC 9112 §6.3 items 1-2).
#include <cstring>

#include "l7/http1/internal.h"
#include "l7/http1/scan.h"

namespace lg::http1 {

using detail::fail;

ParseStatus parse_response(const char* buf, size_t len, Method request_method, MessageHead* out, ParseError* err,
                           const Limits& limits) {
  detail::reset_head(out);
  size_t start = 0;
  const ParseStatus located = detail::locate_head(buf, len, limits, &start, out, err);
  if (located != ParseStatus::done) return located;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF.
  // Like llhttp we also take a line that ends right after the code.
  const char* p = buf + start;
  const char* le = static_cast<const char*>(std::memchr(p, '\r', out->head_bytes - start));
  if (le - p < 12 || p[8] != ' ') return fail(err, 400, "http1.invalid_status_line");
  const int minor = detail::parse_version(p);
  if (minor == -2) return fail(err, 505, "http1.invalid_version");
  if (minor < 0) return fail(err, 400, "http1.invalid_version");
  out->version_minor = static_cast<uint8_t>(minor);
  unsigned code = 0;
  for (int i = 9; i < 12; ++i) {
    if (p[i] < '0' || p[i] > '9') return fail(err, 400, "http1.invalid_status_line");
    code = code * 10 + static_cast<unsigned>(p[i] - '0');
  }
  if (code < 100) return fail(err, 400, "http1.invalid_status_line");
  out->status = static_cast<uint16_t>(code);
  if (le - p > 12) {
    if (p[12] != ' ') return fail(err, 400, "http1.invalid_status_line");
    const char* r = p + 13;
    if (scan::skip_value(r, le) != le) return fail(err, 400, "http1.invalid_characters");
    out->reason = std::string_view(r, static_cast<size_t>(le - r));
  }

  const ParseStatus st = detail::parse_fields(le + 2, buf + out->head_bytes - 2, false, out, err, limits);
  if (st != ParseStatus::done) return st;

  // RFC 9112 §6.3 items 1-2: no body after HEAD, 1xx, 204, 304, or a 2xx
  // answering CONNECT (a tunnel follows instead).
  if (request_method == Method::head || code < 200 || code == 204 || code == 304 ||
      (request_method == Method::connect && code < 300)) {
    out->body = BodyKind::none;
    out->content_length = 0;
  }
  return ParseStatus::done;
}

}  // namespace lg::http1
