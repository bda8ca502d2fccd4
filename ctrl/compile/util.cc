#include "ctrl/compile/util.h"

#include "ctrl/validate/hosts.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <cmath>

namespace lg::ctrl::compile {

const Json* field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* field2(const Json& obj, std::string_view snake, std::string_view camel) {
  if (const Json* v = field(obj, snake)) return v;
  return field(obj, camel);
}

std::string str(const Json& obj, std::string_view key, std::string_view fallback) {
  const Json* v = field(obj, key);
  if (!v) return std::string(fallback);
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_integer()) return std::to_string(v->get<int64_t>());
  if (v->is_boolean()) return v->get<bool>() ? "true" : "false";
  return std::string(fallback);
}

bool boolean(const Json& obj, std::string_view key, bool fallback) { return opt_bool(obj, key).value_or(fallback); }

std::optional<bool> opt_bool(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) {
    if (*v == "true") return true;
    if (*v == "false") return false;
  }
  return std::nullopt;
}

std::optional<uint64_t> opt_u64(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) return v->get<int64_t>() < 0 ? 0 : static_cast<uint64_t>(v->get<int64_t>());
  if (v->is_number_float()) return v->get<double>() < 0 ? 0 : static_cast<uint64_t>(v->get<double>());
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    uint64_t out = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return std::nullopt;
}

uint64_t u64(const Json& obj, std::string_view key, uint64_t fallback) { return opt_u64(obj, key).value_or(fallback); }

double number(const Json& obj, std::string_view key, double fallback) {
  const Json* v = field(obj, key);
  if (!v) return fallback;
  if (v->is_number()) return v->get<double>();
  if (v->is_string()) {
    try {
      return std::stod(v->get<std::string>());
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

std::vector<std::string> strings(const Json& obj, std::string_view key) {
  std::vector<std::string> out;
  const Json* v = field(obj, key);
  if (!v || !v->is_array()) return out;
  for (const Json& e : *v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
    else if (e.is_number_integer()) out.push_back(std::to_string(e.get<int64_t>()));
  }
  return out;
}

Labels string_map(const Json* obj) {
  Labels out;
  if (!obj || !obj->is_object()) return out;
  for (const auto& [k, v] : obj->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
    else if (v.is_null()) out[k] = "";
    else out[k] = v.dump();
  }
  return out;
}

const Json& spec_of(const Resource& r) {
  static const Json empty = Json::object();
  const Json* s = field(r.obj, "spec");
  return s && s->is_object() ? *s : empty;
}

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  const std::optional<int64_t> ns = validate::parse_duration_ns(text);
  if (!ns || *ns < 0) return std::nullopt;
  return static_cast<uint64_t>((*ns + 500'000) / 1'000'000);  // nearest ms
}

std::optional<uint64_t> opt_duration_ms(const Json& obj, std::string_view key) {
  const Json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return parse_duration_ms(v->get<std::string>());
  if (v->is_number()) return static_cast<uint64_t>(std::llround(v->get<double>() * 1000));  // bare seconds
  if (v->is_object()) {  // {seconds, nanos} as protobuf JSON of Duration objects sometimes appears
    return u64(*v, "seconds") * 1000 + u64(*v, "nanos") / 1'000'000;
  }
  return std::nullopt;
}

uint64_t duration_ms(const Json& obj, std::string_view key, uint64_t fallback) {
  return opt_duration_ms(obj, key).value_or(fallback);
}

bool host_is_wildcard(std::string_view h) { return !h.empty() && h[0] == '*'; }


bool selector_matches(const Labels& selector, const Labels& labels) {
  for (const auto& [k, v] : selector) {
    const auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

bool exported_to(const std::vector<std::string>& export_to, const std::string& owner_ns, const std::string& client_ns) {
  if (export_to.empty()) return true;
  for (const std::string& e : export_to) {
    if (e == "*") return true;
    if (e == "." && owner_ns == client_ns) return true;
    if (e == client_ns) return true;
  }
  return false;
}

std::optional<std::string> base64_decode(std::string_view in) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (const char c : in) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    const size_t v = alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace lg::ctrl::compile
