// Routes::match: authority → virtual host (Envoy's domain search order),
// then the first route whose every condition holds (Istio
// HTTPMatchRequest as Envoy's RouteMatch evaluates it). No allocation:
// strings are views, and joined header values, decoded query values and
// the URI-regex bitset use the worker's scratch.
#include <cstring>

#include "l7/router/router_impl.h"

namespace lg::l7 {

using namespace detail;

namespace detail {

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

namespace {
int on_first_match(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  *static_cast<bool*>(ctx) = true;
  return 1;  // stop the scan: one match answers a full-value regex
}
}  // namespace

bool hs_full_match(const hs_database_t* db, std::string_view v, hs_scratch_t* scratch) {
  bool hit = false;
  // Hyperscan wants a valid pointer even for an empty block.
  const char* data = v.data() != nullptr ? v.data() : "";
  const hs_error_t rc = hs_scan(db, data, static_cast<unsigned>(v.size()), 0, scratch, on_first_match, &hit);
  return (rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED) && hit;
}

bool str_match(const StrMatch& m, std::string_view v, hs_scratch_t* scratch) {
  switch (m.kind) {
    case MatchKind::any:
      return true;
    case MatchKind::exact:
      return m.ignore_case ? iequals(v, m.value) : v == m.value;
    case MatchKind::prefix:
      return m.ignore_case ? istarts_with(v, m.value) : v.starts_with(m.value);
    case MatchKind::regex:
      return v.size() <= UINT32_MAX && hs_full_match(m.db, v, scratch);
  }
  return false;
}

// RFC 3986 §3.2.2: an IPv6 literal is bracketed, so its colons are not a port.
std::string_view strip_port(std::string_view a) {
  if (!a.empty() && a[0] == '[') {
    const size_t close = a.find(']');
    return close == std::string_view::npos ? a : a.substr(0, close + 1);
  }
  const size_t colon = a.rfind(':');
  if (colon == std::string_view::npos) return a;
  for (size_t i = colon + 1; i < a.size(); ++i)
    if (a[i] < '0' || a[i] > '9') return a;
  return a.substr(0, colon);
}

}  // namespace detail

namespace {

uint32_t lookup(const DomainTable& t, uint64_t h, std::string_view key) {
  if (t.slots.size() == 0) return kNoRoute;
  for (uint64_t i = h & t.mask;; i = (i + 1) & t.mask) {
    const DomainEntry& e = t.slots[i];
    if (e.vhost == kNoRoute) return kNoRoute;
    if (e.hash == h && iequals(key, e.key)) return e.vhost;
  }
}

// Envoy's order: exact domain, longest "*suffix", longest "prefix*", "*".
uint32_t find_vhost(const Table& t, std::string_view authority) {
  const std::string_view host = strip_port(authority);
  if (t.port_domains && host.size() != authority.size())
    if (const uint32_t v = lookup(t.exact, hash_forward(authority), authority); v != kNoRoute) return v;
  if (const uint32_t v = lookup(t.exact, hash_forward(host), host); v != kNoRoute) return v;
  if (t.suffix.slots.size() != 0) {
    // Hash every suffix in one backward pass; the last hit is the longest.
    // A wildcard needs at least one character before its suffix.
    uint32_t best = kNoRoute;
    uint64_t h = kFnvBasis;
    for (size_t i = host.size(); i-- > 1;) {
      h = (h ^ lower(host[i])) * kFnvPrime;
      const size_t len = host.size() - i;
      const bool possible = len < 256 ? (t.suffix_lens[len / 64] >> (len % 64)) & 1 : t.long_suffixes;
      if (!possible) continue;
      if (const uint32_t v = lookup(t.suffix, h, host.substr(i)); v != kNoRoute) best = v;
    }
    if (best != kNoRoute) return best;
  }
  for (size_t i = 0; i < t.prefixes.size(); ++i)
    if (host.size() > t.prefixes[i].prefix.size() && istarts_with(host, t.prefixes[i].prefix))
      return t.prefixes[i].vhost;
  return t.star;
}

// Envoy matches a header by the values of every field with that name,
// joined with "," (HeaderUtility::getAllOfHeaderAsString). Pseudo-headers
// come from the request line. False when the header is absent.
bool header_value(const RequestView& req, std::string_view name, WorkerScratch& ws, std::string_view* out) {
  if (!name.empty() && name[0] == ':') {
    if (name == ":authority") *out = req.authority;
    else if (name == ":method") *out = req.method;
    else if (name == ":scheme") *out = req.scheme;
    else if (name == ":path") {
      if (req.query.empty()) {
        *out = req.path;
      } else {
        const size_t n = req.path.size() + 1 + req.query.size();
        if (n > ws.buf_cap) return false;
        std::memcpy(ws.buf.get(), req.path.data(), req.path.size());
        ws.buf[req.path.size()] = '?';
        std::memcpy(ws.buf.get() + req.path.size() + 1, req.query.data(), req.query.size());
        *out = {ws.buf.get(), n};
      }
    } else {
      return false;
    }
    return true;
  }
  const http1::Header* first = nullptr;
  size_t joined = 0;  // bytes written to the scratch buffer, once a second field is seen
  for (const http1::Header& h : req.headers) {
    if (!iequals(h.name, name)) continue;
    if (first == nullptr) {
      first = &h;
      continue;
    }
    if (joined == 0) {
      if (first->value.size() > ws.buf_cap) return false;
      std::memcpy(ws.buf.get(), first->value.data(), first->value.size());
      joined = first->value.size();
    }
    if (joined + 1 + h.value.size() > ws.buf_cap) return false;
    ws.buf[joined++] = ',';
    std::memcpy(ws.buf.get() + joined, h.value.data(), h.value.size());
    joined += h.value.size();
  }
  if (first == nullptr) return false;
  *out = joined == 0 ? first->value : std::string_view(ws.buf.get(), joined);
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding as Envoy applies it to query
// parameters: "+" is a space, "%XX" a byte, a malformed escape stays as is.
std::string_view url_decode(std::string_view in, char* buf) {
  if (in.find_first_of("%+") == std::string_view::npos) return in;
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      buf[n++] = ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      buf[n++] = static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      buf[n++] = in[i];
    }
  }
  return {buf, n};
}

// The first value of a query parameter (Envoy's QueryParamsMulti::getFirstValue).
bool query_value(std::string_view query, std::string_view name, WorkerScratch& ws, std::string_view* out) {
  // Keys and values are decoded into the two halves of the scratch buffer
  // (each is shorter than the head, which is shorter than a half).
  char* const key_buf = ws.buf.get();
  char* const value_buf = ws.buf.get() + ws.buf_cap / 2;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty() || param.size() > ws.buf_cap / 2) continue;
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    if (url_decode(key, key_buf) != name) continue;
    *out = eq == std::string_view::npos ? std::string_view() : url_decode(param.substr(eq + 1), value_buf);
    return true;
  }
  return false;
}

