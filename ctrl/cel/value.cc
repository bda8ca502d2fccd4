#include "ctrl/cel/value.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace lg::ctrl::cel {

Value make_error(std::string message) { return Value(Error{std::move(message)}); }

Value make_list(std::vector<Value> items) {
  return Value(List(std::make_shared<const std::vector<Value>>(std::move(items))));
}

Value make_map(std::vector<std::pair<Value, Value>> entries) {
  return Value(Map(std::make_shared<const std::vector<std::pair<Value, Value>>>(std::move(entries))));
}

std::string type_name(const Value& v) {
  struct {
    std::string operator()(const Null&) { return "null_type"; }
    std::string operator()(bool) { return "bool"; }
    std::string operator()(int64_t) { return "int"; }
    std::string operator()(uint64_t) { return "uint"; }
    std::string operator()(double) { return "double"; }
    std::string operator()(const std::string&) { return "string"; }
    std::string operator()(const Duration&) { return "google.protobuf.Duration"; }
    std::string operator()(const List&) { return "list"; }
    std::string operator()(const Map&) { return "map"; }
    std::string operator()(const UrlPtr&) { return "kubernetes.URL"; }
    std::string operator()(const TypeValue&) { return "type"; }
    std::string operator()(const Error&) { return "error"; }
  } visitor;
  return std::visit(visitor, v.v);
}

Value from_json(const nlohmann::json& j) {
  using T = nlohmann::json::value_t;
  switch (j.type()) {
    case T::null:
    case T::discarded:
      return Value(Null{});
    case T::boolean:
      return Value(j.get<bool>());
    case T::number_integer:
      return Value(j.get<int64_t>());
    case T::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value(static_cast<int64_t>(u));
      return Value(u);
    }
    case T::number_float:
      return Value(j.get<double>());
    case T::string:
      return Value(j.get<std::string>());
    case T::binary:
      return make_error("binary JSON values are not supported");
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return make_list(std::move(items));
    }
    case T::object: {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) entries.emplace_back(Value(it.key()), from_json(it.value()));
      return make_map(std::move(entries));
    }
  }
  return Value(Null{});
}

namespace {

// Numeric view for cross-type comparison. Comparing through double would
// lose precision above 2^53, so int/uint pairs are compared exactly.
struct Num {
  enum { i, u, d } k;
  int64_t iv = 0;
  uint64_t uv = 0;
  double dv = 0;
};

std::optional<Num> as_num(const Value& v) {
  if (v.is<int64_t>()) return Num{Num::i, v.as<int64_t>(), 0, 0};
  if (v.is<uint64_t>()) return Num{Num::u, 0, v.as<uint64_t>(), 0};
  if (v.is<double>()) return Num{Num::d, 0, 0, v.as<double>()};
  return std::nullopt;
}

template <typename T>
int cmp3(T a, T b) { return a < b ? -1 : (a > b ? 1 : 0); }

int cmp_int_uint(int64_t a, uint64_t b) {
  if (a < 0) return -1;
  return cmp3(static_cast<uint64_t>(a), b);
}

// Exact double-vs-integer ordering (cel-go's compareDoubleInt): converting
// the integer to double would round above 2^53, so split the double instead.
std::optional<int> cmp_double_int(double d, int64_t i) {
  if (std::isnan(d)) return std::nullopt;
  if (d < -9223372036854775808.0) return -1;
  if (d >= 9223372036854775808.0) return 1;
  double t = std::trunc(d);
  int c = cmp3(static_cast<int64_t>(t), i);
  return c != 0 ? c : cmp3(d - t, 0.0);
}

std::optional<int> cmp_double_uint(double d, uint64_t u) {
  if (std::isnan(d)) return std::nullopt;
  if (d < 0) return -1;
  if (d >= 18446744073709551616.0) return 1;
  double t = std::trunc(d);
  int c = cmp3(static_cast<uint64_t>(t), u);
  return c != 0 ? c : cmp3(d - t, 0.0);
}

std::optional<int> cmp_num(const Num& a, const Num& b) {
  switch (a.k) {
    case Num::i:
      if (b.k == Num::i) return cmp3(a.iv, b.iv);
      if (b.k == Num::u) return cmp_int_uint(a.iv, b.uv);
      if (auto c = cmp_double_int(b.dv, a.iv)) return -*c;
      return std::nullopt;
    case Num::u:
      if (b.k == Num::u) return cmp3(a.uv, b.uv);
      if (b.k == Num::i) return -cmp_int_uint(b.iv, a.uv);
      if (auto c = cmp_double_uint(b.dv, a.uv)) return -*c;
      return std::nullopt;
    case Num::d:
      if (b.k == Num::i) return cmp_double_int(a.dv, b.iv);
      if (b.k == Num::u) return cmp_double_uint(a.dv, b.uv);
      if (std::isnan(a.dv) || std::isnan(b.dv)) return std::nullopt;
      return cmp3(a.dv, b.dv);
  }
  return std::nullopt;
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  auto na = as_num(a), nb = as_num(b);
  if (na && nb) {
    auto c = cmp_num(*na, *nb);
    return c && *c == 0;
  }
  if (a.v.index() != b.v.index()) return false;
  if (a.is<Null>()) return true;
  if (a.is<bool>()) return a.as<bool>() == b.as<bool>();
  if (a.is<std::string>()) return a.as<std::string>() == b.as<std::string>();
  if (a.is<Duration>()) return a.as<Duration>().ns == b.as<Duration>().ns;
  if (a.is<TypeValue>()) return a.as<TypeValue>().name == b.as<TypeValue>().name;
  if (a.is<List>()) {
    const auto& x = *a.as<List>();
    const auto& y = *b.as<List>();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!equals(x[i], y[i])) return false;
    return true;
  }
  if (a.is<Map>()) {
    const auto& x = a.as<Map>();
    const auto& y = b.as<Map>();
    if (x->size() != y->size()) return false;
    for (const auto& [k, val] : *x) {
      const Value* other = map_find(y, k);
      if (!other || !equals(val, *other)) return false;
    }
    return true;
  }
  if (a.is<UrlPtr>()) {
    const Url& x = *a.as<UrlPtr>();
    const Url& y = *b.as<UrlPtr>();
    return x.scheme == y.scheme && x.opaque == y.opaque && x.host == y.host && x.path == y.path &&
           x.raw_query == y.raw_query;
  }
  return false;  // errors never equal anything
}

