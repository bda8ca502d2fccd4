// EnvoyFilter → LocalRateLimit. Only the local rate limit pattern of Istio's
// documentation is understood: an HTTP_FILTER (or NETWORK_FILTER) patch that
// inserts envoy.filters.{http,network}.local_ratelimit, and HTTP_ROUTE /
// VIRTUAL_HOST patches carrying its typed_per_filter_config and rate_limits.
// Other patches are left to ctrl/validate, which reports them as unsupported.
#include "ctrl/compile/policies.h"

#include <algorithm>

namespace lg::ctrl::compile {

namespace {

constexpr std::string_view kHttpFilter = "envoy.filters.http.local_ratelimit";
constexpr std::string_view kNetworkFilter = "envoy.filters.network.local_ratelimit";

// The LocalRateLimit message inside typed_config: either wrapped in a
// TypedStruct ({type_url, value}) or given directly with its own @type.
const Json* unwrap(const Json& typed) {
  const std::string type = str(typed, "@type");
  if (type.find("TypedStruct") != std::string::npos) return field(typed, "value");
  return &typed;
}

double fraction_percent(const Json* f) {
  if (!f) return 0;  // Envoy: "Defaults to 0% of requests for safety"
  const Json* dv = field2(*f, "default_value", "defaultValue");
  if (!dv) return 0;
  const double num = number(*dv, "numerator", 0);
  const std::string denom = str(*dv, "denominator", "HUNDRED");
  const double d = denom == "TEN_THOUSAND" ? 10'000 : denom == "MILLION" ? 1'000'000 : 100;
  return num * 100.0 / d;
}

void token_bucket(const Json& tb, pb::TokenBucket* out) {
  out->set_max_tokens(static_cast<uint32_t>(u64(tb, "max_tokens", u64(tb, "maxTokens"))));
  const uint64_t per_fill = u64(tb, "tokens_per_fill", u64(tb, "tokensPerFill", 1));
  out->set_tokens_per_fill(per_fill ? static_cast<uint32_t>(per_fill) : 1);
  const Json* fi = field2(tb, "fill_interval", "fillInterval");
  out->set_fill_interval_ms(fi && fi->is_string() ? parse_duration_ms(fi->get<std::string>()).value_or(0) : 0);
}

void headers_to_add(const Json* list, google::protobuf::RepeatedPtrField<pb::HeaderValue>* out) {
  if (!list || !list->is_array()) return;
  for (const Json& h : *list) {
    const Json* hdr = field(h, "header");
    if (!hdr) continue;
    pb::HeaderValue* hv = out->Add();
    hv->set_name(str(*hdr, "key"));
    hv->set_value(str(*hdr, "value"));
  }
}

void http_config(const Json& cfg, pb::LocalRateLimit* out) {
  out->set_stat_prefix(str(cfg, "stat_prefix", str(cfg, "statPrefix")));
  if (const Json* tb = field2(cfg, "token_bucket", "tokenBucket")) token_bucket(*tb, out->mutable_token_bucket());
  out->set_filter_enabled_percent(fraction_percent(field2(cfg, "filter_enabled", "filterEnabled")));
  out->set_filter_enforced_percent(fraction_percent(field2(cfg, "filter_enforced", "filterEnforced")));
  uint32_t status = 429;
  if (const Json* st = field(cfg, "status"))
    if (const auto code = opt_u64(*st, "code"); code && *code >= 400) status = static_cast<uint32_t>(*code);
  out->set_status(status);
  headers_to_add(field2(cfg, "response_headers_to_add", "responseHeadersToAdd"), out->mutable_response_headers_to_add());
  headers_to_add(field2(cfg, "request_headers_to_add_when_not_enforced", "requestHeadersToAddWhenNotEnforced"),
                 out->mutable_request_headers_to_add_when_not_enforced());
  if (const Json* ds = field(cfg, "descriptors"); ds && ds->is_array())
    for (const Json& d : *ds) {
      pb::RateLimitDescriptor* rd = out->add_descriptors();
      if (const Json* entries = field(d, "entries"); entries && entries->is_array())
        for (const Json& e : *entries) {
          pb::KeyValue* kv = rd->add_entries();
          kv->set_key(str(e, "key"));
          kv->set_value(str(e, "value"));
        }
      if (const Json* tb = field2(d, "token_bucket", "tokenBucket")) token_bucket(*tb, rd->mutable_token_bucket());
    }
  out->set_per_downstream_connection(
      boolean(cfg, "local_rate_limit_per_downstream_connection", boolean(cfg, "localRateLimitPerDownstreamConnection")));
}

void header_match(const Json& h, pb::HeaderMatch* out) {
  out->set_name(to_lower(str(h, "name")));
  pb::StringMatch* m = out->mutable_match();
  if (const Json* sm = field2(h, "string_match", "stringMatch")) {
    if (field(*sm, "exact")) m->set_exact(str(*sm, "exact"));
    else if (field(*sm, "prefix")) m->set_prefix(str(*sm, "prefix"));
    else if (const Json* re = field2(*sm, "safe_regex", "safeRegex")) m->set_regex(str(*re, "regex"));
    else out->clear_match();
  } else if (field2(h, "exact_match", "exactMatch")) {
    m->set_exact(str(h, "exact_match", str(h, "exactMatch")));
  } else if (field2(h, "prefix_match", "prefixMatch")) {
    m->set_prefix(str(h, "prefix_match", str(h, "prefixMatch")));
  } else if (const Json* re = field2(h, "safe_regex_match", "safeRegexMatch")) {
    m->set_regex(str(*re, "regex"));
  } else {
    out->clear_match();
  }
  if (!out->has_match()) out->set_present(true);
}

void rate_limit_actions(const Json* rate_limits, pb::LocalRateLimit* out) {
  if (!rate_limits || !rate_limits->is_array()) return;
  for (const Json& rl : *rate_limits) {
    const Json* actions = field(rl, "actions");
    if (!actions || !actions->is_array()) continue;
    for (const Json& a : *actions) {
      pb::RateLimitAction* act = out->add_actions();
      if (const Json* rh = field2(a, "request_headers", "requestHeaders")) {
        act->mutable_request_header()->set_key(to_lower(str(*rh, "header_name", str(*rh, "headerName"))));
        act->mutable_request_header()->set_value(str(*rh, "descriptor_key", str(*rh, "descriptorKey")));
      } else if (field2(a, "remote_address", "remoteAddress")) {
        act->set_remote_address("remote_address");
      } else if (const Json* gk = field2(a, "generic_key", "genericKey")) {
        act->mutable_generic_key()->set_key(str(*gk, "descriptor_key", str(*gk, "descriptorKey", "generic_key")));
        act->mutable_generic_key()->set_value(str(*gk, "descriptor_value", str(*gk, "descriptorValue")));
      } else if (const Json* hv = field2(a, "header_value_match", "headerValueMatch")) {
        pb::HeaderValueMatchAction* m = act->mutable_header_value_match();
        m->set_descriptor_key(str(*hv, "descriptor_key", str(*hv, "descriptorKey", "header_match")));
        m->set_descriptor_value(str(*hv, "descriptor_value", str(*hv, "descriptorValue")));
        m->set_expect_match(opt_bool(*hv, "expect_match").value_or(opt_bool(*hv, "expectMatch").value_or(true)));
        if (const Json* hs = field(*hv, "headers"); hs && hs->is_array())
          for (const Json& h : *hs) header_match(h, m->add_headers());
      } else {
        out->mutable_actions()->RemoveLast();
      }
    }
  }
}

// EnvoyFilters for this gateway, in Istio's order of application: the root
// namespace's, then the gateway namespace's; each by priority, then name.
std::vector<const Resource*> envoy_filters(Context& ctx) {
  const std::string root(kRootNamespace);
  std::vector<const Resource*> out;
  std::vector<std::string> namespaces = {root};
  if (ctx.node_ns() != root) namespaces.push_back(ctx.node_ns());
  for (const std::string& ns : namespaces) {
    std::vector<const Resource*> level;
    for (const Resource* r : ctx.of(kNetworking, "EnvoyFilter")) {
      if (r->ns != ns) continue;
      const Json& spec = spec_of(*r);
      if (field(spec, "targetRefs")) continue;
      const Json* ws = field(spec, "workloadSelector");
      if (!selector_matches(ws ? string_map(field(*ws, "labels")) : Labels{}, ctx.node_labels())) continue;
      level.push_back(r);
    }
    std::stable_sort(level.begin(), level.end(), [](const Resource* a, const Resource* b) {
      return static_cast<int64_t>(number(spec_of(*a), "priority", 0)) < static_cast<int64_t>(number(spec_of(*b), "priority", 0));
    });
    out.insert(out.end(), level.begin(), level.end());
  }
  return out;
}

}  // namespace

void build_rate_limits(Context& ctx, pb::GatewaySnapshot& snap) {
  for (const Resource* r : envoy_filters(ctx)) {
    const Json* patches = field(spec_of(*r), "configPatches");
    if (!patches || !patches->is_array()) continue;
    for (size_t i = 0; i < patches->size(); ++i) {
      const Json& cp = (*patches)[i];
      const Json* match = field(cp, "match");
      const std::string context = match ? str(*match, "context", "ANY") : "ANY";
      if (context != "ANY" && context != "GATEWAY") continue;  // sidecar patches never reach a gateway
      const Json* patch = field(cp, "patch");
      if (!patch || str(*patch, "operation") == "REMOVE") continue;
      const Json* value = field(*patch, "value");
      if (!value) continue;
      const std::string apply_to = str(cp, "applyTo");
      pb::LocalRateLimit rl;
      rl.set_name(ns_name(*r) + "/" + std::to_string(i));
      const Json* listener = match ? field(*match, "listener") : nullptr;
      const Json* rc = match ? field(*match, "routeConfiguration") : nullptr;
      if (apply_to == "HTTP_FILTER" || apply_to == "NETWORK_FILTER") {
        const bool http = apply_to == "HTTP_FILTER";
        if (str(*value, "name") != (http ? kHttpFilter : kNetworkFilter)) continue;
        const Json* typed = field2(*value, "typed_config", "typedConfig");
        const Json* cfg = typed ? unwrap(*typed) : nullptr;
        rl.set_scope(http ? pb::RATE_LIMIT_HTTP_LISTENER : pb::RATE_LIMIT_CONNECTION);
        if (listener) rl.set_port(static_cast<uint32_t>(u64(*listener, "portNumber")));
        if (cfg) http_config(*cfg, &rl);
        if (!http) {
          // The network filter has no enable/enforce fractions: it is on unless runtime says otherwise.
          rl.set_filter_enabled_percent(100);
          rl.set_filter_enforced_percent(100);
          rl.clear_status();
        }
      } else if (apply_to == "HTTP_ROUTE" || apply_to == "VIRTUAL_HOST") {
        const bool route = apply_to == "HTTP_ROUTE";
        const Json* tpfc = field2(*value, "typed_per_filter_config", "typedPerFilterConfig");
        const Json* typed = tpfc ? field(*tpfc, kHttpFilter) : nullptr;
        const Json* rate_limits = route ? [&]() -> const Json* {
          const Json* ra = field(*value, "route");
          return ra ? field2(*ra, "rate_limits", "rateLimits") : nullptr;
        }()
                                        : field2(*value, "rate_limits", "rateLimits");
        if (!typed && !rate_limits) continue;
        rl.set_scope(route ? pb::RATE_LIMIT_ROUTE : pb::RATE_LIMIT_VIRTUAL_HOST);
        if (rc) {
          rl.set_port(static_cast<uint32_t>(u64(*rc, "portNumber")));
          rl.set_route_table(str(*rc, "name"));
          rl.set_gateway(str(*rc, "gateway"));
          if (const Json* vh = field(*rc, "vhost")) {
            rl.set_virtual_host(str(*vh, "name"));
            if (const Json* rt = field(*vh, "route")) rl.set_route(str(*rt, "name"));
          }
        }
        if (typed)
          if (const Json* cfg = unwrap(*typed)) http_config(*cfg, &rl);
        rate_limit_actions(rate_limits, &rl);
      } else {
        continue;
      }
      *snap.add_rate_limits() = std::move(rl);
    }
  }
}

}  // namespace lg::ctrl::compile
