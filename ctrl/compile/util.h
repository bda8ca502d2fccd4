// Small helpers the compiler passes share: reading optional JSON fields the
// way Istio's protobuf decoding treats absent ones, durations, hostnames and
// label selectors with Istio's matching rules.
#pragma once

#include "ctrl/crd/resource.h"
#include "ctrl/validate/hosts.h"

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
// Host matching, short-name resolution and address checks are the
// validator's (ctrl/validate/hosts.h): one definition of Istio's semantics.
using validate::host_subset_of;
using validate::is_ip_address;
using validate::resolve_short_name;
inline bool hosts_match(std::string_view a, std::string_view b) { return validate::host_matches(a, b); }

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
using validate::kDomainSuffix;
inline constexpr std::string_view kTrustDomain = "cluster.local";

}  // namespace lg::ctrl::compile
