// CEL standard functions (https://github.com/google/cel-spec/blob/master/doc/langdef.md#functions),
// the cel-go strings extension as Kubernetes enables it, the Kubernetes URL
// and list libraries (k8s.io/apiserver/pkg/cel/library). Error texts follow
// cel-go where a caller may match on them ("type conversion error from ...").
#include "ctrl/cel/functions.h"

#include "ctrl/cel/arith.h"
#include "ctrl/cel/duration.h"
#include "ctrl/cel/string_ext.h"
#include "ctrl/cel/url.h"

#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

namespace lg::ctrl::cel {
namespace {

struct Arity {
  size_t min, max;
};

const std::map<std::string, Arity>& functions() {
  static const std::map<std::string, Arity> f = {
      {"size", {1, 1}},   {"int", {1, 1}},      {"uint", {1, 1}},  {"double", {1, 1}},
      {"string", {1, 1}}, {"bool", {1, 1}},     {"duration", {1, 1}}, {"url", {1, 1}},
      {"isURL", {1, 1}},  {"matches", {2, 2}},  {"type", {1, 1}},  {"dyn", {1, 1}},
  };
  return f;
}

const std::map<std::string, Arity>& methods() {
  static const std::map<std::string, Arity> m = {
      // strings (CEL standard + cel-go ext.Strings)
      {"size", {0, 0}}, {"contains", {1, 1}}, {"startsWith", {1, 1}}, {"endsWith", {1, 1}},
      {"matches", {1, 1}}, {"substring", {1, 2}}, {"charAt", {1, 1}}, {"indexOf", {1, 2}},
      {"lastIndexOf", {1, 2}}, {"lowerAscii", {0, 0}}, {"upperAscii", {0, 0}}, {"trim", {0, 0}},
      {"split", {1, 2}}, {"replace", {2, 3}}, {"join", {0, 1}},
      // Kubernetes URL library
      {"getScheme", {0, 0}}, {"getHost", {0, 0}}, {"getHostname", {0, 0}}, {"getPort", {0, 0}},
      {"getEscapedPath", {0, 0}},
      // durations
      {"getHours", {0, 0}}, {"getMinutes", {0, 0}}, {"getSeconds", {0, 0}}, {"getMilliseconds", {0, 0}},
      // Kubernetes list library
      {"isSorted", {0, 0}}, {"sum", {0, 0}}, {"min", {0, 0}}, {"max", {0, 0}},
  };
  return m;
}

bool check(const std::map<std::string, Arity>& table, const char* what, const std::string& name, size_t n,
           std::string& error) {
  auto it = table.find(name);
  if (it == table.end()) {
    error = std::string("undeclared reference to ") + what + " '" + name + "'";
    return false;
  }
  if (n < it->second.min || n > it->second.max) {
    error = "no matching overload for '" + name + "' with " + std::to_string(n) + " argument" + (n == 1 ? "" : "s");
    return false;
  }
  return true;
}

Value conversion_error(const Value& from, const std::string& to) {
  return make_error("type conversion error from '" + type_name(from) + "' to '" + to + "'");
}

// --- conversions -----------------------------------------------------------

// Go strconv.ParseInt/ParseUint base 10: optional sign (signed only), digits, nothing else.
std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size() || !std::all_of(s.begin() + static_cast<long>(i), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || *end) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<uint64_t> parse_uint(const std::string& s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno == ERANGE || *end) return std::nullopt;
  return static_cast<uint64_t>(v);
}

std::optional<double> parse_double(const std::string& s) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (*end || (errno == ERANGE && std::isinf(d))) return std::nullopt;
  return d;
}

// cel-go's checked double → int64/uint64 conversions (truncation toward zero).
Value double_to_int(double d) {
  if (std::isnan(d) || d <= -9223372036854775809.0 || d >= 9223372036854775808.0)
    return make_error("integer overflow");
  return Value(static_cast<int64_t>(d));
}

Value double_to_uint(double d) {
  if (std::isnan(d) || d <= -1.0 || d >= 18446744073709551616.0) return make_error("unsigned integer overflow");
  return Value(static_cast<uint64_t>(d));
}

