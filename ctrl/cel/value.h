// Runtime values of the CEL subset, with cel-go's dynamic semantics
// (https://github.com/google/cel-spec/blob/master/doc/langdef.md#values).
// Errors are values too: CEL's && || and the all/exists macros absorb an
// error when the other side decides the result, so an error has to travel
// through evaluation like any other value.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace lg::ctrl::cel {

struct Value;

struct Null {};
struct Duration {
  int64_t ns = 0;  // Go time.Duration: signed nanoseconds
};
struct Error {
  std::string message;
};
// A type used as a value (`type(x) == string`).
struct TypeValue {
  std::string name;
};
// Result of url(): the parts of Go's url.ParseRequestURI that the
// Kubernetes URL library exposes.
struct Url {
  std::string scheme, opaque, host, path, raw_query;
};
using List = std::shared_ptr<const std::vector<Value>>;
// Insertion-ordered; JSON objects arrive in nlohmann's sorted key order,
// which is the iteration order comprehensions see.
using Map = std::shared_ptr<const std::vector<std::pair<Value, Value>>>;
using UrlPtr = std::shared_ptr<const Url>;

struct Value {
  std::variant<Null, bool, int64_t, uint64_t, double, std::string, Duration, List, Map, UrlPtr,
               TypeValue, Error>
      v;

  Value() = default;
  template <typename T>
    requires(!std::is_same_v<std::decay_t<T>, Value>)
  Value(T x) : v(std::move(x)) {}  // NOLINT: implicit on purpose, values are built everywhere

  template <typename T>
  bool is() const { return std::holds_alternative<T>(v); }
  template <typename T>
  const T& as() const { return std::get<T>(v); }
  bool is_error() const { return is<Error>(); }
};

Value make_error(std::string message);
Value make_list(std::vector<Value> items);
Value make_map(std::vector<std::pair<Value, Value>> entries);

// CEL type name of a value: "int", "string", "list", "map", "google.protobuf.Duration", ...
std::string type_name(const Value& v);

// Kubernetes hands CEL every JSON integer as int (uint only if it does not
// fit), every other number as double.
Value from_json(const nlohmann::json& j);

// CEL heterogeneous equality: numbers compare by value across int/uint/double,
// values of different kinds are unequal (not an error).
bool equals(const Value& a, const Value& b);

// Ordering for < <= > >=: -1/0/1, nullopt when the operands have no ordering
// overload (CEL: "no such overload"). NaN compares unordered → nullopt too.
std::optional<int> compare(const Value& a, const Value& b, bool* nan = nullptr);

// Map lookup with CEL's numeric key normalisation (1 and 1u name one key).
const Value* map_find(const Map& m, const Value& key);

// Human-readable rendering used in error messages and string().
std::string debug_string(const Value& v);

// Double formatting like Go's strconv.FormatFloat(f, 'g', -1, 64) as
// cel-go's string(double) does.
std::string format_double(double d);

}  // namespace lg::ctrl::cel
