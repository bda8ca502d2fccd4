// Telemetry for a gateway, following istiod's model/telemetry.go
// (applicableTelemetries, mergeLogs, Tracing, mergeMetrics) for the CLIENT
// workload mode that gateways have.
#include "ctrl/compile/access_logs.h"
#include "ctrl/compile/policies.h"

#include <algorithm>
#include <map>
#include <set>

namespace lg::ctrl::compile {

namespace {

// Istio's default MeshConfig: defaultProviders.metrics = [prometheus], no
// default tracing provider (access log defaults come from ctx.mesh()).
constexpr std::string_view kDefaultMetricsProvider = "prometheus";
constexpr double kDefaultSamplingPercent = 1.0;  // MeshConfig defaultConfig.tracing.sampling
constexpr const char* kAllMetrics[] = {"GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES", "REQUEST_COUNT",
                                       "REQUEST_DURATION",      "REQUEST_SIZE",           "RESPONSE_SIZE",
                                       "TCP_CLOSED_CONNECTIONS", "TCP_OPENED_CONNECTIONS", "TCP_RECEIVED_BYTES",
                                       "TCP_SENT_BYTES"};

// matchWorkloadMode for a gateway (CLIENT).
bool client_mode(const Json& owner) {
  const Json* match = field(owner, "match");
  return !match || str(*match, "mode", "CLIENT_AND_SERVER") != "SERVER";
}

std::vector<std::string> provider_names(const Json& entry) {
  std::vector<std::string> out;
  if (const Json* ps = field(entry, "providers"); ps && ps->is_array())
    for (const Json& p : *ps) out.push_back(str(p, "name"));
  return out;
}

std::vector<const Json*> entries(const std::vector<const Resource*>& chain, std::string_view key) {
  std::vector<const Json*> out;
  for (const Resource* r : chain)
    if (const Json* list = field(spec_of(*r), key); list && list->is_array())
      for (const Json& e : *list) out.push_back(&e);
  return out;
}

// applicableTelemetries: the root namespace's namespace-wide Telemetry, the
// gateway namespace's, then the workload Telemetries there selecting it.
std::vector<const Resource*> telemetry_chain(Context& ctx) {
  const std::string root(kRootNamespace);
  auto namespace_wide = [](const Resource& r) {
    const Json& spec = spec_of(r);
    const Json* sel = field(spec, "selector");
    return (!sel || string_map(field(*sel, "matchLabels")).empty()) && !field(spec, "targetRef") &&
           !field(spec, "targetRefs");
  };
  std::vector<const Resource*> out;
  for (const std::string& ns : {root, ctx.node_ns()}) {
    if (ns == ctx.node_ns() && ns == root && !out.empty()) break;
    for (const Resource* r : ctx.of(kTelemetry, "Telemetry"))
      if (r->ns == ns && namespace_wide(*r)) {
        out.push_back(r);
        break;
      }
  }
  for (const Resource* r : ctx.of(kTelemetry, "Telemetry")) {
    if (r->ns != ctx.node_ns() || namespace_wide(*r)) continue;
    const Json* sel = field(spec_of(*r), "selector");
    if (sel && selector_matches(string_map(field(*sel, "matchLabels")), ctx.node_labels())) out.push_back(r);
  }
  return out;
}

void access_logging(Context& ctx, const std::vector<const Resource*>& chain, pb::Telemetry* out) {
  // Only Telemetries that have accessLogging take part (istiod's computedAccessLogging).
  std::vector<std::vector<const Json*>> levels;
  for (const Resource* r : chain) {
    std::vector<const Json*> level;
    if (const Json* list = field(spec_of(*r), "accessLogging"); list && list->is_array())
      for (const Json& e : *list) level.push_back(&e);
    if (!level.empty()) levels.push_back(std::move(level));
  }
  // MeshConfig defaultProviders.accessLogging: the providers when no
  // Telemetry logs, and what the first level inherits (istiod's mergeLogs).
  const std::vector<std::string>& defaults = ctx.mesh().default_access_logging;
  // In scope: the providers named by the most specific level naming any.
  // An entry without providers sets the filter of the providers it inherits
  // (istiod's mergeLogs drops that filter; Istio's documentation says an
  // entry applies to the inherited providers, and we follow the documentation).
  std::set<std::string> in_scope(defaults.begin(), defaults.end());
  std::map<std::string, std::string> filters;
  std::vector<std::string> inherited = defaults;
  for (const auto& level : levels) {
    std::set<std::string> names;
    for (const Json* e : level) {
      std::vector<std::string> own = provider_names(*e);
      const std::vector<std::string> targets = own.empty() ? inherited : own;
      if (!own.empty()) inherited = own;
      if (!client_mode(*e)) continue;
      names.insert(own.begin(), own.end());
      const Json* f = field(*e, "filter");
      for (const std::string& p : targets) filters[p] = f ? str(*f, "expression") : "";
    }
    if (!names.empty()) in_scope = names;
  }
  std::map<std::string, std::pair<bool, std::string>> providers;  // name → (disabled, filter)
  if (levels.empty())
    for (const std::string& p : defaults) providers[p] = {false, ""};
  std::vector<std::string> parent = defaults;
  for (const auto& level : levels)
    for (const Json* e : level) {
      std::vector<std::string> names = provider_names(*e);
      if (names.empty()) names = parent;
      parent = names;
      for (const std::string& p : names) {
        if (!in_scope.count(p) || !client_mode(*e)) continue;
        providers[p] = boolean(*e, "disabled") ? std::pair{true, std::string()} : std::pair{false, filters[p]};
      }
    }
  std::map<std::string, std::string> enabled;
  for (const auto& [name, state] : providers)
    if (!state.first) enabled[name] = state.second;
  build_access_logs(ctx, enabled, out);
}

void tracing(const std::vector<const Resource*>& chain, pb::Telemetry* out) {
  const std::vector<const Json*> list = entries(chain, "tracing");
  if (list.empty()) return;
  pb::Tracing t;
  t.set_random_sampling_percentage(kDefaultSamplingPercent);
  t.set_use_request_id_for_trace_sampling(true);
  t.set_enable_istio_tags(true);
  for (const Json* e : list) {
    if (!client_mode(*e)) continue;
    if (const auto names = provider_names(*e); !names.empty()) t.set_provider(names[0]);
    if (const auto v = opt_bool(*e, "disableSpanReporting")) t.set_disable_span_reporting(*v);
    if (field(*e, "randomSamplingPercentage")) t.set_random_sampling_percentage(number(*e, "randomSamplingPercentage"));
    if (const auto v = opt_bool(*e, "useRequestIdForTraceSampling")) t.set_use_request_id_for_trace_sampling(*v);
    if (const auto v = opt_bool(*e, "enableIstioTags")) t.set_enable_istio_tags(*v);
    if (const auto v = opt_bool(*e, "disableContextPropagation")) t.set_disable_context_propagation(*v);
    if (const Json* ct = field(*e, "customTags"); ct && ct->is_object()) {
      t.clear_custom_tags();
      for (const auto& [name, tag] : ct->items()) {  // sorted by name
        pb::TracingTag* tt = t.add_custom_tags();
        tt->set_name(name);
        if (const Json* lit = field(tag, "literal")) tt->set_literal(str(*lit, "value"));
        else if (const Json* env = field(tag, "environment")) {
          tt->set_environment(str(*env, "name"));
          tt->set_default_value(str(*env, "defaultValue"));
        } else if (const Json* hdr = field(tag, "header")) {
          tt->set_header(str(*hdr, "name"));
          tt->set_default_value(str(*hdr, "defaultValue"));
        }
      }
    }
  }
  *out->mutable_tracing() = std::move(t);
}

struct MetricState {
  std::optional<bool> disabled;
  std::map<std::string, std::pair<bool, std::string>> tags;  // tag → (remove, value)
};

void metrics(const std::vector<const Resource*>& chain, pb::Telemetry* out) {
  const std::vector<const Json*> list = entries(chain, "metrics");
  std::vector<std::string> scope_names = {std::string(kDefaultMetricsProvider)};
  for (const Json* m : list)
    if (auto names = provider_names(*m); !names.empty()) scope_names = names;
  const std::set<std::string> in_scope(scope_names.begin(), scope_names.end());

  std::map<std::string, std::map<std::string, MetricState>> providers;
  std::map<std::string, uint64_t> intervals;
  std::set<std::string> all_disabled;
  if (list.empty()) providers[std::string(kDefaultMetricsProvider)];
  std::vector<std::string> parent = {std::string(kDefaultMetricsProvider)};
  for (const Json* m : list) {
    std::vector<std::string> names = provider_names(*m);
    if (names.empty()) names = parent;
    parent = names;
    const auto interval = opt_duration_ms(*m, "reportingInterval");
    for (const std::string& p : names) {
      if (!in_scope.count(p)) continue;
      if (interval) intervals[p] = *interval;
      auto& metrics_of = providers[p];
      const Json* overrides = field(*m, "overrides");
      if (!overrides || !overrides->is_array()) continue;
      for (const Json& o : *overrides) {
        if (!client_mode(o)) continue;
        const Json* match = field(o, "match");
        const std::string custom = match ? str(*match, "customMetric") : "";
        const std::string metric = match ? str(*match, "metric", "ALL_METRICS") : "ALL_METRICS";
        const auto disabled = opt_bool(o, "disabled");
        if (custom.empty() && metric == "ALL_METRICS" && disabled.value_or(false)) {
          all_disabled.insert(p);
          continue;
        }
        all_disabled.erase(p);  // a later level enables metrics again
        std::vector<std::string> targets;
        if (!custom.empty()) targets = {custom};
        else if (metric == "ALL_METRICS") targets.assign(std::begin(kAllMetrics), std::end(kAllMetrics));
        else targets = {metric};
        for (const std::string& t : targets) {
          MetricState& st = metrics_of[t];
          if (disabled) st.disabled = disabled;
          if (const Json* to = field(o, "tagOverrides"); to && to->is_object())
            for (const auto& [tag, op] : to->items()) st.tags[tag] = {str(op, "operation") == "REMOVE", str(op, "value")};
        }
      }
    }
  }
  for (const auto& [p, metrics_of] : providers) {
    pb::MetricsProvider* mp = out->add_metrics();
    mp->set_provider(p);
    if (auto it = intervals.find(p); it != intervals.end()) mp->set_reporting_interval_ms(it->second);
    if (all_disabled.count(p)) {
      mp->set_disabled(true);
      continue;
    }
    for (const auto& [metric, st] : metrics_of) {
      pb::MetricOverride* mo = mp->add_overrides();
      mo->set_metric(metric);
      mo->set_disabled(st.disabled.value_or(false));
      for (const auto& [tag, op] : st.tags) {
        pb::TagOverride* t = mo->add_tags();
        t->set_tag(tag);
        t->set_remove(op.first);
        if (!op.first) t->set_value(op.second);
      }
    }
  }
}

}  // namespace

void build_telemetry(Context& ctx, pb::Telemetry* out) {
  const std::vector<const Resource*> chain = telemetry_chain(ctx);
  for (const Resource* r : chain) out->add_sources(ns_name(*r));
  access_logging(ctx, chain, out);
  tracing(chain, out);
  metrics(chain, out);
}

}  // namespace lg::ctrl::compile
