// build_routes: a GatewaySnapshot's route tables → Routes::Impl. Control
// thread only; everything the request path needs is computed here (domain
// hash tables, Hyperscan databases, per-worker scratch sized for them).
#include <algorithm>
#include <cmath>
#include <map>

#include "ctrl/validate/regex.h"
#include "l7/router/router_impl.h"

namespace lg::l7 {

using namespace detail;

Routes::Routes() : impl_(std::make_unique<Impl>()) {}
Routes::~Routes() = default;

Routes::Impl::~Impl() {
  for (size_t i = 0; i < workers.size(); ++i)
    if (workers[i].hs != nullptr) hs_free_scratch(workers[i].hs);
  for (hs_database_t* db : dbs) hs_free_database(db);
}

namespace {

std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(lower(c));
  return out;
}

uint32_t retry_bit(std::string_view on) {
  if (on == "5xx") return kRetry5xx;
  if (on == "gateway-error") return kRetryGatewayError;
  if (on == "reset") return kRetryReset;
  if (on == "connect-failure") return kRetryConnectFailure;
  if (on == "refused-stream") return kRetryRefusedStream;
  if (on == "retriable-4xx") return kRetryRetriable4xx;
  if (on == "retriable-status-codes") return kRetryRetriableStatusCodes;
  return 0;  // gRPC conditions (unavailable, cancelled, ...) do not apply to HTTP/1
}

uint32_t to_ppm(double percent) {
  if (!(percent > 0)) return 0;  // also NaN
  if (percent >= 100) return 1000000;
  return static_cast<uint32_t>(std::llround(percent * 10000.0));
}

struct DomainKey {
  std::string key;  // lower case
  uint32_t vhost;
};

class Builder {
 public:
  Builder(Routes::Impl& im, std::string* error) : im_(im), error_(error) {}

  bool build(const pb::GatewaySnapshot& s, unsigned workers);

 private:
  bool fail(std::string msg) {
    *error_ = std::move(msg);
    return false;
  }
  bool compile_one(std::string_view re, hs_database_t** db, const std::string& where);
  bool string_match(const pb::StringMatch& in, bool ignore_case, StrMatch* out, const std::string& where);
  bool named_matches(const google::protobuf::RepeatedPtrField<pb::HeaderMatch>& in, const std::string& where);
  bool named_matches(const google::protobuf::RepeatedPtrField<pb::QueryParamMatch>& in, const std::string& where);
  bool build_route(const pb::Route& spec, const std::string& where, Route* r, CompiledRoute* c);
  bool build_table(const pb::RouteTable& rt, uint32_t vhost_first, Table* t);
  bool host_uri_db(const std::vector<std::pair<uint32_t, std::string>>& patterns, const std::string& where,
                   hs_database_t** db);
  bool scratch(unsigned workers);
  void finish_domains();

