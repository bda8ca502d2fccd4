// The value checks of a structural schema, as k8s.io/apiextensions-apiserver
// makes them on create: the OpenAPI v3 validation of
// k8s.io/kube-openapi/pkg/validation/validate (with strict field decoding:
// unknown fields), list-type invariants (x-kubernetes-list-type) and the CEL
// rules (x-kubernetes-validations), each worded like the API server.
#include "ctrl/crd/schema_model.h"

#include <cctype>
#include <cmath>

namespace lg::ctrl::crdschema {
namespace {

namespace fe = fielderr;

bool integral(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  // Go's decoder sends 5.0 as 5; kube-openapi accepts a float with an integral value as "integer".
  return v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>());
}

bool type_matches(const Node& s, const Json& v) {
  if (s.int_or_string) return v.is_string() || integral(v);
  if (s.type.empty()) return true;
  if (s.type == "object") return v.is_object();
  if (s.type == "array") return v.is_array();
  if (s.type == "string") return v.is_string();
  if (s.type == "boolean") return v.is_boolean();
  if (s.type == "integer") return integral(v);
  if (s.type == "number") return v.is_number();
  return true;
}

std::string type_label(const Node& s) { return s.int_or_string ? "integer,string" : s.type; }

size_t rune_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// format: byte — standard base64 (RFC 4648 §4), as strfmt.Base64 decodes it.
bool is_base64(const std::string& s) {
  if (s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '=') {
      if (i + 2 < s.size()) return false;
      ++pad;
      continue;
    }
    if (pad) return false;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  return pad <= 2;
}

// format: date-time — RFC 3339 §5.6.
bool is_date_time(const std::string& s) {
  static const RE2 re(R"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))");
  return RE2::FullMatch(s, re);
}

// Formats Kubernetes checks (apiextensions-apiserver's supported formats)
// that appear in Istio's schemas; others are ignored there too.
std::string format_error(const std::string& format, const std::string& v) {
  if (format == "byte" && !is_base64(v)) return format;
  if (format == "date-time" && !is_date_time(v)) return format;
  return {};
}

class OpenApi {
 public:
  explicit OpenApi(fe::List& errs) : errs_(errs) {}

  // `structural` is false inside allOf/anyOf/oneOf/not: those carry value
  // checks only, so fields they do not name are not unknown.
  void validate(const Node& s, const Json& v, const std::string& path, bool structural) {
    if (v.is_null()) {
      if ((!s.type.empty() || s.int_or_string) && !s.nullable) errs_.push_back(fe::wrong_type(path, type_label(s), v));
      return;
    }
    if (!type_matches(s, v)) {
      errs_.push_back(fe::wrong_type(path, type_label(s), v));
      return;
    }
    combinators(s, v, path);
    if (v.is_string()) strings(s, v, path);
    if (v.is_number()) numbers(s, v, path);
    if (v.is_array()) arrays(s, v, path, structural);
    if (!s.enum_values.empty()) enums(s, v, path);
    if (v.is_object()) objects(s, v, path, structural);
  }

 private:
  bool passes(const Node& s, const Json& v, const std::string& path, fe::List* out = nullptr) {
    fe::List sub;
    OpenApi(sub).validate(s, v, path, false);
    const bool ok = sub.empty();
    if (out) *out = std::move(sub);
    return ok;
  }

  void composite(const std::string& path, const Json& v, const std::string& what) {
    errs_.push_back(fe::invalid(path, fe::quote(fe::type_name(v)), fe::quote(path) + " " + what));
  }

  // kube-openapi schema_props.go; Istio uses oneOf/not/anyOf for "only one of" constraints.
  void combinators(const Node& s, const Json& v, const std::string& path) {
    if (!s.all_of.empty()) {
      size_t ok = 0;
      for (const auto& sub : s.all_of) {
        fe::List e;
        ok += passes(*sub, v, path, &e);
        errs_.insert(errs_.end(), e.begin(), e.end());
      }
      if (ok != s.all_of.size())
        composite(path, v, std::string("must validate all the schemas (allOf)") + (ok == 0 ? ". None validated" : ""));
    }
    if (!s.any_of.empty()) {
      bool any = false;
      fe::List best;
      bool have_best = false;
      for (const auto& sub : s.any_of) {
        fe::List e;
        if (passes(*sub, v, path, &e)) {
          any = true;
          break;
        }
        if (!have_best || e.size() < best.size()) best = std::move(e), have_best = true;
      }
      if (!any) {
        composite(path, v, "must validate at least one schema (anyOf)");
        errs_.insert(errs_.end(), best.begin(), best.end());
      }
    }
    if (!s.one_of.empty()) {
      size_t valid = 0;
      fe::List best;
      bool have_best = false;
      for (const auto& sub : s.one_of) {
        fe::List e;
        if (passes(*sub, v, path, &e)) {
          ++valid;
        } else if (!have_best || e.size() < best.size()) {
          best = std::move(e);
          have_best = true;
        }
      }
      if (valid != 1) {
        composite(path, v,
                  "must validate one and only one schema (oneOf). " +
                      (valid == 0 ? std::string("Found none valid")
                                  : "Found " + std::to_string(valid) + " valid alternatives"));
        if (valid == 0) errs_.insert(errs_.end(), best.begin(), best.end());
      }
    }
    if (s.not_ && passes(*s.not_, v, path)) composite(path, v, "must not validate the schema (not)");
  }

