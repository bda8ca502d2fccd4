// The regex syntax linegate routes on. Istio documents RE2 syntax for every
// StringMatch.regex (and Envoy's safe_regex matches the whole value); the
// dataplane's router matches with Hyperscan, which lacks some RE2 features
// (embedded anchors, (?U), \C, ...). A regex is accepted only when RE2
// compiles it and Hyperscan accepts it with the flags and anchoring the
// router uses below.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lg::ctrl::validate {

// Hyperscan flags for route regexes (block mode). The router must compile
// with the same flags and the same full-match wrapping.
unsigned route_regex_hs_flags();
// "^(?:re)$": Envoy's safe_regex is a full match of the value.
std::string route_regex_anchored(std::string_view re);

// nullopt when supported; otherwise the message for the diagnostic, e.g.
//   regex "(?=x)" is not supported: Zero-width assertions are not supported.
std::optional<std::string> check_route_regex(std::string_view re);

}  // namespace lg::ctrl::validate