  Routes::Impl& im_;
  std::string* error_;
  std::map<std::string_view, uint32_t> cluster_index_;
  std::vector<Route> routes_;
  std::vector<CompiledRoute> compiled_;
  std::vector<Destination> dests_;
  std::vector<MirrorTarget> mirrors_;
  std::vector<NamedMatch> named_;
  std::vector<StrMatch> cors_;
  std::vector<VHost> vhosts_;
  // Domain keys wait in the pool until every table is built (the pool's
  // buffer moves while it grows).
  struct Pending {
    size_t off, len;
    uint32_t vhost;
  };
  struct PendingTable {
    Table* t;
    std::vector<Pending> exact, suffix, prefix;
  };
  std::vector<PendingTable> pending_tables_;
};

bool Builder::compile_one(std::string_view re, hs_database_t** db, const std::string& where) {
  const std::string anchored = ctrl::validate::route_regex_anchored(re);
  hs_compile_error_t* err = nullptr;
  if (hs_compile(anchored.c_str(), ctrl::validate::route_regex_hs_flags(), HS_MODE_BLOCK, nullptr, db, &err) !=
      HS_SUCCESS) {
    const std::string msg = err != nullptr && err->message != nullptr ? err->message : "compile failed";
    if (err != nullptr) hs_free_compile_error(err);
    return fail(where + ": regex \"" + std::string(re) + "\" is not supported: " + msg);
  }
  im_.dbs.push_back(*db);
  return true;
}

bool Builder::string_match(const pb::StringMatch& in, bool ignore_case, StrMatch* out, const std::string& where) {
  *out = StrMatch{};
  switch (in.kind_case()) {
    case pb::StringMatch::kExact:
      out->kind = MatchKind::exact;
      out->value = in.exact();
      break;
    case pb::StringMatch::kPrefix:
      out->kind = MatchKind::prefix;
      out->value = in.prefix();
      break;
    case pb::StringMatch::kRegex:
      out->kind = MatchKind::regex;
      return compile_one(in.regex(), &out->db, where);
    case pb::StringMatch::KIND_NOT_SET:
      break;
  }
  out->ignore_case = ignore_case;
  return true;
}

bool Builder::named_matches(const google::protobuf::RepeatedPtrField<pb::HeaderMatch>& in, const std::string& where) {
  for (const pb::HeaderMatch& h : in) {
    NamedMatch n{h.name(), h.present() || h.match().kind_case() == pb::StringMatch::KIND_NOT_SET, {}};
    if (!string_match(h.match(), false, &n.m, where + " header " + h.name())) return false;
    named_.push_back(n);
  }
  return true;
}

bool Builder::named_matches(const google::protobuf::RepeatedPtrField<pb::QueryParamMatch>& in,
                            const std::string& where) {
  for (const pb::QueryParamMatch& q : in) {
    NamedMatch n{q.name(), q.present() || q.match().kind_case() == pb::StringMatch::KIND_NOT_SET, {}};
    if (!string_match(q.match(), false, &n.m, where + " query parameter " + q.name())) return false;
    named_.push_back(n);
  }
  return true;
}

bool Builder::build_route(const pb::Route& spec, const std::string& where, Route* r, CompiledRoute* c) {
  const pb::RouteMatch& m = spec.match();
  // Istio: ignoreUriCase applies to exact and prefix URI matches only.
  if (m.uri().kind_case() == pb::StringMatch::kRegex) {
    c->uri.kind = MatchKind::regex;
    c->uri_regex = true;  // compiled into the host's database
  } else if (!string_match(m.uri(), m.ignore_uri_case(), &c->uri, where + " uri")) {
    return false;
  }
  if (!string_match(m.method(), false, &c->method, where + " method") ||
      !string_match(m.authority(), false, &c->authority, where + " authority") ||
      !string_match(m.scheme(), false, &c->scheme, where + " scheme"))
    return false;
  c->hdr_first = static_cast<uint32_t>(named_.size());
  if (!named_matches(m.headers(), where)) return false;
  c->hdr_count = static_cast<uint32_t>(named_.size()) - c->hdr_first;
  c->without_first = static_cast<uint32_t>(named_.size());
  if (!named_matches(m.without_headers(), where + " withoutHeaders")) return false;
  c->without_count = static_cast<uint32_t>(named_.size()) - c->without_first;
  c->query_first = static_cast<uint32_t>(named_.size());
  if (!named_matches(m.query_params(), where)) return false;
  c->query_count = static_cast<uint32_t>(named_.size()) - c->query_first;

  *r = Route{};
  r->spec = &spec;
  r->dest_first = static_cast<uint32_t>(dests_.size());
  r->has_cors = spec.has_cors();
  r->has_header_ops = spec.has_request_headers() || spec.has_response_headers();
  if (spec.has_redirect()) {
    r->action = RouteAction::redirect;
  } else if (spec.has_direct_response()) {
    r->action = RouteAction::direct_response;
  } else {
    r->action = RouteAction::forward;
    const pb::RouteAction& a = spec.route();
    for (const pb::WeightedCluster& wc : a.clusters()) {
      r->total_weight += wc.weight();
      const auto it = cluster_index_.find(wc.cluster());
      dests_.push_back({it == cluster_index_.end() ? UINT32_MAX : it->second, r->total_weight, &wc});
      r->has_header_ops |= wc.has_request_headers() || wc.has_response_headers();
    }
    r->timeout_ms = a.timeout_ms();
    if (a.has_retries() && a.retries().attempts() > 0) {
      r->retry_attempts = a.retries().attempts();
      r->per_try_timeout_ms = a.retries().per_try_timeout_ms();
      for (const std::string& on : a.retries().retry_on()) r->retry_on |= retry_bit(on);
    }
    r->has_mirror = a.mirrors_size() > 0;
    r->mirror_first = static_cast<uint32_t>(mirrors_.size());
    for (const pb::Mirror& m : a.mirrors()) {
      const auto it = cluster_index_.find(m.cluster());
      mirrors_.push_back({it == cluster_index_.end() ? UINT32_MAX : it->second, to_ppm(m.percentage())});
    }
    r->mirror_count = static_cast<uint32_t>(mirrors_.size()) - r->mirror_first;
    if (a.has_rewrite()) {
      const pb::Rewrite& rw = a.rewrite();
      r->has_rewrite = !rw.uri().empty() || !rw.uri_regex_match().empty() || !rw.authority().empty();
      if (!rw.uri_regex_match().empty()) {
        RE2::Options opts;
        opts.set_log_errors(false);
        auto re = std::make_unique<RE2>(rw.uri_regex_match(), opts);
        if (!re->ok())
          return fail(where + ": uriRegexRewrite match \"" + rw.uri_regex_match() + "\" is not valid RE2: " + re->error());
        std::string why;
        if (!re->CheckRewriteString(rw.uri_regex_rewrite(), &why))
          return fail(where + ": uriRegexRewrite rewrite \"" + rw.uri_regex_rewrite() + "\": " + why);
        im_.max_groups = std::max(im_.max_groups, re->NumberOfCapturingGroups());
        c->rewrite_re = re.get();
        c->rewrite_sub = rw.uri_regex_rewrite();
        im_.rewrites.push_back(std::move(re));
      }
    }
  }
  r->dest_count = static_cast<uint32_t>(dests_.size()) - r->dest_first;
  if (spec.has_fault()) {
    const pb::Fault& f = spec.fault();
    if (f.has_delay()) {
      r->delay_ms = f.delay().fixed_delay_ms() ? f.delay().fixed_delay_ms() : f.delay().exponential_delay_ms();
      r->delay_ppm = to_ppm(f.delay().percentage());
    }
    if (f.has_abort()) {
      r->abort_status = static_cast<uint16_t>(std::min<uint32_t>(f.abort().http_status(), UINT16_MAX));
      r->abort_ppm = to_ppm(f.abort().percentage());
    }
  }
  c->cors_first = static_cast<uint32_t>(cors_.size());
  for (const pb::StringMatch& o : spec.cors().allow_origins()) {
    StrMatch sm;
    if (!string_match(o, false, &sm, where + " cors origin")) return false;
    cors_.push_back(sm);
  }
  c->cors_count = static_cast<uint32_t>(cors_.size()) - c->cors_first;
  return true;
}

// One block-mode database for every URI regex of a host, pattern id = the
// route's index in the host, so one scan answers every regex route.
bool Builder::host_uri_db(const std::vector<std::pair<uint32_t, std::string>>& patterns, const std::string& where,
                          hs_database_t** db) {
  std::vector<std::string> anchored;
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  anchored.reserve(patterns.size());
  for (const auto& [id, re] : patterns) {
    anchored.push_back(ctrl::validate::route_regex_anchored(re));
    exprs.push_back(anchored.back().c_str());
    flags.push_back(ctrl::validate::route_regex_hs_flags());
    ids.push_back(id);
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, db, &err) == HS_SUCCESS) {
    im_.dbs.push_back(*db);
    return true;
  }
  std::string msg = err != nullptr && err->message != nullptr ? err->message : "compile failed";
  const int bad = err != nullptr ? err->expression : -1;
  if (err != nullptr) hs_free_compile_error(err);
  if (bad >= 0 && static_cast<size_t>(bad) < patterns.size()) {
    const auto& [id, re] = patterns[static_cast<size_t>(bad)];
    return fail(where + " route " + std::to_string(id) + " uri: regex \"" + re + "\" is not supported: " + msg);
  }
  return fail(where + ": uri regexes: " + msg);
}

