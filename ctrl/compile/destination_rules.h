// DestinationRule lookup for a gateway, as istiod's
// PushContext.destinationRule does it for a proxy in the gateway's namespace:
//   1. rules in the gateway's namespace (any exportTo, they are local; for a
//      gateway in the root namespace only its exportTo "." rules);
//   2. rules in the service's namespace exported to the gateway's namespace;
//   3. rules in the root namespace (istio-system) exported to it.
// At each step the most specific host wins (exact, then the longest wildcard);
// several rules for that host in one namespace merge (first by name keeps its
// trafficPolicy, subsets are appended unless the name is taken). A rule with
// a workloadSelector applies only to a gateway in its namespace whose labels
// it selects, and is preferred over rules without one.
#pragma once

#include "ctrl/compile/context.h"
#include "ctrl/compile/registry.h"

#include <map>
#include <string>
#include <vector>

namespace lg::ctrl::compile {

struct MergedDestinationRule {
  std::string name;  // "ns/name" of the rule that leads the merge
  std::string ns;
  std::string host;  // fully qualified
  const Json* traffic_policy = nullptr;
  std::vector<const Json*> subsets;

  const Json* subset(const std::string& name) const;
};

class DestinationRules {
 public:
  explicit DestinationRules(Context& ctx);
  // Null when no rule applies.
  const MergedDestinationRule* lookup(const std::string& hostname, const std::string& service_ns) const;

 private:
  struct Candidate {
    const Resource* res;
    std::string host;
    bool selected;  // has a workloadSelector that selects this gateway
  };
  enum class Scope { local, private_only, exported };
  bool usable(const Candidate& c, Scope scope) const;
  const MergedDestinationRule* lookup_in(const std::string& ns, const std::string& hostname, Scope scope) const;

  const Context& ctx_;
  std::map<std::string, std::vector<Candidate>> by_ns_;  // sorted by name within a namespace
  const MergedDestinationRule* lookup_uncached(const std::string& hostname, const std::string& service_ns) const;
  mutable std::map<std::string, MergedDestinationRule> cache_;             // merged rules by ns|host|scope
  mutable std::map<std::string, const MergedDestinationRule*> results_;    // lookups by host|service ns
};

// Istio's MergeTrafficPolicy for one cluster: top-level policy, its
// portLevelSettings for `port` (which replace connectionPool, loadBalancer,
// outlierDetection and tls wholesale: "settings specified at the
// destination-level will not be inherited when overridden by port-level
// settings"), then the subset's trafficPolicy and its portLevelSettings.
Json merge_traffic_policy(const Json* top, const Json* subset_policy, uint32_t port);

// Converts a merged policy, resolving Istio's and Envoy's defaults. TLS is
// converted as written; the caller fills SNI/SANs/auto mTLS.
pb::TrafficPolicy convert_traffic_policy(const Json& merged);

}  // namespace lg::ctrl::compile
