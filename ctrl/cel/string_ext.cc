#include "ctrl/cel/string_ext.h"

#include "ctrl/cel/functions.h"

#include <re2/re2.h>

#include <algorithm>
#include <optional>

namespace lg::ctrl::cel {
namespace {

// --- UTF-8: CEL strings index by code point ------------------------------

// Byte offsets of each code point; invalid bytes count as one code point each.
std::vector<size_t> code_points(const std::string& s) {
  std::vector<size_t> offs;
  offs.reserve(s.size() + 1);
  size_t i = 0;
  while (i < s.size()) {
    offs.push_back(i);
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) len = 1;
    i += len;
  }
  offs.push_back(s.size());
  return offs;
}

Value index_error(int64_t i) { return make_error("index out of range: " + std::to_string(i)); }

// --- string extension -------------------------------------------------------

bool is_int(const Value& v) { return v.is<int64_t>(); }

Value substring(const std::string& s, int64_t start, std::optional<int64_t> end_opt) {
  auto cps = code_points(s);
  int64_t len = static_cast<int64_t>(cps.size() - 1);
  int64_t end = end_opt.value_or(len);
  if (end_opt && start > end)
    return make_error("invalid substring range. start: " + std::to_string(start) + ", end: " + std::to_string(end));
  if (start < 0 || start > len) return index_error(start);
  if (end < 0 || end > len) return index_error(end);
  return Value(s.substr(cps[static_cast<size_t>(start)], cps[static_cast<size_t>(end)] - cps[static_cast<size_t>(start)]));
}

// Code-point index of `sub` in `s` at or after code point `from`.
int64_t find_cp(const std::string& s, const std::string& sub, int64_t from, bool last) {
  auto cps = code_points(s);
  int64_t len = static_cast<int64_t>(cps.size() - 1);
  if (last) {
    for (int64_t i = std::min(from, len); i >= 0; --i)
      if (s.compare(cps[static_cast<size_t>(i)], sub.size(), sub) == 0) return i;
    return -1;
  }
  for (int64_t i = from; i <= len; ++i)
    if (s.compare(cps[static_cast<size_t>(i)], sub.size(), sub) == 0 && cps[static_cast<size_t>(i)] + sub.size() <= s.size())
      return i;
  return -1;
}

Value index_of(const std::string& s, const std::string& sub, std::optional<int64_t> offset, bool last) {
  int64_t len = cp_count(s);
  if (sub.empty()) return Value(offset.value_or(last ? len : 0));
  if (offset && (*offset < 0 || *offset >= len)) return index_error(*offset);
  return Value(find_cp(s, sub, offset.value_or(last ? len : 0), last));
}

std::string ascii_case(std::string s, bool upper) {
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// strings.TrimSpace: ASCII whitespace plus the Unicode spaces Go knows.
std::string trim_space(const std::string& s) {
  static const std::vector<std::string> spaces = {
      " ", "\t", "\n", "\v", "\f", "\r", "\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81",
      "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87",
      "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF",
      "\xE2\x81\x9F", "\xE3\x80\x80"};
  size_t b = 0, e = s.size();
  for (bool again = true; again;) {
    again = false;
    for (const auto& sp : spaces)
      if (s.compare(b, sp.size(), sp) == 0 && b + sp.size() <= e) {
        b += sp.size();
        again = true;
      }
  }
  for (bool again = true; again;) {
    again = false;
    for (const auto& sp : spaces)
      if (e >= b + sp.size() && s.compare(e - sp.size(), sp.size(), sp) == 0) {
        e -= sp.size();
        again = true;
      }
  }
  return s.substr(b, e - b);
}

// strings.SplitN (n < 0: all).
Value split(const std::string& s, const std::string& sep, int64_t n) {
  std::vector<Value> out;
  if (n == 0) return make_list({});
  if (sep.empty()) {
    auto cps = code_points(s);
    size_t count = cps.size() - 1;
    for (size_t i = 0; i < count; ++i) {
      if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) {
        out.push_back(Value(s.substr(cps[i])));
        return make_list(std::move(out));
      }
      out.push_back(Value(s.substr(cps[i], cps[i + 1] - cps[i])));
    }
    return make_list(std::move(out));
  }
  size_t start = 0;
  while (n < 0 || static_cast<int64_t>(out.size()) < n - 1) {
    size_t at = s.find(sep, start);
    if (at == std::string::npos) break;
    out.push_back(Value(s.substr(start, at - start)));
    start = at + sep.size();
  }
  out.push_back(Value(s.substr(start)));
  return make_list(std::move(out));
}

// strings.Replace (n < 0: all).
std::string replace(const std::string& s, const std::string& from, const std::string& to, int64_t n) {
  if (n == 0) return s;
  std::string out;
  if (from.empty()) {
    // Go inserts `to` before each code point and at the end.
    auto cps = code_points(s);
    int64_t done = 0;
    for (size_t i = 0; i + 1 < cps.size(); ++i) {
      if (n < 0 || done < n) {
        out += to;
        ++done;
      }
      out += s.substr(cps[i], cps[i + 1] - cps[i]);
    }
    if (n < 0 || done < n) out += to;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (n < 0 || done < n) {
    size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out += s.substr(start, at - start) + to;
    start = at + from.size();
    ++done;
  }
  return out + s.substr(start);
}

}  // namespace

Value string_method(const Node& node, const std::string& s, const Value& recv, const std::vector<Value>& a) {
  const std::string& fn = node.name;
  auto str_arg = [&](size_t i) -> const std::string* { return i < a.size() && a[i].is<std::string>() ? &a[i].as<std::string>() : nullptr; };
  auto overload = [&]() {
    std::vector<const Value*> ptrs{&recv};
    for (const auto& v : a) ptrs.push_back(&v);
    return no_such_overload(fn, ptrs);
  };
  if (fn == "size" && a.empty()) return Value(cp_count(s));
  if (fn == "contains" || fn == "startsWith" || fn == "endsWith" || fn == "matches") {
    const std::string* x = str_arg(0);
    if (!x) return overload();
    if (fn == "contains") return Value(s.find(*x) != std::string::npos);
    if (fn == "startsWith") return Value(s.compare(0, x->size(), *x) == 0 && s.size() >= x->size());
    if (fn == "endsWith") return Value(s.size() >= x->size() && s.compare(s.size() - x->size(), x->size(), *x) == 0);
    return regex_match(node, s, *x);
  }
  if (fn == "substring") {
    if (!is_int(a[0]) || (a.size() == 2 && !is_int(a[1]))) return overload();
    return substring(s, a[0].as<int64_t>(), a.size() == 2 ? std::optional<int64_t>(a[1].as<int64_t>()) : std::nullopt);
  }
  if (fn == "charAt") {
    if (!is_int(a[0])) return overload();
    int64_t i = a[0].as<int64_t>();
    if (i < 0 || i > cp_count(s)) return index_error(i);
    return substring(s, i, i == cp_count(s) ? i : i + 1);
  }
  if (fn == "indexOf" || fn == "lastIndexOf") {
    const std::string* x = str_arg(0);
    if (!x || (a.size() == 2 && !is_int(a[1]))) return overload();
    return index_of(s, *x, a.size() == 2 ? std::optional<int64_t>(a[1].as<int64_t>()) : std::nullopt,
                    fn == "lastIndexOf");
  }
  if (fn == "lowerAscii" || fn == "upperAscii") return Value(ascii_case(s, fn == "upperAscii"));
  if (fn == "trim") return Value(trim_space(s));
  if (fn == "split") {
    const std::string* sep = str_arg(0);
    if (!sep || (a.size() == 2 && !is_int(a[1]))) return overload();
    return split(s, *sep, a.size() == 2 ? a[1].as<int64_t>() : -1);
  }
  if (fn == "replace") {
    const std::string* from = str_arg(0);
    const std::string* to = str_arg(1);
    if (!from || !to || (a.size() == 3 && !is_int(a[2]))) return overload();
    return Value(replace(s, *from, *to, a.size() == 3 ? a[2].as<int64_t>() : -1));
  }
  return overload();
}

Value regex_match(const Node& node, const std::string& text, const std::string& pattern) {
  std::shared_ptr<const re2::RE2> re = node.regex;
  if (!re) {
    std::string err;
    re = compile_regex(pattern, err);
    if (!re) return make_error(err);
  }
  // CEL's matches() is a search, not a full match (cel-go uses regexp.MatchString).
  return Value(re2::RE2::PartialMatch(text, *re));
}

int64_t cp_count(const std::string& s) { return static_cast<int64_t>(code_points(s).size() - 1); }

}  // namespace lg::ctrl::cel
