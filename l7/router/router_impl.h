// Layout of a compiled route set (Routes::Impl), shared by compile.cc
// (builds it), match.cc and actions.cc (read it). Everything here is built
// on the control thread and read-only afterwards, except WorkerScratch,
// which only its own worker touches.
//
// Strings are views into the snapshot (which outlives Routes: Route::spec
// already points into it) or into Impl::pool (lower-cased domain keys).
#pragma once

#include <hs/hs.h>
#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "l7/router/router.h"

namespace lg::l7 {

// A fixed array: the per-request code reads plain memory, never a container
// that could grow.
template <typename T>
class Flat {
 public:
  Flat() = default;
  explicit Flat(std::vector<T>&& v) : n_(v.size()), p_(n_ ? std::make_unique<T[]>(n_) : nullptr) {
    for (size_t i = 0; i < n_; ++i) p_[i] = std::move(v[i]);
  }
  explicit Flat(size_t n) : n_(n), p_(n ? std::make_unique<T[]>(n) : nullptr) {}
  size_t size() const { return n_; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  T* data() { return p_.get(); }
  const T* data() const { return p_.get(); }

 private:
  size_t n_ = 0;
  std::unique_ptr<T[]> p_;
};

namespace detail {

enum class MatchKind : uint8_t { any, exact, prefix, regex };

// A compiled StringMatch. Regexes are single-pattern Hyperscan databases,
// except route URI regexes, which live in their host's multi-pattern
// database (uri_in_host_db).
struct StrMatch {
  MatchKind kind = MatchKind::any;
  bool ignore_case = false;
  std::string_view value;      // exact / prefix
  hs_database_t* db = nullptr;  // regex (owned by Impl::dbs)
};

// headers / withoutHeaders / queryParams entry.
struct NamedMatch {
  std::string_view name;  // lower case for headers, as written for query params
  bool present_only;      // any value
  StrMatch m;
};

struct CompiledRoute {
  StrMatch uri;           // regex: see uri_regex
  bool uri_regex = false;  // decided by the host's multi-pattern scan
  StrMatch method, authority, scheme;
  uint32_t hdr_first = 0, hdr_count = 0;  // in Impl::named
  uint32_t without_first = 0, without_count = 0;
  uint32_t query_first = 0, query_count = 0;
  // rewrite.uri_regex_match / uri_regex_rewrite (owned by Impl::rewrites)
  const RE2* rewrite_re = nullptr;
  std::string_view rewrite_sub;
  // CORS origins in Impl::cors
  uint32_t cors_first = 0, cors_count = 0;
};

struct DomainEntry {
  uint64_t hash = 0;
  std::string_view key;  // lower case; wildcard keys keep their leading '.'
  uint32_t vhost = kNoRoute;  // index within the table; kNoRoute = empty slot
};

// Open addressing, linear probing, power-of-two capacity at most half full.
struct DomainTable {
  Flat<DomainEntry> slots;
  uint64_t mask = 0;
};

struct PrefixWildcard {  // "foo.*" (Envoy prefix wildcard), rare
  std::string_view prefix;  // "foo."
  uint32_t vhost;
};

struct VHost {
  uint32_t route_first, route_count;  // in Impl::routes
  hs_database_t* uri_db = nullptr;    // every URI regex of the host, id = local route index
  bool require_tls = false;
};

struct Table {
  uint32_t vhost_first, vhost_count;  // in Impl::vhosts
  DomainTable exact;     // "a.example.com" (and "a.example.com:8080")
  DomainTable suffix;    // "*.example.com" stored as ".example.com", hashed from the end
  uint64_t suffix_lens[4] = {};   // bit n: some wildcard suffix is n bytes long (n < 256)
  bool long_suffixes = false;     // some suffix is 256 bytes or longer
  Flat<PrefixWildcard> prefixes;  // longest first
  uint32_t star = kNoRoute;       // "*"
  bool port_domains = false;      // some exact domain carries ":port"
};

struct WorkerScratch {
  hs_scratch_t* hs = nullptr;
  std::unique_ptr<uint64_t[]> uri_bits;  // one bit per route of the largest host
  std::unique_ptr<char[]> buf;           // joined header values, decoded query values
  size_t buf_cap = 0;
  std::unique_ptr<re2::StringPiece[]> groups;  // regex rewrite submatches
};

inline constexpr size_t kScratchBytes = 64 * 1024;  // above the 60 KiB head limit

}  // namespace detail

struct Routes::Impl {
  const pb::GatewaySnapshot* snapshot = nullptr;
  Flat<detail::Table> tables;
  Flat<detail::VHost> vhosts;
  Flat<Route> routes;
  Flat<detail::CompiledRoute> compiled;  // parallel to routes
  Flat<Destination> destinations;
  Flat<MirrorTarget> mirrors;
  Flat<detail::NamedMatch> named;
  Flat<detail::StrMatch> cors;
  std::string pool;                       // domain keys
  std::vector<hs_database_t*> dbs;        // every Hyperscan database, freed in ~Impl
  std::vector<std::unique_ptr<RE2>> rewrites;
  Flat<detail::WorkerScratch> workers;
  uint32_t max_host_routes = 0;
  int max_groups = 0;  // largest capture-group count of a rewrite regex

  ~Impl();
};

namespace detail {

// FNV-1a over ASCII-lower-cased bytes, forward (exact keys) or backward
// (wildcard suffixes, so every suffix of a name is hashed in one pass).
inline uint8_t lower(char c) {
  const auto u = static_cast<uint8_t>(c);
  return (u >= 'A' && u <= 'Z') ? static_cast<uint8_t>(u + 32) : u;
}
inline constexpr uint64_t kFnvBasis = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;
inline uint64_t hash_forward(std::string_view s) {
  uint64_t h = kFnvBasis;
  for (char c : s) h = (h ^ lower(c)) * kFnvPrime;
  return h;
}
inline uint64_t hash_backward(std::string_view s) {
  uint64_t h = kFnvBasis;
  for (size_t i = s.size(); i-- > 0;) h = (h ^ lower(s[i])) * kFnvPrime;
  return h;
}
using http1::iequals;
bool istarts_with(std::string_view s, std::string_view prefix);

// Whole-value match of a compiled StringMatch (no allocation).
bool str_match(const StrMatch& m, std::string_view v, hs_scratch_t* scratch);
// Single-pattern database scan: whether the anchored regex matches v.
bool hs_full_match(const hs_database_t* db, std::string_view v, hs_scratch_t* scratch);

// "host[:port]" / "[v6][:port]" → host part.
std::string_view strip_port(std::string_view authority);

}  // namespace detail
}  // namespace lg::l7
