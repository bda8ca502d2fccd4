// Host names, ports and durations as Istio validates them
// (istio.io/istio pkg/config/validation, pkg/config/host): DNS-1123 labels,
// FQDNs, wildcard domains ("*.example.com"), the "namespace/host" form of
// Gateway and Sidecar hosts, and wildcard matching between host names.
// Each check returns the problem in Istio's words, or nullopt when fine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lg::ctrl::validate {

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
bool is_dns1123_label(std::string_view s);
// "*" or "*.rest" or "*rest"-free DNS-1123 label (Istio's IsWildcardDNS1123Label).
bool is_wildcard_dns1123_label(std::string_view s);
bool is_ip_address(std::string_view s);  // IPv4 dotted quad or IPv6
bool is_cidr(std::string_view s);        // "10.0.0.0/8", "2001:db8::/32"
// IP address or CIDR block (Istio's ValidateIPSubnet); returns the problem.
std::optional<std::string> check_ip_or_cidr(std::string_view s);

std::optional<std::string> check_fqdn(std::string_view host);             // ValidateFQDN
std::optional<std::string> check_wildcard_domain(std::string_view host);  // ValidateWildcardDomain
// "ns/host" (Sidecar egress, Gateway servers); Gateways also accept a bare host.
std::optional<std::string> check_namespace_slash_host(std::string_view host, bool is_gateway);
std::optional<std::string> check_port(int64_t port);  // 1..65535

// Istio host.Name semantics: "*" matches everything, "*.foo.com" matches any
// name ending in ".foo.com" (not foo.com itself).
bool host_matches(std::string_view a, std::string_view b);    // a and b overlap
bool host_subset_of(std::string_view a, std::string_view b);  // every name a covers, b covers too

// A name without dots is a Kubernetes short name, resolved in the namespace of
// the resource that uses it (Istio's ResolveShortnameToFQDN).
std::string resolve_short_name(std::string_view host, std::string_view ns);
inline constexpr std::string_view kDomainSuffix = "cluster.local";

// Durations as Kubernetes and Istio write them: "1.5s", "100ms", "1h30m".
std::optional<int64_t> parse_duration_ns(std::string_view s);
// ValidateDuration: >= 1ms and millisecond precision.
std::optional<std::string> check_duration(std::string_view s);

}  // namespace lg::ctrl::validate