  void strings(const Node& s, const Json& v, const std::string& path) {
    const std::string& str = v.get_ref<const std::string&>();
    const size_t len = rune_count(str);
    if (s.min_length && static_cast<long long>(len) < *s.min_length)
      errs_.push_back(fe::invalid(path, v, path + " in body should be at least " + std::to_string(*s.min_length) + " chars long"));
    if (s.max_length && static_cast<long long>(len) > *s.max_length) errs_.push_back(fe::too_long(path, *s.max_length));
    if (s.pattern_re && !RE2::PartialMatch(str, *s.pattern_re))
      errs_.push_back(fe::invalid(path, v, path + " in body should match '" + s.pattern + "'"));
    if (!s.format.empty()) {
      const std::string bad = format_error(s.format, str);
      if (!bad.empty())
        errs_.push_back(fe::type_invalid(path, fe::quote(str), path + " in body must be of type " + bad + ": " + fe::quote(str)));
    }
  }

  void numbers(const Node& s, const Json& v, const std::string& path) {
    const double d = v.get<double>();
    if (s.minimum && (s.exclusive_minimum ? d <= *s.minimum : d < *s.minimum))
      errs_.push_back(fe::invalid(path, v,
                                  path + " in body should be greater than " + (s.exclusive_minimum ? "" : "or equal to ") +
                                      fe::go_float(*s.minimum)));
    if (s.maximum && (s.exclusive_maximum ? d >= *s.maximum : d > *s.maximum))
      errs_.push_back(fe::invalid(path, v,
                                  path + " in body should be less than " + (s.exclusive_maximum ? "" : "or equal to ") +
                                      fe::go_float(*s.maximum)));
  }

  void arrays(const Node& s, const Json& v, const std::string& path, bool structural) {
    if (s.items)
      for (size_t i = 0; i < v.size(); ++i) validate(*s.items, v[i], path_index(path, i), structural);
    const long long n = static_cast<long long>(v.size());
    if (s.min_items && n < *s.min_items)
      errs_.push_back(fe::invalid(path, Json(n), path + " in body should have at least " + std::to_string(*s.min_items) + " items"));
    if (s.max_items && n > *s.max_items) errs_.push_back(fe::too_many(path, n, *s.max_items));
  }

  void enums(const Node& s, const Json& v, const std::string& path) {
    std::vector<std::string> allowed;
    for (const Json& e : s.enum_values) {
      if (e == v) return;
      allowed.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    }
    errs_.push_back(fe::not_supported(path, v, allowed));
  }

  void objects(const Node& s, const Json& v, const std::string& path, bool structural) {
    const long long n = static_cast<long long>(v.size());
    // kube-openapi returns right after a property-count failure.
    if (s.min_properties && n < *s.min_properties) {
      errs_.push_back(fe::invalid(path, Json(n),
                                  path + " in body should have at least " + std::to_string(*s.min_properties) + " properties"));
      return;
    }
    if (s.max_properties && n > *s.max_properties) {
      errs_.push_back(fe::too_many(path, n, *s.max_properties));
      return;
    }
    for (const auto& [key, value] : v.items()) {
      const auto p = s.properties.find(key);
      if (p != s.properties.end()) {
        validate(*p->second, value, path_field(path, key), structural);
      } else if (s.additional_properties) {
        validate(*s.additional_properties, value, path_key(path, key), structural);
      } else if (structural && !s.preserve_unknown) {
        // What `kubectl apply --validate=strict` (server-side field validation) reports.
        errs_.push_back(fe::unknown_field(path_field(path, key)));
      }
    }
    for (const std::string& key : s.required)
      if (!v.contains(key)) errs_.push_back(fe::required(path_field(path, key)));
  }

