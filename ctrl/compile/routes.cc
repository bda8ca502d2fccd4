#include "ctrl/compile/routes.h"

#include <algorithm>
#include <charconv>

namespace lg::ctrl::compile {

namespace {

// istiod's resolveGatewayName: "ns/name", "./name", legacy "name.ns[.svc...]", or "name".
std::string resolve_gateway_name(const std::string& gw, const std::string& vs_ns) {
  const size_t slash = gw.find('/');
  if (slash == std::string::npos) {
    const size_t dot = gw.find('.');
    if (dot == std::string::npos) return vs_ns + "/" + gw;
    const std::string rest = gw.substr(dot + 1);
    return rest.substr(0, rest.find('.')) + "/" + gw.substr(0, dot);
  }
  if (gw.substr(0, slash) == ".") return vs_ns + "/" + gw.substr(slash + 1);
  return gw;
}

bool string_match(const Json* m, pb::StringMatch* out) {
  if (!m || !m->is_object()) return false;
  if (const Json* v = field(*m, "exact"); v && v->is_string()) out->set_exact(v->get<std::string>());
  else if (const Json* p = field(*m, "prefix"); p && p->is_string()) out->set_prefix(p->get<std::string>());
  else if (const Json* r = field(*m, "regex"); r && r->is_string()) out->set_regex(r->get<std::string>());
  else return false;
  return true;
}

template <typename T>
void header_matches(const Json* headers, bool lower_names, google::protobuf::RepeatedPtrField<T>* out) {
  if (!headers || !headers->is_object()) return;
  for (const auto& [name, m] : headers->items()) {  // sorted by name
    T* h = out->Add();
    h->set_name(lower_names ? to_lower(name) : name);
    if (!string_match(&m, h->mutable_match())) {
      h->clear_match();
      h->set_present(true);
    }
  }
}

void header_values(const Json* obj, google::protobuf::RepeatedPtrField<pb::HeaderValue>* out) {
  if (!obj || !obj->is_object()) return;
  for (const auto& [k, v] : obj->items()) {
    pb::HeaderValue* hv = out->Add();
    hv->set_name(k);
    hv->set_value(v.is_string() ? v.get<std::string>() : v.dump());
  }
}

// Leaves `out` unset when there is nothing to do.
template <typename Mutable>
void header_operations(const Json* ops, Mutable mutable_out) {
  if (!ops) return;
  pb::HeaderOperations h;
  header_values(field(*ops, "set"), h.mutable_set());
  header_values(field(*ops, "add"), h.mutable_add());
  for (const std::string& r : strings(*ops, "remove")) h.add_remove(r);
  if (h.set_size() || h.add_size() || h.remove_size()) *mutable_out() = std::move(h);
}

template <typename Msg>
void headers_block(const Json& owner, Msg* out) {
  const Json* h = field(owner, "headers");
  if (!h) return;
  header_operations(field(*h, "request"), [out] { return out->mutable_request_headers(); });
  header_operations(field(*h, "response"), [out] { return out->mutable_response_headers(); });
}

// Percent objects ({value: 12.5}); `legacy` is a deprecated integer field.
double percentage(const Json& owner, std::string_view key, std::string_view legacy, double fallback) {
  if (const Json* p = field(owner, key)) return number(*p, "value", 0);
  if (!legacy.empty())
    if (const auto v = opt_u64(owner, legacy)) return static_cast<double>(*v);
  return fallback;
}

// httpMatch → pb::RouteMatch
void convert_match(const Json& m, pb::RouteMatch* out) {
  pb::StringMatch sm;
  if (string_match(field(m, "uri"), &sm)) *out->mutable_uri() = sm;
  out->set_ignore_uri_case(boolean(m, "ignoreUriCase"));
  if (sm.Clear(), string_match(field(m, "scheme"), &sm)) *out->mutable_scheme() = sm;
  if (sm.Clear(), string_match(field(m, "method"), &sm)) *out->mutable_method() = sm;
  if (sm.Clear(), string_match(field(m, "authority"), &sm)) *out->mutable_authority() = sm;
  header_matches(field(m, "headers"), true, out->mutable_headers());
  header_matches(field(m, "withoutHeaders"), true, out->mutable_without_headers());
  header_matches(field(m, "queryParams"), false, out->mutable_query_params());
}

// sourceMatchHTTP: match.gateways, else sourceLabels ⊆ gateway labels and sourceNamespace.
bool source_matches(const Context& ctx, const Json& m, const std::string& gateway, const std::string& vs_ns) {
  const std::vector<std::string> gws = strings(m, "gateways");
  if (!gws.empty()) {
    for (const std::string& g : gws)
      if (resolve_gateway_name(g, vs_ns) == gateway) return true;
    return false;
  }
  if (!selector_matches(string_map(field(m, "sourceLabels")), ctx.node_labels())) return false;
  const std::string sns = str(m, "sourceNamespace");
  return sns.empty() || sns == ctx.node_ns();
}

// l4MultiMatch / l4SingleMatch as istiod applies them at gateways: port and gateways only.
bool l4_matches(const Json& m, uint32_t listener_port, const std::string& gateway, const std::string& vs_ns) {
  if (const uint64_t p = u64(m, "port"); p != 0 && p != listener_port) return false;
  const std::vector<std::string> gws = strings(m, "gateways");
  if (gws.empty()) return true;
  for (const std::string& g : gws)
    if (resolve_gateway_name(g, vs_ns) == gateway) return true;
  return false;
}

}  // namespace

std::string cluster_name(uint32_t port, const std::string& subset, const std::string& host) {
  return "outbound|" + std::to_string(port) + "|" + subset + "|" + host;
}

std::vector<std::string> bound_gateways(const Resource& vs) {
  std::vector<std::string> out;
  for (const std::string& g : strings(spec_of(vs), "gateways")) {
    if (g == "mesh") continue;
    out.push_back(resolve_gateway_name(g, vs.ns));
  }
  return out;
}

bool vs_visible(const Context& ctx, const Resource& vs) {
  return exported_to(strings(spec_of(vs), "exportTo"), vs.ns, ctx.node_ns());
}

std::vector<std::string> intersect_hosts(const std::vector<std::string>& server_hosts, const Resource& vs) {
  std::vector<std::string> scoped;  // host.NamesForNamespace
  for (const std::string& h : server_hosts) {
    const size_t slash = h.find('/');
    if (slash == std::string::npos) {
      scoped.push_back(h);
      continue;
    }
    const std::string ns = h.substr(0, slash);
    if (ns != vs.ns && ns != "*") continue;
    scoped.push_back(h.substr(slash + 1));
  }
  std::vector<std::string> vs_hosts;
  for (const std::string& h : strings(spec_of(vs), "hosts")) vs_hosts.push_back(resolve_short_name(h, vs.ns));
  std::vector<std::string> out;
  auto add = [&](const std::string& h) {
    if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  };
  for (const std::string& s : scoped)
    for (const std::string& v : vs_hosts) {
      if (host_subset_of(s, v)) add(s);
      else if (host_subset_of(v, s)) add(v);
    }
  return out;
}

namespace {

// GetDestinationCluster: the destination's port, else the service's only
// port, else the listener's port.
pb::WeightedCluster destination(RouteEnv& env, const Json& dest, const std::string& vs_ns, uint32_t listener_port) {
  pb::WeightedCluster wc;
  const std::string host = resolve_short_name(str(dest, "host"), vs_ns);
  const Service* svc = env.registry.lookup(host, vs_ns);
  uint32_t port = listener_port;
  if (const Json* p = field(dest, "port")) port = static_cast<uint32_t>(u64(*p, "number"));
  else if (svc && svc->ports.size() == 1) port = svc->ports[0].number;
  wc.set_host(host);
  wc.set_port(port);
  wc.set_subset(str(dest, "subset"));
  wc.set_cluster(cluster_name(port, wc.subset(), host));
  if (!env.refs.count(wc.cluster())) env.refs[wc.cluster()] = ClusterRef{host, port, wc.subset(), vs_ns};
  return wc;
}

// The destination's DestinationRule hashes consistently (the retry policy
// then keeps the previous-hosts predicate off, as istiod does).
bool hashes_consistently(RouteEnv& env, const pb::WeightedCluster& wc, const std::string& vs_ns) {
  const Service* svc = env.registry.lookup(wc.host(), vs_ns);
  const auto* dr = env.rules.lookup(wc.host(), svc ? svc->ns : "");
  if (!dr) return false;
  const Json merged = merge_traffic_policy(dr->traffic_policy, [&]() -> const Json* {
    const Json* s = wc.subset().empty() ? nullptr : dr->subset(wc.subset());
    return s ? field(*s, "trafficPolicy") : nullptr;
  }(), wc.port());
  const Json* lb = field(merged, "loadBalancer");
  return lb && field(*lb, "consistentHash");
}

void convert_retries(const Json* in, bool hashed, pb::RetryPolicy* out) {
  static const std::vector<std::string> kDefaultRetryOn = {"connect-failure", "refused-stream", "unavailable",
                                                           "cancelled", "retriable-status-codes"};
  out->set_host_selection_max_attempts(5);
  out->set_ignore_previous_hosts(!hashed);
  if (!in) {
    out->set_attempts(2);
    for (const std::string& r : kDefaultRetryOn) out->add_retry_on(r);
    return;
  }
  const uint64_t attempts = u64(*in, "attempts");
  if (attempts == 0) {
    out->Clear();  // explicitly disabled
    return;
  }
  out->set_attempts(static_cast<uint32_t>(attempts));
  const std::string retry_on = str(*in, "retryOn");
  if (retry_on.empty()) {
    for (const std::string& r : kDefaultRetryOn) out->add_retry_on(r);
  } else {
    // parseRetryOn: integers are status codes; "retriable-status-codes" added when any.
    bool has_rsc = false;
    size_t start = 0;
    for (size_t i = 0; i <= retry_on.size(); ++i) {
      if (i != retry_on.size() && retry_on[i] != ',') continue;
      std::string part = retry_on.substr(start, i - start);
      start = i + 1;
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      if (part.empty()) continue;
      uint32_t code = 0;
      const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), code);
      if (ec == std::errc() && p == part.data() + part.size() && code >= 100 && code <= 599) {
        out->add_retriable_status_codes(code);
      } else {
        has_rsc |= part == "retriable-status-codes";
        out->add_retry_on(part);
      }
    }
    if (out->retriable_status_codes_size() && !has_rsc) out->add_retry_on("retriable-status-codes");
  }
  out->set_per_try_timeout_ms(duration_ms(*in, "perTryTimeout"));
  if (const auto ignore = opt_bool(*in, "retryIgnorePreviousHosts")) out->set_ignore_previous_hosts(*ignore);
  out->set_retry_remote_localities(boolean(*in, "retryRemoteLocalities"));
  out->set_backoff_base_ms(duration_ms(*in, "backoff"));
}

