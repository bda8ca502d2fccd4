// ServiceEntry, WorkloadEntry and Sidecar checks beyond the CRD schema, after
// Istio's ValidateServiceEntry / ValidateWorkloadEntry / ValidateSidecar.
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

#include <map>
#include <set>

namespace lg::ctrl::validate {

namespace {

void check_port_name(const Ctx& c, const std::string& name, const std::string& p) {
  if (!is_dns1123_label(name)) c.error(p, "invalid port name: " + name);
}

// An endpoint (WorkloadEntry spec or ServiceEntry endpoint). `se_ports` is
// null for a standalone WorkloadEntry.
void check_workload(const Ctx& c, const Json& we, const std::string& p, const std::set<std::string>* se_ports,
                    bool allow_fqdn) {
  if (!we.is_object()) return;
  const std::string addr = get_str(&we, "address");
  const std::string ap = path_field(p, "address");
  if (addr.empty()) {
    if (get_str(&we, "network").empty()) c.error(ap, "address is required");
    else c.warning(ap, "address is unset with network " + quote(get_str(&we, "network")));
  } else if (addr.rfind("unix://", 0) == 0) {
    const std::string path = addr.substr(7);
    if (path.empty() || (path[0] != '/' && path[0] != '@') || path.back() == '/')
      c.error(ap, path + " is not an absolute path to a file");
    if (get_obj(&we, "ports") != nullptr) c.error(path_field(p, "ports"), "unix endpoint " + addr + " must not include ports");
  } else if (!is_ip_address(addr)) {
    if (!allow_fqdn) c.error(ap, "endpoint address " + quote(addr) + " is not a valid IP address");
    else if (check_fqdn(addr)) c.error(ap, "endpoint address " + quote(addr) + " is not a valid FQDN or an IP address");
  }
  each_member(&we, "ports", p, [&](const std::string& name, const Json& port, const std::string& pp) {
    const int64_t n = port.is_number_integer() ? port.get<int64_t>() : 0;
    if (se_ports != nullptr && se_ports->count(name) == 0)
      c.error(pp, "endpoint port " + std::to_string(n) + " is not defined by the service entry");
    check_port_name(c, name, pp);
    if (auto e = check_port(n)) c.error(pp, *e);
  });
  check_labels_map(c, &we, "labels", p);
  const Json* w = get(&we, "weight");
  if (w != nullptr && w->is_number() && w->get<double>() < 0) c.error(path_field(p, "weight"), "weight must be non-negative");
}

}  // namespace

void check_service_entry(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  const Json* ws = get_obj(spec, "workloadSelector");
  check_workload_selector(c, ws, "labels", "spec.workloadSelector");
  const Json* endpoints = get_arr(spec, "endpoints");
  if (ws != nullptr && endpoints != nullptr)
    c.error("spec", "only one of WorkloadSelector or Endpoints is allowed in Service Entry");

  const Json* hosts = get_arr(spec, "hosts");
  if (hosts == nullptr || hosts->empty()) c.error("spec.hosts", "service entry must have at least one host");
  each(spec, "hosts", "spec", [&](size_t, const Json& h, const std::string& hp) {
    if (!h.is_string()) return;
    const std::string host = h.get<std::string>();
    if (host == "*") {
      c.error(hp, "invalid host *");
      return;
    }
    if (auto e = check_wildcard_domain(host)) c.error(hp, *e);
    else if (host.find('*') != std::string::npos && host.rfind("*.", 0) != 0)
      c.warning(hp, "partial wildcard " + quote(host) + " not allowed");
  });

  // Resolution's zero value is NONE.
  const std::string resolution = has(spec, "resolution") ? get_str(spec, "resolution") : "NONE";
  bool cidr = false;
  each(spec, "addresses", "spec", [&](size_t, const Json& a, const std::string& ap) {
    if (!a.is_string()) return;
    const std::string s = a.get<std::string>();
    cidr = cidr || s.find('/') != std::string::npos;
    if (auto e = check_ip_or_cidr(s)) c.error(ap, *e);
  });
  if (cidr && resolution != "NONE" && resolution != "STATIC")
    c.error("spec.addresses", "CIDR addresses are allowed only for NONE/STATIC resolution types");

  std::set<std::string> port_names;
  std::set<int64_t> port_numbers;
  bool non_http_tls_port = false;
  each(spec, "ports", "spec", [&](size_t, const Json& port, const std::string& pp) {
    if (!port.is_object()) return;
    const std::string name = get_str(&port, "name");
    if (name.empty()) c.error(path_field(pp, "name"), "port name must be set");
    else {
      check_port_name(c, name, path_field(pp, "name"));
      if (!port_names.insert(name).second)
        c.error(path_field(pp, "name"), "service entry port name " + quote(name) + " already defined");
    }
    if (const auto n = get_int(&port, "number")) {
      if (auto e = check_port(*n)) c.error(path_field(pp, "number"), *e);
      if (!port_numbers.insert(*n).second)
        c.error(path_field(pp, "number"), "service entry port " + std::to_string(*n) + " already defined");
    }
    check_port_field(c, &port, "targetPort", pp);
    const std::string raw = get_str(&port, "protocol");
    const std::string proto = canonical_protocol(raw);
    if (!raw.empty() && proto.empty()) c.error(path_field(pp, "protocol"), "unsupported protocol: " + raw);
    if (!protocol_is_http(proto) && !protocol_is_tls(proto)) non_http_tls_port = true;
  });

  if (resolution == "NONE") {
    if (endpoints != nullptr && !endpoints->empty())
      c.error("spec.endpoints", "no endpoints should be provided for resolution type none");
    if (ws != nullptr) c.warning("spec.workloadSelector", "workloadSelector should not be set when resolution mode is NONE");
  } else if (resolution == "STATIC") {
    each(spec, "endpoints", "spec", [&](size_t, const Json& e, const std::string& ep) {
      check_workload(c, e, ep, &port_names, false);
    });
  } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
    if (endpoints == nullptr || endpoints->empty()) {
      // DNS resolves the hosts themselves, so each must be a name DNS can answer.
      each(spec, "hosts", "spec", [&](size_t, const Json& h, const std::string& hp) {
        if (h.is_string() && check_fqdn(h.get<std::string>()))
          c.error(hp, "hosts must be FQDN if no endpoints are provided for resolution mode " + resolution);
      });
    }
    if (resolution == "DNS_ROUND_ROBIN" && endpoints != nullptr && endpoints->size() > 1)
      c.error("spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode " + resolution);
    each(spec, "endpoints", "spec", [&](size_t, const Json& e, const std::string& ep) {
      check_workload(c, e, ep, &port_names, true);
    });
    if (ws != nullptr)
      c.warning("spec.workloadSelector", "workloadSelector should not be set when resolution mode is " + resolution);
  } else if (!resolution.empty()) {
    c.error("spec.resolution", "unsupported resolution type " + resolution);
  }
  if (resolution != "NONE" && hosts != nullptr && hosts->size() > 1 && non_http_tls_port)
    c.error("spec.ports", "multiple hosts provided with non-HTTP, non-TLS ports");
  check_export_to(c, spec, true);
}

