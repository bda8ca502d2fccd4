// Human-readable tables of a snapshot for `linegatectl proxy-config
// {listeners|routes|clusters|endpoints|secrets}` (istioctl's proxy-config shape).
#pragma once

#include "ctrl/proto/snapshot.pb.h"

#include <string>
#include <string_view>

namespace lg::ctrl {

// Returns false (and leaves `out` empty) for an unknown section name.
// Secrets never show key material: name, type, certificate subject/SANs/expiry, SHA-256.
bool describe_table(const linegate::snapshot::v1::GatewaySnapshot& snapshot, std::string_view section,
                    std::string& out);

}  // namespace lg::ctrl
