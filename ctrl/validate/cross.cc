// validate_cross_resource(): what no single document can show — references
// between resources (gateways, subsets, registry hosts, credentials, access
// log providers) and conflicts between Gateways that serve the same workloads.
#include "ctrl/validate/analyze.h"
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <tuple>

namespace lg::ctrl {

using namespace validate;

namespace {

using Labels = std::map<std::string, std::string>;

Labels to_map(const std::vector<std::pair<std::string, std::string>>& v) { return Labels(v.begin(), v.end()); }

bool subset_of(const Labels& selector, const Labels& labels) {
  for (const auto& [k, v] : selector) {
    const auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// A workload known only by some of its labels (a Service selector, a Gateway
// selector): `selector` may match it unless a key it knows disagrees.
bool may_match(const Labels& selector, const Labels& known) {
  for (const auto& [k, v] : selector) {
    const auto it = known.find(k);
    if (it != known.end() && it->second != v) return false;
  }
  return true;
}

std::string labels_str(const Labels& l) {
  std::string out = "{";
  for (const auto& [k, v] : l) out += (out.size() > 1 ? ", " : "") + k + ": " + v;
  return out + "}";
}

bool is(const Resource& r, std::string_view group, std::string_view kind) { return r.group == group && r.kind == kind; }

struct Endpoint {
  Labels labels;
};

// One host of the service registry.
struct Service {
  std::string host;               // FQDN or wildcard ("*.example.com")
  const Resource* r = nullptr;    // the Service or ServiceEntry
  bool k8s = false;
  Labels selector;                // Kubernetes Service selector: labels every pod has
  std::vector<Endpoint> endpoints;  // endpoints whose labels are known
  bool endpoints_complete = false;  // true when `endpoints` are all of them
  std::vector<int64_t> ports;
};

struct Index {
  const AnalyzeOptions& opts;
  Diagnostics& d;
  std::vector<Service> services;
  std::map<std::string, const Resource*> gateways;  // "ns/name"
  std::map<std::string, const Resource*> secrets;   // "ns/name"
  std::vector<const Resource*> drs, vss, workload_entries;

  // Exact hosts by name; wildcard hosts are few and scanned.
  std::map<std::string, size_t> exact_hosts;
  std::vector<size_t> wildcard_hosts;
  // DestinationRules by resolved host, and those with wildcard hosts.
  std::map<std::string, std::vector<const Resource*>> drs_by_host;
  std::vector<std::pair<std::string, const Resource*>> wildcard_drs;

  void index_hosts() {
    for (size_t i = 0; i < services.size(); ++i) {
      if (!services[i].host.empty() && services[i].host.front() == '*') wildcard_hosts.push_back(i);
      else exact_hosts.emplace(services[i].host, i);
    }
    for (const Resource* dr : drs) {
      const std::string h = resolve_short_name(get_str(get_obj(&dr->obj, "spec"), "host"), dr->ns);
      if (h.empty()) continue;
      if (h.front() == '*') wildcard_drs.emplace_back(h, dr);
      else drs_by_host[h].push_back(dr);
    }
  }

  // The most specific registry entry that holds `host`.
  const Service* find_service(const std::string& host) const {
    if (const auto it = exact_hosts.find(host); it != exact_hosts.end()) return &services[it->second];
    const Service* best = nullptr;
    for (size_t i : wildcard_hosts) {
      const Service& s = services[i];
      if (host_subset_of(host, s.host) && (best == nullptr || s.host.size() > best->host.size())) best = &s;
    }
    return best;
  }

  // Every DestinationRule whose host covers `host`, in input order.
  std::vector<const Resource*> drs_for(const std::string& host) const {
    std::vector<const Resource*> out;
    if (const auto it = drs_by_host.find(host); it != drs_by_host.end()) out = it->second;
    for (const auto& [h, dr] : wildcard_drs)
      if (host_subset_of(host, h)) out.push_back(dr);
    return out;
  }

  // Registry-dependent findings are errors only when the registry is complete.
  void registry_problem(const Resource& r, const std::string& path, std::string msg) const {
    if (opts.registry_complete) d.error(r, path, std::move(msg));
    else d.warning(r, path, std::move(msg));
  }
};

void build(Index& ix, const std::vector<Resource>& resources) {
  for (const Resource& r : resources) {
    const std::string key = r.ns + "/" + r.name;
    if (is(r, "networking.istio.io", "Gateway")) ix.gateways.emplace(key, &r);
    else if (is(r, "", "Secret")) ix.secrets.emplace(key, &r);
    else if (is(r, "networking.istio.io", "DestinationRule")) ix.drs.push_back(&r);
    else if (is(r, "networking.istio.io", "VirtualService")) ix.vss.push_back(&r);
    else if (is(r, "networking.istio.io", "WorkloadEntry")) ix.workload_entries.push_back(&r);
  }
  auto we_matching = [&](const std::string& ns, const Labels& sel, std::vector<Endpoint>& out) {
    for (const Resource* we : ix.workload_entries) {
      if (we->ns != ns) continue;
      const Labels l = to_map(string_map(get_obj(&we->obj, "spec"), "labels"));
      if (subset_of(sel, l)) out.push_back({l});
    }
  };
  for (const Resource& r : resources) {
    const Json* spec = get_obj(&r.obj, "spec");
    if (is(r, "", "Service")) {
      Service s;
      s.host = r.name + "." + r.ns + ".svc." + std::string(kDomainSuffix);
      s.r = &r;
      s.k8s = true;
      s.selector = to_map(string_map(spec, "selector"));
      if (!s.selector.empty()) we_matching(r.ns, s.selector, s.endpoints);
      each(spec, "ports", "", [&](size_t, const Json& p, const std::string&) {
        if (auto n = get_int(&p, "port")) s.ports.push_back(*n);
      });
      ix.services.push_back(std::move(s));
    } else if (is(r, "networking.istio.io", "ServiceEntry")) {
      std::vector<Endpoint> eps;
      each(spec, "endpoints", "", [&](size_t, const Json& e, const std::string&) {
        eps.push_back({to_map(string_map(&e, "labels"))});
      });
      const Json* ws = get_obj(spec, "workloadSelector");
      if (ws != nullptr) we_matching(r.ns, to_map(string_map(ws, "labels")), eps);
      if (get_arr(spec, "endpoints") == nullptr && ws == nullptr) eps.push_back({});  // the host itself (DNS)
      std::vector<int64_t> ports;
      each(spec, "ports", "", [&](size_t, const Json& p, const std::string&) {
        if (auto n = get_int(&p, "number")) ports.push_back(*n);
      });
      each(spec, "hosts", "", [&](size_t, const Json& h, const std::string&) {
        if (!h.is_string()) return;
        Service s;
        s.host = h.get<std::string>();
        s.r = &r;
        s.endpoints = eps;
        s.endpoints_complete = true;
        s.ports = ports;
        ix.services.push_back(std::move(s));
      });
    }
  }
}

// ---- VirtualService references -------------------------------------------

std::string gateway_key(const std::string& ref, const std::string& vs_ns) {
  const size_t slash = ref.find('/');
  if (slash != std::string::npos) return ref;
  const size_t dot = ref.find('.');
  if (dot != std::string::npos) {
    // Legacy "name.namespace[.svc.cluster.local]".
    const size_t dot2 = ref.find('.', dot + 1);
    return ref.substr(dot + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot - 1) + "/" + ref.substr(0, dot);
  }
  return vs_ns + "/" + ref;
}

// Server hosts of a Gateway visible to a VirtualService in `vs_ns`.
bool gateway_has_host(const Resource& gw, const std::string& vs_ns, const std::string& host) {
  bool found = false;
  each(get_obj(&gw.obj, "spec"), "servers", "", [&](size_t, const Json& s, const std::string&) {
    each(&s, "hosts", "", [&](size_t, const Json& h, const std::string&) {
      if (!h.is_string() || found) return;
      std::string sh = h.get<std::string>();
      const size_t slash = sh.find('/');
      if (slash != std::string::npos) {
        const std::string ns = sh.substr(0, slash);
        sh = sh.substr(slash + 1);
        if (ns != "*" && !(ns == "." && vs_ns == gw.ns) && ns != vs_ns) return;
      }
      found = host_matches(host, sh);
    });
  });
  return found;
}

void check_destination_refs(const Index& ix, const Resource& vs, const Json* dest, const std::string& p) {
  if (dest == nullptr) return;
  const std::string raw = get_str(dest, "host");
  if (raw.empty() || raw == "*") return;
  const std::string host = resolve_short_name(raw, vs.ns);
  const std::string shown = raw == host ? host : quote(raw) + " (resolved to " + host + ")";
  const Service* svc = ix.find_service(host);
  if (svc == nullptr) {
    ix.registry_problem(vs, path_field(p, "host"),
                        "host not in registry: " + shown + " is not defined by any Kubernetes Service or ServiceEntry");
  } else if (svc->k8s) {
    const auto port = get_int(get_obj(dest, "port"), "number");
    if (port) {
      bool ok = false;
      for (int64_t sp : svc->ports) ok = ok || sp == *port;
      if (!ok)
        ix.d.error(vs, path_field(p, "port.number"),
                   "port " + std::to_string(*port) + " is not a port of Service " + svc->r->ns + "/" + svc->r->name);
    } else if (svc->ports.size() > 1) {
      std::vector<std::string> ps;
      for (int64_t sp : svc->ports) ps.push_back(std::to_string(sp));
      ix.d.error(vs, path_field(p, "port"),
                 "This VirtualService routes to a service " + quote(host) + " that exposes multiple ports [" +
                     join(ps, " ") + "]. Specifying a port in the destination is required to disambiguate.");
    }
  }
  const std::string subset = get_str(dest, "subset");
  if (subset.empty()) return;
  std::vector<std::string> defined_by;
  bool found = false;
  for (const Resource* dr : ix.drs_for(host)) {
    defined_by.push_back("DestinationRule " + dr->ns + "/" + dr->name);
    each(get_obj(&dr->obj, "spec"), "subsets", "", [&](size_t, const Json& s, const std::string&) {
      found = found || get_str(&s, "name") == subset;
    });
  }
  if (found) return;
  ix.d.error(vs, path_field(p, "subset"),
             "undefined subset " + quote(subset) + " for host " + host + ": " +
                 (defined_by.empty() ? std::string("no DestinationRule exists for this host")
                                     : "not defined by " + join(defined_by, ", ")));
}

void check_virtual_service_refs(const Index& ix, const Resource& vs) {
  const Json* spec = get_obj(&vs.obj, "spec");
  std::vector<std::string> hosts;
  each(spec, "hosts", "", [&](size_t, const Json& h, const std::string&) {
    if (h.is_string()) hosts.push_back(h.get<std::string>());
  });
  auto check_gateways = [&](const Json* parent, const std::string& base, bool top) {
    each(parent, "gateways", base, [&](size_t, const Json& g, const std::string& p) {
      if (!g.is_string() || g.get<std::string>() == "mesh") return;
      const std::string key = gateway_key(g.get<std::string>(), vs.ns);
      const auto it = ix.gateways.find(key);
      if (it == ix.gateways.end()) {
        ix.d.error(vs, p, "unknown gateway: referenced Gateway " + quote(key) + " not found");
        return;
      }
      if (!top) return;
      std::vector<std::string> missing;
      for (const std::string& h : hosts)
        if (!gateway_has_host(*it->second, vs.ns, h)) missing.push_back(h);
      if (!missing.empty() && missing.size() == hosts.size())
        ix.d.warning(vs, p, "one or more host [" + join(missing, ", ") + "] defined in VirtualService " + vs.ns + "/" +
                                vs.name + " not found in Gateway " + key);
    });
  };
  check_gateways(spec, "spec", true);
  for (const char* kind : {"http", "tcp", "tls"}) {
    each(spec, kind, "spec", [&](size_t, const Json& route, const std::string& rp) {
      each(&route, "match", rp, [&](size_t, const Json& m, const std::string& mp) { check_gateways(&m, mp, false); });
      each(&route, "route", rp, [&](size_t, const Json& d, const std::string& dp) {
        check_destination_refs(ix, vs, get_obj(&d, "destination"), path_field(dp, "destination"));
      });
      if (const Json* mirror = get_obj(&route, "mirror")) check_destination_refs(ix, vs, mirror, path_field(rp, "mirror"));
      each(&route, "mirrors", rp, [&](size_t, const Json& m, const std::string& mp) {
        check_destination_refs(ix, vs, get_obj(&m, "destination"), path_field(mp, "destination"));
      });
    });
  }
}

// ---- Gateways ----------------------------------------------------------------

struct ServerRef {
  const Resource* gw;
  size_t index;
  int64_t port;
  std::string proto;
  std::vector<std::string> hosts;  // host part of "ns/host"
  std::string tls;                 // canonical TLS settings
};

std::string server_name(const ServerRef& s, const Resource& here) {
  const std::string where = "spec.servers[" + std::to_string(s.index) + "]";
  if (s.gw == &here) return "this Gateway's " + where;
  return "Gateway " + s.gw->ns + "/" + s.gw->name + " (" + where + ")";
}

void check_gateway_conflicts(const Index& ix) {
  // Gateways with the same selector configure the same gateway workloads.
  std::map<std::string, std::vector<ServerRef>> by_selector;
  for (const auto& [key, gw] : ix.gateways) {
    (void)key;
    const Json* spec = get_obj(&gw->obj, "spec");
    const std::string sel = labels_str(to_map(string_map(spec, "selector")));
    each(spec, "servers", "", [&](size_t i, const Json& s, const std::string&) {
      const Json* port = get_obj(&s, "port");
      const auto num = get_int(port, "number");
      const std::string proto = canonical_protocol(get_str(port, "protocol"));
      if (!num || proto.empty()) return;
      ServerRef ref{gw, i, *num, proto, {}, ""};
      each(&s, "hosts", "", [&](size_t, const Json& h, const std::string&) {
        if (!h.is_string()) return;
        const std::string v = h.get<std::string>();
        ref.hosts.push_back(v.find('/') == std::string::npos ? v : v.substr(v.find('/') + 1));
      });
      if (const Json* tls = get_obj(&s, "tls")) ref.tls = safe_dump(*tls);
      by_selector[sel].push_back(std::move(ref));
    });
  }
  // Report each conflict once, on the server that comes second in file order.
  auto order = [](const ServerRef& s) { return std::make_tuple(s.gw->src.file, s.gw->src.doc, s.index); };
  for (auto& [sel, servers] : by_selector) {
    std::sort(servers.begin(), servers.end(), [&](const ServerRef& a, const ServerRef& b) { return order(a) < order(b); });
    for (size_t j = 0; j < servers.size(); ++j) {
      const ServerRef& b = servers[j];
      const std::string bp = "spec.servers[" + std::to_string(b.index) + "]";
      bool proto_reported = false;
      for (size_t i = 0; i < j; ++i) {
        const ServerRef& a = servers[i];
        if (a.port != b.port) continue;
        const bool both_tls = protocol_is_tls(a.proto) && protocol_is_tls(b.proto);
        if (a.proto != b.proto && !both_tls) {
          if (!proto_reported)
            ix.d.error(*b.gw, path_field(bp, "port"),
                       "one port with two protocols: port " + std::to_string(b.port) + " is " + b.proto + " here but " +
                           a.proto + " in " + server_name(a, *b.gw) + " on the same workloads (selector " + sel + ")");
          proto_reported = true;
          continue;
        }
        if (!protocol_is_tls(b.proto)) continue;  // plain HTTP servers for one host merge
        for (const std::string& hb : b.hosts)
          for (const std::string& ha : a.hosts) {
            if (ha != hb) continue;
            if (a.tls != b.tls)
              ix.d.error(*b.gw, path_field(bp, "tls"),
                         "conflicting Gateway servers: host " + quote(hb) + " on port " + std::to_string(b.port) +
                             " has different TLS settings here and in " + server_name(a, *b.gw) +
                             " on the same workloads (selector " + sel + ")");
            else if (a.gw != b.gw)
              ix.d.warning(*b.gw, bp,
                           "host " + quote(hb) + " on port " + std::to_string(b.port) + " is also served by " +
                               server_name(a, *b.gw) + " with the same TLS settings");
          }
      }
    }
  }
}

bool has_any_key(const Resource& secret, std::initializer_list<const char*> keys) {
  for (const char* field : {"data", "stringData"}) {
    const Json* d = get_obj(&secret.obj, field);
    for (const char* k : keys)
      if (d != nullptr && d->contains(k)) return true;
  }
  return false;
}

void check_gateway_credentials(const Index& ix, const Resource& gw) {
  each(get_obj(&gw.obj, "spec"), "servers", "spec", [&](size_t, const Json& s, const std::string& sp) {
    const Json* tls = get_obj(&s, "tls");
    const std::string cred = get_str(tls, "credentialName");
    const std::string mode = get_str(tls, "mode");
    if (cred.empty() || (mode != "SIMPLE" && mode != "MUTUAL" && mode != "OPTIONAL_MUTUAL")) return;
    const std::string cp = path_field(sp, "tls.credentialName");
    // Istio reads credentialName from the gateway workload's namespace; the
    // Gateway resource's namespace stands in for it here.
    const std::string key = gw.ns + "/" + cred;
    const auto it = ix.secrets.find(key);
    if (it == ix.secrets.end()) {
      ix.registry_problem(gw, cp, "missing credential: Secret " + quote(key) +
                                      " not found (credentialName is read from the gateway's namespace)");
      return;
    }
    if (!has_any_key(*it->second, {"tls.crt", "cert"}) || !has_any_key(*it->second, {"tls.key", "key"}))
      ix.d.error(gw, cp, "Secret " + quote(key) + " has no certificate and key (tls.crt/tls.key or cert/key)");
    if (mode == "SIMPLE") return;
    if (has_any_key(*it->second, {"ca.crt", "cacert"})) return;
    const auto ca = ix.secrets.find(key + "-cacert");
    if (ca != ix.secrets.end() && has_any_key(*ca->second, {"ca.crt", "cacert"})) return;
    ix.registry_problem(gw, cp, "missing credential: " + mode + " TLS needs a CA: Secret " + quote(key) +
                                    " has no ca.crt or cacert and Secret " + quote(key + "-cacert") + " " +
                                    (ca == ix.secrets.end() ? "does not exist" : "has no ca.crt or cacert"));
  });
}

// ---- DestinationRules -------------------------------------------------------

void check_destination_rule_refs(const Index& ix, const Resource& dr) {
  const Json* spec = get_obj(&dr.obj, "spec");
  const std::string host = resolve_short_name(get_str(spec, "host"), dr.ns);
  auto check_client_cred = [&](const Json* tp, const std::string& p) {
    const std::string cred = get_str(get_obj(tp, "tls"), "credentialName");
    if (cred.empty()) return;
    if (ix.secrets.count(dr.ns + "/" + cred) == 0)
      ix.d.warning(dr, path_field(p, "tls.credentialName"),
                   "Secret " + quote(dr.ns + "/" + cred) +
                       " not found (client credentials are read from the namespace of the gateway that uses them)");
  };
  check_client_cred(get_obj(spec, "trafficPolicy"), "spec.trafficPolicy");
  const Service* svc = host.empty() || host.front() == '*' ? nullptr : ix.find_service(host);
  each(spec, "subsets", "spec", [&](size_t, const Json& s, const std::string& sp) {
    check_client_cred(get_obj(&s, "trafficPolicy"), path_field(sp, "trafficPolicy"));
    if (svc == nullptr) return;
    const Labels want = to_map(string_map(&s, "labels"));
    if (want.empty()) return;
    for (const Endpoint& e : svc->endpoints)
      if (subset_of(want, e.labels)) return;
    // Kubernetes pods are not read: they have at least the Service selector's labels.
    if (svc->k8s && may_match(want, svc->selector)) return;
    ix.d.warning(dr, path_field(sp, "labels"),
                 "subset " + quote(get_str(&s, "name")) + " labels " + labels_str(want) + " match no endpoint of " +
                     (svc->k8s ? "Service " : "ServiceEntry ") + svc->r->ns + "/" + svc->r->name);
  });
}

// ---- Policy selectors -------------------------------------------------------

void check_policy_selector(const std::vector<Resource>& resources, const Resource& pol, Diagnostics& d) {
  const Json* sel = get_obj(get_obj(&pol.obj, "spec"), "selector");
  const Labels want = to_map(string_map(sel, "matchLabels"));
  if (want.empty()) return;
  // Policies in the root namespace apply mesh-wide.
  const bool any_ns = pol.ns == "istio-system";
  for (const Resource& r : resources) {
    if (!any_ns && r.ns != pol.ns) continue;
    const Json* spec = get_obj(&r.obj, "spec");
    if (is(r, "networking.istio.io", "Gateway")) {
      if (may_match(want, to_map(string_map(spec, "selector")))) return;
    } else if (is(r, "", "Service")) {
      const Labels s = to_map(string_map(spec, "selector"));
      if (!s.empty() && may_match(want, s)) return;
    } else if (is(r, "networking.istio.io", "WorkloadEntry")) {
      if (subset_of(want, to_map(string_map(spec, "labels")))) return;
    } else if (is(r, "networking.istio.io", "ServiceEntry")) {
      bool hit = false;
      each(spec, "endpoints", "", [&](size_t, const Json& e, const std::string&) {
        hit = hit || subset_of(want, to_map(string_map(&e, "labels")));
      });
      if (hit) return;
    }
  }
  d.info(pol, "spec.selector.matchLabels",
         "selector " + labels_str(want) + " matches no known workload (Gateway selectors, Service selectors, "
                                          "WorkloadEntries) in " + (any_ns ? std::string("the mesh") : "namespace " + pol.ns));
}

}  // namespace

void validate_cross_resource(const std::vector<Resource>& resources, Diagnostics& diags, const AnalyzeOptions& opts) {
  try {
    Index ix{opts, diags, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    build(ix, resources);
    ix.index_hosts();
    for (const Resource* vs : ix.vss) check_virtual_service_refs(ix, *vs);
    check_gateway_conflicts(ix);
    for (const auto& [key, gw] : ix.gateways) {
      (void)key;
      check_gateway_credentials(ix, *gw);
    }
    for (const Resource* dr : ix.drs) check_destination_rule_refs(ix, *dr);
    for (const Resource& r : resources)
      if (is(r, "security.istio.io", "AuthorizationPolicy") || is(r, "security.istio.io", "PeerAuthentication") ||
          is(r, "security.istio.io", "RequestAuthentication"))
        check_policy_selector(resources, r, diags);
    check_access_log_providers(resources, diags);
  } catch (const std::exception& e) {
    Diagnostic d;
    d.message = std::string("internal error in cross-resource checks: ") + e.what();
    diags.add(std::move(d));
  }
}

}  // namespace lg::ctrl
