#include "ctrl/ca/spiffe.h"

namespace lg::ctrl::ca {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63.
bool dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || !lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  for (char c : s)
    if (!lower_alnum(c) && c != '-') return false;
  return true;
}

// RFC 1123 subdomain: labels joined by '.', at most 253.
bool dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!dns_label(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool valid_trust_domain(std::string_view td) {
  if (td.empty() || td.size() > 255) return false;
  for (char c : td)
    if (!lower_alnum(c) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

std::optional<SpiffeId> parse_spiffe_id(std::string_view uri, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<SpiffeId> {
    if (error) *error = "identity \"" + std::string(uri) + "\": " + why;
    return std::nullopt;
  };
  constexpr std::string_view kScheme = "spiffe://";
  if (uri.substr(0, kScheme.size()) != kScheme) return fail("not a spiffe:// URI");
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return fail("no path; expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>");
  SpiffeId id;
  id.trust_domain = std::string(rest.substr(0, slash));
  if (!valid_trust_domain(id.trust_domain)) return fail("invalid trust domain \"" + id.trust_domain + "\"");
  std::string_view path = rest.substr(slash);  // "/ns/<ns>/sa/<sa>"
  constexpr std::string_view kNs = "/ns/", kSa = "/sa/";
  if (path.substr(0, kNs.size()) != kNs) return fail("path must be /ns/<namespace>/sa/<service-account>");
  path.remove_prefix(kNs.size());
  size_t sa = path.find(kSa);
  if (sa == std::string_view::npos) return fail("path must be /ns/<namespace>/sa/<service-account>");
  id.ns = std::string(path.substr(0, sa));
  id.service_account = std::string(path.substr(sa + kSa.size()));
  if (!dns_label(id.ns)) return fail("namespace \"" + id.ns + "\" is not an RFC 1123 label");
  if (!dns_subdomain(id.service_account))
    return fail("service account \"" + id.service_account + "\" is not an RFC 1123 subdomain");
  return id;
}

}  // namespace lg::ctrl::ca
