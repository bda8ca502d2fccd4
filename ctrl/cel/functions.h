// Built-in functions: CEL's standard library subset plus the Kubernetes
// extension libraries CRD rules may use (strings ext, URL library).
#pragma once

#include "ctrl/cel/ast.h"
#include "ctrl/cel/value.h"

#include <string>
#include <vector>

namespace lg::ctrl::cel {

// Compile-time checks: is `name` a global function / receiver method taking
// `nargs` arguments (receiver not counted)? On failure `error` says why.
bool check_function(const std::string& name, size_t nargs, std::string& error);
bool check_method(const std::string& name, size_t nargs, std::string& error);
bool is_type_name(const std::string& name);

// Compiles a literal matches() pattern; on failure `error` says why.
std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, std::string& error);

// Runtime dispatch. Arguments are never errors (the evaluator propagates
// those first). `node` carries a precompiled regex when there is one.
Value call_function(const Node& node, const std::vector<Value>& args);
Value call_method(const Node& node, const Value& receiver, const std::vector<Value>& args);

// Overload failure in cel-go's wording: "no such overload: _+_(int, string)".
Value no_such_overload(const std::string& fn, const std::vector<const Value*>& args);

}  // namespace lg::ctrl::cel
