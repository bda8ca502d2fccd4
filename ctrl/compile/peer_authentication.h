// PeerAuthentication as Istio composes it for one workload (its namespace
// and labels): mesh (root namespace, no selector) < namespace (no selector)
// < workload (selector), portLevelMtls from the workload policy; UNSET
// inherits (istiod's ComposePeerAuthentication). The compiler asks it for
// two kinds of workload:
//  - the gateway itself: its mesh ports (every server ISTIO_MUTUAL) take
//    the mode it composes for the port (listeners.cc);
//  - each destination endpoint: auto mTLS sends plain text to an endpoint
//    whose own policy is DISABLE for its port, as istiod's mtlsChecker does
//    (clusters.cc).
#pragma once

#include <optional>
#include <vector>

#include "ctrl/compile/context.h"

namespace lg::ctrl::compile {

class PeerAuthentications {
 public:
  // Warns once for each policy with targetRef(s): those address Kubernetes
  // Gateway API objects and are not applied.
  explicit PeerAuthentications(Context& ctx);

  pb::PeerAuthentication compose(const std::string& ns, const Labels& labels) const;

 private:
  std::vector<const Resource*> policies_;  // without targetRef, in Context order
};

// The mode for one port of a composed policy: its port-level setting, else
// the workload's. nullopt when no policy set one (every level absent or
// UNSET): Istio's default then is PERMISSIVE.
std::optional<pb::MtlsMode> mtls_mode_for_port(const pb::PeerAuthentication& pa, uint32_t port);

}  // namespace lg::ctrl::compile
