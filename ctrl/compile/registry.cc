#include "ctrl/compile/registry.h"

#include <algorithm>
#include <set>

namespace lg::ctrl::compile {

namespace {

constexpr std::string_view kTlsModeLabel = "security.istio.io/tlsMode";
constexpr std::string_view kNetworkLabel = "topology.istio.io/network";
constexpr std::string_view kLocalityLabel = "istio-locality";
constexpr std::string_view kExportToAnnotation = "networking.istio.io/exportTo";

// "region/zone/subzone" (WorkloadEntry.locality) or "region.zone.subzone"
// (the istio-locality label, where '/' is not allowed).
pb::Locality parse_locality(const std::string& text, char sep) {
  pb::Locality loc;
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (!parts.empty()) loc.set_region(parts[0]);
  if (parts.size() > 1) loc.set_zone(parts[1]);
  if (parts.size() > 2) loc.set_subzone(parts[2]);
  return loc;
}

Labels metadata_labels(const Resource& r) {
  Labels out;
  for (auto& [k, v] : r.labels()) out[k] = v;
  return out;
}

std::string annotation(const Resource& r, std::string_view key) {
  const Json* md = field(r.obj, "metadata");
  if (!md) return "";
  const Json* ann = field(*md, "annotations");
  if (!ann) return "";
  return str(*ann, key);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      std::string part = s.substr(start, i - start);
      part.erase(0, part.find_first_not_of(' '));
      part.erase(part.find_last_not_of(' ') + 1);
      if (!part.empty()) out.push_back(part);
      start = i + 1;
    }
  }
  return out;
}

// A WorkloadEntry (or a ServiceEntry's inline endpoint, which has the same shape).
Workload workload_from_entry(const Json& we, const Labels& extra_labels, std::string source) {
  Workload w;
  w.address = str(we, "address");
  w.labels = extra_labels;
  for (auto& [k, v] : string_map(field(we, "labels"))) w.labels[k] = v;
  w.network = str(we, "network");
  if (w.network.empty() && w.labels.count(std::string(kNetworkLabel))) w.network = w.labels[std::string(kNetworkLabel)];
  const std::string loc = str(we, "locality");
  if (!loc.empty()) w.locality = parse_locality(loc, '/');
  const uint64_t weight = u64(we, "weight");
  w.weight = weight == 0 ? 1 : static_cast<uint32_t>(std::min<uint64_t>(weight, UINT32_MAX));
  w.service_account = str(we, "serviceAccount");
  // istiod: WorkloadEntries speak Istio mTLS unless labelled otherwise.
  const auto tls = w.labels.find(std::string(kTlsModeLabel));
  w.tls_mode = tls != w.labels.end() ? tls->second : "istio";
  if (const Json* ports = field(we, "ports"); ports && ports->is_object())
    for (const auto& [name, num] : ports->items())
      if (num.is_number_integer()) w.ports[name] = static_cast<uint32_t>(num.get<int64_t>());
  w.source = std::move(source);
  return w;
}

struct PodInfo {
  Labels labels;
  std::string service_account;
  std::string ns;
};

}  // namespace

const ServicePort* Service::port(uint32_t number) const {
  for (const ServicePort& p : ports)
    if (p.number == number) return &p;
  return nullptr;
}

uint32_t endpoint_port(const Service& svc, const ServicePort& port, const Workload& w) {
  (void)svc;
  if (w.ports_by_name_only) {
    const auto it = w.ports.find(port.name);
    return it == w.ports.end() ? 0 : it->second;
  }
  if (const auto it = w.ports.find(port.name); it != w.ports.end()) return it->second;
  if (!port.target_port_name.empty()) {
    const auto it = w.ports.find(port.target_port_name);
    return it == w.ports.end() ? 0 : it->second;
  }
  return port.target_port ? port.target_port : port.number;
}

