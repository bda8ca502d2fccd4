#include "ctrl/cel/arith.h"

#include "ctrl/cel/functions.h"

#include <cmath>
#include <limits>

namespace lg::ctrl::cel {
namespace {

const char* op_name(Op op) {
  switch (op) {
    case Op::eq: return "_==_";
    case Op::ne: return "_!=_";
    case Op::lt: return "_<_";
    case Op::le: return "_<=_";
    case Op::gt: return "_>_";
    case Op::ge: return "_>=_";
    case Op::in: return "@in";
    case Op::add: return "_+_";
    case Op::sub: return "_-_";
    case Op::mul: return "_*_";
    case Op::div: return "_/_";
    case Op::mod: return "_%_";
    case Op::neg: return "-_";
    default: return "_?_";
  }
}

Value int_overflow() { return make_error("integer overflow"); }
Value uint_overflow() { return make_error("unsigned integer overflow"); }

Value int_arith(Op op, int64_t a, int64_t b) {
  int64_t out = 0;
  switch (op) {
    case Op::add:
      if (__builtin_add_overflow(a, b, &out)) return int_overflow();
      return Value(out);
    case Op::sub:
      if (__builtin_sub_overflow(a, b, &out)) return int_overflow();
      return Value(out);
    case Op::mul:
      if (__builtin_mul_overflow(a, b, &out)) return int_overflow();
      return Value(out);
    case Op::div:
      if (b == 0) return make_error("division by zero");
      if (a == std::numeric_limits<int64_t>::min() && b == -1) return int_overflow();
      return Value(a / b);
    case Op::mod:
      if (b == 0) return make_error("modulus by zero");
      if (a == std::numeric_limits<int64_t>::min() && b == -1) return int_overflow();
      return Value(a % b);
    default:
      return make_error("internal error: bad int operator");
  }
}

Value uint_arith(Op op, uint64_t a, uint64_t b) {
  uint64_t out = 0;
  switch (op) {
    case Op::add:
      if (__builtin_add_overflow(a, b, &out)) return uint_overflow();
      return Value(out);
    case Op::sub:
      if (__builtin_sub_overflow(a, b, &out)) return uint_overflow();
      return Value(out);
    case Op::mul:
      if (__builtin_mul_overflow(a, b, &out)) return uint_overflow();
      return Value(out);
    case Op::div:
      if (b == 0) return make_error("division by zero");
      return Value(a / b);
    case Op::mod:
      if (b == 0) return make_error("modulus by zero");
      return Value(a % b);
    default:
      return make_error("internal error: bad uint operator");
  }
}

Value arith(Op op, const Value& l, const Value& r) {
  if (l.is<int64_t>() && r.is<int64_t>()) return int_arith(op, l.as<int64_t>(), r.as<int64_t>());
  if (l.is<uint64_t>() && r.is<uint64_t>()) return uint_arith(op, l.as<uint64_t>(), r.as<uint64_t>());
  if (l.is<double>() && r.is<double>() && op != Op::mod) {
    double a = l.as<double>(), b = r.as<double>();
    switch (op) {
      case Op::add: return Value(a + b);
      case Op::sub: return Value(a - b);
      case Op::mul: return Value(a * b);
      case Op::div: return Value(a / b);  // IEEE: x/0 is ±Inf or NaN, as in cel-go
      default: break;
    }
  }
  if (op == Op::add) {
    if (l.is<std::string>() && r.is<std::string>()) return Value(l.as<std::string>() + r.as<std::string>());
    if (l.is<List>() && r.is<List>()) {
      std::vector<Value> items(*l.as<List>());
      items.insert(items.end(), r.as<List>()->begin(), r.as<List>()->end());
      return make_list(std::move(items));
    }
  }
  if ((op == Op::add || op == Op::sub) && l.is<Duration>() && r.is<Duration>()) {
    int64_t out = 0;
    bool overflow = op == Op::add ? __builtin_add_overflow(l.as<Duration>().ns, r.as<Duration>().ns, &out)
                                  : __builtin_sub_overflow(l.as<Duration>().ns, r.as<Duration>().ns, &out);
    if (overflow) return int_overflow();
    return Value(Duration{out});
  }
  return no_such_overload(op_name(op), {&l, &r});
}

}  // namespace

Value binary(Op op, const Value& l, const Value& r) {
  switch (op) {
    case Op::eq:
      return Value(equals(l, r));
    case Op::ne:
      return Value(!equals(l, r));
    case Op::lt:
    case Op::le:
    case Op::gt:
    case Op::ge: {
      bool nan = false;
      auto c = compare(l, r, &nan);
      if (!c) {
        if (nan) return Value(false);  // NaN is unordered: every relation is false
        return no_such_overload(op_name(op), {&l, &r});
      }
      switch (op) {
        case Op::lt: return Value(*c < 0);
        case Op::le: return Value(*c <= 0);
        case Op::gt: return Value(*c > 0);
        default: return Value(*c >= 0);
      }
    }
    case Op::in:
      if (r.is<List>()) {
        for (const Value& e : *r.as<List>())
          if (equals(l, e)) return Value(true);
        return Value(false);
      }
      if (r.is<Map>()) return Value(map_find(r.as<Map>(), l) != nullptr);
      return no_such_overload(op_name(op), {&l, &r});
    default:
      return arith(op, l, r);
  }
}

Value negate(const Value& v) {
  if (v.is<int64_t>()) {
    if (v.as<int64_t>() == std::numeric_limits<int64_t>::min()) return int_overflow();
    return Value(-v.as<int64_t>());
  }
  if (v.is<double>()) return Value(-v.as<double>());
  if (v.is<Duration>()) {
    if (v.as<Duration>().ns == std::numeric_limits<int64_t>::min()) return int_overflow();
    return Value(Duration{-v.as<Duration>().ns});
  }
  return no_such_overload(op_name(Op::neg), {&v});
}

}  // namespace lg::ctrl::cel