void convert_cors(const Json& c, pb::CorsPolicy* out) {
  if (const Json* origins = field(c, "allowOrigins"); origins && origins->is_array())
    for (const Json& o : *origins) {
      pb::StringMatch sm;
      if (string_match(&o, &sm)) *out->add_allow_origins() = sm;
    }
  for (const std::string& o : strings(c, "allowOrigin")) out->add_allow_origins()->set_exact(o);
  for (const std::string& m : strings(c, "allowMethods")) out->add_allow_methods(m);
  for (const std::string& h : strings(c, "allowHeaders")) out->add_allow_headers(h);
  for (const std::string& h : strings(c, "exposeHeaders")) out->add_expose_headers(h);
  out->set_max_age_s(duration_ms(c, "maxAge") / 1000);
  if (const auto cred = opt_bool(c, "allowCredentials"))
    out->set_allow_credentials(*cred ? pb::CorsPolicy::TRISTATE_TRUE : pb::CorsPolicy::TRISTATE_FALSE);
  if (str(c, "unmatchedPreflights") == "IGNORE")
    out->set_unmatched_preflights(pb::CorsPolicy::UNMATCHED_PREFLIGHTS_IGNORE);
}

void convert_fault(const Json& f, pb::Fault* out) {
  if (const Json* d = field(f, "delay")) {
    pb::FaultDelay* delay = out->mutable_delay();
    delay->set_fixed_delay_ms(duration_ms(*d, "fixedDelay"));
    delay->set_exponential_delay_ms(duration_ms(*d, "exponentialDelay"));
    delay->set_percentage(percentage(*d, "percentage", "percent", 100));
  }
  if (const Json* a = field(f, "abort")) {
    pb::FaultAbort* abort = out->mutable_abort();
    abort->set_http_status(static_cast<uint32_t>(u64(*a, "httpStatus")));
    abort->set_grpc_status(str(*a, "grpcStatus"));
    abort->set_http2_error(str(*a, "http2Error"));
    abort->set_percentage(percentage(*a, "percentage", "", 100));
  }
}

