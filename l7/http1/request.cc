// Request heads: the request line (RFC 9112 §3) and its request-target forms.
#include <cstring>

#include "l7/http1/internal.h"
#include "l7/http1/scan.h"

namespace lg::http1 {

using detail::fail;

namespace {

// Methods are case-sensitive (RFC 9110 §9.1); any other token is forwarded.
Method method_of(std::string_view m) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::get;
      if (m == "PUT") return Method::put;
      break;
    case 4:
      if (m == "HEAD") return Method::head;
      if (m == "POST") return Method::post;
      break;
    case 5:
      if (m == "PATCH") return Method::patch;
      if (m == "TRACE") return Method::trace;
      break;
    case 6:
      if (m == "DELETE") return Method::delete_;
      break;
    case 7:
      if (m == "CONNECT") return Method::connect;
      if (m == "OPTIONS") return Method::options;
      break;
    default:
      break;
  }
  return Method::other;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits "path?query#fragment" (the fragment is dropped).
void split_path(std::string_view rest, MessageHead* h) {
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  const size_t q = rest.find('?');
  h->path = rest.substr(0, q);
  h->query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  if (h->path.empty()) h->path = "/";
}

// RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT only),
// asterisk-form (OPTIONS only).
const char* classify_target(MessageHead* h) {
  const std::string_view t = h->target;
  if (h->method == Method::connect) {
    // authority-form = uri-host ":" port (RFC 9112 §3.2.3).
    const size_t colon = t.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == t.size()) return "http1.invalid_url";
    for (char c : t.substr(0, colon))
      if (c == '/' || c == '?' || c == '#' || c == '@') return "http1.invalid_url";
    for (char c : t.substr(colon + 1))
      if (!is_digit(c)) return "http1.invalid_url";
    h->authority = t;
    return nullptr;
  }
  if (t[0] == '/') {
    split_path(t, h);
    return nullptr;
  }
  if (t == "*") {
    if (h->method != Method::options) return "http1.invalid_url";
    h->path = t;
    return nullptr;
  }
  // absolute-form: scheme "://" authority path-abempty [ "?" query ].
  size_t i = 0;
  if (!is_alpha(t[0])) return "http1.invalid_url";
  while (i < t.size() && (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.')) ++i;
  if (t.substr(i, 3) != "://") return "http1.invalid_url";
  h->scheme = t.substr(0, i);
  const size_t a = i + 3;
  size_t e = a;
  while (e < t.size() && t[e] != '/' && t[e] != '?' && t[e] != '#') ++e;
  if (e == a) return "http1.invalid_url";
  h->authority = t.substr(a, e - a);
  split_path(t.substr(e), h);
  return nullptr;
}

// While the head is incomplete: is the request-target already too long?
bool target_too_long(const char* buf, size_t len, size_t start, uint32_t max_uri) {
  const char* p = buf + start;
  const char* end = buf + len;
  const char* sp = static_cast<const char*>(std::memchr(p, ' ', static_cast<size_t>(end - p)));
  if (!sp) return false;
  const char* t = sp + 1;
  const char* te = scan::skip_target(t, end);
  return static_cast<size_t>(te - t) > max_uri;
}

}  // namespace

ParseStatus parse_request(const char* buf, size_t len, MessageHead* out, ParseError* err, const Limits& limits) {
  detail::reset_head(out);
  size_t start = 0;
  const ParseStatus located = detail::locate_head(buf, len, limits, &start, out, err);
  if (located == ParseStatus::error) return located;
  if (located == ParseStatus::need_more) {
    if (target_too_long(buf, len, start, limits.max_uri_bytes)) return fail(err, 414, "http1.uri_too_long");
    return located;
  }

  // request-line = method SP request-target SP HTTP-version CRLF
  const char* p = buf + start;
  const char* le = static_cast<const char*>(std::memchr(p, '\r', out->head_bytes - start));
  const char* m = p;
  while (m < le && detail::tchar(*m)) ++m;
  if (m == p || m == le || *m != ' ') return fail(err, 400, "http1.invalid_method");
  out->method_text = std::string_view(p, static_cast<size_t>(m - p));
  out->method = method_of(out->method_text);

  const char* t = m + 1;
  const char* te = scan::skip_target(t, le);
  if (static_cast<size_t>(te - t) > limits.max_uri_bytes) return fail(err, 414, "http1.uri_too_long");
  if (te == t || te == le || *te != ' ') return fail(err, 400, "http1.invalid_url");
  out->target = std::string_view(t, static_cast<size_t>(te - t));

  const char* v = te + 1;
  if (le - v != 8) return fail(err, 400, "http1.invalid_version");
  const int minor = detail::parse_version(v);
  if (minor == -2) return fail(err, 505, "http1.invalid_version");
  if (minor < 0) return fail(err, 400, "http1.invalid_version");
  out->version_minor = static_cast<uint8_t>(minor);

  if (const char* bad = classify_target(out)) return fail(err, 400, bad);

  const ParseStatus st = detail::parse_fields(le + 2, buf + out->head_bytes - 2, true, out, err, limits);
  if (st != ParseStatus::done) return st;

  // RFC 9110 §9.3.6: a CONNECT request has no content; a tunnel follows.
  if (out->method == Method::connect) {
    out->body = BodyKind::none;
    out->content_length = 0;
  }
  // RFC 9112 §3.2.2 lets a server ignore Host for absolute-form; a gateway
  // in front of servers that may not must refuse a disagreement instead.
  // (A present Host, even empty, views the buffer; an absent one is null.)
  if (!out->scheme.empty() && out->host.data() != nullptr && !iequals(out->host, out->authority))
    return fail(err, 400, "http1.host_mismatch");
  return ParseStatus::done;
}

}  // namespace lg::http1
