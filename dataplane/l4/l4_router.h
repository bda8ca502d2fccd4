// L4 routing: which VirtualService tcp/tls rule (or AUTO_PASSTHROUGH server)
// a new downstream connection takes, and which of its weighted clusters.
// Envoy's order: the filter chain whose server names match the SNI most
// specifically (exact, then the longest wildcard, then "*"), then the first
// rule of that server whose sniHosts, destinationSubnets and sourceSubnet
// match.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/tcp/conn.h"

namespace lg::l4 {

// The route index (in t.l4_routes) or kNone. sni is lower case; empty when
// the connection has none (or the listener is plain TCP).
uint32_t select_route(const config::RuntimeTables& t, const config::ListenerSlot& l, const tcp::FlowKey& k,
                      std::string_view sni);

// The cluster index for a route: a weighted draw (draw in [0, 2^32)), or for
// AUTO_PASSTHROUGH the sni_dnat cluster the SNI names. kNone if there is none.
uint32_t route_cluster(const config::RuntimeTables& t, const config::L4RouteSlot& r, uint32_t draw,
                       std::string_view sni);

}  // namespace lg::l4
