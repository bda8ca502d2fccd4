// Small helpers the compiler passes share: reading optional JSON fields the
// way Istio's protobuf decoding treats absent ones, durations, hostnames and
// label selectors with Istio's matching rules.
#pragma once

#include "ctrl/crd/resource.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl::compile {

using Labels = std::map<std::string, std::string>;

// Null when `key` is absent or JSON null (both mean "unset" in Istio's API).
const Json* field(const Json& obj, std::string_view key);
// Envoy configs embedded in EnvoyFilters accept snake_case and camelCase.
const Json* field2(const Json& obj, std::string_view snake, std::string_view camel);
std::string str(const Json& obj, std::string_view key, std::string_view fallback = "");
bool boolean(const Json& obj, std::string_view key, bool fallback = false);
std::optional<bool> opt_bool(const Json& obj, std::string_view key);
// Integers may arrive as numbers or numeric strings (YAML quoting); negative → 0.
uint64_t u64(const Json& obj, std::string_view key, uint64_t fallback = 0);
std::optional<uint64_t> opt_u64(const Json& obj, std::string_view key);
double number(const Json& obj, std::string_view key, double fallback = 0);
std::vector<std::string> strings(const Json& obj, std::string_view key);
// A JSON object of strings (labels, headers) as a sorted map.
Labels string_map(const Json* obj);
const Json& spec_of(const Resource& r);

// Go/protobuf duration strings as Istio accepts them: "1.5s", "100ms", "1h30m".
std::optional<uint64_t> parse_duration_ms(std::string_view text);
// Absent or unparsable → fallback (analyze() rejects unparsable ones first).
uint64_t duration_ms(const Json& obj, std::string_view key, uint64_t fallback = 0);
std::optional<uint64_t> opt_duration_ms(const Json& obj, std::string_view key);

// Istio host.Name semantics: "*" and "*.suffix" wildcards.
bool host_is_wildcard(std::string_view h);
// a ⊆ b: every name a covers is covered by b.
bool host_subset_of(std::string_view a, std::string_view b);
// Either covers the other (host.Name.Matches).
bool hosts_match(std::string_view a, std::string_view b);
// ResolveShortnameToFQDN: "reviews" in namespace "default" →
// "reviews.default.svc.cluster.local"; names with a dot, "*" and IPs unchanged.
std::string resolve_short_name(const std::string& host, const std::string& ns);
bool is_ip_address(std::string_view s);

// Selector ⊆ labels; an empty selector selects everything (labels.Instance.SubsetOf).
bool selector_matches(const Labels& selector, const Labels& labels);

// exportTo visibility from namespace `client_ns` of a config living in `owner_ns`:
// empty list = "*" (Istio's default), "." = owner only, "~" = nobody.
bool exported_to(const std::vector<std::string>& export_to, const std::string& owner_ns, const std::string& client_ns);

std::optional<std::string> base64_decode(std::string_view in);
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

inline constexpr std::string_view kRootNamespace = "istio-system";
inline constexpr std::string_view kDomainSuffix = "cluster.local";
inline constexpr std::string_view kTrustDomain = "cluster.local";

}  // namespace lg::ctrl::compile