bool Builder::build_table(const pb::RouteTable& rt, uint32_t vhost_first, Table* t) {
  t->vhost_first = vhost_first;
  t->vhost_count = static_cast<uint32_t>(rt.virtual_hosts_size());
  std::vector<DomainKey> exact, suffix;
  std::vector<DomainKey> prefixes;
  for (int vi = 0; vi < rt.virtual_hosts_size(); ++vi) {
    const pb::VirtualHost& vh = rt.virtual_hosts(vi);
    const std::string where = "route table " + rt.name() + " virtual host " + vh.name();
    const auto v = static_cast<uint32_t>(vi);
    for (const std::string& d : vh.domains()) {
      std::string key = lower_copy(d);
      // istiod's gateway vhosts may list "host:*"; ports are stripped before lookup anyway.
      if (key.size() > 2 && key.ends_with(":*")) key.resize(key.size() - 2);
      if (key.empty()) continue;
      if (key == "*") {
        if (t->star == kNoRoute) t->star = v;
      } else if (key[0] == '*') {
        suffix.push_back({key.substr(1), v});
      } else if (key.back() == '*') {
        prefixes.push_back({key.substr(0, key.size() - 1), v});
      } else {
        t->port_domains |= strip_port(key).size() != key.size();
        exact.push_back({std::move(key), v});
      }
    }
    // Routes of the host.
    VHost h{static_cast<uint32_t>(routes_.size()), static_cast<uint32_t>(vh.routes_size()), nullptr,
            vh.require_tls()};
    std::vector<std::pair<uint32_t, std::string>> uri_regexes;
    for (int ri = 0; ri < vh.routes_size(); ++ri) {
      const pb::Route& spec = vh.routes(ri);
      const std::string rwhere = where + " route " + std::to_string(ri) + (spec.name().empty() ? "" : " (" + spec.name() + ")");
      Route r;
      CompiledRoute c;
      if (!build_route(spec, rwhere, &r, &c)) return false;
      if (c.uri_regex) uri_regexes.emplace_back(static_cast<uint32_t>(ri), spec.match().uri().regex());
      routes_.push_back(r);
      compiled_.push_back(c);
    }
    if (!uri_regexes.empty() && !host_uri_db(uri_regexes, where, &h.uri_db)) return false;
    im_.max_host_routes = std::max(im_.max_host_routes, h.route_count);
    vhosts_.push_back(h);
  }

  auto to_pool = [&](const std::vector<DomainKey>& keys) {
    std::vector<Pending> out;
    for (const DomainKey& k : keys) {
      out.push_back({im_.pool.size(), k.key.size(), k.vhost});
      im_.pool += k.key;
    }
    return out;
  };
  const std::vector<Pending> pe = to_pool(exact), ps = to_pool(suffix), pp = to_pool(prefixes);
  pending_tables_.push_back({t, pe, ps, pp});
  return true;
}

