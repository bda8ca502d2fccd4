// The one EnvoyFilter shape linegate implements: Envoy's HTTP local rate
// limit, inserted the way Istio's "Enabling Rate Limits using Envoy" task
// shows (istio.io/latest/docs/tasks/policy-enforcement/rate-limit/):
//   - applyTo HTTP_FILTER, context GATEWAY or SIDECAR_INBOUND, operation
//     INSERT_BEFORE (or INSERT_FIRST), value envoy.filters.http.local_ratelimit
//     with a LocalRateLimit typed_config (bare or wrapped in a TypedStruct);
//   - applyTo HTTP_ROUTE or VIRTUAL_HOST, operation MERGE, value
//     typed_per_filter_config["envoy.filters.http.local_ratelimit"] (per
//     virtual host / route, optionally narrowed by routeConfiguration.vhost.name).
// The compiler can read the same parse, so that what validates is what runs.
#pragma once

#include "ctrl/crd/resource.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lg::ctrl {

struct LocalRateLimitPatch {
  size_t patch_index = 0;     // spec.configPatches[i]
  std::string apply_to;       // HTTP_FILTER, HTTP_ROUTE, VIRTUAL_HOST
  std::string context;        // GATEWAY, SIDECAR_INBOUND, ANY
  std::string vhost;          // routeConfiguration.vhost.name ("" = every virtual host)
  std::string route;          // routeConfiguration.vhost.route.name ("" = every route)
  std::string stat_prefix;
  bool has_bucket = false;    // a filter inserted without a bucket only enables per-route limits
  uint64_t max_tokens = 0;
  uint64_t tokens_per_fill = 1;
  uint64_t fill_interval_ms = 0;
  double enabled_percent = 0;   // filter_enabled default (Envoy: 0% when unset)
  double enforced_percent = 0;  // filter_enforced default
  std::vector<std::pair<std::string, std::string>> response_headers;  // response_headers_to_add
};

// One problem with a patch: `error` false means "pattern not supported"
// (a warning: linegate ignores that patch), true means the local rate limit
// itself is malformed.
struct EnvoyFilterIssue {
  bool error = false;
  std::string path;
  std::string message;
};

// The rate-limit patches of an EnvoyFilter and the problems with the others.
std::vector<LocalRateLimitPatch> parse_local_rate_limits(const Resource& envoy_filter,
                                                         std::vector<EnvoyFilterIssue>& issues);

}  // namespace lg::ctrl