std::optional<int> compare(const Value& a, const Value& b, bool* nan) {
  if (nan) *nan = false;
  auto na = as_num(a), nb = as_num(b);
  if (na && nb) {
    auto c = cmp_num(*na, *nb);
    if (!c && nan) *nan = true;
    return c;
  }
  if (a.v.index() != b.v.index()) return std::nullopt;
  if (a.is<bool>()) return cmp3(a.as<bool>(), b.as<bool>());
  if (a.is<std::string>()) {
    int c = a.as<std::string>().compare(b.as<std::string>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is<Duration>()) return cmp3(a.as<Duration>().ns, b.as<Duration>().ns);
  return std::nullopt;
}

const Value* map_find(const Map& m, const Value& key) {
  for (const auto& [k, val] : *m)
    if (equals(k, key)) return &val;
  return nullptr;
}

// Strings in this file are built with append rather than `"x" + std::string(...)`:
// GCC 12 at -O3 misreports the latter as an overlapping memcpy (-Wrestrict, GCC PR 105651).
std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  // Shortest round-trip digits, then Go's %g layout: exponent form when the
  // decimal exponent is < -4 or >= 6 (strconv's rule for precision -1).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (digits.size() > 1) out.append(".").append(digits, 1);
    out += exp < 0 ? "e-" : "e+";
    std::string e = std::to_string(exp < 0 ? -exp : exp);
    if (e.size() < 2) out += '0';
    return out + e;
  }
  if (exp < 0) {
    out.append("0.").append(static_cast<size_t>(-exp - 1), '0').append(digits);
    return out;
  }
  size_t int_len = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_len) {
    out.append(digits).append(int_len - digits.size(), '0');
    return out;
  }
  out.append(digits, 0, int_len).append(".").append(digits, int_len);
  return out;
}

std::string debug_string(const Value& v) {
  struct {
    std::string operator()(const Null&) { return "null"; }
    std::string operator()(bool b) { return b ? "true" : "false"; }
    std::string operator()(int64_t i) { return std::to_string(i); }
    std::string operator()(uint64_t u) { return std::to_string(u) + 'u'; }
    std::string operator()(double d) { return format_double(d); }
    std::string operator()(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
    std::string operator()(const Duration& d) {
      std::string s = "duration(";
      s.append(std::to_string(d.ns)).append("ns)");
      return s;
    }
    std::string operator()(const List& l) {
      std::string s = "[";
      for (size_t i = 0; i < l->size(); ++i) s.append(i ? ", " : "").append(debug_string((*l)[i]));
      s += ']';
      return s;
    }
    std::string operator()(const Map& m) {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, val] : *m) {
        s.append(first ? "" : ", ").append(debug_string(k)).append(": ").append(debug_string(val));
        first = false;
      }
      s += '}';
      return s;
    }
    std::string operator()(const UrlPtr& u) {
      std::string s = "url(";
      s.append(u->scheme).append(":").append(u->host).append(u->path).append(")");
      return s;
    }
    std::string operator()(const TypeValue& t) { return t.name; }
    std::string operator()(const Error& e) {
      std::string s = "error(";
      s.append(e.message).append(")");
      return s;
    }
  } visitor;
  return std::visit(visitor, v.v);
}

}  // namespace lg::ctrl::cel
