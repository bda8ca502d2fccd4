#include "ctrl/validate/regex.h"

#include <hs/hs.h>
#include <re2/re2.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>


namespace lg::ctrl::validate {

namespace {

// Istio's webhook rejects longer patterns (Envoy's RE2 program-size limit is
// approximated by length).
constexpr size_t kMaxRegexLength = 1024;
constexpr std::string_view kAnchorPrefix = "^(?:";

// Hyperscan reports "... at index N" in the anchored pattern; make N point
// into what the user wrote.
std::string fix_index(std::string msg) {
  const std::string key = " at index ";
  const size_t at = msg.rfind(key);
  if (at == std::string::npos) return msg;
  size_t i = at + key.size(), n = 0;
  bool digits = false;
  while (i < msg.size() && msg[i] >= '0' && msg[i] <= '9') {
    n = n * 10 + static_cast<size_t>(msg[i] - '0');
    ++i;
    digits = true;
  }
  if (!digits || n < kAnchorPrefix.size()) return msg;
  return msg.substr(0, at + key.size()) + std::to_string(n - kAnchorPrefix.size()) + msg.substr(i);
}

}  // namespace

unsigned route_regex_hs_flags() { return HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | HS_FLAG_UTF8; }

std::string route_regex_anchored(std::string_view re) {
  return std::string(kAnchorPrefix) + std::string(re) + ")$";
}

namespace {

std::optional<std::string> check_uncached(std::string_view re) {
  const std::string q = "regex \"" + std::string(re) + "\"";
  if (re.size() > kMaxRegexLength)
    return q + " is too large, max length allowed is " + std::to_string(kMaxRegexLength);
  if (re.find('\0') != std::string_view::npos) return q + " is not supported: NUL character in pattern";

  // hs_expression_info parses and analyses the pattern as hs_compile does
  // (same errors for unsupported syntax) without building a database, which
  // costs ~35x less; only resource limits ("Pattern is too large") are left
  // to the router's compile, and RE2's repeat limit below catches most.
  const std::string anchored = route_regex_anchored(re);
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc = hs_expression_info(anchored.c_str(), route_regex_hs_flags(), &info, &err);
  std::optional<std::string> out;
  if (rc != HS_SUCCESS)
    out = q + " is not supported: " + fix_index(err != nullptr && err->message != nullptr ? err->message : "compile failed");
  std::free(info);  // allocated with Hyperscan's misc allocator, malloc by default
  if (err != nullptr) hs_free_compile_error(err);
  if (out) return out;

  // Istio's webhook checks RE2 syntax; a pattern Hyperscan accepts but RE2
  // does not (e.g. "(?<name>x)") would be rejected by Istio.
  RE2::Options opts;
  opts.set_log_errors(false);
  const RE2 r(re2::StringPiece(re.data(), re.size()), opts);
  if (!r.ok()) return q + " is not valid RE2 syntax: " + r.error() + "; Istio uses RE2 style regex-based match";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_route_regex(std::string_view re) {
  // Large configurations repeat the same few patterns across thousands of
  // routes; remember the verdicts (bounded, since the agent runs for long).
  static std::mutex mu;
  static std::unordered_map<std::string, std::optional<std::string>> cache;
  constexpr size_t kMaxCached = 65536;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (const auto it = cache.find(std::string(re)); it != cache.end()) return it->second;
  }
  auto verdict = check_uncached(re);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= kMaxCached) cache.clear();
  cache.emplace(std::string(re), verdict);
  return verdict;
}

}  // namespace lg::ctrl::validate