void fill(DomainTable* dt, const std::vector<std::pair<uint64_t, DomainEntry>>& entries) {
  size_t cap = 2;
  while (cap < entries.size() * 2) cap *= 2;
  dt->slots = Flat<DomainEntry>(cap);
  dt->mask = cap - 1;
  for (const auto& [h, e] : entries) {
    for (uint64_t i = h & dt->mask;; i = (i + 1) & dt->mask) {
      DomainEntry& slot = dt->slots[i];
      if (slot.vhost == kNoRoute) {
        slot = e;
        slot.hash = h;
        break;
      }
      if (slot.hash == h && slot.key == e.key) break;  // same domain twice: the first host keeps it
    }
  }
}

void Builder::finish_domains() {
  const std::string_view pool(im_.pool);
  for (PendingTable& p : pending_tables_) {
    std::vector<std::pair<uint64_t, DomainEntry>> exact, suffix;
    for (const Pending& e : p.exact) {
      const std::string_view k = pool.substr(e.off, e.len);
      exact.push_back({hash_forward(k), DomainEntry{0, k, e.vhost}});
    }
    for (const Pending& e : p.suffix) {
      const std::string_view k = pool.substr(e.off, e.len);
      suffix.push_back({hash_backward(k), DomainEntry{0, k, e.vhost}});
      if (k.size() < 256) p.t->suffix_lens[k.size() / 64] |= uint64_t{1} << (k.size() % 64);
      else p.t->long_suffixes = true;
    }
    fill(&p.t->exact, exact);
    fill(&p.t->suffix, suffix);
    std::vector<PrefixWildcard> prefixes;
    for (const Pending& e : p.prefix) prefixes.push_back({pool.substr(e.off, e.len), e.vhost});
    // Envoy: the longest prefix wildcard wins; stable keeps the first host on ties.
    std::stable_sort(prefixes.begin(), prefixes.end(),
                     [](const PrefixWildcard& a, const PrefixWildcard& b) { return a.prefix.size() > b.prefix.size(); });
    p.t->prefixes = Flat<PrefixWildcard>(std::move(prefixes));
  }
}