Value to_int(const Value& v) {
  if (v.is<int64_t>()) return v;
  if (v.is<uint64_t>()) {
    if (v.as<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return make_error("integer overflow");
    return Value(static_cast<int64_t>(v.as<uint64_t>()));
  }
  if (v.is<double>()) return double_to_int(v.as<double>());
  if (v.is<std::string>()) {
    if (auto i = parse_int(v.as<std::string>())) return Value(*i);
    return conversion_error(v, "int");
  }
  if (v.is<Duration>()) return Value(v.as<Duration>().ns);
  return no_such_overload("int", {&v});
}

Value to_uint(const Value& v) {
  if (v.is<uint64_t>()) return v;
  if (v.is<int64_t>()) {
    if (v.as<int64_t>() < 0) return make_error("unsigned integer overflow");
    return Value(static_cast<uint64_t>(v.as<int64_t>()));
  }
  if (v.is<double>()) return double_to_uint(v.as<double>());
  if (v.is<std::string>()) {
    if (auto u = parse_uint(v.as<std::string>())) return Value(*u);
    return conversion_error(v, "uint");
  }
  return no_such_overload("uint", {&v});
}

Value to_double(const Value& v) {
  if (v.is<double>()) return v;
  if (v.is<int64_t>()) return Value(static_cast<double>(v.as<int64_t>()));
  if (v.is<uint64_t>()) return Value(static_cast<double>(v.as<uint64_t>()));
  if (v.is<std::string>()) {
    if (auto d = parse_double(v.as<std::string>())) return Value(*d);
    return conversion_error(v, "double");
  }
  return no_such_overload("double", {&v});
}

Value to_string(const Value& v) {
  if (v.is<std::string>()) return v;
  if (v.is<int64_t>()) return Value(std::to_string(v.as<int64_t>()));
  if (v.is<uint64_t>()) return Value(std::to_string(v.as<uint64_t>()));
  if (v.is<double>()) return Value(format_double(v.as<double>()));
  if (v.is<bool>()) return Value(std::string(v.as<bool>() ? "true" : "false"));
  if (v.is<Duration>()) return Value(format_duration(v.as<Duration>().ns));
  if (v.is<TypeValue>()) return Value(v.as<TypeValue>().name);
  return no_such_overload("string", {&v});
}

Value to_bool(const Value& v) {
  if (v.is<bool>()) return v;
  if (v.is<std::string>()) {
    // Go strconv.ParseBool
    static const char* yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char* no[] = {"0", "f", "F", "FALSE", "false", "False"};
    const std::string& s = v.as<std::string>();
    for (const char* y : yes)
      if (s == y) return Value(true);
    for (const char* n : no)
      if (s == n) return Value(false);
    return conversion_error(v, "bool");
  }
  return no_such_overload("bool", {&v});
}

Value to_duration(const Value& v) {
  if (v.is<Duration>()) return v;
  if (v.is<std::string>()) {
    std::string err;
    if (auto ns = parse_go_duration(v.as<std::string>(), err)) return Value(Duration{*ns});
    return conversion_error(v, "google.protobuf.Duration");
  }
  return no_such_overload("duration", {&v});
}

Value size_of(const Value& v) {
  if (v.is<std::string>()) return Value(cp_count(v.as<std::string>()));
  if (v.is<List>()) return Value(static_cast<int64_t>(v.as<List>()->size()));
  if (v.is<Map>()) return Value(static_cast<int64_t>(v.as<Map>()->size()));
  return no_such_overload("size", {&v});
}

Value list_method(const std::string& fn, const Value& recv, const std::vector<Value>& a) {
  const auto& l = *recv.as<List>();
  std::vector<const Value*> ptrs{&recv};
  for (const auto& v : a) ptrs.push_back(&v);
  if (fn == "size" && a.empty()) return Value(static_cast<int64_t>(l.size()));
  if (fn == "join") {
    std::string sep = a.empty() ? "" : (a[0].is<std::string>() ? a[0].as<std::string>() : std::string("\x01"));
    if (!a.empty() && !a[0].is<std::string>()) return no_such_overload(fn, ptrs);
    std::string out;
    for (size_t i = 0; i < l.size(); ++i) {
      if (!l[i].is<std::string>()) return no_such_overload(fn, ptrs);
      if (i) out += sep;
      out += l[i].as<std::string>();
    }
    return Value(out);
  }
  if ((fn == "indexOf" || fn == "lastIndexOf") && a.size() == 1) {
    for (size_t k = 0; k < l.size(); ++k) {
      size_t i = fn == "indexOf" ? k : l.size() - 1 - k;
      if (equals(l[i], a[0])) return Value(static_cast<int64_t>(i));
    }
    return Value(int64_t{-1});
  }
  if (fn == "isSorted" || fn == "min" || fn == "max") {
    for (size_t i = 1; i < l.size(); ++i)
      if (!compare(l[i - 1], l[i])) return no_such_overload(fn, ptrs);
    if (fn == "isSorted") {
      for (size_t i = 1; i < l.size(); ++i)
        if (*compare(l[i - 1], l[i]) > 0) return Value(false);
      return Value(true);
    }
    if (l.empty()) return make_error(fn + " called on empty list");
    size_t best = 0;
    for (size_t i = 1; i < l.size(); ++i) {
      int c = *compare(l[i], l[best]);
      if (fn == "min" ? c < 0 : c > 0) best = i;
    }
    return l[best];
  }
  if (fn == "sum") {
    if (l.empty()) return Value(int64_t{0});
    for (const Value& v : l)
      if (!(v.is<int64_t>() || v.is<uint64_t>() || v.is<double>() || v.is<Duration>())) return no_such_overload(fn, ptrs);
    Value acc = l[0];
    for (size_t i = 1; i < l.size(); ++i) {
      Value sum = binary(Op::add, acc, l[i]);
      if (sum.is_error()) return sum;
      acc = std::move(sum);
    }
    return acc;
  }
  return no_such_overload(fn, ptrs);
}

Value url_method(const std::string& fn, const Url& u) {
  if (fn == "getScheme") return Value(u.scheme);
  if (fn == "getHost") return Value(u.host);
  if (fn == "getHostname") return Value(url_hostname(u));
  if (fn == "getPort") return Value(url_port(u));
  if (fn == "getEscapedPath") return Value(url_escaped_path(u));
  return make_error("no such overload: " + fn + "(kubernetes.URL)");
}

Value duration_method(const std::string& fn, int64_t ns) {
  if (fn == "getHours") return Value(ns / (3600LL * 1000000000));
  if (fn == "getMinutes") return Value(ns / (60LL * 1000000000));
  if (fn == "getSeconds") return Value(ns / 1000000000);
  if (fn == "getMilliseconds") return Value(ns / 1000000);
  return make_error("no such overload: " + fn + "(google.protobuf.Duration)");
}

Value make_url(const Value& v) {
  if (!v.is<std::string>()) return no_such_overload("url", {&v});
  std::string err;
  auto u = parse_request_uri(v.as<std::string>(), err);
  if (!u) return make_error("URL parse error during conversion from string: " + err);
  return Value(UrlPtr(std::make_shared<const Url>(std::move(*u))));
}

}  // namespace

