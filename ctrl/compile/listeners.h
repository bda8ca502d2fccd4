// Gateways → listeners and route tables, as istiod's MergeGateways and
// gateway listener/route builders do:
//  - a Gateway from any namespace applies when its selector ⊆ the node's
//    labels (no or empty selector: every gateway workload), as with istiod's
//    default PILOT_SCOPE_GATEWAY_TO_NAMESPACE=false; Gateways are taken in
//    ns/name order (istiod: creation time, which files do not carry);
//  - servers are grouped by (bind, port) into one listener; a server whose
//    protocol cannot share the port with the first one is dropped, HTTPS and
//    TLS servers share a port by SNI;
//  - plain HTTP servers on a port share the route table "http.<port>";
//    each terminated HTTPS server gets "https.<port>.<portName>.<gw>.<ns>";
//  - a VirtualService binds through spec.gateways and a non-empty
//    intersection of its hosts with the server's hosts.
#pragma once

#include "ctrl/compile/routes.h"

#include <string>
#include <vector>

namespace lg::ctrl::compile {

// Fills snapshot.gateways, listeners and route_tables. Returns the hosts of
// AUTO_PASSTHROUGH servers (clusters are then built for every visible
// service they cover).
std::vector<std::string> build_listeners(RouteEnv& env, pb::GatewaySnapshot& snap);

// Gateway server tls → pb (ca_credential_name is filled by the secrets pass).
pb::ServerTls convert_server_tls(const Json& tls, bool http_server);

}  // namespace lg::ctrl::compile
