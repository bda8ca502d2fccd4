// String functions: CEL's standard ones and the cel-go strings extension
// Kubernetes enables (https://github.com/google/cel-go/blob/master/ext/README.md#strings).
// Strings index by Unicode code point, as in Go's []rune.
#pragma once

#include "ctrl/cel/ast.h"
#include "ctrl/cel/value.h"

#include <string>
#include <vector>

namespace lg::ctrl::cel {

int64_t cp_count(const std::string& s);

// matches(): an unanchored RE2 search, using node.regex when precompiled.
Value regex_match(const Node& node, const std::string& text, const std::string& pattern);

// receiver.name(args) for a string receiver.
Value string_method(const Node& node, const std::string& s, const Value& recv, const std::vector<Value>& a);

}  // namespace lg::ctrl::cel
