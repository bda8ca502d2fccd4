// Strict (non-logical) operators on already-evaluated, non-error operands:
// relations, `in`, and checked arithmetic with cel-go's overflow errors.
#pragma once

#include "ctrl/cel/ast.h"
#include "ctrl/cel/value.h"

namespace lg::ctrl::cel {

Value binary(Op op, const Value& l, const Value& r);
Value negate(const Value& v);

}  // namespace lg::ctrl::cel
