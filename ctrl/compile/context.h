// What every compiler pass reads: the resources in a canonical order, the
// node, the MeshConfig, and the warnings collected on the way.
#pragma once

#include "ctrl/compile/compiler.h"
#include "ctrl/compile/util.h"
#include "ctrl/validate/mesh_config.h"

#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl::compile {

namespace pb = linegate::snapshot::v1;

inline constexpr std::string_view kNetworking = "networking.istio.io";
inline constexpr std::string_view kSecurity = "security.istio.io";
inline constexpr std::string_view kTelemetry = "telemetry.istio.io";
inline constexpr std::string_view kCore = "";
inline constexpr std::string_view kDiscovery = "discovery.k8s.io";

class Context {
 public:
  Context(const std::vector<Resource>& resources, const GatewayNode& node);

  const GatewayNode& node() const { return node_; }
  const Labels& node_labels() const { return node_labels_; }
  const std::string& node_ns() const { return node_ns_; }

  // Resources of one kind, sorted by (namespace, name). Input order never
  // matters: duplicates of one kind/ns/name keep the first by content.
  const std::vector<const Resource*>& of(std::string_view group, std::string_view kind) const;
  const Resource* find(std::string_view group, std::string_view kind, const std::string& ns, const std::string& name) const;

  // From ConfigMap istio-system/istio, over istiod's defaults (ctrl/validate/mesh_config.h).
  const MeshConfig& mesh() const { return mesh_; }

  void warn(std::string message) { warnings_.push_back(std::move(message)); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  const GatewayNode& node_;
  Labels node_labels_;
  std::string node_ns_;
  std::vector<std::pair<std::string, std::vector<const Resource*>>> by_kind_;  // key "group/kind", sorted
  MeshConfig mesh_;
  std::vector<std::string> warnings_;
};

// "ns/name" of a resource.
std::string ns_name(const Resource& r);

}  // namespace lg::ctrl::compile
