#include "ctrl/crd/field_error.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace lg::ctrl::fielderr {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string go_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == std::floor(d) && std::fabs(d) < 1e21) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, res.ptr);
}

std::string value(const Json& v) {
  if (v.is_string()) return quote(v.get<std::string>());
  if (v.is_number_float()) return go_float(v.get<double>());
  if (v.is_null()) return "\"null\"";
  return v.dump();
}

std::string type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "null";
  }
}

Error wrong_type(const std::string& path, const std::string& want, const Json& actual) {
  const std::string got = quote(type_name(actual));
  return type_invalid(path, got, path + " in body must be of type " + want + ": " + got);
}

Error required(std::string path, const std::string& detail) {
  return {Type::required, std::move(path), detail.empty() ? "Required value" : "Required value: " + detail};
}
Error invalid(std::string path, const std::string& shown_value, const std::string& detail) {
  return {Type::invalid, std::move(path), "Invalid value: " + shown_value + ": " + detail};
}
Error invalid(std::string path, const Json& bad, const std::string& detail) {
  return invalid(std::move(path), value(bad), detail);
}
Error type_invalid(std::string path, const std::string& shown_value, const std::string& detail) {
  return {Type::type_invalid, std::move(path), "Invalid value: " + shown_value + ": " + detail};
}
Error not_supported(std::string path, const Json& bad, const std::vector<std::string>& supported) {
  std::string msg = "Unsupported value: " + value(bad);
  if (!supported.empty()) {
    msg += ": supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) msg += (i ? ", " : "") + quote(supported[i]);
  }
  return {Type::not_supported, std::move(path), msg};
}
Error duplicate(std::string path, const Json& bad) {
  return {Type::duplicate, std::move(path), "Duplicate value: " + value(bad)};
}
Error too_long(std::string path, long long max) {
  return {Type::too_long, std::move(path), "Too long: may not be longer than " + std::to_string(max)};
}
Error too_many(std::string path, long long actual, long long max) {
  return {Type::too_many, std::move(path),
          "Too many: " + std::to_string(actual) + ": must have at most " + std::to_string(max) + " items"};
}
Error forbidden(std::string path, const std::string& detail) {
  return {Type::forbidden, std::move(path), "Forbidden: " + detail};
}
Error unknown_field(std::string path) {
  std::string msg = "unknown field " + quote(path);
  return {Type::unknown_field, std::move(path), std::move(msg)};
}

bool is_blocking(const Error& e) {
  return !e.warning &&
         (e.type == Type::not_supported || e.type == Type::required || e.type == Type::too_long ||
          e.type == Type::too_many || e.type == Type::type_invalid);
}

void emit(const List& errors, const Resource& r, Diagnostics& diags) {
  for (const Error& e : errors) {
    if (e.warning) diags.warning(r, e.path, e.message);
    else diags.error(r, e.path, e.message);
  }
}

}  // namespace lg::ctrl::fielderr
