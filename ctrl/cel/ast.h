// The parsed expression tree. Macros (has, all, exists, exists_one, map,
// filter) are expanded by the parser into dedicated node kinds rather than
// cel-go's generic comprehension, which keeps evaluation direct while giving
// the same results.
#pragma once

#include "ctrl/cel/value.h"

#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace lg::ctrl::cel {

enum class Op {
  // logic
  logical_and, logical_or, logical_not, conditional,
  // relations
  eq, ne, lt, le, gt, ge, in,
  // arithmetic
  add, sub, mul, div, mod, neg,
};

enum class Macro { all, exists, exists_one, map, filter };

struct Node {
  enum class Kind {
    literal,     // value
    ident,       // name
    select,      // args[0].name
    has,         // has(args[0].name)
    index,       // args[0][args[1]]
    list,        // [args...]
    map,         // {args[0]: args[1], args[2]: args[3], ...}
    op,          // op applied to args
    call,        // name(args...)
    method,      // args[0].name(args[1...])
    comprehension,  // args[0].macro(var, args[1] [, args[2]])
  };
  Kind kind = Kind::literal;
  size_t pos = 0;  // byte offset in the source, for messages
  Value value;     // literal
  std::string name;
  Op op = Op::add;
  Macro macro = Macro::all;
  bool map_with_filter = false;  // map(x, pred, transform)
  std::vector<std::unique_ptr<Node>> args;
  size_t height = 1;  // bounded by the parser so recursion over the tree stays shallow
  // matches() with a literal pattern: compiled once at compile time.
  std::shared_ptr<const re2::RE2> regex;
};

}  // namespace lg::ctrl::cel