void convert_redirect(const Json& r, uint32_t listener_port, pb::Redirect* out) {
  out->set_uri(str(r, "uri"));
  out->set_prefix_rewrite(str(r, "prefixRewrite"));
  out->set_authority(str(r, "authority"));
  out->set_scheme(str(r, "scheme"));
  if (const auto port = opt_u64(r, "port")) {
    out->set_port(static_cast<uint32_t>(*port));
    out->set_port_policy(pb::REDIRECT_PORT_EXPLICIT);
  } else if (const std::string derive = str(r, "derivePort"); derive == "FROM_REQUEST_PORT") {
    out->set_port(listener_port);
    out->set_port_policy(pb::REDIRECT_PORT_FROM_REQUEST_PORT);
  } else if (derive == "FROM_PROTOCOL_DEFAULT") {
    out->set_port_policy(pb::REDIRECT_PORT_FROM_PROTOCOL_DEFAULT);
  }
  const uint64_t code = u64(r, "redirectCode");
  out->set_code(code ? static_cast<uint32_t>(code) : 301);
}

void convert_direct_response(const Json& d, pb::DirectResponse* out) {
  out->set_status(static_cast<uint32_t>(u64(d, "status")));
  if (const Json* body = field(d, "body")) {
    if (const Json* s = field(*body, "string"); s && s->is_string()) out->set_body(s->get<std::string>());
    else if (const Json* b = field(*body, "bytes"); b && b->is_string())
      out->set_body(base64_decode(b->get<std::string>()).value_or(""));
  }
}

