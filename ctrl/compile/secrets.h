// Credentials: the Kubernetes Secrets named by Gateway servers
// (credentialName, credentialNames, caCertCredentialName) and by
// DestinationRule tls.credentialName, read from the namespace the gateway
// runs in, as Istio's credential controller does. Only referenced Secrets
// enter the snapshot.
//
// CA for client-certificate validation (MUTUAL, OPTIONAL_MUTUAL) and for
// origination: caCertCredentialName when set, else the Secret
// "<credentialName>-cacert" when it exists, else the credential itself when
// it carries a CA (keys `ca.crt` or `cacert`).
#pragma once

#include "ctrl/compile/context.h"

#include <map>
#include <string>

namespace lg::ctrl::compile {

void build_secrets(Context& ctx, pb::GatewaySnapshot& snap);

// A Secret's keys, base64-decoded from `data` and raw from `stringData`
// (the API server folds stringData into data; manifests may use either).
// Also read by the agent for the `cacerts` Secret (ctrl/agent/ca_service.h).
std::map<std::string, std::string> secret_data(const Resource& r);

}  // namespace lg::ctrl::compile
