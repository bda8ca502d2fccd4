// Workload-scoped policies as they apply to the gateway workload:
//  - security: PeerAuthentication (composed mesh < namespace < workload),
//    AuthorizationPolicy and RequestAuthentication (root-namespace and
//    gateway-namespace policies whose selector is empty or selects the
//    gateway; a root-namespace policy's selector applies in every namespace);
//  - telemetry: Telemetry resources, mesh < namespace < workload;
//  - local rate limits from EnvoyFilters in the pattern Istio documents
//    (https://istio.io/latest/docs/tasks/policy-enforcement/rate-limit/).
// Policies with targetRef/targetRefs address Kubernetes Gateway API objects,
// not Istio gateway workloads, and are not applied.
#pragma once

#include "ctrl/compile/context.h"
#include "ctrl/compile/peer_authentication.h"

namespace lg::ctrl::compile {

void build_security(Context& ctx, const PeerAuthentications& peer_authn, pb::SecurityPolicy* out);
void build_telemetry(Context& ctx, pb::Telemetry* out);
void build_rate_limits(Context& ctx, pb::GatewaySnapshot& snap);

}  // namespace lg::ctrl::compile
