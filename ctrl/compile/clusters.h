// Clusters: one per (host, port, subset) a route names, plus the SNI-DNAT
// clusters of AUTO_PASSTHROUGH servers (every visible service the server's
// hosts cover, every port, every DestinationRule subset). Policy per Istio's
// DestinationRule merge; endpoints filtered by subset labels; TLS origination
// resolved (ISTIO_MUTUAL SNI and SANs, auto mTLS for in-mesh services).
#pragma once

#include "ctrl/compile/routes.h"

#include <string>
#include <vector>

namespace lg::ctrl::compile {

void build_clusters(RouteEnv& env, const std::vector<std::string>& auto_passthrough_hosts, pb::GatewaySnapshot& snap);

}  // namespace lg::ctrl::compile
