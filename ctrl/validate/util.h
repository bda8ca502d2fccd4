// Internal to ctrl/validate: type-safe reads of a resource's JSON tree and a
// reporting context. The schema check may already have failed on the same
// document, so nothing here assumes a field has the type Istio documents.
#pragma once

#include "ctrl/crd/resource.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace lg::ctrl::validate {

// Null when `j` is null, not an object, or has no such key (or the value is null).
const Json* get(const Json* j, std::string_view key);
// The field when it is an object / array / string; null otherwise.
const Json* get_obj(const Json* j, std::string_view key);
const Json* get_arr(const Json* j, std::string_view key);
std::string get_str(const Json* j, std::string_view key);  // "" when absent or not a string
bool has(const Json* j, std::string_view key);             // present and not null
// Integers (YAML 80 is an int); a whole double counts too.
std::optional<int64_t> get_int(const Json* j, std::string_view key);
std::optional<double> get_num(const Json* j, std::string_view key);
std::optional<bool> get_bool(const Json* j, std::string_view key);
// Protobuf wrapper fields (google.protobuf.DoubleValue) come as a bare number
// or, from some tools, as {value: N}.
std::optional<double> get_wrapped_num(const Json* j, std::string_view key);

// Calls fn(index, element, path) for each element of the array field (no-op when absent).
void each(const Json* j, std::string_view key, const std::string& base,
          const std::function<void(size_t, const Json&, const std::string&)>& fn);
// Calls fn(key, value, path) for each member of the object field.
void each_member(const Json* j, std::string_view key, const std::string& base,
                 const std::function<void(const std::string&, const Json&, const std::string&)>& fn);

// Flat string map from an object field ({app: reviews}); non-string values are dumped.
std::vector<std::pair<std::string, std::string>> string_map(const Json* j, std::string_view key);

std::string quote(std::string_view s);  // "s" with JSON escaping
bool iequals(std::string_view a, std::string_view b);  // ASCII case-insensitive
// JSON text of any value; invalid UTF-8 in the manifest is replaced, not thrown.
std::string safe_dump(const Json& j);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// One resource's checks report through this.
struct Ctx {
  const Resource& r;
  Diagnostics& d;
  void error(const std::string& path, std::string msg) const { d.error(r, path, std::move(msg)); }
  void warning(const std::string& path, std::string msg) const { d.warning(r, path, std::move(msg)); }
  void info(const std::string& path, std::string msg) const { d.info(r, path, std::move(msg)); }
  const Json* spec() const { return get_obj(&r.obj, "spec"); }
};

}  // namespace lg::ctrl::validate
