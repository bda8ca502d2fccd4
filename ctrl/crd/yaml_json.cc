#include "ctrl/crd/yaml_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace lg::ctrl::yamljson {
namespace {

using Json = nlohmann::json;

// Bounds so hostile input fails with a message instead of exhausting the
// stack (deep nesting) or memory (aliases that expand exponentially).
constexpr int kMaxDepth = 256;

const std::string kTagPrefix = "tag:yaml.org,2002:";

bool all_of(const std::string& s, size_t from, bool (*pred)(char)) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i)
    if (!pred(s[i])) return false;
  return true;
}
bool is_dec(char c) { return c >= '0' && c <= '9'; }
bool is_oct(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Core schema int: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
bool parse_int(const std::string& s, Json& out) {
  int base = 10;
  size_t start = 0;
  bool neg = false;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_of(s, 2, is_oct)) {
    base = 8;
    start = 2;
  } else if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_of(s, 2, is_hex)) {
    base = 16;
    start = 2;
  } else {
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
      neg = s[0] == '-';
      start = 1;
    }
    if (!all_of(s, start, is_dec)) return false;
  }
  errno = 0;
  const std::string digits = s.substr(start);
  const unsigned long long mag = std::strtoull(digits.c_str(), nullptr, base);
  if (errno == ERANGE) {
    // Larger than 64 bits: JSON has no limit, Go's decoder turns it into a float.
    out = std::strtod(s.c_str(), nullptr);
    return true;
  }
  if (neg) {
    if (mag > static_cast<unsigned long long>(std::numeric_limits<long long>::max()) + 1ULL) {
      out = -static_cast<double>(mag);
    } else {
      out = mag == 0 ? 0LL : -static_cast<long long>(mag - 1) - 1;
    }
  } else if (mag <= static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
    out = static_cast<long long>(mag);
  } else {
    out = mag;
  }
  return true;
}

// Core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and .inf/.nan.
bool parse_float(const std::string& s, Json& out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  const std::string rest = s.substr(i);
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") {
    // JSON cannot carry infinities; kubectl's conversion fails on them too.
    out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (i == 0 && (s == ".nan" || s == ".NaN" || s == ".NAN")) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && is_dec(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_dec(s[i])) ++i, ++frac_digits;
  } else if (int_digits == 0) {
    return false;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_dec(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != s.size()) return false;
  out = std::strtod(s.c_str(), nullptr);
  return true;
}

struct Converter {
  std::vector<Issue>& issues;
  size_t max_nodes;
  const std::string* source;
  size_t nodes = 0;

  // go-yaml ends a plain scalar at ':' only when a blank follows, so in
  // `[1.2.3.4, 001:db8::]` the item is the string "001:db8::"; yaml-cpp (YAML
  // 1.2) reads `001:db8::]` as the one-pair mapping {"001:db8:": null}.
  // Istio's corpus writes IPv6 addresses this way, so such items are turned
  // back into the string kubectl would send.
  bool go_yaml_plain_scalar(const YAML::Node& item, std::string& out) const {
    if (source == nullptr || !item.IsMap() || item.size() != 1) return false;
    const auto kv = *item.begin();
    const YAML::Node& k = kv.first;
    if (!k.IsScalar() || k.Tag() != "?" || !kv.second.IsNull()) return false;
    const std::string& key = k.Scalar();
    const int pos = k.Mark().pos;
    if (pos < 0) return false;
    const size_t colon = static_cast<size_t>(pos) + key.size();
    if (colon + 1 >= source->size() || source->compare(static_cast<size_t>(pos), key.size(), key) != 0) return false;
    const char next = (*source)[colon + 1];
    if ((*source)[colon] != ':' || (next != ',' && next != ']' && next != '}')) return false;
    out = key + ":";
    return true;
  }

