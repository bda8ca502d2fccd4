#include "ctrl/crd/kinds.h"

namespace lg::ctrl {
namespace {

constexpr std::string_view kNet = "networking.istio.io";
constexpr std::string_view kSec = "security.istio.io";
constexpr std::string_view kTel = "telemetry.istio.io";
constexpr std::string_view kExt = "extensions.istio.io";
constexpr std::string_view kGwApi = "gateway.networking.k8s.io";

constexpr std::string_view kUseIstioApis =
    "Kubernetes Gateway API is not implemented; use Istio Gateway/VirtualService";

std::vector<KindInfo> build() {
  const std::vector<std::string_view> net{"v1alpha3", "v1beta1", "v1"};
  const std::vector<std::string_view> sec{"v1beta1", "v1"};
  const std::vector<std::string_view> tel{"v1alpha1", "v1"};
  const auto S = KindSupport::supported;
  const auto U = KindSupport::unsupported;
  std::vector<KindInfo> k = {
      // Istio APIs linegate compiles (issue 4; https://istio.io/latest/docs/reference/config/).
      {kNet, "Gateway", net, S, ""},
      {kNet, "VirtualService", net, S, ""},
      {kNet, "DestinationRule", net, S, ""},
      {kNet, "ServiceEntry", net, S, ""},
      {kNet, "WorkloadEntry", net, S, ""},
      {kNet, "Sidecar", net, S, ""},
      {kNet, "EnvoyFilter", {"v1alpha3"}, S,
       "only the local rate limit pattern from Istio's documentation; other patches are reported as unsupported"},
      {kSec, "PeerAuthentication", sec, S,
       "applied where the gateway is a mesh peer: auto mTLS sends plain text to endpoints whose own policy is DISABLE, "
       "and the gateway's policy sets STRICT/PERMISSIVE/DISABLE on its ports whose every server is ISTIO_MUTUAL"},
      {kSec, "AuthorizationPolicy", sec, S, ""},
      {kSec, "RequestAuthentication", sec, S, ""},
      {kTel, "Telemetry", tel, S, ""},
      // Kubernetes objects read as service registry, credential and MeshConfig sources.
      {"", "Service", {"v1"}, S, ""},
      {"", "Endpoints", {"v1"}, S, ""},
      {"", "Secret", {"v1"}, S, ""},
      {"", "ConfigMap", {"v1"}, S, "only istio-system/istio is read: its `mesh` key is Istio's MeshConfig"},
      {"discovery.k8s.io", "EndpointSlice", {"v1"}, S, ""},
      // Istio APIs linegate knows but does not implement.
      {kNet, "WorkloadGroup", net, U,
       "WorkloadGroup drives VM auto-registration by istiod; list the endpoints with WorkloadEntry or ServiceEntry instead"},
      {kNet, "ProxyConfig", {"v1beta1"}, U,
       "ProxyConfig tunes Envoy proxies; linegate's settings come from its bootstrap file"},
      {kExt, "WasmPlugin", {"v1alpha1"}, U, "linegate does not run WebAssembly extensions"},
      {kExt, "TrafficExtension", {"v1alpha1"}, U, "linegate does not run Wasm or Lua extensions"},
      // Kubernetes Gateway API (https://gateway-api.sigs.k8s.io/reference/spec/).
      {kGwApi, "GatewayClass", {"v1", "v1beta1", "v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "Gateway", {"v1", "v1beta1", "v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "HTTPRoute", {"v1", "v1beta1", "v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "GRPCRoute", {"v1", "v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "TCPRoute", {"v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "TLSRoute", {"v1alpha2", "v1alpha3"}, U, kUseIstioApis},
      {kGwApi, "UDPRoute", {"v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "ReferenceGrant", {"v1beta1", "v1alpha2"}, U, kUseIstioApis},
      {kGwApi, "BackendTLSPolicy", {"v1", "v1alpha3", "v1alpha2"}, U, kUseIstioApis},
  };
  return k;
}

std::string join_versions(const std::string& group, const std::vector<std::string_view>& versions) {
  std::string out;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (i) out += i + 1 == versions.size() ? " and " : ", ";
    out += group.empty() ? std::string(versions[i]) : group + "/" + std::string(versions[i]);
  }
  return out;
}

}  // namespace

const std::vector<KindInfo>& all_kinds() {
  static const std::vector<KindInfo> kinds = build();
  return kinds;
}

const KindInfo* find_kind(std::string_view group, std::string_view kind) {
  for (const KindInfo& k : all_kinds())
    if (k.group == group && k.kind == kind) return &k;
  return nullptr;
}

bool version_accepted(const KindInfo& info, std::string_view version) {
  for (std::string_view v : info.versions)
    if (v == version) return true;
  return false;
}

bool check_kind(const Resource& r, Diagnostics& diags) {
  const KindInfo* info = find_kind(r.group, r.kind);
  if (info == nullptr) {
    diags.warning(r, "", "unknown kind " + r.api_version + " " + r.kind + ": linegate ignores it");
    return false;
  }
  if (info->support == KindSupport::unsupported) {
    diags.warning(r, "", r.kind + " (" + std::string(info->group.empty() ? "core" : info->group) +
                             ") is not supported by linegate and is ignored: " + std::string(info->why));
    return false;
  }
  if (!version_accepted(*info, r.version)) {
    diags.error(r, "apiVersion",
                "Unsupported value: \"" + r.api_version + "\": " + r.kind + " is accepted as " +
                    join_versions(std::string(info->group), info->versions));
    return false;
  }
  return true;
}

}  // namespace lg::ctrl