pb::Protocol parse_protocol(std::string_view name) {
  const std::string p = to_upper(name);
  if (p == "HTTP") return pb::PROTOCOL_HTTP;
  if (p == "HTTPS") return pb::PROTOCOL_HTTPS;
  if (p == "HTTP2" || p == "H2C") return pb::PROTOCOL_HTTP2;
  if (p == "GRPC") return pb::PROTOCOL_GRPC;
  if (p == "GRPC-WEB") return pb::PROTOCOL_GRPC_WEB;
  if (p == "TCP") return pb::PROTOCOL_TCP;
  if (p == "TLS") return pb::PROTOCOL_TLS;
  if (p == "MONGO") return pb::PROTOCOL_MONGO;
  if (p == "REDIS") return pb::PROTOCOL_REDIS;
  if (p == "MYSQL") return pb::PROTOCOL_MYSQL;
  if (p == "HTTP_PROXY") return pb::PROTOCOL_HTTP_PROXY;
  return pb::PROTOCOL_UNSPECIFIED;
}

// Kubernetes: appProtocol, else the port name's "<protocol>[-suffix]"
// (https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/).
static pb::Protocol kubernetes_port_protocol(const Json& port) {
  std::string app = to_lower(str(port, "appProtocol"));
  if (!app.empty()) {
    if (app == "kubernetes.io/h2c") return pb::PROTOCOL_HTTP2;
    if (app == "kubernetes.io/ws") return pb::PROTOCOL_HTTP;
    if (app == "kubernetes.io/wss") return pb::PROTOCOL_HTTPS;
    if (const pb::Protocol p = parse_protocol(app); p != pb::PROTOCOL_UNSPECIFIED) return p;
  }
  const std::string name = str(port, "name");
  return parse_protocol(name.substr(0, name.find('-')));
}

bool OutboundScope::admits(const Service& svc) const {
  if (egress.empty()) return true;
  for (const auto& [ns, host] : egress) {
    if (ns != "*" && ns != svc.ns) continue;
    if (host_subset_of(svc.hostname, host)) return true;
  }
  return false;
}

OutboundScope build_outbound_scope(Context& ctx) {
  OutboundScope scope;
  // istiod gives a gateway the Sidecar of its namespace that has no
  // workloadSelector, else the root namespace's (SetSidecarScope with nil labels).
  const Resource* chosen = nullptr;
  for (const std::string& ns : {ctx.node_ns(), std::string(kRootNamespace)}) {
    for (const Resource* r : ctx.of(kNetworking, "Sidecar")) {
      if (r->ns != ns) continue;
      const Json* sel = field(spec_of(*r), "workloadSelector");
      if (sel && !string_map(field(*sel, "labels")).empty()) continue;
      chosen = r;
      break;
    }
    if (chosen) break;
  }
  if (!chosen) return scope;
  const Json& spec = spec_of(*chosen);
  scope.policy.set_sidecar(ns_name(*chosen));
  if (const Json* otp = field(spec, "outboundTrafficPolicy"))
    if (str(*otp, "mode") == "REGISTRY_ONLY") scope.policy.set_mode(pb::OUTBOUND_REGISTRY_ONLY);
  std::set<std::string> seen;
  if (const Json* egress = field(spec, "egress"); egress && egress->is_array()) {
    for (const Json& e : *egress) {
      for (const std::string& h : strings(e, "hosts")) {
        const size_t slash = h.find('/');
        std::string ns = slash == std::string::npos ? "*" : h.substr(0, slash);
        const std::string host = slash == std::string::npos ? h : h.substr(slash + 1);
        if (ns == "~") continue;  // nothing from anywhere
        if (ns == ".") ns = chosen->ns;
        if (seen.insert(ns + "/" + host).second) scope.egress.emplace_back(ns, host);
      }
    }
  }
  std::sort(scope.egress.begin(), scope.egress.end());
  for (const auto& [ns, host] : scope.egress) scope.policy.add_egress_hosts(ns + "/" + host);
  return scope;
}

