// Header fields shared by requests and responses: the field-line grammar
// (RFC 9112 §5), the framing headers (RFC 9112 §6) and Connection
// (RFC 9110 §7.6.1).
#include <cstring>

#include "l7/http1/internal.h"
#include "l7/http1/scan.h"

namespace lg::http1 {
namespace detail {

namespace {
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }
}  // namespace

void reset_head(MessageHead* h) {
  h->method = Method::other;
  h->method_text = h->target = h->path = h->query = h->scheme = h->authority = {};
  h->status = 0;
  h->reason = {};
  h->version_minor = 1;
  h->header_count = 0;
  h->head_bytes = 0;
  h->body = BodyKind::none;
  h->content_length = 0;
  h->host = {};
  h->keep_alive = true;
  h->upgrade = false;
  h->expect_continue = false;
}

ParseStatus locate_head(const char* buf, size_t len, const Limits& limits, size_t* start, MessageHead* h,
                        ParseError* err) {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
  // request-line; llhttp ignores any number (and so do we, within the limit).
  size_t s = 0;
  while (s < len && buf[s] == '\r') {
    if (s + 1 == len) break;
    if (buf[s + 1] != '\n') return fail(err, 400, "http1.invalid_line_ending");
    s += 2;
  }
  if (s < len && buf[s] == '\n') return fail(err, 400, "http1.invalid_line_ending");
  if (s > limits.max_head_bytes) return fail(err, 431, "http1.headers_too_large");
  const scan::HeadScan hs = scan::find_head_end(buf, len, s);
  switch (hs.result) {
    case scan::HeadScan::bare_cr:
    case scan::HeadScan::bare_lf:
      return fail(err, 400, "http1.invalid_line_ending");
    case scan::HeadScan::partial:
      if (len - s > limits.max_head_bytes) return fail(err, 431, "http1.headers_too_large");
      if (hs.lines > limits.max_headers + 1) return fail(err, 431, "http1.too_many_headers");
      *start = s;
      return ParseStatus::need_more;
    case scan::HeadScan::complete:
      break;
  }
  if (hs.end - s > limits.max_head_bytes) return fail(err, 431, "http1.headers_too_large");
  *start = s;
  h->head_bytes = static_cast<uint32_t>(hs.end);
  return ParseStatus::done;
}

int parse_version(const char* p) {
  if (std::memcmp(p, "HTTP/", 5) != 0) return -1;
  const char major = p[5], dot = p[6], minor = p[7];
  if (major < '0' || major > '9' || dot != '.' || minor < '0' || minor > '9') return -1;
  if (major != '1' || minor > '1') return -2;
  return minor - '0';
}

const char* split_field(const char* p, const char* end, Header* out) {
  // RFC 9112 §5.2: a line starting with whitespace is obs-fold; rejecting
  // it with 400 is the server's option we take.
  if (*p == ' ' || *p == '\t') return "http1.obs_fold";
  const char* q = p;
  while (q < end && tchar(*q)) ++q;
  if (q == end) return "http1.invalid_characters";
  // RFC 9112 §5.1: no whitespace between the field name and colon (400).
  if (*q == ' ' || *q == '\t') return "http1.whitespace_before_colon";
  if (*q != ':' || q == p) return "http1.invalid_characters";
  out->name = std::string_view(p, static_cast<size_t>(q - p));
  const char* v = q + 1;
  while (v < end && (*v == ' ' || *v == '\t')) ++v;
  if (scan::skip_value(v, end) != end) return "http1.invalid_characters";
  const char* ve = end;
  while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) --ve;
  out->value = std::string_view(v, static_cast<size_t>(ve - v));
  return nullptr;
}

namespace {

// 1*DIGIT without sign or list (RFC 9110 §8.6), below 2^63.
bool parse_content_length(std::string_view v, uint64_t* out) {
  if (v.empty() || v.size() > 19) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > INT64_MAX) return false;
  *out = n;
  return true;
}

bool named(std::string_view name, std::string_view lower_name) {
  return name.size() == lower_name.size() && iequals(name, lower_name);
}

}  // namespace

