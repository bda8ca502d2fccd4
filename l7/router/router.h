// The L7 router: the route tables of a GatewaySnapshot compiled for
// matching (Envoy's RDS route configuration). A request is matched to a
// virtual host by its authority (exact domain first, then the longest
// wildcard suffix, then "*"), then to the first route of that host whose
// match holds. URI regexes of a host are compiled into one Hyperscan
// database, so one scan of the path finds every route whose regex matches;
// header/query/authority/method/scheme regexes use per-pattern databases.
//
// Built on the control thread with the runtime tables; read-only after,
// except the per-worker Hyperscan scratch (one per worker, allocated here).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ctrl/proto/snapshot.pb.h"
#include "l7/http1/http1.h"

namespace lg::l7 {

namespace pb = linegate::snapshot::v1;

inline constexpr uint32_t kNoRoute = UINT32_MAX;

// What the router needs from a request (views into the parsed head).
struct RequestView {
  std::string_view method;     // "GET"
  std::string_view path;       // "/a/b" (no query)
  std::string_view query;      // "x=1&y=2" (no '?')
  std::string_view authority;  // Host / :authority as received, may carry ":port"
  std::string_view scheme;     // "http" or "https" (how the request reached us)
  uint16_t port = 0;           // the listener port
  std::span<const http1::Header> headers;
};

enum class RouteAction : uint8_t { forward, redirect, direct_response };

// A weighted destination: cluster index in the snapshot's clusters (same
// order as RuntimeTables::clusters), or UINT32_MAX when the cluster is not
// in the snapshot (answered 503 NC).
struct Destination {
  uint32_t cluster;
  uint32_t cumulative_weight;  // running sum of weights (they add up to total_weight)
  const pb::WeightedCluster* spec;  // destination-level header operations
};

// A mirror (Istio mirror/mirrors): cluster index as in Destination, and
// the share of requests copied in parts per million.
struct MirrorTarget {
  uint32_t cluster;
  uint32_t ppm;
};

// Retry conditions (Envoy retry_on) as bits.
enum RetryOn : uint32_t {
  kRetry5xx = 1u << 0,
  kRetryGatewayError = 1u << 1,
  kRetryReset = 1u << 2,
  kRetryConnectFailure = 1u << 3,
  kRetryRefusedStream = 1u << 4,
  kRetryRetriable4xx = 1u << 5,        // 409
  kRetryRetriableStatusCodes = 1u << 6,
};

struct Route {
  const pb::Route* spec;        // strings and rarely used settings
  RouteAction action;
  uint32_t dest_first, dest_count;  // in Routes::destinations()
  uint32_t mirror_first, mirror_count;  // in Routes::mirrors()
  uint32_t total_weight;
  uint64_t timeout_ms;          // 0: none
  uint32_t retry_attempts;      // 0: no retries
  uint32_t retry_on;            // RetryOn bits
  uint64_t per_try_timeout_ms;  // 0: the route timeout
  // Fault injection (percentages as parts per million, for integer draws).
  uint32_t delay_ppm, abort_ppm;
  uint64_t delay_ms;
  uint16_t abort_status;
  bool has_cors, has_mirror, has_rewrite, has_header_ops;
};

// Everything compiled from one snapshot.
class Routes {
 public:
  ~Routes();
  Routes(const Routes&) = delete;
  Routes& operator=(const Routes&) = delete;

  // The route of `table` (index in snapshot.route_tables()) for this
  // request, or kNoRoute (404 NR). *vhost is set to the matched virtual
  // host index within the table, or UINT32_MAX when no host matched.
  // `worker` selects the Hyperscan scratch. No allocation.
  uint32_t match(uint32_t table, const RequestView& req, unsigned worker, uint32_t* vhost = nullptr) const;

  const Route& route(uint32_t i) const;
  // Memory the compiled tables take (arrays and Hyperscan databases; not
  // the per-worker scratch, not the snapshot).
  size_t bytes() const;
  std::span<const Destination> destinations(const Route& r) const;
  std::span<const MirrorTarget> mirrors(const Route& r) const;
  // Whether the virtual host requires TLS (Gateway tls.httpsRedirect).
  bool require_tls(uint32_t table, uint32_t vhost) const;

  // --- actions (write into out, return the length, or SIZE_MAX when out is too small)

  // The upstream path after rewrite.uri (the matched prefix or exact path
  // replaced) or uriRegexRewrite; the original path when the route has no
  // rewrite. The query is not included.
  size_t rewrite_path(const Route& r, const RequestView& req, char* out, size_t cap, unsigned worker) const;
  // Location for a redirect route (scheme, authority, port policy, path or
  // prefix replacement; query kept as Envoy keeps it).
  size_t redirect_location(const Route& r, const RequestView& req, char* out, size_t cap) const;

  // CORS (Envoy's cors filter semantics, as Istio configures it): whether
  // `origin` is allowed by the route's policy. A member because origin
  // regexes are compiled with the routes; `worker` selects the scratch.
  bool cors_origin_allowed(const Route& r, std::string_view origin, unsigned worker) const;

  struct Impl;  // opaque outside l7/router (router_impl.h)

 private:
  friend std::unique_ptr<Routes> build_routes(const pb::GatewaySnapshot&, unsigned, std::string*);
  Routes();
  std::unique_ptr<Impl> impl_;
};

// Compiles every route table of the snapshot; on failure (a regex Hyperscan
// rejects, a table too large) returns null and sets *error. The routes
// point into `snapshot`, which must outlive them.
std::unique_ptr<Routes> build_routes(const pb::GatewaySnapshot& snapshot, unsigned workers, std::string* error);

}  // namespace lg::l7