  fe::List& errs_;
};

std::string rule_message(const crdschema::Rule& r) {
  // messageExpression needs a CEL string result, which ctrl/cel does not
  // return; `message` is the documented fallback.
  if (!r.message.empty()) return r.message;
  return "failed rule: " + r.rule;
}

}  // namespace

void validate_openapi(const Node& s, const Json& v, const std::string& path, fe::List& errs) {
  OpenApi(errs).validate(s, v, path, true);
}

// x-kubernetes-list-type set/map: items (or their key fields) must be unique
// (apiextensions-apiserver pkg/apiserver/schema/listtype).
void validate_list_types(const Node& s, const Json& v, const std::string& path, fe::List& errs) {
  if (v.is_null() || !type_matches(s, v)) return;
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      const auto p = s.properties.find(key);
      if (p != s.properties.end()) validate_list_types(*p->second, value, path_field(path, key), errs);
      else if (s.additional_properties) validate_list_types(*s.additional_properties, value, path_key(path, key), errs);
    }
    return;
  }
  if (!v.is_array()) return;
  if (s.list_type == "set") {
    for (size_t j = 0; j < v.size(); ++j)
      for (size_t i = 0; i < j; ++i)
        if (v[i] == v[j]) {
          errs.push_back(fe::duplicate(path_index(path, j), v[j]));
          break;
        }
  } else if (s.list_type == "map" && !s.list_map_keys.empty()) {
    std::vector<Json> seen;
    for (size_t j = 0; j < v.size(); ++j) {
      if (!v[j].is_object()) continue;
      Json key = Json::object();
      for (const std::string& k : s.list_map_keys)
        if (v[j].contains(k)) key[k] = v[j][k];
      bool dup = false;
      for (const Json& prev : seen) dup = dup || prev == key;
      if (dup) errs.push_back(fe::duplicate(path_index(path, j), key));
      else seen.push_back(std::move(key));
    }
  }
  if (s.items)
    for (size_t i = 0; i < v.size(); ++i) validate_list_types(*s.items, v[i], path_index(path, i), errs);
}

// Every x-kubernetes-validations rule, with `self` bound to the value at its
// node (apiextensions-apiserver pkg/apiserver/schema/cel/validation.go).
void validate_rules(const Node& s, const Json& v, const std::string& path, fe::List& errs) {
  if (v.is_null() || !type_matches(s, v)) return;
  const std::string shown = fe::quote(s.type);
  for (const crdschema::Rule& rule : s.rules) {
    // Transition rules compare with the stored object; a create (all linegate
    // ever checks) has none, and the API server skips them too.
    if (rule.rule.find("oldSelf") != std::string::npos) continue;
    std::string at = path;
    if (!rule.field_path.empty()) at += rule.field_path.front() == '.' ? rule.field_path : "." + rule.field_path;
    if (!rule.program) {
      fe::Error e = fe::invalid(at, shown, "rule not checked: linegate's CEL subset cannot compile it (" +
                                               rule.compile_error + "): " + rule.rule);
      e.warning = true;
      errs.push_back(std::move(e));
      continue;
    }
    cel::EvalResult res;
    try {
      res = cel::evaluate(*rule.program, v);
    } catch (const std::exception& ex) {
      res.kind = cel::EvalResult::Kind::error;
      res.error = ex.what();
    }
    if (res.kind == cel::EvalResult::Kind::violated) errs.push_back(fe::invalid(at, shown, rule_message(rule)));
    else if (res.kind == cel::EvalResult::Kind::error)
      errs.push_back(fe::invalid(at, shown, res.error + " evaluating rule: " + rule_message(rule)));
  }
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      const auto p = s.properties.find(key);
      if (p != s.properties.end()) validate_rules(*p->second, value, path_field(path, key), errs);
      else if (s.additional_properties) validate_rules(*s.additional_properties, value, path_key(path, key), errs);
    }
  } else if (v.is_array() && s.items) {
    for (size_t i = 0; i < v.size(); ++i) validate_rules(*s.items, v[i], path_index(path, i), errs);
  }
}

bool has_rules(const Node& s) {
  if (!s.rules.empty()) return true;
  for (const auto& [k, p] : s.properties)
    if (has_rules(*p)) return true;
  return (s.additional_properties && has_rules(*s.additional_properties)) || (s.items && has_rules(*s.items));
}

}  // namespace lg::ctrl::crdschema
