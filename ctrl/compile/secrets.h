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

namespace lg::ctrl::compile {

void build_secrets(Context& ctx, pb::GatewaySnapshot& snap);

}  // namespace lg::ctrl::compile
