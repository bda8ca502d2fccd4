#include "ctrl/validate/envoy_filter.h"

#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

namespace lg::ctrl {

using namespace validate;

namespace {

constexpr std::string_view kFilterName = "envoy.filters.http.local_ratelimit";
constexpr std::string_view kHcm = "envoy.filters.network.http_connection_manager";
constexpr std::string_view kLocalRateLimitType =
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
constexpr std::string_view kUdpaTypedStruct = "type.googleapis.com/udpa.type.v1.TypedStruct";
constexpr std::string_view kXdsTypedStruct = "type.googleapis.com/xds.type.v3.TypedStruct";
// Envoy rejects a local rate limit token bucket refilled more often than this.
constexpr uint64_t kMinFillIntervalMs = 50;

// Envoy's JSON mapping accepts both proto field names and lowerCamelCase.
const Json* field(const Json* j, std::string_view snake, std::string_view camel) {
  const Json* v = get(j, snake);
  return v != nullptr ? v : get(j, camel);
}

std::string field_str(const Json* j, std::string_view snake, std::string_view camel) {
  const Json* v = field(j, snake, camel);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::string field_name(const Json* j, std::string_view snake, std::string_view camel) {
  return get(j, snake) == nullptr && get(j, camel) != nullptr ? std::string(camel) : std::string(snake);
}

struct Parser {
  std::vector<EnvoyFilterIssue>& issues;
  void unsupported(const std::string& path, const std::string& why) {
    issues.push_back({false, path, "EnvoyFilter pattern not supported by linegate: " + why});
  }
  void malformed(const std::string& path, const std::string& why) { issues.push_back({true, path, why}); }

  std::optional<double> percent(const Json* fp, const std::string& p) {
    // RuntimeFractionalPercent {runtime_key, default_value {numerator, denominator}}.
    const Json* dv = field(fp, "default_value", "defaultValue");
    if (dv == nullptr) return std::nullopt;
    const std::string dp = path_field(p, field_name(fp, "default_value", "defaultValue"));
    const auto num = get_int(dv, "numerator").value_or(0);
    const std::string den = has(dv, "denominator") ? get_str(dv, "denominator") : "HUNDRED";
    double scale = 0;
    if (den == "HUNDRED") scale = 100;
    else if (den == "TEN_THOUSAND") scale = 10000;
    else if (den == "MILLION") scale = 1000000;
    else {
      malformed(path_field(dp, "denominator"), "denominator must be HUNDRED, TEN_THOUSAND or MILLION");
      return std::nullopt;
    }
    if (num < 0) {
      malformed(path_field(dp, "numerator"), "numerator must be non-negative");
      return std::nullopt;
    }
    return std::min(100.0, static_cast<double>(num) * 100.0 / scale);
  }

  // A LocalRateLimit message; `typed` is the Any (with @type) holding it.
  bool local_rate_limit(const Json* typed, const std::string& p, LocalRateLimitPatch& out) {
    if (typed == nullptr) {
      malformed(p, "typed_config is required for " + std::string(kFilterName));
      return false;
    }
    const std::string type = get_str(typed, "@type");
    const Json* cfg = nullptr;
    std::string cp;
    if (type == kLocalRateLimitType) {
      cfg = typed;
      cp = p;
    } else if (type == kUdpaTypedStruct || type == kXdsTypedStruct) {
      const std::string url = field_str(typed, "type_url", "typeUrl");
      if (url != kLocalRateLimitType) {
        unsupported(path_field(p, "type_url"), "TypedStruct type_url " + quote(url) + " is not " + std::string(kLocalRateLimitType));
        return false;
      }
      cfg = get_obj(typed, "value");
      cp = path_field(p, "value");
      if (cfg == nullptr) {
        malformed(cp, "TypedStruct value is required");
        return false;
      }
    } else {
      unsupported(path_field(p, "@type"), "typed_config @type " + quote(type) + " is not a LocalRateLimit");
      return false;
    }
    out.stat_prefix = field_str(cfg, "stat_prefix", "statPrefix");
    if (out.stat_prefix.empty()) malformed(path_field(cp, "stat_prefix"), "stat_prefix is required");
    const Json* tb = field(cfg, "token_bucket", "tokenBucket");
    if (tb != nullptr) {
      const std::string tp = path_field(cp, field_name(cfg, "token_bucket", "tokenBucket"));
      out.has_bucket = true;
      const Json* mt = field(tb, "max_tokens", "maxTokens");
      const std::string mtp = path_field(tp, field_name(tb, "max_tokens", "maxTokens"));
      if (mt == nullptr) malformed(mtp, "token_bucket.max_tokens is required");
      else if (!mt->is_number_integer() || mt->get<int64_t>() < 1)
        malformed(mtp, "max_tokens must be an integer >= 1, got " + safe_dump(*mt));
      else out.max_tokens = mt->get<uint64_t>();
      const Json* tpf = field(tb, "tokens_per_fill", "tokensPerFill");
      const std::string tpfp = path_field(tp, field_name(tb, "tokens_per_fill", "tokensPerFill"));
      if (tpf != nullptr) {
        if (!tpf->is_number_integer() || tpf->get<int64_t>() < 1)
          malformed(tpfp, "tokens_per_fill must be an integer >= 1, got " + safe_dump(*tpf));
        else out.tokens_per_fill = tpf->get<uint64_t>();
      }
      const Json* fi = field(tb, "fill_interval", "fillInterval");
      const std::string fip = path_field(tp, field_name(tb, "fill_interval", "fillInterval"));
      if (fi == nullptr) malformed(fip, "token_bucket.fill_interval is required");
      else if (!fi->is_string()) malformed(fip, "fill_interval must be a duration string such as \"60s\"");
      else {
        const auto ns = parse_duration_ns(fi->get<std::string>());
        if (!ns) malformed(fip, "invalid duration " + quote(fi->get<std::string>()));
        else if (*ns < static_cast<int64_t>(kMinFillIntervalMs) * 1000000)
          malformed(fip, "fill_interval must be at least 50ms, got " + fi->get<std::string>());
        else out.fill_interval_ms = static_cast<uint64_t>(*ns / 1000000);
      }
    }
    if (const Json* fe = field(cfg, "filter_enabled", "filterEnabled"))
      out.enabled_percent = percent(fe, path_field(cp, field_name(cfg, "filter_enabled", "filterEnabled"))).value_or(0);
    if (const Json* fe = field(cfg, "filter_enforced", "filterEnforced"))
      out.enforced_percent = percent(fe, path_field(cp, field_name(cfg, "filter_enforced", "filterEnforced"))).value_or(0);
    const Json* rh = field(cfg, "response_headers_to_add", "responseHeadersToAdd");
    if (rh != nullptr && rh->is_array())
      for (const Json& h : *rh)
        if (const Json* hv = get_obj(&h, "header")) out.response_headers.emplace_back(get_str(hv, "key"), get_str(hv, "value"));
    for (const auto& [k, v] : cfg->items()) {
      static const char* known[] = {"@type", "stat_prefix", "statPrefix", "token_bucket", "tokenBucket", "filter_enabled",
                                    "filterEnabled", "filter_enforced", "filterEnforced", "response_headers_to_add",
                                    "responseHeadersToAdd"};
      bool ok = false;
      for (const char* kk : known) ok = ok || k == kk;
      if (!ok) unsupported(path_field(cp, k), "LocalRateLimit field " + k + " is not implemented");
    }
    return true;
  }
};

}  // namespace

std::vector<LocalRateLimitPatch> parse_local_rate_limits(const Resource& r, std::vector<EnvoyFilterIssue>& issues) {
  std::vector<LocalRateLimitPatch> out;
  Parser ps{issues};
  const Json* spec = get_obj(&r.obj, "spec");
  const Json* patches = get_arr(spec, "configPatches");
  if (patches == nullptr || patches->empty()) {
    ps.unsupported("spec.configPatches", "no configPatches");
    return out;
  }
  for (size_t i = 0; i < patches->size(); ++i) {
    const Json& cp = (*patches)[i];
    const std::string p = path_index("spec.configPatches", i);
    if (!cp.is_object()) continue;
    LocalRateLimitPatch lr;
    lr.patch_index = i;
    lr.apply_to = get_str(&cp, "applyTo");
    const Json* match = get_obj(&cp, "match");
    const std::string mp = path_field(p, "match");
    lr.context = has(match, "context") ? get_str(match, "context") : "ANY";
    const Json* patch = get_obj(&cp, "patch");
    const std::string pp = path_field(p, "patch");
    const std::string op = get_str(patch, "operation");
    const Json* value = get_obj(patch, "value");
    const std::string vp = path_field(pp, "value");
    if (lr.context != "GATEWAY" && lr.context != "SIDECAR_INBOUND" && lr.context != "ANY") {
      ps.unsupported(path_field(mp, "context"), "context " + lr.context + " (expected GATEWAY or SIDECAR_INBOUND)");
      continue;
    }
    if (lr.apply_to == "HTTP_FILTER") {
      if (op != "INSERT_BEFORE" && op != "INSERT_FIRST") {
        ps.unsupported(path_field(pp, "operation"), "HTTP_FILTER operation " + op + " (expected INSERT_BEFORE)");
        continue;
      }
      const Json* listener = get_obj(match, "listener");
      const Json* filter = get_obj(get_obj(listener, "filterChain"), "filter");
      const std::string fname = get_str(filter, "name");
      if (!fname.empty() && fname != kHcm) {
        ps.unsupported(path_field(mp, "listener.filterChain.filter.name"), "filter " + fname + " (expected " + std::string(kHcm) + ")");
        continue;
      }
      if (get_str(value, "name") != kFilterName) {
        ps.unsupported(path_field(vp, "name"), "HTTP filter " + quote(get_str(value, "name")) + " (only " +
                                                   std::string(kFilterName) + " is implemented)");
        continue;
      }
      const std::string tcn = field_name(value, "typed_config", "typedConfig");
      if (ps.local_rate_limit(field(value, "typed_config", "typedConfig"), path_field(vp, tcn), lr)) out.push_back(lr);
    } else if (lr.apply_to == "HTTP_ROUTE" || lr.apply_to == "VIRTUAL_HOST") {
      if (op != "MERGE") {
        ps.unsupported(path_field(pp, "operation"), lr.apply_to + " operation " + op + " (expected MERGE)");
        continue;
      }
      const Json* rc = get_obj(match, "routeConfiguration");
      const Json* vhost = get_obj(rc, "vhost");
      lr.vhost = get_str(vhost, "name");
      lr.route = get_str(get_obj(vhost, "route"), "name");
      const Json* tpfc = field(value, "typed_per_filter_config", "typedPerFilterConfig");
      const std::string tpn = path_field(vp, field_name(value, "typed_per_filter_config", "typedPerFilterConfig"));
      const Json* cfg = get_obj(tpfc, kFilterName);
      if (cfg == nullptr || value->size() != 1 || tpfc->size() != 1) {
        ps.unsupported(vp, lr.apply_to + " patch other than typed_per_filter_config[" + std::string(kFilterName) + "]");
        continue;
      }
      if (ps.local_rate_limit(cfg, path_key(tpn, std::string(kFilterName)), lr)) {
        if (!lr.has_bucket) ps.malformed(path_key(tpn, std::string(kFilterName)), "per-route local rate limit needs a token_bucket");
        else out.push_back(lr);
      }
    } else {
      ps.unsupported(path_field(p, "applyTo"), "applyTo " + quote(lr.apply_to) + " (only the local rate limit pattern is implemented)");
    }
  }
  return out;
}

namespace validate {

void check_envoy_filter(const Ctx& c) {
  std::vector<EnvoyFilterIssue> issues;
  parse_local_rate_limits(c.r, issues);
  for (const EnvoyFilterIssue& i : issues) {
    if (i.error) c.error(i.path, i.message);
    else c.warning(i.path, i.message);
  }
  if (const Json* spec = c.spec()) {
    check_workload_selector(c, get_obj(spec, "workloadSelector"), "labels", "spec.workloadSelector");
    if (has(spec, "priority") && get_int(spec, "priority").value_or(0) != 0)
      c.warning("spec.priority", "priority has no effect in linegate: local rate limit patches do not depend on order");
  }
}

}  // namespace validate

}  // namespace lg::ctrl
