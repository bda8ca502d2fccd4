// Route actions computed per request: the upstream path (rewrite), a
// redirect's Location, CORS origin checks. Output goes to the caller's
// buffer; nothing is allocated.
#include <charconv>
#include <cstring>

#include "l7/router/router_impl.h"

namespace lg::l7 {

using namespace detail;

namespace {

// Appends to a fixed buffer; remembers overflow instead of failing each call.
class Out {
 public:
  Out(char* p, size_t cap) : p_(p), cap_(cap) {}
  void put(std::string_view s) {
    if (s.size() > cap_ - n_) {
      overflow_ = true;
      return;
    }
    if (!s.empty()) std::memcpy(p_ + n_, s.data(), s.size());
    n_ += s.size();
  }
  void put(char c) { put(std::string_view(&c, 1)); }
  size_t done() const { return overflow_ ? SIZE_MAX : n_; }

 private:
  char* p_;
  size_t cap_, n_ = 0;
  bool overflow_ = false;
};

size_t route_index(const Routes::Impl& im, const Route& r) { return static_cast<size_t>(&r - im.routes.data()); }

// How much of the path the route's URI match consumed: Envoy's prefix_rewrite
// replaces the matched prefix; an exact or regex match consumed the whole
// path; no URI match is Envoy's prefix "/" (Istio's translation).
size_t matched_prefix(const CompiledRoute& c, std::string_view path) {
  size_t n = path.size();
  if (c.uri.kind == MatchKind::prefix) n = c.uri.value.size();
  else if (c.uri.kind == MatchKind::any) n = path.starts_with('/') ? 1 : 0;
  return n < path.size() ? n : path.size();
}

// The UTF-8 sequence length starting with lead byte b (1 for invalid bytes).
size_t utf8_len(uint8_t b) {
  if (b < 0xC0) return 1;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  return b < 0xF8 ? 4 : 1;
}

// Every non-overlapping match of re in text replaced by sub (\0..\9 are
// groups, \\ a backslash), as RE2::GlobalReplace does (Envoy's
// regex_rewrite), written straight to `out`.
void global_replace(const RE2& re, std::string_view sub, std::string_view text, re2::StringPiece* groups, Out* out) {
  const int n = 1 + re.NumberOfCapturingGroups();
  const re2::StringPiece whole(text.data(), text.size());
  size_t p = 0;
  const char* last_end = nullptr;
  bool replaced = false;
  while (p <= text.size()) {
    if (!re.Match(whole, p, text.size(), RE2::UNANCHORED, groups, n)) break;
    const size_t start = static_cast<size_t>(groups[0].data() - text.data());
    out->put(text.substr(p, start - p));
    if (groups[0].empty() && groups[0].data() == last_end) {
      // An empty match where the previous match ended: step over one character.
      const size_t step = p < text.size() ? std::min(utf8_len(static_cast<uint8_t>(text[p])), text.size() - p) : 1;
      if (p < text.size()) out->put(text.substr(p, step));
      p += step;
      continue;
    }
    for (size_t i = 0; i < sub.size(); ++i) {
      if (sub[i] != '\\' || i + 1 == sub.size()) {
        out->put(sub[i]);
        continue;
      }
      const char e = sub[++i];
      if (e >= '0' && e <= '9') {
        const int g = e - '0';
        if (g < n) out->put(std::string_view(groups[g].data(), groups[g].size()));
      } else {
        out->put(e);  // "\\"; other escapes were rejected at build
      }
    }
    p = start + groups[0].size();
    last_end = groups[0].data() + groups[0].size();
    replaced = true;
  }
  if (!replaced) out->put(text);  // nothing was written: no match leaves the path
  else if (p < text.size()) out->put(text.substr(p));
}

void put_uint(Out* out, uint32_t v) {
  char digits[10];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  out->put(std::string_view(digits, static_cast<size_t>(r.ptr - digits)));
}

bool scheme_is(std::string_view s, std::string_view lower_scheme) { return iequals(s, lower_scheme); }

}  // namespace

size_t Routes::rewrite_path(const Route& r, const RequestView& req, char* out, size_t cap, unsigned worker) const {
  const Impl& im = *impl_;
  Out o(out, cap);
  const pb::Route& spec = *r.spec;
  if (!spec.has_route() || !spec.route().has_rewrite()) {
    o.put(req.path);
    return o.done();
  }
  const CompiledRoute& c = im.compiled[route_index(im, r)];
  const pb::Rewrite& rw = spec.route().rewrite();
  if (c.rewrite_re != nullptr && worker < im.workers.size()) {
    global_replace(*c.rewrite_re, c.rewrite_sub, req.path, impl_->workers[worker].groups.get(), &o);
    return o.done();
  }
  if (!rw.uri().empty()) {
    o.put(rw.uri());
    o.put(req.path.substr(matched_prefix(c, req.path)));
    return o.done();
  }
  o.put(req.path);
  return o.done();
}

// Envoy's Http::Utility::newUri with Istio's HTTPRedirect: scheme, host
// and port replaced or kept, path replaced (or its matched prefix), the
// query kept (strip_query is false) unless the new path carries one.
size_t Routes::redirect_location(const Route& r, const RequestView& req, char* out, size_t cap) const {
  const Impl& im = *impl_;
  Out o(out, cap);
  const pb::Route& spec = *r.spec;
  const pb::Redirect& rd = spec.redirect();
  const std::string_view scheme = rd.scheme().empty() ? req.scheme : std::string_view(rd.scheme());

  uint32_t port = 0;  // 0: no port_redirect
  if (rd.port_policy() == pb::REDIRECT_PORT_EXPLICIT) port = rd.port();
  else if (rd.port_policy() == pb::REDIRECT_PORT_FROM_REQUEST_PORT) port = rd.port() ? rd.port() : req.port;

  std::string_view host = rd.authority();
  if (host.empty()) {
    // The request's authority; its port goes when a port is given, when
    // the protocol's default is asked for, or when the scheme changes away
    // from the one whose default port it names.
    host = req.authority;
    const std::string_view bare = strip_port(host);
    if (bare.size() != host.size()) {
      const std::string_view req_port = host.substr(bare.size());  // ":8080"
      bool remove = port != 0 || rd.port_policy() == pb::REDIRECT_PORT_FROM_PROTOCOL_DEFAULT;
      if (!iequals(scheme, req.scheme)) {
        remove |= scheme_is(req.scheme, "https") && req_port == ":443";
        remove |= scheme_is(req.scheme, "http") && req_port == ":80";
      }
      if (remove) host = bare;
    }
  }
  o.put(scheme);
  o.put("://");
  o.put(host);
  if (port != 0) {
    o.put(':');
    put_uint(&o, port);
  }

  std::string_view head, tail;  // the new path is head + tail
  bool keep_query = true;
  if (!rd.uri().empty()) {
    head = rd.uri();
    keep_query = rd.uri().find('?') == std::string::npos;  // its own query wins
  } else if (!rd.prefix_rewrite().empty()) {
    head = rd.prefix_rewrite();
    tail = req.path.substr(matched_prefix(im.compiled[route_index(im, r)], req.path));
  } else {
    head = req.path;
  }
  if (!(head.starts_with('/') || (head.empty() && tail.starts_with('/')))) o.put('/');  // Envoy makes it absolute
  o.put(head);
  o.put(tail);
  if (keep_query && !req.query.empty()) {
    o.put('?');
    o.put(req.query);
  }
  return o.done();
}

// Envoy's cors filter allows an origin when a matcher accepts it, or
// accepts "*" (so `exact: "*"` allows every origin).
bool Routes::cors_origin_allowed(const Route& r, std::string_view origin, unsigned worker) const {
  const Impl& im = *impl_;
  if (worker >= im.workers.size()) return false;
  const CompiledRoute& c = im.compiled[route_index(im, r)];
  hs_scratch_t* const scratch = im.workers[worker].hs;
  for (uint32_t i = 0; i < c.cors_count; ++i) {
    const StrMatch& m = im.cors[c.cors_first + i];
    if (str_match(m, "*", scratch) || str_match(m, origin, scratch)) return true;
  }
  return false;
}

}  // namespace lg::l7