ParseStatus parse_fields(const char* p, const char* end, bool request, MessageHead* h, ParseError* err,
                         const Limits& limits) {
  unsigned cl_count = 0, te_count = 0, host_count = 0;
  bool te_chunked_final = false, te_chunked_early = false, te_exactly_chunked = false;
  bool conn_close = false, conn_keep_alive = false, conn_upgrade = false, has_upgrade = false;
  const unsigned max_headers = limits.max_headers < kMaxHeaders ? limits.max_headers : kMaxHeaders;

  while (p < end) {
    const char* le = static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(end - p)));
    if (h->header_count >= max_headers) return fail(err, 431, "http1.too_many_headers");
    Header& f = h->headers[h->header_count];
    if (const char* bad = split_field(p, le, &f)) return fail(err, 400, bad);
    ++h->header_count;
    p = le + 2;

    const std::string_view n = f.name, v = f.value;
    switch (n.size()) {
      case 4:
        if (named(n, "host")) {
          if (++host_count == 1) h->host = v;
        }
        break;
      case 6:
        if (request && named(n, "expect") && h->version_minor == 1 && iequals(v, "100-continue"))
          h->expect_continue = true;
        break;
      case 7:
        if (named(n, "upgrade")) has_upgrade = true;
        break;
      case 10:
        if (named(n, "connection")) {
          for_each_list_item(v, [&](std::string_view t) {
            if (iequals(t, "close")) conn_close = true;
            else if (iequals(t, "keep-alive")) conn_keep_alive = true;
            else if (iequals(t, "upgrade")) conn_upgrade = true;
          });
        }
        break;
      case 14:
        if (named(n, "content-length")) {
          // RFC 9112 §6.3: differing values are unrecoverable; like llhttp
          // strict we refuse any repetition, and lists ("5, 5") too.
          if (++cl_count > 1 || !parse_content_length(v, &h->content_length))
            return fail(err, 400, "http1.invalid_content_length");
        }
        break;
      case 17:
        if (named(n, "transfer-encoding")) {
          ++te_count;
          te_exactly_chunked = iequals(v, "chunked");
          bool any = false;
          for_each_list_item(v, [&](std::string_view t) {
            if (te_chunked_final) te_chunked_early = true;  // chunked was not the last coding
            te_chunked_final = iequals(t, "chunked");
            any = true;
          });
          if (!any) return fail(err, 400, "http1.invalid_transfer_encoding");
        }
        break;
      default:
        break;
    }
  }

  if (request) {
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in 1.0.
    if (host_count > 1) return fail(err, 400, "http1.multiple_host");
    if (host_count == 0 && h->version_minor == 1) return fail(err, 400, "http1.missing_host");
  }

  if (te_count) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (h->version_minor == 0) return fail(err, 400, "http1.invalid_transfer_encoding");
    // RFC 9112 §6.3 item 3: a server may reject CL with TE; a gateway must.
    if (cl_count) return fail(err, 400, "http1.content_length_and_chunked_not_allowed");
    if (request) {
      // RFC 9112 §6.3 item 4 would allow other codings before chunked; like
      // Envoy we accept exactly "chunked" (501 otherwise, RFC 9112 §6.1) and
      // none on CONNECT.
      if (te_count != 1 || !te_exactly_chunked || h->method == Method::connect)
        return fail(err, 501, "http1.invalid_transfer_encoding");
      h->body = BodyKind::chunked;
    } else {
      // RFC 9112 §6.3 item 4: chunked not final → read until close.
      // Chunked twice ("chunked, chunked") is never valid (RFC 9112 §6.1).
      if (te_chunked_early && te_chunked_final) return fail(err, 400, "http1.invalid_transfer_encoding");
      h->body = te_chunked_final ? BodyKind::chunked : BodyKind::until_close;
    }
    h->content_length = 0;
  } else if (cl_count) {
    h->body = BodyKind::length;
  } else {
    h->body = request ? BodyKind::none : BodyKind::until_close;
  }

  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
  h->keep_alive = !conn_close && (h->version_minor == 1 || conn_keep_alive);
  h->upgrade = conn_upgrade && has_upgrade;
  return ParseStatus::done;
}

}  // namespace detail

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (detail::lower(a[i]) != detail::lower(b[i])) return false;
  return true;
}

const Header* find_header(const MessageHead& h, std::string_view name) {
  for (unsigned i = 0; i < h.header_count; ++i)
    if (iequals(h.headers[i].name, name)) return &h.headers[i];
  return nullptr;
}

bool is_hop_by_hop(std::string_view name, std::string_view connection) {
  switch (name.size()) {
    case 2: if (iequals(name, "te")) return true; break;
    case 7: if (iequals(name, "upgrade")) return true; break;
    case 10: if (iequals(name, "connection") || iequals(name, "keep-alive")) return true; break;
    case 16: if (iequals(name, "proxy-connection")) return true; break;
    case 17: if (iequals(name, "transfer-encoding")) return true; break;
    default: break;
  }
  bool listed = false;
  detail::for_each_list_item(connection, [&](std::string_view t) { listed = listed || iequals(t, name); });
  return listed;
}

}  // namespace lg::http1
