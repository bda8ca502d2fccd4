// Field checks several kinds share.
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace lg::ctrl::validate {

void check_duration_field(const Ctx& c, const Json* parent, std::string_view key, const std::string& base) {
  const Json* v = get(parent, key);
  if (v == nullptr || !v->is_string()) return;  // type errors are the schema's
  if (auto e = check_duration(v->get<std::string>())) c.error(path_field(base, std::string(key)), *e);
}

void check_port_field(const Ctx& c, const Json* parent, std::string_view key, const std::string& base) {
  if (auto p = get_int(parent, key))
    if (auto e = check_port(*p)) c.error(path_field(base, std::string(key)), *e);
}

namespace {

bool label_name_ok(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto an = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  if (!an(s.front()) || !an(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char ch) { return an(ch) || ch == '-' || ch == '_' || ch == '.'; });
}

bool dns_subdomain_ok(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t dot = s.find('.', start);
    const std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_dns1123_label(label)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

}  // namespace

// Kubernetes "qualified name": [prefix/]name (apimachinery validation.IsQualifiedName).
std::optional<std::string> check_label_key(std::string_view key) {
  const size_t slash = key.find('/');
  std::string_view name = key;
  if (slash != std::string_view::npos) {
    if (!dns_subdomain_ok(key.substr(0, slash)))
      return "invalid label key " + quote(key) + ": prefix must be a DNS-1123 subdomain";
    name = key.substr(slash + 1);
  }
  if (!label_name_ok(name))
    return "invalid label key " + quote(key) +
           ": name part must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending alphanumeric";
  return std::nullopt;
}

std::optional<std::string> check_label_value(std::string_view value) {
  if (value.empty()) return std::nullopt;
  if (!label_name_ok(value))
    return "invalid label value " + quote(value) +
           ": must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending alphanumeric";
  return std::nullopt;
}

void check_labels_map(const Ctx& c, const Json* parent, std::string_view key, const std::string& base) {
  each_member(parent, key, base, [&](const std::string& k, const Json& v, const std::string& p) {
    if (auto e = check_label_key(k)) c.error(p, *e);
    if (v.is_string())
      if (auto e = check_label_value(v.get<std::string>())) c.error(p, *e);
  });
}

void check_workload_selector(const Ctx& c, const Json* selector, std::string_view labels_key, const std::string& path) {
  if (selector == nullptr) return;
  const Json* labels = get_obj(selector, labels_key);
  if (labels == nullptr || labels->empty()) {
    c.warning(path, "workload selector specified without labels");
    return;
  }
  const std::string lp = path_field(path, std::string(labels_key));
  for (const auto& [k, v] : labels->items()) {
    const std::string val = v.is_string() ? v.get<std::string>() : safe_dump(v);
    if (k.empty()) c.error(lp, "empty key is not supported in selector: " + quote(k + "=" + val));
    if (k.find('*') != std::string::npos || val.find('*') != std::string::npos)
      c.error(path_key(lp, k), "wildcard is not supported in selector: " + quote(k + "=" + val));
  }
}

void check_export_to(const Ctx& c, const Json* spec, bool is_service_entry) {
  const Json* arr = get_arr(spec, "exportTo");
  if (arr == nullptr) return;
  const std::string p = "spec.exportTo";
  std::set<std::string> seen;
  bool star = false, none = false;
  for (size_t i = 0; i < arr->size(); ++i) {
    if (!(*arr)[i].is_string()) continue;
    const std::string e = (*arr)[i].get<std::string>();
    const std::string key = e == "." ? c.r.ns : e;
    if (!seen.insert(key).second) {
      c.error(path_index(p, i), key != e ? "duplicate entries in exportTo: . and current namespace " + c.r.ns
                                          : "duplicate entries in exportTo for entry " + e);
      continue;
    }
    if (e == "*") star = true;
    else if (e == "~") {
      if (!is_service_entry) c.error(path_index(p, i), "exportTo \"~\" is only allowed on ServiceEntry");
      none = true;
    } else if (e != "." && !is_dns1123_label(e)) {
      c.error(path_index(p, i), "invalid exportTo value " + quote(e) + ": expected \".\", \"*\" or a namespace name");
    }
  }
  if (star && arr->size() > 1) c.error(p, "cannot have both public (*) and non-public exportTo values for a resource");
  if (none && arr->size() > 1) c.error(p, "cannot export service entry to no one (~) and someone");
}

std::string canonical_protocol(std::string_view p) {
  std::string up(p);
  for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  static const std::set<std::string> known = {"HTTP", "HTTP2", "HTTPS", "GRPC",  "GRPC-WEB", "TCP",  "TLS",
                                              "UDP",  "MONGO", "REDIS", "MYSQL", "HTTP_PROXY"};
  return known.count(up) != 0 ? up : std::string();
}

bool protocol_is_http(std::string_view p) { return p == "HTTP" || p == "HTTP2" || p == "GRPC" || p == "GRPC-WEB"; }
bool protocol_is_tls(std::string_view p) { return p == "HTTPS" || p == "TLS"; }

}  // namespace lg::ctrl::validate
