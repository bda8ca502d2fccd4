#include "ctrl/compile/clusters.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace lg::ctrl::compile {

namespace {

std::string sni_dnat_name(uint32_t port, const std::string& subset, const std::string& host) {
  return "outbound_." + std::to_string(port) + "_." + subset + "_." + host;
}

// Identities the service's workloads run as (istiod's ServiceAccounts), plus
// the ServiceEntry's subjectAltNames: what ISTIO_MUTUAL verifies.
std::vector<std::string> service_identities(const Service& svc) {
  std::set<std::string> out(svc.subject_alt_names.begin(), svc.subject_alt_names.end());
  for (const Workload& w : svc.workloads)
    if (!w.service_account.empty())
      out.insert("spiffe://" + std::string(kTrustDomain) + "/ns/" + svc.ns + "/sa/" + w.service_account);
  return {out.begin(), out.end()};
}

pb::Cluster make_cluster(const Service& svc, const ServicePort& sp, const std::string& subset,
                         const MergedDestinationRule* dr, const PeerAuthentications& peer_authn, bool sni_dnat) {
  pb::Cluster c;
  c.set_name(sni_dnat ? sni_dnat_name(sp.number, subset, svc.hostname) : cluster_name(sp.number, subset, svc.hostname));
  c.set_host(svc.hostname);
  c.set_port(sp.number);
  c.set_subset(subset);
  c.set_service(svc.source);
  c.set_namespace_(svc.ns);
  c.set_protocol(sp.protocol);
  c.set_discovery(svc.discovery);
  c.set_mesh_external(svc.mesh_external);
  c.set_sni_dnat(sni_dnat);

  const Json* subset_json = dr && !subset.empty() ? dr->subset(subset) : nullptr;
  if (dr) c.set_destination_rule(dr->name);
  const Json merged = merge_traffic_policy(dr ? dr->traffic_policy : nullptr,
                                           subset_json ? field(*subset_json, "trafficPolicy") : nullptr, sp.number);
  *c.mutable_policy() = convert_traffic_policy(merged);
  pb::TrafficPolicy& policy = *c.mutable_policy();

  const std::string istio_sni = sni_dnat_name(sp.number, subset, svc.hostname);
  if (sni_dnat) {
    policy.clear_tls();  // the client's TLS passes through untouched
  } else if (policy.has_tls()) {
    pb::UpstreamTls& tls = *policy.mutable_tls();
    if (tls.mode() == pb::UPSTREAM_TLS_ISTIO_MUTUAL) {
      if (tls.sni().empty()) tls.set_sni(istio_sni);
      if (tls.subject_alt_names().empty())
        for (const std::string& id : service_identities(svc)) tls.add_subject_alt_names(id);
    }
  } else if (!svc.mesh_external) {
    // Auto mTLS (istiod's default): Istio mTLS to endpoints that speak it.
    pb::UpstreamTls& tls = *policy.mutable_tls();
    tls.set_mode(pb::UPSTREAM_TLS_ISTIO_MUTUAL);
    tls.set_auto_mtls(true);
    tls.set_sni(istio_sni);
    for (const std::string& id : service_identities(svc)) tls.add_subject_alt_names(id);
  }

  if (svc.discovery != pb::DISCOVERY_ORIGINAL_DST) {
    const Labels subset_labels = subset_json ? string_map(field(*subset_json, "labels")) : Labels{};
    for (const Workload& w : svc.workloads) {
      if (!selector_matches(subset_labels, w.labels)) continue;
      const uint32_t port = endpoint_port(svc, sp, w);
      if (port == 0) continue;
      pb::Endpoint* e = c.add_endpoints();
      e->set_address(w.address);
      e->set_port(port);
      for (const auto& [k, v] : w.labels) {
        pb::KeyValue* kv = e->add_labels();
        kv->set_key(k);
        kv->set_value(v);
      }
      if (!w.locality.region().empty() || !w.locality.zone().empty() || !w.locality.subzone().empty())
        *e->mutable_locality() = w.locality;
      e->set_network(w.network);
      e->set_weight(w.weight);
      e->set_service_account(w.service_account);
      e->set_status(w.status);
      e->set_tls_mode(w.tls_mode);
      e->set_source(w.source);
      // istiod's mtlsChecker: the destination's PeerAuthentication (its
      // namespace, labels, and port-level setting for the endpoint port).
      if (policy.tls().auto_mtls() && w.tls_mode == "istio")
        e->set_peer_mtls_disabled(mtls_mode_for_port(peer_authn.compose(svc.ns, w.labels), port) == pb::MTLS_DISABLE);
    }
    std::sort(c.mutable_endpoints()->begin(), c.mutable_endpoints()->end(), [](const pb::Endpoint& a, const pb::Endpoint& b) {
      return std::forward_as_tuple(a.address(), a.port(), a.source()) < std::forward_as_tuple(b.address(), b.port(), b.source());
    });
  }
  return c;
}

}  // namespace

void build_clusters(RouteEnv& env, const std::vector<std::string>& auto_passthrough_hosts, pb::GatewaySnapshot& snap) {
  std::vector<pb::Cluster> out;
  for (const auto& [name, ref] : env.refs) {
    const Service* svc = env.registry.lookup(ref.host, ref.preferred_ns);
    if (!svc) {
      env.ctx.warn("cluster " + name + " not built: host " + ref.host + " is not in the registry visible to this gateway");
      continue;
    }
    const ServicePort* sp = svc->port(ref.port);
    if (!sp) {
      env.ctx.warn("cluster " + name + " not built: " + svc->source + " has no port " + std::to_string(ref.port));
      continue;
    }
    const MergedDestinationRule* dr = env.rules.lookup(svc->hostname, svc->ns);
    if (!ref.subset.empty() && (!dr || !dr->subset(ref.subset))) {
      env.ctx.warn("cluster " + name + " not built: subset " + ref.subset + " is not defined by a DestinationRule for " +
                   ref.host);
      continue;
    }
    out.push_back(make_cluster(*svc, *sp, ref.subset, dr, env.peer_authn, false));
  }
  if (!auto_passthrough_hosts.empty()) {
    for (const Service* svc : env.registry.visible()) {
      const bool covered = std::any_of(auto_passthrough_hosts.begin(), auto_passthrough_hosts.end(),
                                       [&](const std::string& h) { return hosts_match(svc->hostname, h); });
      if (!covered) continue;
      const MergedDestinationRule* dr = env.rules.lookup(svc->hostname, svc->ns);
      for (const ServicePort& sp : svc->ports) {
        out.push_back(make_cluster(*svc, sp, "", dr, env.peer_authn, true));
        if (dr)
          for (const Json* s : dr->subsets) out.push_back(make_cluster(*svc, sp, str(*s, "name"), dr, env.peer_authn, true));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const pb::Cluster& a, const pb::Cluster& b) { return a.name() < b.name(); });
  out.erase(std::unique(out.begin(), out.end(), [](const pb::Cluster& a, const pb::Cluster& b) { return a.name() == b.name(); }),
            out.end());
  for (pb::Cluster& c : out) *snap.add_clusters() = std::move(c);
}

}  // namespace lg::ctrl::compile