  Json convert(const YAML::Node& n, int depth) {
    if (depth > kMaxDepth) throw std::runtime_error("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    if (++nodes > max_nodes)
      throw std::runtime_error("document expands to more than " + std::to_string(max_nodes) +
                               " values (alias expansion?)");
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar:
        return scalar(n.Scalar(), n.Tag(), issues, n.Mark().line + 1);
      case YAML::NodeType::Sequence: {
        Json arr = Json::array();
        for (const YAML::Node& item : n) {
          std::string text;
          if (go_yaml_plain_scalar(item, text)) arr.push_back(scalar(text, "?", issues, item.Mark().line + 1));
          else arr.push_back(convert(item, depth + 1));
        }
        return arr;
      }
      case YAML::NodeType::Map: {
        Json obj = Json::object();
        std::vector<YAML::Node> merge_holder;
        for (const auto& kv : n) {
          const YAML::Node& k = kv.first;
          // Keys become strings the way Go's YAML→JSON does (80 → "80").
          std::string key = k.IsScalar() ? k.Scalar() : (k.IsNull() ? "null" : "");
          if (!k.IsScalar() && !k.IsNull()) {
            issues.push_back({k.Mark().line + 1, "mapping key is not a scalar; the entry is ignored"});
            continue;
          }
          if (key == "<<" && k.Tag() == "?") {
            // YAML merge key (https://yaml.org/type/merge.html): applied after explicit keys.
            merge_holder.push_back(kv.second);
            continue;
          }
          if (obj.contains(key))
            issues.push_back({k.Mark().line + 1, "duplicate key \"" + key + "\" (the later value wins)"});
          obj[key] = convert(kv.second, depth + 1);
        }
        for (const YAML::Node& m : merge_holder) {
          std::vector<YAML::Node> sources;
          if (m.IsMap()) sources.push_back(m);
          else if (m.IsSequence())
            for (const YAML::Node& s : m) sources.push_back(s);
          for (const YAML::Node& src : sources) {
            if (!src.IsMap()) {
              issues.push_back({src.Mark().line + 1, "merge key \"<<\" needs a mapping or a list of mappings"});
              continue;
            }
            Json merged = convert(src, depth + 1);
            for (auto& [mk, mv] : merged.items())
              if (!obj.contains(mk)) obj[mk] = mv;
          }
        }
        return obj;
      }
    }
    return nullptr;
  }
};

}  // namespace

Json scalar(const std::string& text, const std::string& tag, std::vector<Issue>& issues, int line) {
  // Quoted and block scalars ("!") and explicit !!str stay strings.
  if (tag == "!" || tag == kTagPrefix + "str") return text;
  Json out;
  if (tag == "?" || tag.empty()) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (parse_int(text, out)) return out;
    if (parse_float(text, out)) {
      if (!std::isfinite(out.get<double>()))
        issues.push_back({line, "`" + text + "` has no JSON representation (kubectl rejects it too)"});
      return out;
    }
    return text;
  }
  if (tag == kTagPrefix + "int") {
    if (parse_int(text, out)) return out;
    issues.push_back({line, "cannot decode !!int `" + text + "`"});
    return text;
  }
  if (tag == kTagPrefix + "float") {
    if (parse_float(text, out) || parse_int(text, out)) return out.is_number() ? Json(out.get<double>()) : out;
    issues.push_back({line, "cannot decode !!float `" + text + "`"});
    return text;
  }
  if (tag == kTagPrefix + "bool") {
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    issues.push_back({line, "cannot decode !!bool `" + text + "`"});
    return text;
  }
  if (tag == kTagPrefix + "null") return nullptr;
  // Application tags (!foo) carry no meaning for Kubernetes: type by content.
  return scalar(text, "?", issues, line);
}

Json convert(const YAML::Node& node, std::vector<Issue>& issues, size_t max_nodes, const std::string* source) {
  Converter c{issues, max_nodes, source};
  return c.convert(node, 0);
}

}  // namespace lg::ctrl::yamljson
