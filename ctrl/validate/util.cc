#include "ctrl/validate/util.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace lg::ctrl::validate {

const Json* get(const Json* j, std::string_view key) {
  if (j == nullptr || !j->is_object()) return nullptr;
  const auto it = j->find(key);
  if (it == j->end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* get_obj(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  return v != nullptr && v->is_object() ? v : nullptr;
}

const Json* get_arr(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  return v != nullptr && v->is_array() ? v : nullptr;
}

std::string get_str(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

bool has(const Json* j, std::string_view key) { return get(j, key) != nullptr; }

std::optional<int64_t> get_int(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned()) return static_cast<int64_t>(v->get<uint64_t>());
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> get_num(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<bool> get_bool(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

std::optional<double> get_wrapped_num(const Json* j, std::string_view key) {
  const Json* v = get(j, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  return get_num(v, "value");
}

void each(const Json* j, std::string_view key, const std::string& base,
          const std::function<void(size_t, const Json&, const std::string&)>& fn) {
  const Json* a = get_arr(j, key);
  if (a == nullptr) return;
  const std::string p = path_field(base, std::string(key));
  for (size_t i = 0; i < a->size(); ++i) fn(i, (*a)[i], path_index(p, i));
}

void each_member(const Json* j, std::string_view key, const std::string& base,
                 const std::function<void(const std::string&, const Json&, const std::string&)>& fn) {
  const Json* o = get_obj(j, key);
  if (o == nullptr) return;
  const std::string p = path_field(base, std::string(key));
  for (const auto& [k, v] : o->items()) fn(k, v, path_key(p, k));
}

std::vector<std::pair<std::string, std::string>> string_map(const Json* j, std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const Json* o = get_obj(j, key);
  if (o == nullptr) return out;
  for (const auto& [k, v] : o->items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : safe_dump(v));
  return out;
}

std::string safe_dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string quote(std::string_view s) { return safe_dump(Json(std::string(s))); }

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += sep;
    out += parts[i];
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace lg::ctrl::validate
