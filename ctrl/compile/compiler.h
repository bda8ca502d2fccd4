// Resources → one GatewaySnapshot per gateway node. The Gateways whose
// `selector` matches the node's labels decide listeners; VirtualServices bound
// to those Gateways give routes; ServiceEntry/Service × DestinationRule give
// clusters; WorkloadEntry/Endpoints/EndpointSlice give endpoints. Input must
// have passed analyze() without errors.
//
// Deterministic: the same resources (in any order) and the same node give a
// byte-identical serialized snapshot; `version` is a hash of that content.
#pragma once

#include "ctrl/crd/resource.h"
#include "ctrl/proto/snapshot.pb.h"

#include <map>
#include <string>
#include <vector>

namespace lg::ctrl {

struct GatewayNode {
  std::string id;       // node id, e.g. "gw-a"
  std::string cluster;  // e.g. "Kubernetes"
  std::string network;  // e.g. "network1"
  std::string ns;       // namespace the gateway runs in ("istio-system")
  std::map<std::string, std::string> labels;  // matched against Gateway.spec.selector
};

linegate::snapshot::v1::GatewaySnapshot compile_snapshot(const std::vector<Resource>& resources,
                                                         const GatewayNode& node);

// Serialization used for hashing and for the wire: deterministic.
std::string serialize_snapshot(const linegate::snapshot::v1::GatewaySnapshot& snapshot);
// JSON for golden tests, /config_dump and `linegatectl proxy-config -o json`:
// protobuf's JSON mapping (field order of the .proto), indented. Secrets'
// private keys read "[redacted]" unless `redact` is false (they still travel
// on the wire; only dumps hide them).
std::string snapshot_to_json(const linegate::snapshot::v1::GatewaySnapshot& snapshot);
std::string snapshot_to_json(const linegate::snapshot::v1::GatewaySnapshot& snapshot, bool redact);

}  // namespace lg::ctrl
