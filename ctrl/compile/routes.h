// VirtualService rules → snapshot routes at one gateway server, following
// istiod's route translation (pilot/pkg/networking/core/route): one route per
// HTTPMatchRequest, matches that cannot apply at this gateway dropped
// (match.port, match.gateways, sourceLabels, sourceNamespace), nothing after
// a catch-all, Istio's defaults filled in (retries, weights, percentages).
#pragma once

#include "ctrl/compile/context.h"
#include "ctrl/compile/destination_rules.h"
#include "ctrl/compile/peer_authentication.h"
#include "ctrl/compile/registry.h"

#include <map>
#include <string>
#include <vector>

namespace lg::ctrl::compile {

// Every (host, port, subset) a route sends traffic to, so clusters are built
// for exactly those (istiod with PILOT_FILTER_GATEWAY_CLUSTER_CONFIG).
struct ClusterRef {
  std::string host;
  uint32_t port = 0;
  std::string subset;
  std::string preferred_ns;  // namespace of the VirtualService that named it
};

struct RouteEnv {
  Context& ctx;
  const Registry& registry;
  const DestinationRules& rules;
  const PeerAuthentications& peer_authn;
  std::map<std::string, ClusterRef>& refs;  // by cluster name
};

std::string cluster_name(uint32_t port, const std::string& subset, const std::string& host);

// Gateways a VirtualService binds to, as "ns/name" ("mesh" dropped; short
// names are relative to the VirtualService's namespace). Empty = mesh only.
std::vector<std::string> bound_gateways(const Resource& vs);
// VirtualService visible from the gateway's namespace (exportTo).
bool vs_visible(const Context& ctx, const Resource& vs);
// Istio host.NamesForNamespace(server hosts, vs namespace) ∩ vs hosts: the
// more specific name of each matching pair.
std::vector<std::string> intersect_hosts(const std::vector<std::string>& server_hosts, const Resource& vs);

std::vector<pb::Route> translate_http(RouteEnv& env, const Resource& vs, uint32_t listener_port, const std::string& gateway);
std::vector<pb::TcpRoute> translate_tcp(RouteEnv& env, const Resource& vs, uint32_t listener_port, const std::string& gateway);
// TLS passthrough routes; `claimed` holds SNI hosts already routed on this
// listener: a match repeating one is dropped (istiod does the same, since
// Envoy rejects duplicate filter-chain matches).
std::vector<pb::TlsRoute> translate_tls(RouteEnv& env, const Resource& vs, uint32_t listener_port, const std::string& gateway,
                                        std::vector<std::string>& claimed);

// Istio's SortVHostRoutes predicate: a route that matches every request.
bool is_catch_all(const pb::Route& r);

}  // namespace lg::ctrl::compile