// translateRoute for one (http rule, match); false when the match cannot apply here.
bool translate_route(RouteEnv& env, const Resource& vs, const Json& http, size_t rule_index, const Json* match,
                     size_t match_index, uint32_t listener_port, const std::string& gateway, pb::Route* out) {
  if (match) {
    if (const uint64_t p = u64(*match, "port"); p != 0 && p != listener_port) return false;
    if (!source_matches(env.ctx, *match, gateway, vs.ns)) return false;
  }
  std::string name = str(http, "name");
  if (match && !str(*match, "name").empty()) name = name.empty() ? str(*match, "name") : name + "." + str(*match, "name");
  out->set_name(name);
  out->set_virtual_service(ns_name(vs));
  out->set_rule_index(static_cast<uint32_t>(rule_index));
  out->set_match_index(static_cast<uint32_t>(match_index));
  pb::RouteMatch* m = out->mutable_match();
  if (match) {
    convert_match(*match, m);
    out->set_stat_prefix(str(*match, "statPrefix"));
  }

  if (const Json* redirect = field(http, "redirect")) {
    convert_redirect(*redirect, listener_port, out->mutable_redirect());
  } else if (const Json* dr = field(http, "directResponse")) {
    convert_direct_response(*dr, out->mutable_direct_response());
  } else {
    pb::RouteAction* action = out->mutable_route();
    const Json* routes = field(http, "route");
    bool hashed = false;
    if (routes && routes->is_array()) {
      const bool single = routes->size() == 1;
      for (const Json& rd : *routes) {
        const Json* dest = field(rd, "destination");
        if (!dest) continue;
        pb::WeightedCluster wc = destination(env, *dest, vs.ns, listener_port);
        wc.set_weight(single ? 100 : static_cast<uint32_t>(u64(rd, "weight")));
        headers_block(rd, &wc);
        hashed |= hashes_consistently(env, wc, vs.ns);
        *action->add_clusters() = std::move(wc);
      }
    }
    if (const Json* rw = field(http, "rewrite")) {
      pb::Rewrite* r = action->mutable_rewrite();
      r->set_uri(str(*rw, "uri"));
      r->set_authority(str(*rw, "authority"));
      if (const Json* rr = field(*rw, "uriRegexRewrite")) {
        r->set_uri_regex_match(str(*rr, "match"));
        r->set_uri_regex_rewrite(str(*rr, "rewrite"));
      }
    }
    action->set_timeout_ms(duration_ms(http, "timeout"));
    convert_retries(field(http, "retries"), hashed, action->mutable_retries());
    if (const Json* mirror = field(http, "mirror")) {
      const pb::WeightedCluster wc = destination(env, *mirror, vs.ns, listener_port);
      pb::Mirror* mr = action->add_mirrors();
      mr->set_cluster(wc.cluster());
      mr->set_host(wc.host());
      mr->set_subset(wc.subset());
      mr->set_port(wc.port());
      double pct = 100;
      if (const Json* p = field(http, "mirrorPercentage")) pct = number(*p, "value", 0);
      else if (const auto legacy = opt_u64(http, "mirrorPercent")) pct = static_cast<double>(*legacy);
      else if (const auto legacy2 = opt_u64(http, "mirror_percent")) pct = static_cast<double>(*legacy2);
      mr->set_percentage(pct);
    }
    if (const Json* mirrors = field(http, "mirrors"); mirrors && mirrors->is_array())
      for (const Json& mp : *mirrors) {
        const Json* dest = field(mp, "destination");
        if (!dest) continue;
        const pb::WeightedCluster wc = destination(env, *dest, vs.ns, listener_port);
        pb::Mirror* mr = action->add_mirrors();
        mr->set_cluster(wc.cluster());
        mr->set_host(wc.host());
        mr->set_subset(wc.subset());
        mr->set_port(wc.port());
        mr->set_percentage(percentage(mp, "percentage", "", 100));
      }
  }
  headers_block(http, out);
  if (const Json* f = field(http, "fault")) convert_fault(*f, out->mutable_fault());
  if (const Json* c = field(http, "corsPolicy")) convert_cors(*c, out->mutable_cors());
  return true;
}

}  // namespace