Registry::Registry(Context& ctx, const OutboundScope& scope) : ctx_(ctx), scope_(scope) {
  add_service_entries(ctx);
  add_kubernetes_services(ctx);
  std::stable_sort(services_.begin(), services_.end(), [](const Service& a, const Service& b) {
    if (a.hostname != b.hostname) return a.hostname < b.hostname;
    if (a.ns != b.ns) return a.ns < b.ns;
    return a.kubernetes > b.kubernetes;  // a Kubernetes Service before a ServiceEntry of the same name
  });
  for (Service& s : services_)
    std::sort(s.workloads.begin(), s.workloads.end(), [](const Workload& a, const Workload& b) {
      return std::tie(a.address, a.source) < std::tie(b.address, b.source);
    });
}

void Registry::add_service_entries(Context& ctx) {
  for (const Resource* r : ctx.of(kNetworking, "ServiceEntry")) {
    const Json& spec = spec_of(*r);
    Service base;
    base.ns = r->ns;
    base.source = "ServiceEntry " + ns_name(*r);
    base.mesh_external = str(spec, "location", "MESH_EXTERNAL") != "MESH_INTERNAL";
    base.export_to = strings(spec, "exportTo");
    base.subject_alt_names = strings(spec, "subjectAltNames");
    const std::string resolution = str(spec, "resolution", "NONE");
    if (resolution == "STATIC") base.discovery = pb::DISCOVERY_EDS;
    else if (resolution == "DNS") base.discovery = pb::DISCOVERY_STRICT_DNS;
    else if (resolution == "DNS_ROUND_ROBIN") base.discovery = pb::DISCOVERY_LOGICAL_DNS;
    else if (resolution == "DYNAMIC_DNS") {
      base.discovery = pb::DISCOVERY_LOGICAL_DNS;
      ctx.warn("ServiceEntry " + ns_name(*r) + ": resolution DYNAMIC_DNS compiled as DNS_ROUND_ROBIN");
    } else base.discovery = pb::DISCOVERY_ORIGINAL_DST;
    if (const Json* ports = field(spec, "ports"); ports && ports->is_array()) {
      for (const Json& p : *ports) {
        ServicePort sp;
        sp.name = str(p, "name");
        sp.number = static_cast<uint32_t>(u64(p, "number"));
        sp.protocol = parse_protocol(str(p, "protocol"));
        sp.target_port = static_cast<uint32_t>(u64(p, "targetPort"));
        base.ports.push_back(sp);
      }
    }
    std::vector<Workload> workloads;
    if (const Json* eps = field(spec, "endpoints"); eps && eps->is_array()) {
      size_t i = 0;
      for (const Json& e : *eps) {
        Workload w = workload_from_entry(e, {}, "ServiceEntry " + ns_name(*r) + " endpoints[" + std::to_string(i++) + "]");
        if (w.address.rfind("unix://", 0) == 0) continue;  // unix sockets: sidecar-only
        workloads.push_back(std::move(w));
      }
    }
    if (const Json* sel = field(spec, "workloadSelector")) {
      const Labels selector = string_map(field(*sel, "labels"));
      for (const Resource* we : ctx.of(kNetworking, "WorkloadEntry")) {
        if (we->ns != r->ns) continue;
        Workload w = workload_from_entry(spec_of(*we), metadata_labels(*we), "WorkloadEntry " + ns_name(*we));
        if (selector_matches(selector, w.labels)) workloads.push_back(std::move(w));
      }
    }
    for (const std::string& h : strings(spec, "hosts")) {
      Service s = base;
      s.hostname = resolve_short_name(h, r->ns);
      if (s.discovery == pb::DISCOVERY_ORIGINAL_DST) {
        // resolution NONE: the gateway connects where the client was going.
      } else if (workloads.empty() && s.discovery != pb::DISCOVERY_EDS) {
        // DNS without endpoints: the host itself is the endpoint.
        Workload w;
        w.address = s.hostname;
        w.source = s.source;
        s.workloads.push_back(w);
      } else {
        s.workloads = workloads;
      }
      services_.push_back(std::move(s));
    }
  }
}

