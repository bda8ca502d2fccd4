// Istio workload identities: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>
// (istio/pkg/spiffe). The CA issues only identities of this form in its own
// trust domain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lg::ctrl::ca {

struct SpiffeId {
  std::string trust_domain;
  std::string ns;
  std::string service_account;

  std::string uri() const { return "spiffe://" + trust_domain + "/ns/" + ns + "/sa/" + service_account; }
};

// Parses `uri`; nullopt with `*error` set when it is not an Istio workload
// identity. Namespaces are RFC 1123 labels, service accounts RFC 1123
// subdomains (what Kubernetes allows for their names); the trust domain
// follows the SPIFFE ID spec (lower-case letters, digits, '.', '-', '_').
std::optional<SpiffeId> parse_spiffe_id(std::string_view uri, std::string* error);

// A trust domain the SPIFFE spec allows (same rule as above).
bool valid_trust_domain(std::string_view td);

}  // namespace lg::ctrl::ca
