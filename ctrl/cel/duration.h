// Go's time.ParseDuration, which cel-go's duration() uses: a sign, then
// decimal numbers with optional fractions, each with a unit (ns, us, µs,
// ms, s, m, h), e.g. "300ms", "-1.5h", "1h2m3.5s".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lg::ctrl::cel {

// Nanoseconds, or nullopt with `error` set (Go's wording: `time: invalid duration "abc"`).
std::optional<int64_t> parse_go_duration(std::string_view s, std::string& error);

// string(duration) in cel-go: seconds as a shortest decimal plus "s" ("1.5s").
std::string format_duration(int64_t ns);

}  // namespace lg::ctrl::cel