void Registry::add_kubernetes_services(Context& ctx) {
  // Pods by namespace/name and namespace/IP, to label endpoints.
  std::map<std::string, PodInfo> pods_by_name, pods_by_ip;
  for (const Resource* pod : ctx.of(kCore, "Pod")) {
    PodInfo info;
    info.labels = metadata_labels(*pod);
    info.ns = pod->ns;
    info.service_account = str(spec_of(*pod), "serviceAccountName", "default");
    pods_by_name[pod->ns + "/" + pod->name] = info;
    if (const Json* status = field(pod->obj, "status")) {
      if (const std::string ip = str(*status, "podIP"); !ip.empty()) pods_by_ip[pod->ns + "/" + ip] = info;
      if (const Json* ips = field(*status, "podIPs"); ips && ips->is_array())
        for (const Json& ip : *ips) pods_by_ip[pod->ns + "/" + str(ip, "ip")] = info;
    }
  }
  auto label_from_pod = [&](Workload& w, const std::string& ns, const Json* target_ref) {
    const PodInfo* info = nullptr;
    if (target_ref && str(*target_ref, "kind", "Pod") == "Pod") {
      const std::string pns = str(*target_ref, "namespace", ns);
      if (auto it = pods_by_name.find(pns + "/" + str(*target_ref, "name")); it != pods_by_name.end()) info = &it->second;
    }
    if (!info)
      if (auto it = pods_by_ip.find(ns + "/" + w.address); it != pods_by_ip.end()) info = &it->second;
    if (!info) return;
    w.labels = info->labels;
    w.service_account = info->service_account;
    if (auto it = info->labels.find(std::string(kTlsModeLabel)); it != info->labels.end()) w.tls_mode = it->second;
    if (auto it = info->labels.find(std::string(kNetworkLabel)); it != info->labels.end()) w.network = it->second;
    if (auto it = info->labels.find(std::string(kLocalityLabel)); it != info->labels.end())
      w.locality = parse_locality(it->second, '.');
  };

  for (const Resource* r : ctx.of(kCore, "Service")) {
    const Json& spec = spec_of(*r);
    Service s;
    s.kubernetes = true;
    s.ns = r->ns;
    s.hostname = r->name + "." + r->ns + ".svc." + std::string(kDomainSuffix);
    s.source = "Service " + ns_name(*r);
    s.export_to = split_commas(annotation(*r, kExportToAnnotation));
    if (const Json* ports = field(spec, "ports"); ports && ports->is_array()) {
      for (const Json& p : *ports) {
        if (str(p, "protocol", "TCP") != "TCP") continue;  // UDP/SCTP: not proxied
        ServicePort sp;
        sp.name = str(p, "name");
        sp.number = static_cast<uint32_t>(u64(p, "port"));
        sp.protocol = kubernetes_port_protocol(p);
        if (const Json* tp = field(p, "targetPort")) {
          if (tp->is_number_integer()) sp.target_port = static_cast<uint32_t>(tp->get<int64_t>());
          else if (tp->is_string()) {
            const auto n = opt_u64(p, "targetPort");
            if (n) sp.target_port = static_cast<uint32_t>(*n);
            else sp.target_port_name = tp->get<std::string>();
          }
        }
        s.ports.push_back(sp);
      }
    }
    if (str(spec, "type") == "ExternalName") {
      s.discovery = pb::DISCOVERY_STRICT_DNS;
      s.mesh_external = true;
      Workload w;
      w.address = str(spec, "externalName");
      w.source = s.source;
      if (!w.address.empty()) s.workloads.push_back(w);
      services_.push_back(std::move(s));
      continue;
    }
    // EndpointSlices (what istiod reads by default), else the Endpoints object.
    bool have_slices = false;
    for (const Resource* es : ctx.of(kDiscovery, "EndpointSlice")) {
      if (es->ns != r->ns) continue;
      if (metadata_labels(*es)["kubernetes.io/service-name"] != r->name) continue;
      have_slices = true;
      std::map<std::string, uint32_t> ports;
      if (const Json* ps = field(es->obj, "ports"); ps && ps->is_array())
        for (const Json& p : *ps)
          if (str(p, "protocol", "TCP") == "TCP") ports[str(p, "name")] = static_cast<uint32_t>(u64(p, "port"));
      const Json* eps = field(es->obj, "endpoints");
      if (!eps || !eps->is_array()) continue;
      for (const Json& e : *eps) {
        pb::HealthStatus status = pb::HEALTHY;
        if (const Json* c = field(e, "conditions")) {
          if (boolean(*c, "terminating")) status = pb::DRAINING;
          else if (!boolean(*c, "ready", true)) status = pb::UNHEALTHY;
        }
        for (const std::string& addr : strings(e, "addresses")) {
          Workload w;
          w.address = addr;
          w.status = status;
          w.ports = ports;
          w.ports_by_name_only = true;
          w.source = "EndpointSlice " + ns_name(*es);
          label_from_pod(w, r->ns, field(e, "targetRef"));
          if (const std::string zone = str(e, "zone"); !zone.empty() && w.locality.zone().empty())
            w.locality.set_zone(zone);
          s.workloads.push_back(std::move(w));
        }
      }
    }
    if (!have_slices) {
      if (const Resource* ep = ctx.find(kCore, "Endpoints", r->ns, r->name)) {
        if (const Json* subsets = field(ep->obj, "subsets"); subsets && subsets->is_array()) {
          for (const Json& sub : *subsets) {
            std::map<std::string, uint32_t> ports;
            if (const Json* ps = field(sub, "ports"); ps && ps->is_array())
              for (const Json& p : *ps)
                if (str(p, "protocol", "TCP") == "TCP") ports[str(p, "name")] = static_cast<uint32_t>(u64(p, "port"));
            for (const auto& [key, status] : {std::pair{"addresses", pb::HEALTHY}, std::pair{"notReadyAddresses", pb::UNHEALTHY}}) {
              const Json* addrs = field(sub, key);
              if (!addrs || !addrs->is_array()) continue;
              for (const Json& a : *addrs) {
                Workload w;
                w.address = str(a, "ip");
                w.status = status;
                w.ports = ports;
                w.ports_by_name_only = true;
                w.source = "Endpoints " + ns_name(*ep);
                label_from_pod(w, r->ns, field(a, "targetRef"));
                s.workloads.push_back(std::move(w));
              }
            }
          }
        }
      }
    }
    // WorkloadEntries the Service selects (VMs behind a Kubernetes Service).
    const Labels selector = string_map(field(spec, "selector"));
    if (!selector.empty()) {
      for (const Resource* we : ctx.of(kNetworking, "WorkloadEntry")) {
        if (we->ns != r->ns) continue;
        Workload w = workload_from_entry(spec_of(*we), metadata_labels(*we), "WorkloadEntry " + ns_name(*we));
        if (selector_matches(selector, w.labels)) s.workloads.push_back(std::move(w));
      }
    }
    services_.push_back(std::move(s));
  }
}

bool Registry::is_visible(const Service& svc) const {
  return exported_to(svc.export_to, svc.ns, ctx_.node_ns()) && scope_.admits(svc);
}

const Service* Registry::lookup(const std::string& host, const std::string& preferred_ns) const {
  const auto first = std::lower_bound(services_.begin(), services_.end(), host,
                                      [](const Service& s, const std::string& h) { return s.hostname < h; });
  const Service* fallback = nullptr;
  for (auto it = first; it != services_.end() && it->hostname == host; ++it) {
    if (!is_visible(*it)) continue;
    if (it->ns == preferred_ns) return &*it;
    if (!fallback) fallback = &*it;
  }
  return fallback;
}

std::vector<const Service*> Registry::visible() const {
  std::vector<const Service*> out;
  for (size_t i = 0; i < services_.size(); ++i) {
    if (i && services_[i].hostname == services_[i - 1].hostname) continue;
    if (const Service* s = lookup(services_[i].hostname, ctx_.node_ns())) out.push_back(s);
  }
  return out;
}

}  // namespace lg::ctrl::compile
