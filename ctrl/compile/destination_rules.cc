#include "ctrl/compile/destination_rules.h"

#include <algorithm>
#include <cstdlib>

namespace lg::ctrl::compile {

const Json* MergedDestinationRule::subset(const std::string& name) const {
  for (const Json* s : subsets)
    if (str(*s, "name") == name) return s;
  return nullptr;
}

DestinationRules::DestinationRules(Context& ctx) : ctx_(ctx) {
  for (const Resource* r : ctx.of(kNetworking, "DestinationRule")) {
    const Json& spec = spec_of(*r);
    bool selected = false;
    if (const Json* ws = field(spec, "workloadSelector")) {
      const Labels sel = string_map(field(*ws, "matchLabels"));
      if (!sel.empty()) {
        if (r->ns != ctx.node_ns() || !selector_matches(sel, ctx.node_labels())) continue;
        selected = true;
      }
    }
    by_ns_[r->ns].push_back(Candidate{r, resolve_short_name(str(spec, "host"), r->ns), selected});
  }
}

// Most specific host: exact, else the narrowest wildcard covering `hostname`.
static bool better_host(const std::string& cand, const std::string& best) {
  if (best.empty()) return true;
  if (!host_is_wildcard(cand)) return host_is_wildcard(best);
  if (!host_is_wildcard(best)) return false;
  return cand.size() > best.size();
}

// Which rules of a namespace a lookup step may use.
bool DestinationRules::usable(const Candidate& c, Scope scope) const {
  const std::vector<std::string> export_to = strings(spec_of(*c.res), "exportTo");
  switch (scope) {
    case Scope::local: return true;
    case Scope::private_only: return export_to.size() == 1 && export_to[0] == ".";
    case Scope::exported: return exported_to(export_to, c.res->ns, ctx_.node_ns());
  }
  return false;
}

const MergedDestinationRule* DestinationRules::lookup_in(const std::string& ns, const std::string& hostname,
                                                         Scope scope) const {
  const auto it = by_ns_.find(ns);
  if (it == by_ns_.end()) return nullptr;
  std::string best;
  for (const Candidate& c : it->second) {
    if (!usable(c, scope)) continue;
    if (!host_subset_of(hostname, c.host)) continue;
    if (better_host(c.host, best)) best = c.host;
  }
  if (best.empty()) return nullptr;
  const std::string key = ns + "|" + best + "|" + std::to_string(static_cast<int>(scope));
  if (const auto cached = cache_.find(key); cached != cache_.end()) return &cached->second;
  MergedDestinationRule merged;
  merged.ns = ns;
  merged.host = best;
  // Rules selecting this gateway first, then the rest, each by name.
  for (const bool want_selected : {true, false}) {
    for (const Candidate& c : it->second) {
      if (c.host != best || c.selected != want_selected || !usable(c, scope)) continue;
      const Json& spec = spec_of(*c.res);
      if (merged.name.empty()) merged.name = ns_name(*c.res);
      if (!merged.traffic_policy) merged.traffic_policy = field(spec, "trafficPolicy");
      if (const Json* subsets = field(spec, "subsets"); subsets && subsets->is_array())
        for (const Json& s : *subsets)
          if (!merged.subset(str(s, "name"))) merged.subsets.push_back(&s);
    }
  }
  return &cache_.emplace(key, std::move(merged)).first->second;
}

const MergedDestinationRule* DestinationRules::lookup(const std::string& hostname, const std::string& service_ns) const {
  const std::string key = hostname + "|" + service_ns;
  if (const auto it = results_.find(key); it != results_.end()) return it->second;
  return results_[key] = lookup_uncached(hostname, service_ns);
}

const MergedDestinationRule* DestinationRules::lookup_uncached(const std::string& hostname,
                                                               const std::string& service_ns) const {
  const std::string root(kRootNamespace);
  // A gateway in the root namespace would otherwise always pick the mesh-wide
  // catch-all rules kept there; istiod only takes the root's private (exportTo
  // ".") rules first and looks in the service's namespace before the rest.
  if (const auto* r = lookup_in(ctx_.node_ns(), hostname, ctx_.node_ns() == root ? Scope::private_only : Scope::local))
    return r;
  if (!service_ns.empty() && service_ns != ctx_.node_ns())
    if (const auto* r = lookup_in(service_ns, hostname, Scope::exported)) return r;
  return lookup_in(root, hostname, Scope::exported);
}

// ------------------------------------------------------------ policy merge

Json merge_traffic_policy(const Json* top, const Json* subset_policy, uint32_t port) {
  static constexpr std::string_view kPortFields[] = {"connectionPool", "loadBalancer", "outlierDetection", "tls"};
  auto apply_port_level = [port](Json& policy, const Json& source) {
    const Json* pls = field(source, "portLevelSettings");
    if (!pls || !pls->is_array()) return;
    for (const Json& p : *pls) {
      const Json* pp = field(p, "port");
      if (!pp || u64(*pp, "number") != port) continue;
      for (const std::string_view f : kPortFields) {
        policy.erase(std::string(f));
        if (const Json* v = field(p, f)) policy[std::string(f)] = *v;
      }
      return;
    }
  };
  Json out = Json::object();
  if (top) {
    for (const auto& [k, v] : top->items())
      if (k != "portLevelSettings" && !v.is_null()) out[k] = v;
    apply_port_level(out, *top);
  }
  if (subset_policy) {
    for (const auto& [k, v] : subset_policy->items())
      if (k != "portLevelSettings" && !v.is_null()) out[k] = v;
    apply_port_level(out, *subset_policy);
  }
  return out;
}

static void convert_load_balancer(const Json& lb, pb::LoadBalancer* out) {
  const std::string simple = str(lb, "simple");
  if (simple == "ROUND_ROBIN") out->set_simple(pb::LB_ROUND_ROBIN);
  else if (simple == "RANDOM") out->set_simple(pb::LB_RANDOM);
  else if (simple == "PASSTHROUGH") out->set_simple(pb::LB_PASSTHROUGH);
  else out->set_simple(pb::LB_LEAST_REQUEST);  // UNSPECIFIED, LEAST_CONN, LEAST_REQUEST
  if (const Json* ch = field(lb, "consistentHash")) {
    pb::ConsistentHash* h = out->mutable_consistent_hash();
    if (const Json* cookie = field(*ch, "httpCookie")) {
      pb::HttpCookie* c = h->mutable_http_cookie();
      c->set_name(str(*cookie, "name"));
      c->set_path(str(*cookie, "path"));
      c->set_ttl_ms(duration_ms(*cookie, "ttl"));
      if (const Json* attrs = field(*cookie, "attributes"); attrs && attrs->is_array())
        for (const Json& a : *attrs) {
          pb::KeyValue* kv = c->add_attributes();
          kv->set_key(str(a, "name"));
          kv->set_value(str(a, "value"));
        }
    } else if (const std::string hdr = str(*ch, "httpHeaderName"); !hdr.empty()) {
      h->set_http_header_name(to_lower(hdr));
    } else if (const std::string q = str(*ch, "httpQueryParameterName"); !q.empty()) {
      h->set_http_query_parameter_name(q);
    } else if (boolean(*ch, "useSourceIp")) {
      h->set_use_source_ip(true);
    }
    if (const Json* mg = field(*ch, "maglev")) {
      h->set_maglev_table_size(u64(*mg, "tableSize", 65537));
    } else {
      uint64_t ring = u64(*ch, "minimumRingSize", 1024);
      if (const Json* rh = field(*ch, "ringHash")) ring = u64(*rh, "minimumRingSize", 1024);
      h->set_ring_hash_minimum_ring_size(ring ? ring : 1024);
    }
  }
  const Json* loc = field(lb, "localityLbSetting");
  if (!loc) loc = field(lb, "zoneAwareLbSetting");
  if (loc) {
    pb::LocalityLbSetting* l = out->mutable_locality();
    l->set_enabled(opt_bool(*loc, "enabled").value_or(true));
    if (const Json* dist = field(*loc, "distribute"); dist && dist->is_array())
      for (const Json& d : *dist) {
        pb::LocalityDistribute* pd = l->add_distribute();
        pd->set_from(str(d, "from"));
        if (const Json* to = field(d, "to"); to && to->is_object())
          for (const auto& [k, v] : to->items()) {  // nlohmann objects iterate in key order
            pb::LocalityWeight* w = pd->add_to();
            w->set_locality(k);
            w->set_weight(v.is_number() ? v.get<uint32_t>() : 0);
          }
      }
    if (const Json* fo = field(*loc, "failover"); fo && fo->is_array())
      for (const Json& f : *fo) {
        pb::LocalityFailover* pf = l->add_failover();
        pf->set_from(str(f, "from"));
        pf->set_to(str(f, "to"));
      }
    for (const std::string& p : strings(*loc, "failoverPriority")) l->add_failover_priority(p);
    l->set_min_cluster_size(static_cast<uint32_t>(u64(*loc, "minClusterSize")));
  }
  if (const Json* wu = field(lb, "warmup")) {
    pb::WarmupPolicy* w = out->mutable_warmup();
    w->set_duration_ms(duration_ms(*wu, "duration"));
    w->set_minimum_percent(number(*wu, "minimumPercent", 10));
    w->set_aggression(number(*wu, "aggression", 1));
  } else if (const auto secs = opt_duration_ms(lb, "warmupDurationSecs")) {
    pb::WarmupPolicy* w = out->mutable_warmup();
    w->set_duration_ms(*secs);
    w->set_minimum_percent(10);
    w->set_aggression(1);
  }
}

static void convert_connection_pool(const Json* cp, pb::ConnectionPool* out) {
  pb::TcpPool* tcp = out->mutable_tcp();
  pb::HttpPool* http = out->mutable_http();
  tcp->set_connect_timeout_ms(10'000);  // MeshConfig.connectTimeout default
  if (!cp) return;
  if (const Json* t = field(*cp, "tcp")) {
    tcp->set_max_connections(static_cast<uint32_t>(u64(*t, "maxConnections")));
    tcp->set_connect_timeout_ms(duration_ms(*t, "connectTimeout", 10'000));
    tcp->set_max_connection_duration_ms(duration_ms(*t, "maxConnectionDuration"));
    tcp->set_idle_timeout_ms(duration_ms(*t, "idleTimeout"));
    if (const Json* ka = field(*t, "tcpKeepalive")) {
      pb::TcpKeepalive* k = tcp->mutable_keepalive();
      k->set_probes(static_cast<uint32_t>(u64(*ka, "probes")));
      k->set_time_ms(duration_ms(*ka, "time"));
      k->set_interval_ms(duration_ms(*ka, "interval"));
    }
  }
  if (const Json* h = field(*cp, "http")) {
    http->set_http1_max_pending_requests(static_cast<uint32_t>(u64(*h, "http1MaxPendingRequests")));
    http->set_http2_max_requests(static_cast<uint32_t>(u64(*h, "http2MaxRequests")));
    http->set_max_requests_per_connection(static_cast<uint32_t>(u64(*h, "maxRequestsPerConnection")));
    http->set_max_retries(static_cast<uint32_t>(u64(*h, "maxRetries")));
    http->set_idle_timeout_ms(duration_ms(*h, "idleTimeout"));
    const std::string up = str(*h, "h2UpgradePolicy");
    http->set_h2_upgrade_policy(up == "UPGRADE" ? pb::H2_UPGRADE
                                : up == "DO_NOT_UPGRADE" ? pb::H2_DO_NOT_UPGRADE
                                                         : pb::H2_UPGRADE_DEFAULT);
    http->set_use_client_protocol(boolean(*h, "useClientProtocol"));
    http->set_max_concurrent_streams(static_cast<uint32_t>(u64(*h, "maxConcurrentStreams")));
    if (const Json* ka = field(*h, "http2KeepAlive")) {
      http->mutable_http2_keepalive()->set_interval_ms(duration_ms(*ka, "interval"));
      http->mutable_http2_keepalive()->set_timeout_ms(duration_ms(*ka, "timeout"));
    }
  }
}

static void convert_outlier(const Json& od, pb::OutlierDetection* out) {
  // Envoy's defaults for what Istio leaves unset, except minHealthPercent
  // (Istio's default 0 turns Envoy's 50% panic threshold off).
  uint64_t c5xx = 5;
  if (const auto v = opt_u64(od, "consecutive5xxErrors")) c5xx = *v;
  else if (const auto legacy = opt_u64(od, "consecutiveErrors")) c5xx = *legacy;  // deprecated alias
  out->set_consecutive_5xx_errors(static_cast<uint32_t>(c5xx));
  out->set_consecutive_gateway_errors(static_cast<uint32_t>(u64(od, "consecutiveGatewayErrors")));
  if (boolean(od, "splitExternalLocalOriginErrors")) {
    out->set_split_external_local_origin_errors(true);
    out->set_consecutive_local_origin_failures(static_cast<uint32_t>(u64(od, "consecutiveLocalOriginFailures", 5)));
  }
  out->set_interval_ms(duration_ms(od, "interval", 10'000));
  out->set_base_ejection_time_ms(duration_ms(od, "baseEjectionTime", 30'000));
  out->set_max_ejection_percent(static_cast<uint32_t>(u64(od, "maxEjectionPercent", 10)));
  out->set_min_health_percent(static_cast<uint32_t>(u64(od, "minHealthPercent", 0)));
  for (const std::string& code : strings(od, "outlierDetectionHttpErrorCodes"))
    out->add_http_error_codes(static_cast<uint32_t>(std::strtoul(code.c_str(), nullptr, 10)));
}

static void convert_tls(const Json& tls, pb::UpstreamTls* out) {
  const std::string mode = str(tls, "mode", "DISABLE");
  out->set_mode(mode == "SIMPLE"         ? pb::UPSTREAM_TLS_SIMPLE
                : mode == "MUTUAL"       ? pb::UPSTREAM_TLS_MUTUAL
                : mode == "ISTIO_MUTUAL" ? pb::UPSTREAM_TLS_ISTIO_MUTUAL
                                         : pb::UPSTREAM_TLS_DISABLE);
  out->set_credential_name(str(tls, "credentialName"));
  out->set_client_certificate(str(tls, "clientCertificate"));
  out->set_private_key(str(tls, "privateKey"));
  out->set_ca_certificates(str(tls, "caCertificates"));
  out->set_ca_crl(str(tls, "caCrl"));
  for (const std::string& s : strings(tls, "subjectAltNames")) out->add_subject_alt_names(s);
  out->set_sni(str(tls, "sni"));
  out->set_insecure_skip_verify(boolean(tls, "insecureSkipVerify"));
}

pb::TrafficPolicy convert_traffic_policy(const Json& merged) {
  pb::TrafficPolicy out;
  if (const Json* lb = field(merged, "loadBalancer")) convert_load_balancer(*lb, out.mutable_load_balancer());
  else out.mutable_load_balancer()->set_simple(pb::LB_LEAST_REQUEST);
  convert_connection_pool(field(merged, "connectionPool"), out.mutable_connection_pool());
  if (const Json* od = field(merged, "outlierDetection")) convert_outlier(*od, out.mutable_outlier_detection());
  if (const Json* tls = field(merged, "tls")) convert_tls(*tls, out.mutable_tls());
  if (const Json* rb = field(merged, "retryBudget")) {
    pb::RetryBudget* b = out.mutable_retry_budget();
    b->set_percent(field(*rb, "percent") ? number(*rb, "percent") : 20.0);
    b->set_min_retry_concurrency(static_cast<uint32_t>(u64(*rb, "minRetryConcurrency", 3)));
    b->set_budget_interval_ms(duration_ms(*rb, "budgetInterval"));
  }
  if (const Json* pp = field(merged, "proxyProtocol"))
    out.mutable_proxy_protocol()->set_version(str(*pp, "version") == "V2" ? pb::ProxyProtocol::PROXY_PROTOCOL_V2
                                                                          : pb::ProxyProtocol::PROXY_PROTOCOL_V1);
  return out;
}

}  // namespace lg::ctrl::compile
