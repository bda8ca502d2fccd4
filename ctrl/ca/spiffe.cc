#include "ctrl/ca/spiffe.h"

#include "ctrl/crd/k8s_names.h"

namespace lg::ctrl::ca {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

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
  if (std::string why = k8snames::dns1123_label(id.ns); !why.empty())
    return fail("namespace \"" + id.ns + "\": " + why);
  if (std::string why = k8snames::dns1123_subdomain(id.service_account); !why.empty())
    return fail("service account \"" + id.service_account + "\": " + why);
  return id;
}

}  // namespace lg::ctrl::ca
