// validate_semantics(): the per-kind checks of Istio's validation webhook,
// dispatched by API group and kind.
#include "ctrl/validate/analyze.h"
#include "ctrl/validate/checks.h"

#include <exception>

namespace lg::ctrl {

namespace {

using Check = void (*)(const validate::Ctx&);

Check check_for(const Resource& r) {
  using namespace validate;
  struct Entry {
    std::string_view group, kind;
    Check fn;
  };
  static const Entry table[] = {
      {"networking.istio.io", "VirtualService", check_virtual_service},
      {"networking.istio.io", "Gateway", check_gateway},
      {"networking.istio.io", "DestinationRule", check_destination_rule},
      {"networking.istio.io", "ServiceEntry", check_service_entry},
      {"networking.istio.io", "WorkloadEntry", check_workload_entry},
      {"networking.istio.io", "Sidecar", check_sidecar},
      {"networking.istio.io", "EnvoyFilter", check_envoy_filter},
      {"security.istio.io", "PeerAuthentication", check_peer_authentication},
      {"security.istio.io", "AuthorizationPolicy", check_authorization_policy},
      {"security.istio.io", "RequestAuthentication", check_request_authentication},
      {"telemetry.istio.io", "Telemetry", check_telemetry},
      {"", "Service", check_k8s_service},
      {"", "Endpoints", check_k8s_endpoints},
      {"", "Secret", check_k8s_secret},
      {"", "ConfigMap", check_mesh_config},
      {"discovery.k8s.io", "EndpointSlice", check_k8s_endpoint_slice},
  };
  for (const Entry& e : table)
    if (e.group == r.group && e.kind == r.kind) return e.fn;
  return nullptr;
}

}  // namespace

void validate_semantics(const std::vector<Resource>& resources, Diagnostics& diags) {
  for (const Resource& r : resources) {
    const Check fn = check_for(r);
    if (fn == nullptr) continue;
    try {
      fn(validate::Ctx{r, diags});
    } catch (const std::exception& e) {
      // A check tripping over an unexpected shape must not take the rest down.
      diags.error(r, "", std::string("internal error while validating: ") + e.what());
    }
  }
}

}  // namespace lg::ctrl