bool check_function(const std::string& name, size_t nargs, std::string& error) {
  return check(functions(), "function", name, nargs, error);
}

bool check_method(const std::string& name, size_t nargs, std::string& error) {
  return check(methods(), "method", name, nargs, error);
}

bool is_type_name(const std::string& name) {
  static const char* names[] = {"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"};
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return name == n; });
}

std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, std::string& error) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  if (!re->ok()) {
    error = "invalid regular expression '" + pattern + "': " + re->error();
    return nullptr;
  }
  return re;
}

Value no_such_overload(const std::string& fn, const std::vector<const Value*>& args) {
  std::string sig;
  for (size_t i = 0; i < args.size(); ++i) sig += (i ? ", " : "") + type_name(*args[i]);
  return make_error("no such overload: " + fn + "(" + sig + ")");
}

Value call_function(const Node& node, const std::vector<Value>& args) {
  const std::string& fn = node.name;
  const Value& a = args.at(0);
  if (fn == "size") return size_of(a);
  if (fn == "int") return to_int(a);
  if (fn == "uint") return to_uint(a);
  if (fn == "double") return to_double(a);
  if (fn == "string") return to_string(a);
  if (fn == "bool") return to_bool(a);
  if (fn == "duration") return to_duration(a);
  if (fn == "url") return make_url(a);
  if (fn == "isURL") {
    if (!a.is<std::string>()) return no_such_overload(fn, {&a});
    std::string err;
    return Value(parse_request_uri(a.as<std::string>(), err).has_value());
  }
  if (fn == "matches") {
    const Value& b = args.at(1);
    if (!a.is<std::string>() || !b.is<std::string>()) return no_such_overload(fn, {&a, &b});
    return regex_match(node, a.as<std::string>(), b.as<std::string>());
  }
  if (fn == "type") return Value(TypeValue{type_name(a)});
  if (fn == "dyn") return a;
  return make_error("undeclared reference to function '" + fn + "'");
}

Value call_method(const Node& node, const Value& receiver, const std::vector<Value>& args) {
  const std::string& fn = node.name;
  if (receiver.is<std::string>()) return string_method(node, receiver.as<std::string>(), receiver, args);
  if (receiver.is<List>()) return list_method(fn, receiver, args);
  if (receiver.is<Map>() && fn == "size" && args.empty()) return size_of(receiver);
  if (receiver.is<UrlPtr>() && args.empty()) return url_method(fn, *receiver.as<UrlPtr>());
  if (receiver.is<Duration>() && args.empty()) return duration_method(fn, receiver.as<Duration>().ns);
  std::vector<const Value*> ptrs{&receiver};
  for (const auto& v : args) ptrs.push_back(&v);
  return no_such_overload(fn, ptrs);
}

}  // namespace lg::ctrl::cel
