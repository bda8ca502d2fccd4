// Character classes of CEL's grammar and Go's duration syntax: ASCII only,
// never the locale's.
#pragma once

namespace lg::ctrl::cel {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace lg::ctrl::cel
