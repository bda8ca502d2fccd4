#include "ctrl/cel/duration.h"
#include "ctrl/cel/ascii.h"

#include <charconv>
#include <utility>

namespace lg::ctrl::cel {
namespace {

constexpr uint64_t kLimit = uint64_t{1} << 63;


// Mirrors Go's leadingInt: false on overflow.
bool leading_int(std::string_view& s, uint64_t& x) {
  size_t i = 0;
  x = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (x > kLimit / 10) return false;
    x = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (x > kLimit) return false;
  }
  s.remove_prefix(i);
  return true;
}

// Mirrors Go's leadingFraction: digits past int64 precision are dropped.
void leading_fraction(std::string_view& s, uint64_t& x, double& scale) {
  size_t i = 0;
  x = 0;
  scale = 1;
  bool overflow = false;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (overflow) continue;
    if (x > (kLimit - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > kLimit) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

std::optional<uint64_t> unit_ns(std::string_view u) {
  static const std::pair<std::string_view, uint64_t> units[] = {
      {"ns", 1},
      {"us", 1000},
      {"\xC2\xB5s", 1000},  // U+00B5 micro sign
      {"\xCE\xBCs", 1000},  // U+03BC Greek mu
      {"ms", 1000000},
      {"s", 1000000000},
      {"m", 60ULL * 1000000000},
      {"h", 3600ULL * 1000000000},
  };
  for (const auto& [name, ns] : units)
    if (u == name) return ns;
  return std::nullopt;
}

// Strings here are built with append, not `"x" + std::string(...)`: GCC 12
// at -O3 misreports the latter as overlapping memcpy (-Wrestrict, GCC PR 105651).
std::string quote(std::string_view s) {
  std::string out = "\"";
  out.append(s).append("\"");
  return out;
}

}  // namespace

std::optional<int64_t> parse_go_duration(std::string_view orig, std::string& error) {
  std::string_view s = orig;
  auto invalid = [&]() -> std::optional<int64_t> {
    error = "time: invalid duration ";
    error += quote(orig);
    return std::nullopt;
  };
  uint64_t d = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return invalid();
    size_t before = s.size();
    uint64_t v = 0;
    if (!leading_int(s, v)) return invalid();
    bool pre = before != s.size();
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t b2 = s.size();
      leading_fraction(s, f, scale);
      post = b2 != s.size();
    }
    if (!pre && !post) return invalid();
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !is_digit(s[i])) ++i;
    if (i == 0) {
      error = "time: missing unit in duration ";
      error += quote(orig);
      return std::nullopt;
    }
    std::string_view u = s.substr(0, i);
    s.remove_prefix(i);
    auto unit = unit_ns(u);
    if (!unit) {
      error = "time: unknown unit ";
      error.append(quote(u)).append(" in duration ").append(quote(orig));
      return std::nullopt;
    }
    if (v > kLimit / *unit) return invalid();
    v *= *unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(*unit) / scale));
      if (v > kLimit) return invalid();
    }
    d += v;
    if (d > kLimit) return invalid();
  }
  if (neg) return static_cast<int64_t>(0 - d);
  if (d > kLimit - 1) return invalid();
  return static_cast<int64_t>(d);
}

std::string format_duration(int64_t ns) {
  // Go: strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
  double secs = static_cast<double>(ns / 1000000000) + static_cast<double>(ns % 1000000000) / 1e9;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, secs, std::chars_format::fixed);
  std::string out(buf, res.ptr);
  out += 's';
  return out;
}

}  // namespace lg::ctrl::cel
