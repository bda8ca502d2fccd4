// Internal to ctrl/validate: the per-kind semantic checks validate_semantics()
// dispatches to, and pieces shared between them.
#pragma once

#include "ctrl/validate/util.h"

namespace lg::ctrl::validate {

void check_virtual_service(const Ctx& c);
void check_gateway(const Ctx& c);
void check_destination_rule(const Ctx& c);
void check_service_entry(const Ctx& c);
void check_workload_entry(const Ctx& c);
void check_sidecar(const Ctx& c);
void check_peer_authentication(const Ctx& c);
void check_authorization_policy(const Ctx& c);
void check_request_authentication(const Ctx& c);
void check_telemetry(const Ctx& c);
void check_envoy_filter(const Ctx& c);
void check_k8s_service(const Ctx& c);
void check_k8s_endpoints(const Ctx& c);
void check_k8s_endpoint_slice(const Ctx& c);
void check_k8s_secret(const Ctx& c);
void check_mesh_config(const Ctx& c);  // ConfigMap istio-system/istio; other ConfigMaps pass

// Cross-resource: the access log providers Telemetries name, against the MeshConfig.
void check_access_log_providers(const std::vector<Resource>& resources, Diagnostics& d);

// Shared field checks (path is the field's own path).
void check_duration_field(const Ctx& c, const Json* parent, std::string_view key, const std::string& base);
void check_port_field(const Ctx& c, const Json* parent, std::string_view key, const std::string& base);
void check_labels_map(const Ctx& c, const Json* parent, std::string_view key, const std::string& base);
// spec.selector / workloadSelector {matchLabels|labels: {...}}: no empty keys, no wildcards.
void check_workload_selector(const Ctx& c, const Json* selector, std::string_view labels_key, const std::string& path);
void check_export_to(const Ctx& c, const Json* spec, bool is_service_entry);
// Kubernetes label key/value syntax (qualified name / value).
std::optional<std::string> check_label_key(std::string_view key);
std::optional<std::string> check_label_value(std::string_view value);

// Istio's protocol names (protocol.Parse, case-insensitive); "" when unknown.
std::string canonical_protocol(std::string_view p);
bool protocol_is_http(std::string_view canonical);  // HTTP, HTTP2, GRPC, GRPC-WEB
bool protocol_is_tls(std::string_view canonical);   // HTTPS, TLS

}  // namespace lg::ctrl::validate