void check_workload_entry(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  check_workload(c, *spec, "spec", nullptr, true);
}

void check_sidecar(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  const Json* ws = get_obj(spec, "workloadSelector");
  check_workload_selector(c, ws, "labels", "spec.workloadSelector");
  if (!has(spec, "egress") && !has(spec, "ingress") && !has(spec, "outboundTrafficPolicy") &&
      !has(spec, "inboundConnectionPool")) {
    c.error("spec", "sidecar: empty configuration provided");
    return;
  }
  std::set<int64_t> ingress_ports;
  each(spec, "ingress", "spec", [&](size_t, const Json& in, const std::string& ip) {
    const Json* port = get_obj(&in, "port");
    if (port == nullptr) {
      c.error(path_field(ip, "port"), "sidecar: port is required for ingress listeners");
      return;
    }
    check_port_field(c, port, "number", path_field(ip, "port"));
    const std::string raw = get_str(port, "protocol");
    if (!raw.empty() && canonical_protocol(raw).empty())
      c.error(path_field(ip, "port.protocol"), "unsupported protocol: " + raw);
    if (const auto n = get_int(port, "number"); n && !ingress_ports.insert(*n).second)
      c.error(path_field(ip, "port"), "sidecar: ports on IP bound listeners must be unique");
  });
  const Json* egress = get_arr(spec, "egress");
  std::set<int64_t> egress_ports;
  bool catch_all = false;
  each(spec, "egress", "spec", [&](size_t i, const Json& eg, const std::string& ep) {
    if (!eg.is_object()) return;
    const Json* port = get_obj(&eg, "port");
    if (port == nullptr) {
      if (catch_all) c.error(ep, "sidecar: egress can have only one listener with empty port");
      else if (i + 1 != egress->size())
        c.error(ep, "sidecar: the egress listener with empty port should be the last listener in the list");
      catch_all = true;
    } else {
      const std::string pp = path_field(ep, "port");
      check_port_field(c, port, "number", pp);
      const std::string raw = get_str(port, "protocol");
      if (!raw.empty() && canonical_protocol(raw).empty()) c.error(path_field(pp, "protocol"), "unsupported protocol: " + raw);
      if (const auto n = get_int(port, "number"); n && *n != 0 && !egress_ports.insert(*n).second)
        c.error(pp, "sidecar: ports on IP bound listeners must be unique");
    }
    const Json* hosts = get_arr(&eg, "hosts");
    if (hosts == nullptr || hosts->empty())
      c.error(path_field(ep, "hosts"), "sidecar: egress listener must contain at least one host");
    each(&eg, "hosts", ep, [&](size_t, const Json& h, const std::string& hp) {
      if (!h.is_string()) return;
      if (auto e = check_namespace_slash_host(h.get<std::string>(), false)) c.error(hp, *e);
    });
  });
  if (const Json* otp = get_obj(spec, "outboundTrafficPolicy")) {
    const std::string op = "spec.outboundTrafficPolicy";
    if (const Json* proxy = get_obj(otp, "egressProxy")) {
      if (get_str(otp, "mode") != "ALLOW_ANY")
        c.error(path_field(op, "egressProxy"), "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode");
      const std::string host = get_str(proxy, "host");
      if (auto e = check_fqdn(host)) c.error(path_field(op, "egressProxy.host"), *e);
      if (get_obj(proxy, "port") == nullptr)
        c.error(path_field(op, "egressProxy.port"), "sidecar: egress_proxy port must be non-nil");
      else check_port_field(c, get_obj(proxy, "port"), "number", path_field(op, "egressProxy.port"));
    }
  }
}

}  // namespace lg::ctrl::validate
