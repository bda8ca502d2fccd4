// The service registry a gateway routes to, built the way istiod builds its
// own: ServiceEntry hosts (inline endpoints, or WorkloadEntries picked by
// workloadSelector) and Kubernetes Services (`<name>.<ns>.svc.cluster.local`,
// endpoints from EndpointSlice, else Endpoints, plus WorkloadEntries the
// Service selects). Pods, when present, lend their labels, service account
// and tls mode to the endpoints that point at them.
#pragma once

#include "ctrl/compile/context.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lg::ctrl::compile {

struct ServicePort {
  std::string name;
  uint32_t number = 0;
  pb::Protocol protocol = pb::PROTOCOL_UNSPECIFIED;
  uint32_t target_port = 0;
  std::string target_port_name;  // Kubernetes named targetPort
};

struct Workload {
  std::string address;
  Labels labels;
  pb::Locality locality;
  std::string network;
  uint32_t weight = 1;
  std::string service_account;
  pb::HealthStatus status = pb::HEALTHY;
  std::string tls_mode;
  std::string source;
  std::map<std::string, uint32_t> ports;  // port name → number
  // Kubernetes endpoints: a service port is served only where a port of the
  // same name is listed.
  bool ports_by_name_only = false;
};

struct Service {
  std::string hostname;
  std::string ns;
  std::string source;  // "ServiceEntry ns/name", "Service ns/name"
  bool kubernetes = false;
  std::vector<ServicePort> ports;
  pb::DiscoveryType discovery = pb::DISCOVERY_EDS;
  bool mesh_external = false;
  std::vector<std::string> export_to;
  std::vector<Workload> workloads;
  std::vector<std::string> subject_alt_names;

  const ServicePort* port(uint32_t number) const;
};

// Port an endpoint serves `port` on; 0 when it does not serve it.
uint32_t endpoint_port(const Service& svc, const ServicePort& port, const Workload& w);

// The gateway's view of egress (Sidecar resource in its namespace, else the
// root namespace's), which also narrows the registry it sees.
struct OutboundScope {
  pb::OutboundPolicy policy;
  std::vector<std::pair<std::string, std::string>> egress;  // (namespace or "*", host)
  bool admits(const Service& svc) const;
};
OutboundScope build_outbound_scope(Context& ctx);

pb::Protocol parse_protocol(std::string_view name);

class Registry {
 public:
  Registry(Context& ctx, const OutboundScope& scope);

  // The service for `host` this gateway sees: the one in `preferred_ns` if
  // visible, else the first visible by namespace (istiod: the oldest).
  const Service* lookup(const std::string& host, const std::string& preferred_ns) const;
  // One service per visible hostname (as lookup() from the gateway namespace), sorted by hostname.
  std::vector<const Service*> visible() const;

 private:
  void add_service_entries(Context& ctx);
  void add_kubernetes_services(Context& ctx);
  bool is_visible(const Service& svc) const;

  const Context& ctx_;
  const OutboundScope& scope_;
  std::vector<Service> services_;  // sorted by (hostname, ns)
};

}  // namespace lg::ctrl::compile