bool is_catch_all(const pb::Route& r) {
  const pb::RouteMatch& m = r.match();
  bool any_path = !m.has_uri();
  if (m.uri().has_prefix()) any_path = m.uri().prefix() == "/";
  if (m.uri().has_regex()) any_path = m.uri().regex() == "*" || m.uri().regex() == ".*";
  return any_path && !m.has_method() && !m.has_scheme() && !m.has_authority() && m.headers().empty() &&
         m.without_headers().empty() && m.query_params().empty();
}

std::vector<pb::Route> translate_http(RouteEnv& env, const Resource& vs, uint32_t listener_port, const std::string& gateway) {
  std::vector<pb::Route> out;
  const Json* http = field(spec_of(vs), "http");
  if (!http || !http->is_array()) return out;
  for (size_t i = 0; i < http->size(); ++i) {
    const Json& rule = (*http)[i];
    if (field(rule, "delegate")) {
      env.ctx.warn("VirtualService " + ns_name(vs) + ": spec.http[" + std::to_string(i) +
                   "].delegate is not supported; rule skipped");
      continue;
    }
    bool catch_all = false;
    const Json* matches = field(rule, "match");
    if (!matches || !matches->is_array() || matches->empty()) {
      pb::Route r;
      if (translate_route(env, vs, rule, i, nullptr, 0, listener_port, gateway, &r)) out.push_back(std::move(r));
      catch_all = true;  // routes are matched in order: nothing after this one can match
    } else {
      for (size_t j = 0; j < matches->size(); ++j) {
        pb::Route r;
        if (!translate_route(env, vs, rule, i, &(*matches)[j], j, listener_port, gateway, &r)) continue;
        const bool all = is_catch_all(r);
        out.push_back(std::move(r));
        if (all) {
          catch_all = true;
          break;
        }
      }
    }
    if (catch_all) break;
  }
  return out;
}