// One Hyperscan scratch per worker, each big enough for every database
// (hs_alloc_scratch grows a scratch to fit another database).
bool Builder::scratch(unsigned workers) {
  im_.workers = Flat<WorkerScratch>(workers);
  hs_scratch_t* proto = nullptr;
  for (hs_database_t* db : im_.dbs)
    if (hs_alloc_scratch(db, &proto) != HS_SUCCESS) {
      if (proto != nullptr) hs_free_scratch(proto);
      return fail("cannot allocate Hyperscan scratch");
    }
  const size_t words = std::max<size_t>(1, (im_.max_host_routes + 63) / 64);
  for (unsigned w = 0; w < workers; ++w) {
    WorkerScratch& ws = im_.workers[w];
    if (proto != nullptr) {
      if (w == 0) ws.hs = proto;
      else if (hs_clone_scratch(proto, &ws.hs) != HS_SUCCESS) return fail("cannot allocate Hyperscan scratch");
    }
    ws.uri_bits = std::make_unique<uint64_t[]>(words);
    ws.buf = std::make_unique<char[]>(kScratchBytes);
    ws.buf_cap = kScratchBytes;
    ws.groups = std::make_unique<re2::StringPiece[]>(static_cast<size_t>(im_.max_groups) + 1);
  }
  return true;
}

bool Builder::build(const pb::GatewaySnapshot& s, unsigned workers) {
  im_.snapshot = &s;
  for (int i = 0; i < s.clusters_size(); ++i) cluster_index_.emplace(s.clusters(i).name(), static_cast<uint32_t>(i));
  im_.tables = Flat<Table>(static_cast<size_t>(s.route_tables_size()));
  for (int ti = 0; ti < s.route_tables_size(); ++ti)
    if (!build_table(s.route_tables(ti), static_cast<uint32_t>(vhosts_.size()), &im_.tables[static_cast<size_t>(ti)]))
      return false;
  if (routes_.size() >= kNoRoute) return fail("too many routes");
  finish_domains();
  im_.vhosts = Flat<VHost>(std::move(vhosts_));
  im_.routes = Flat<Route>(std::move(routes_));
  im_.compiled = Flat<CompiledRoute>(std::move(compiled_));
  im_.destinations = Flat<Destination>(std::move(dests_));
  im_.mirrors = Flat<MirrorTarget>(std::move(mirrors_));
  im_.named = Flat<NamedMatch>(std::move(named_));
  im_.cors = Flat<StrMatch>(std::move(cors_));
  return scratch(std::max(1u, workers));
}

}  // namespace

std::unique_ptr<Routes> build_routes(const pb::GatewaySnapshot& snapshot, unsigned workers, std::string* error) {
  std::unique_ptr<Routes> routes(new Routes());
  Builder b(*routes->impl_, error);
  if (!b.build(snapshot, workers)) return nullptr;
  return routes;
}

const Route& Routes::route(uint32_t i) const { return impl_->routes[i]; }

size_t Routes::bytes() const {
  const Impl& im = *impl_;
  size_t n = im.pool.size();
  const auto flat = [&](const auto& f) { n += f.size() * sizeof(f[0]); };
  flat(im.tables);
  flat(im.vhosts);
  flat(im.routes);
  flat(im.compiled);
  flat(im.destinations);
  flat(im.mirrors);
  flat(im.named);
  flat(im.cors);
  for (size_t i = 0; i < im.tables.size(); ++i) {
    flat(im.tables[i].exact.slots);
    flat(im.tables[i].suffix.slots);
  }
  for (const hs_database_t* db : im.dbs) {
    size_t size = 0;
    if (hs_database_size(db, &size) == HS_SUCCESS) n += size;
  }
  return n;
}

std::span<const Destination> Routes::destinations(const Route& r) const {
  return {impl_->destinations.data() + r.dest_first, r.dest_count};
}

std::span<const MirrorTarget> Routes::mirrors(const Route& r) const {
  return {impl_->mirrors.data() + r.mirror_first, r.mirror_count};
}

bool Routes::require_tls(uint32_t table, uint32_t vhost) const {
  if (table >= impl_->tables.size() || vhost >= impl_->tables[table].vhost_count) return false;
  return impl_->vhosts[impl_->tables[table].vhost_first + vhost].require_tls;
}

}  // namespace lg::l7
