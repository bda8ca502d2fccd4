#include "ctrl/compile/peer_authentication.h"

#include <algorithm>

namespace lg::ctrl::compile {

namespace {

// "UNSET" and absent both inherit.
std::optional<pb::MtlsMode> mtls_mode(const Json* mtls) {
  if (!mtls) return std::nullopt;
  const std::string mode = str(*mtls, "mode", "UNSET");
  if (mode == "STRICT") return pb::MTLS_STRICT;
  if (mode == "PERMISSIVE") return pb::MTLS_PERMISSIVE;
  if (mode == "DISABLE") return pb::MTLS_DISABLE;
  return std::nullopt;
}

Labels selector_of(const Resource& r) {
  const Json* sel = field(spec_of(r), "selector");
  return sel ? string_map(field(*sel, "matchLabels")) : Labels{};
}

}  // namespace

PeerAuthentications::PeerAuthentications(Context& ctx) {
  for (const Resource* r : ctx.of(kSecurity, "PeerAuthentication")) {
    const Json& spec = spec_of(*r);
    if (field(spec, "targetRef") || field(spec, "targetRefs")) {
      ctx.warn(r->kind + " " + ns_name(*r) + ": targetRef policies are not applied to Istio gateways");
      continue;
    }
    policies_.push_back(r);
  }
}

pb::PeerAuthentication PeerAuthentications::compose(const std::string& ns, const Labels& labels) const {
  const Resource *mesh = nullptr, *ns_wide = nullptr, *workload = nullptr;
  for (const Resource* r : policies_) {
    if (r->ns != ns && r->ns != kRootNamespace) continue;
    const Labels selector = selector_of(*r);
    if (selector.empty()) {
      const Resource*& slot = r->ns == kRootNamespace ? mesh : ns_wide;
      if (!slot) slot = r;
    } else if (r->ns == ns && r->ns != kRootNamespace && !workload && selector_matches(selector, labels)) {
      // Selectors in the root namespace select nothing (istiod: workload
      // policies live outside it).
      workload = r;
    }
  }
  pb::PeerAuthentication out;
  pb::MtlsMode mode = pb::MTLS_PERMISSIVE;
  bool mode_set = false;
  for (const Resource* r : {mesh, ns_wide, workload}) {
    if (!r) continue;
    out.add_policies(ns_name(*r));
    if (const auto m = mtls_mode(field(spec_of(*r), "mtls"))) {
      mode = *m;
      mode_set = true;
    }
  }
  out.set_mode(mode);
  out.set_mode_set(mode_set);
  if (!workload) return out;
  const Json* plm = field(spec_of(*workload), "portLevelMtls");
  if (!plm || !plm->is_object()) return out;
  std::vector<pb::PortMtls> ports;
  for (const auto& [port, m] : plm->items()) {
    const auto port_mode = mtls_mode(&m);
    const uint64_t number = port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)
                                ? 0
                                : std::stoull(port);
    if (!port_mode || number == 0 || number > 65535) continue;  // UNSET inherits; analyze() refused bad ports
    pb::PortMtls p;
    p.set_port(static_cast<uint32_t>(number));
    p.set_mode(*port_mode);
    ports.push_back(p);
  }
  std::sort(ports.begin(), ports.end(), [](const pb::PortMtls& a, const pb::PortMtls& b) { return a.port() < b.port(); });
  for (const pb::PortMtls& p : ports) *out.add_port_level() = p;
  return out;
}

std::optional<pb::MtlsMode> mtls_mode_for_port(const pb::PeerAuthentication& pa, uint32_t port) {
  for (const pb::PortMtls& p : pa.port_level())
    if (p.port() == port) return p.mode();
  if (pa.mode_set()) return pa.mode();
  return std::nullopt;
}

}  // namespace lg::ctrl::compile