// Every condition but a URI regex (answered by the host's scan).
bool conditions_hold(const Routes::Impl& im, const CompiledRoute& c, const RequestView& req, WorkerScratch& ws) {
  if (!c.uri_regex && !str_match(c.uri, req.path, ws.hs)) return false;
  if (!str_match(c.method, req.method, ws.hs)) return false;
  if (!str_match(c.scheme, req.scheme, ws.hs)) return false;
  // Envoy matches :authority as received (a port included).
  if (!str_match(c.authority, req.authority, ws.hs)) return false;
  for (uint32_t i = 0; i < c.hdr_count; ++i) {
    const NamedMatch& n = im.named[c.hdr_first + i];
    std::string_view v;
    if (!header_value(req, n.name, ws, &v)) return false;
    if (!n.present_only && !str_match(n.m, v, ws.hs)) return false;
  }
  // withoutHeaders (Envoy invert_match): an absent header never matches.
  for (uint32_t i = 0; i < c.without_count; ++i) {
    const NamedMatch& n = im.named[c.without_first + i];
    std::string_view v;
    if (header_value(req, n.name, ws, &v) && (n.present_only || str_match(n.m, v, ws.hs))) return false;
  }
  for (uint32_t i = 0; i < c.query_count; ++i) {
    const NamedMatch& n = im.named[c.query_first + i];
    std::string_view v;
    if (!query_value(req.query, n.name, ws, &v)) return false;
    if (!n.present_only && !str_match(n.m, v, ws.hs)) return false;
  }
  return true;
}

int on_uri_match(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  static_cast<uint64_t*>(ctx)[id / 64] |= uint64_t{1} << (id % 64);
  return 0;
}

}  // namespace

uint32_t Routes::match(uint32_t table, const RequestView& req, unsigned worker, uint32_t* vhost) const {
  const Impl& im = *impl_;
  if (vhost != nullptr) *vhost = UINT32_MAX;
  if (table >= im.tables.size() || worker >= im.workers.size()) return kNoRoute;
  const Table& t = im.tables[table];
  const uint32_t v = find_vhost(t, req.authority);
  if (v == kNoRoute) return kNoRoute;
  if (vhost != nullptr) *vhost = v;
  const VHost& h = im.vhosts[t.vhost_first + v];
  WorkerScratch& ws = impl_->workers[worker];
  bool scanned = false;
  for (uint32_t i = 0; i < h.route_count; ++i) {
    const CompiledRoute& c = im.compiled[h.route_first + i];
    if (!conditions_hold(im, c, req, ws)) continue;
    if (c.uri_regex) {
      // One scan of the path answers every URI regex of the host; it runs
      // only once a regex route is otherwise a candidate.
      if (!scanned) {
        std::memset(ws.uri_bits.get(), 0, ((h.route_count + 63) / 64) * sizeof(uint64_t));
        const char* data = req.path.data() != nullptr ? req.path.data() : "";
        if (req.path.size() > UINT32_MAX ||
            hs_scan(h.uri_db, data, static_cast<unsigned>(req.path.size()), 0, ws.hs, on_uri_match,
                    ws.uri_bits.get()) != HS_SUCCESS)
          return kNoRoute;
        scanned = true;
      }
      if (((ws.uri_bits[i / 64] >> (i % 64)) & 1) == 0) continue;
    }
    return h.route_first + i;
  }
  return kNoRoute;
}

}  // namespace lg::l7