// tcp[].route / tls[].route: weighted destinations; a single one gets 100.
static std::vector<pb::WeightedCluster> l4_destinations(RouteEnv& env, const Json& rule, const std::string& ns,
                                                        uint32_t listener_port) {
  std::vector<pb::WeightedCluster> out;
  const Json* routes = field(rule, "route");
  if (!routes || !routes->is_array()) return out;
  const bool single = routes->size() == 1;
  for (const Json& rd : *routes)
    if (const Json* dest = field(rd, "destination")) {
      pb::WeightedCluster wc = destination(env, *dest, ns, listener_port);
      wc.set_weight(single ? 100 : static_cast<uint32_t>(u64(rd, "weight")));
      out.push_back(std::move(wc));
    }
  return out;
}

std::vector<pb::TcpRoute> translate_tcp(RouteEnv& env, const Resource& vs, uint32_t listener_port, const std::string& gateway) {
  std::vector<pb::TcpRoute> out;
  const Json* tcp = field(spec_of(vs), "tcp");
  if (!tcp || !tcp->is_array()) return out;
  for (size_t i = 0; i < tcp->size(); ++i) {
    const Json& rule = (*tcp)[i];
    const Json* matches = field(rule, "match");
    std::vector<const Json*> applicable;
    bool unconditional = !matches || !matches->is_array() || matches->empty();
    if (!unconditional)
      for (const Json& m : *matches)
        if (l4_matches(m, listener_port, gateway, vs.ns)) applicable.push_back(&m);
    if (!unconditional && applicable.empty()) continue;
    const std::vector<pb::WeightedCluster> clusters = l4_destinations(env, rule, vs.ns, listener_port);
    // One route per applicable match (OR of matches), so subnets stay per match.
    auto emit = [&](const Json* m) {
      pb::TcpRoute r;
      r.set_virtual_service(ns_name(vs));
      r.set_rule_index(static_cast<uint32_t>(i));
      if (m) {
        for (const std::string& s : strings(*m, "destinationSubnets")) r.add_destination_subnets(s);
        r.set_source_subnet(str(*m, "sourceSubnet"));
      }
      for (const auto& c : clusters) *r.add_clusters() = c;
      out.push_back(std::move(r));
    };
    if (unconditional) emit(nullptr);
    else
      for (const Json* m : applicable) emit(m);
  }
  return out;
}

std::vector<pb::TlsRoute> translate_tls(RouteEnv& env, const Resource& vs, uint32_t listener_port, const std::string& gateway,
                                        std::vector<std::string>& claimed) {
  std::vector<pb::TlsRoute> out;
  const Json* tls = field(spec_of(vs), "tls");
  if (!tls || !tls->is_array()) return out;
  for (size_t i = 0; i < tls->size(); ++i) {
    const Json& rule = (*tls)[i];
    const Json* matches = field(rule, "match");
    if (!matches || !matches->is_array()) continue;
    for (const Json& m : *matches) {
      if (!l4_matches(m, listener_port, gateway, vs.ns)) continue;
      const std::vector<std::string> sni = strings(m, "sniHosts");
      bool duplicate = false;
      for (const std::string& h : sni) duplicate |= std::find(claimed.begin(), claimed.end(), h) != claimed.end();
      if (duplicate) {
        env.ctx.warn("VirtualService " + ns_name(vs) + ": spec.tls[" + std::to_string(i) + "] on port " +
                     std::to_string(listener_port) + " skipped: SNI host already routed on this port");
        continue;
      }
      claimed.insert(claimed.end(), sni.begin(), sni.end());
      pb::TlsRoute r;
      r.set_virtual_service(ns_name(vs));
      r.set_rule_index(static_cast<uint32_t>(i));
      for (const std::string& h : sni) r.add_sni_hosts(h);
      for (const std::string& s : strings(m, "destinationSubnets")) r.add_destination_subnets(s);
      for (auto& wc : l4_destinations(env, rule, vs.ns, listener_port)) *r.add_clusters() = std::move(wc);
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace lg::ctrl::compile
