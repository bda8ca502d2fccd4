#include "dataplane/l7/heads.h"

#include <arpa/inet.h>

#include <cstring>

#include "dataplane/l7/stream.h"
#include "dataplane/tls/tls_worker.h"

namespace lg::l7 {
namespace pb = linegate::snapshot::v1;
using http1::iequals;

namespace {

bool named_in(std::string_view name, const pb::HeaderOperations& ops) {
  for (const std::string& r : ops.remove())
    if (iequals(name, r)) return true;
  for (const pb::HeaderValue& v : ops.set())
    if (iequals(name, v.name())) return true;
  return false;
}

void write_ops(MbufWriter& w, const pb::HeaderOperations& ops) {
  for (const pb::HeaderValue& v : ops.set()) w.header(v.name(), v.value());
  for (const pb::HeaderValue& v : ops.add()) w.header(v.name(), v.value());
}

std::string_view connection_value(const http1::MessageHead& h) {
  const http1::Header* c = http1::find_header(h, "connection");
  return c ? c->value : std::string_view();
}

void put_uuid(MbufWriter& w, uint64_t hi, uint64_t lo) {
  char b[kUuidLength];
  format_uuid(hi, lo, b);
  w.put({b, sizeof b});
}

}  // namespace

void format_uuid(uint64_t hi, uint64_t lo, char (&b)[kUuidLength]) {
  // RFC 9562 §5.4 version 4 layout.
  hi = (hi & ~0xF000ull) | 0x4000ull;
  lo = (lo & ~(3ull << 62)) | (2ull << 62);
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned k = 0;
  for (int i = 60; i >= 0; i -= 4) {
    if (k == 8 || k == 13 || k == 18) b[k++] = '-';
    b[k++] = kHex[(hi >> i) & 15];
  }
  for (int i = 60; i >= 0; i -= 4) {
    if (k == 18 || k == 23) b[k++] = '-';
    b[k++] = kHex[(lo >> i) & 15];
  }
}

bool write_request_head(MbufWriter& w, const Stream& s, const http1::MessageHead& h, const RequestView& rv,
                        const Destination& d, std::string_view path, uint64_t id_hi, uint64_t id_lo, bool mirror) {
  const pb::Route& route = *s.route->spec;
  const pb::HeaderOperations& route_ops = route.request_headers();
  const pb::HeaderOperations* dest_ops = d.spec ? &d.spec->request_headers() : nullptr;
  w.put(h.method_text).put(' ').put(path);
  if (!h.query.empty() || h.target.find('?') != std::string_view::npos) w.put('?').put(h.query);
  w.put(" HTTP/1.1\r\n");
  const std::string& rewrite_authority = route.route().rewrite().authority();
  w.put("host: ").put(rewrite_authority.empty() ? rv.authority : std::string_view(rewrite_authority));
  if (mirror) w.put("-shadow");
  w.put("\r\n");
  const std::string_view conn = connection_value(h);
  std::string_view xff;
  bool have_id = false;
  std::string_view upgrade;
  for (unsigned i = 0; i < h.header_count; ++i) {
    const http1::Header& f = h.headers[i];
    // x-forwarded-client-cert: Istio gateways' SANITIZE_SET, whatever the
    // client sent goes; ours is set below for a verified client certificate.
    if (iequals(f.name, "host") || iequals(f.name, "expect") || iequals(f.name, "x-forwarded-proto") ||
        iequals(f.name, "x-forwarded-client-cert") ||
        (iequals(f.name, "content-length") && h.body == http1::BodyKind::chunked))
      continue;
    if (http1::is_hop_by_hop(f.name, conn)) {
      if (iequals(f.name, "upgrade")) upgrade = f.value;
      continue;
    }
    if (named_in(f.name, route_ops) || (dest_ops && named_in(f.name, *dest_ops))) continue;
    if (iequals(f.name, "x-forwarded-for")) {
      xff = f.value;
      continue;
    }
    if (iequals(f.name, "x-request-id")) have_id = true;
    w.header(f.name, f.value);
  }
  char addr[INET6_ADDRSTRLEN];
  const tcp::FlowKey& k = s.down->key;
  inet_ntop(k.family == 4 ? AF_INET : AF_INET6, k.remote, addr, sizeof addr);
  w.put("x-forwarded-for: ");
  if (!xff.empty()) w.put(xff).put(", ");
  w.put(addr).put("\r\n");
  w.put("x-forwarded-proto: ").put(rv.scheme).put("\r\n");
  if (const std::string_view xfcc = tlsterm::TlsWorker::client_cert_details(s.down); !xfcc.empty())
    w.put("x-forwarded-client-cert: ").put(xfcc).put("\r\n");
  if (!have_id) {
    w.put("x-request-id: ");
    put_uuid(w, id_hi, id_lo);
    w.put("\r\n");
  }
  write_ops(w, route_ops);
  if (dest_ops) write_ops(w, *dest_ops);
  if (h.body == http1::BodyKind::chunked) w.put("transfer-encoding: chunked\r\n");
  if (mirror) {
    w.put("connection: close\r\n");
  } else if (s.upgrade && !upgrade.empty()) {
    w.put("connection: upgrade\r\n").header("upgrade", upgrade);
  }
  w.put("\r\n");
  return !w.failed();
}

void write_response_head(MbufWriter& w, const Stream& s, const http1::MessageHead& h, bool upgraded) {
  const pb::HeaderOperations* route_ops = s.route ? &s.route->spec->response_headers() : nullptr;
  const pb::HeaderOperations* dest_ops = nullptr;
  if (s.route && s.t) {
    const std::span<const Destination> d = s.t->http_routes->destinations(*s.route);
    if (s.dest < d.size() && d[s.dest].spec) dest_ops = &d[s.dest].spec->response_headers();
  }
  w.put("HTTP/1.1 ").put_uint(h.status).put(' ').put(h.reason).put("\r\n");
  const std::string_view conn = connection_value(h);
  std::string_view upgrade;
  for (unsigned i = 0; i < h.header_count; ++i) {
    const http1::Header& f = h.headers[i];
    if (http1::is_hop_by_hop(f.name, conn)) {
      if (iequals(f.name, "upgrade")) upgrade = f.value;
      continue;
    }
    if ((route_ops && named_in(f.name, *route_ops)) || (dest_ops && named_in(f.name, *dest_ops))) continue;
    w.header(f.name, f.value);
  }
  if (h.body == http1::BodyKind::chunked) w.put("transfer-encoding: chunked\r\n");
  if (route_ops) write_ops(w, *route_ops);
  if (dest_ops) write_ops(w, *dest_ops);
  if (s.origin_len != 0) {
    const pb::CorsPolicy& cors = s.route->spec->cors();
    w.header("access-control-allow-origin", {s.origin, s.origin_len});
    if (cors.allow_credentials() == pb::CorsPolicy::TRISTATE_TRUE) w.put("access-control-allow-credentials: true\r\n");
    if (cors.expose_headers_size() != 0) {
      w.put("access-control-expose-headers: ");
      for (int i = 0; i < cors.expose_headers_size(); ++i) w.put(i ? "," : "").put(cors.expose_headers(i));
      w.put("\r\n");
    }
  }
  if (s.cookie_len != 0 && s.t) {
    const pb::HttpCookie& hc = destination_cluster(s).policy().load_balancer().consistent_hash().http_cookie();
    w.put("set-cookie: ").put(hc.name()).put("=\"").put({s.cookie, s.cookie_len}).put('"');
    w.put("; Max-Age=").put_uint(hc.ttl_ms() / 1000);
    if (!hc.path().empty()) w.put("; Path=").put(hc.path());
    w.put("; HttpOnly\r\n");
  }
  if (upgraded) {
    w.put("connection: upgrade\r\n");
    if (!upgrade.empty()) w.header("upgrade", upgrade);
  } else if (!s.keep_alive) {
    w.put("connection: close\r\n");
  }
  w.put("\r\n");
}

size_t https_location(const RequestView& rv, char* out, size_t cap) {
  std::string_view host = rv.authority;
  // Drop the port: the redirect goes to https' default.
  if (!host.empty() && host.front() != '[') {
    if (const size_t c = host.rfind(':'); c != std::string_view::npos) host = host.substr(0, c);
  } else if (const size_t b = host.find(']'); b != std::string_view::npos) {
    host = host.substr(0, b + 1);
  }
  const size_t n = 8 + host.size() + rv.path.size() + (rv.query.empty() ? 0 : 1 + rv.query.size());
  if (n > cap) return SIZE_MAX;
  char* p = out;
  std::memcpy(p, "https://", 8), p += 8;
  std::memcpy(p, host.data(), host.size()), p += host.size();
  std::memcpy(p, rv.path.data(), rv.path.size()), p += rv.path.size();
  if (!rv.query.empty()) {
    *p++ = '?';
    std::memcpy(p, rv.query.data(), rv.query.size()), p += rv.query.size();
  }
  return static_cast<size_t>(p - out);
}

bool query_param(std::string_view query, std::string_view name, std::string_view* value) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      *value = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

bool cookie_value(const http1::MessageHead& h, std::string_view name, std::string_view* value) {
  for (unsigned i = 0; i < h.header_count; ++i) {
    if (!iequals(h.headers[i].name, "cookie")) continue;
    std::string_view v = h.headers[i].value;
    while (!v.empty()) {
      const size_t semi = v.find(';');
      std::string_view kv = v.substr(0, semi);
      while (!kv.empty() && kv.front() == ' ') kv.remove_prefix(1);
      const size_t eq = kv.find('=');
      if (eq != std::string_view::npos && kv.substr(0, eq) == name) {
        std::string_view val = kv.substr(eq + 1);
        if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
        *value = val;
        return true;
      }
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return false;
}

const char* reason_phrase(unsigned status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace lg::l7
