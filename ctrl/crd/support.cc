// The field-support table: every field of a supported Istio kind, read from
// the loaded CRD schema (schema.h), is supported unless listed in kNotSupported below.
// report_unsupported_fields() warns about the listed ones a document sets;
// crd_support_markdown() renders the table as docs/crd-support.md.
#include "ctrl/crd/support.h"

#include "ctrl/crd/kinds.h"
#include "ctrl/crd/schema_model.h"
#include "ctrl/crd/support_table.h"
#include "l7/access_log/format.h"

#include <cctype>
#include <string_view>
#include <vector>

namespace lg::ctrl {
namespace {

// Paths: `[]` is any list item, `{}` any map value. A leading "**." matches
// the rest at any depth (DestinationRule's trafficPolicy appears at the top,
// under subsets and under portLevelSettings). A non-empty `value` limits the
// entry to that value of a string field. Listing a field covers everything
// under it.
struct NotSupported {
  std::string_view kind;
  std::string_view path;
  std::string_view value;
  std::string_view note;
};

constexpr std::string_view kCertFiles = "certificate files on the proxy's disk; use credentialName (a Kubernetes Secret)";
constexpr std::string_view kNoCrl = "certificate revocation lists are not implemented";
constexpr std::string_view kSourceWorkload =
    "matches the client's sidecar labels/namespace, which a gateway cannot know";
constexpr std::string_view kTargetRef = "attachment to Kubernetes Gateway API objects is not implemented; use selector";
constexpr std::string_view kNotPattern = "outside the local rate limit pattern, the only EnvoyFilter linegate applies";

const std::vector<NotSupported> kNotSupported = {
    // Gateway (https://istio.io/latest/docs/reference/config/networking/gateway/)
    {"Gateway", "spec.servers[].bind", "", "linegate listens on its ports' addresses; per-server bind addresses are not implemented"},
    {"Gateway", "spec.servers[].defaultEndpoint", "", "applies to Sidecar ingress listeners only"},
    {"Gateway", "spec.servers[].tls.insecureSkipVerify", "", "a gateway always verifies client certificates it asks for"},
    {"Gateway", "spec.servers[].port.targetPort", "", "Istio ignores it for Gateways as well"},
    {"Gateway", "spec.servers[].tls.serverCertificate", "", kCertFiles},
    {"Gateway", "spec.servers[].tls.privateKey", "", kCertFiles},
    {"Gateway", "spec.servers[].tls.caCertificates", "", kCertFiles},
    {"Gateway", "spec.servers[].tls.tlsCertificates", "", kCertFiles},
    {"Gateway", "spec.servers[].tls.caCrl", "", kNoCrl},
    // VirtualService (https://istio.io/latest/docs/reference/config/networking/virtual-service/)
    {"VirtualService", "spec.http[].match[].sourceLabels", "", kSourceWorkload},
    {"VirtualService", "spec.http[].match[].sourceNamespace", "", kSourceWorkload},
    {"VirtualService", "spec.tcp[].match[].sourceLabels", "", kSourceWorkload},
    {"VirtualService", "spec.tcp[].match[].sourceNamespace", "", kSourceWorkload},
    {"VirtualService", "spec.tls[].match[].sourceLabels", "", kSourceWorkload},
    {"VirtualService", "spec.tls[].match[].sourceNamespace", "", kSourceWorkload},
    {"VirtualService", "spec.http[].match[].statPrefix", "", "Envoy route statistics prefix; linegate's metrics do not use it"},
    {"VirtualService", "spec.http[].delegate", "", "VirtualService delegation (route chaining) is not implemented"},
    {"VirtualService", "spec.http[].fault.abort.http2Error", "", "HTTP/2 error injection is not implemented (Istio does not implement it either)"},
    {"VirtualService", "spec.http[].fault.delay.exponentialDelay", "", "exponential delays are not implemented (Istio does not implement them either)"},
    {"VirtualService", "spec.http[].retries.retryRemoteLocalities", "", "locality-aware retries are not implemented"},
    // DestinationRule (https://istio.io/latest/docs/reference/config/networking/destination-rule/)
    {"DestinationRule", "spec.workloadSelector", "", "selects sidecars; a gateway applies DestinationRules by host and exportTo"},
    {"DestinationRule", "**.tunnel", "", "HTTP CONNECT tunnelling to upstreams is not implemented"},
    {"DestinationRule", "**.proxyProtocol", "", "sending the PROXY protocol to upstreams is not implemented"},
    {"DestinationRule", "**.retryBudget", "", "retry budgets are not implemented"},
    {"DestinationRule", "**.loadBalancer.warmup", "", "slow start (warm-up) of new endpoints is not implemented"},
    {"DestinationRule", "**.loadBalancer.warmupDurationSecs", "", "slow start (warm-up) of new endpoints is not implemented"},
    {"DestinationRule", "**.loadBalancer.localityLbSetting.failoverPriority", "", "label-ordered failover is not implemented"},
    {"DestinationRule", "**.loadBalancer.zoneAwareLbSetting", "", "zone-aware load balancing is not implemented"},
    {"DestinationRule", "**.tls.caCrl", "", kNoCrl},
    // Sidecar: linegate reads the egress hosts and outboundTrafficPolicy of
    // Sidecars that select the gateway (https://istio.io/latest/docs/reference/config/networking/sidecar/).
    {"Sidecar", "spec.ingress", "", "inbound listeners of a sidecar; a gateway has none"},
    {"Sidecar", "spec.inboundConnectionPool", "", "inbound connection limits of a sidecar; a gateway has no sidecar inbound"},
    {"Sidecar", "spec.egress[].bind", "", "sidecar listener binding; not meaningful for a gateway"},
    {"Sidecar", "spec.egress[].port", "", "per-port egress listeners of a sidecar; a gateway applies egress hosts to all ports"},
    {"Sidecar", "spec.outboundTrafficPolicy.egressProxy", "", "forwarding unknown destinations to an egress proxy is not implemented"},
    {"Sidecar", "spec.egress[].captureMode", "", "sidecar traffic capture (iptables); not meaningful for a gateway"},
    // Security (https://istio.io/latest/docs/reference/config/security/)
    {"AuthorizationPolicy", "spec.action", "CUSTOM", "external authorization (action CUSTOM) is not implemented"},
    {"AuthorizationPolicy", "spec.provider", "", "external authorization (action CUSTOM) is not implemented"},
    {"AuthorizationPolicy", "spec.targetRef", "", kTargetRef},
    {"AuthorizationPolicy", "spec.targetRefs", "", kTargetRef},
    {"RequestAuthentication", "spec.targetRef", "", kTargetRef},
    {"RequestAuthentication", "spec.targetRefs", "", kTargetRef},
    // Telemetry (https://istio.io/latest/docs/reference/config/telemetry/)
    {"Telemetry", "spec.targetRef", "", kTargetRef},
    {"Telemetry", "spec.targetRefs", "", kTargetRef},
    {"Telemetry", "spec.tracing[].customTags", "", "custom span tags are not implemented"},
    {"Telemetry", "spec.tracing[].useRequestIdForTraceSampling", "", "sampling follows traceparent and randomSamplingPercentage; x-request-id is not used"},
    {"Telemetry", "spec.metrics[].overrides[].tagOverrides", "", "label overrides are per-request CEL expressions, which the dataplane does not evaluate"},
    {"Telemetry", "spec.metrics[].overrides[].match.customMetric", "", "custom metrics are not implemented"},
    // EnvoyFilter: only Istio's local rate limit example
    // (https://istio.io/latest/docs/tasks/policy-enforcement/rate-limit/); ctrl/validate checks the pattern.
    {"EnvoyFilter", "spec.priority", "", kNotPattern},
    {"EnvoyFilter", "spec.targetRefs", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.cluster", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.proxy", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.waypoint", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.listener.listenerFilter", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].patch.filterClass", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.listener.name", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.listener.portName", "", kNotPattern},
    {"EnvoyFilter", "spec.configPatches[].match.routeConfiguration.portName", "", kNotPattern},
};

// Notes on fields that are supported with a restriction worth knowing.
const std::vector<NotSupported> kSupportedNotes = {
    {"ServiceEntry", "spec.addresses", "", "virtual IPs select traffic at sidecars; a gateway routes by host"},
    {"ServiceEntry", "spec.workloadSelector", "", "selects WorkloadEntry objects; pods are not watched"},
    {"EnvoyFilter", "spec.configPatches", "", "only patches that follow the local rate limit pattern"},
    {"AuthorizationPolicy", "spec.action", "", "ALLOW, DENY and AUDIT; CUSTOM is not supported"},
};

bool path_matches(std::string_view pattern, std::string_view path) {
  if (pattern.substr(0, 3) == "**.") {
    const std::string_view suffix = pattern.substr(2);  // ".tunnel"
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  }
  return pattern == path;
}

// The entry covering `path` itself or one of its ancestors (any value);
// `covering` gets the path of the field the entry names.
const NotSupported* not_supported_at(std::string_view kind, const std::string& path, std::string* covering) {
  for (const NotSupported& n : kNotSupported) {
    if (n.kind != kind || !n.value.empty()) continue;
    if (path_matches(n.path, path)) {
      *covering = path;
      return &n;
    }
    for (size_t i = path.size(); i-- > 0;) {
      if (path[i] != '.' && path[i] != '[' && path[i] != '{') continue;
      if (path_matches(n.path, std::string_view(path).substr(0, i))) {
        *covering = path.substr(0, i);
        return &n;
      }
    }
  }
  return nullptr;
}

bool is_istio(std::string_view group) {
  return group.size() > 9 && group.substr(group.size() - 9) == ".istio.io";
}

struct Field {
  std::string path;
  std::string status;
  std::string note;
};

void collect(const crdschema::Node& s, const std::string& path, std::vector<std::string>& out) {
  if (s.preserve_unknown) return;  // free-form (EnvoyFilter patch.value): no documented sub-fields
  for (const auto& [name, sub] : s.properties) {
    const std::string p = path + "." + name;
    out.push_back(p);
    collect(*sub, p, out);
  }
  if (s.additional_properties) collect(*s.additional_properties, path + "{}", out);
  if (s.items) collect(*s.items, path + "[]", out);
}

std::vector<Field> fields_of(std::string_view kind, const crdschema::Node& root) {
  std::vector<std::string> paths;
  const auto spec = root.properties.find("spec");
  if (spec != root.properties.end()) {
    paths.push_back("spec");
    collect(*spec->second, "spec", paths);
  }
  std::vector<Field> out;
  for (const std::string& p : paths) {
    Field f{p, "supported", ""};
    std::string covering;
    if (const NotSupported* n = not_supported_at(kind, p, &covering)) {
      f.status = "not supported";
      f.note = covering == p ? std::string(n->note) : "see `" + covering + "`";
    } else {
      for (const NotSupported& n : kNotSupported)
        if (n.kind == kind && !n.value.empty() && path_matches(n.path, p))
          f.note = "value " + std::string(n.value) + " not supported: " + std::string(n.note);
      for (const NotSupported& n : kSupportedNotes)
        if (n.kind == kind && path_matches(n.path, p) && f.note.empty()) f.note = n.note;
    }
    out.push_back(std::move(f));
  }
  return out;
}

void walk(const Resource& r, const crdschema::Node& s, const Json& v, const std::string& generic,
          const std::string& concrete, Diagnostics& diags) {
  if (s.preserve_unknown) return;
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      const auto p = s.properties.find(key);
      if (p != s.properties.end()) {
        const std::string g = generic + "." + key;
        const std::string c = path_field(concrete, key);
        bool handled = false;
        for (const NotSupported& n : kNotSupported) {
          if (n.kind != r.kind || !path_matches(n.path, g)) continue;
          if (n.value.empty()) {
            diags.warning(r, c, "field is not supported by linegate: " + std::string(n.note));
            handled = true;
            break;
          }
          if (value.is_string() && value.get<std::string>() == n.value)
            diags.warning(r, c, "value \"" + std::string(n.value) + "\" is not supported by linegate: " + std::string(n.note));
        }
        if (!handled) walk(r, *p->second, value, g, c, diags);
      } else if (s.additional_properties) {
        walk(r, *s.additional_properties, value, generic + "{}", path_key(concrete, key), diags);
      }
    }
  } else if (v.is_array() && s.items) {
    for (size_t i = 0; i < v.size(); ++i) walk(r, *s.items, v[i], generic + "[]", path_index(concrete, i), diags);
  }
}

std::string join_versions(const KindInfo& k) {
  std::string out;
  for (std::string_view v : k.versions) {
    if (!out.empty()) out += ", ";
    // Appended piecewise: GCC 12 at -O3 misreports `"x" + std::string(...)` (-Wrestrict, PR 105651).
    out += '`';
    if (!k.group.empty()) out.append(k.group).append("/");
    out.append(v).append("`");
  }
  return out;
}

std::string anchor(std::string_view kind) {
  std::string a;
  for (char c : kind) a += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return a;
}

// What linegate reads of Istio's MeshConfig (ctrl/validate/mesh_config.h),
// and the command operators its access log formats may use.
std::string mesh_config_markdown() {
  std::string md =
      "\n## MeshConfig\n\n"
      "The ConfigMap `istio-system/istio` holds Istio's MeshConfig as YAML under the key `mesh`; linegate reads it "
      "over istiod's defaults, as istiod does, and ignores other ConfigMaps. Its access logging fields are read; "
      "the others are not. `linegatectl analyze` reports a mesh that is not YAML, an unknown encoding and every "
      "format linegate cannot write as errors, on the ConfigMap, and warns about a Telemetry that names a provider the "
      "MeshConfig does not define (istiod skips it).\n\n"
      "| field | use |\n| --- | --- |\n"
      "| `accessLogFile` | the legacy access log: written when Telemetry (or `defaultProviders.accessLogging`) "
      "names no provider istiod would build a log for |\n"
      "| `accessLogEncoding` | `TEXT` (default) or `JSON`, for `accessLogFile` and the built-in `envoy` provider |\n"
      "| `accessLogFormat` | TEXT: a format string (a missing final newline is added); JSON: a JSON object of "
      "label: format string. Unset: Istio's default format or labels |\n"
      "| `defaultProviders.accessLogging` | the providers that log when no Telemetry configures access logging |\n"
      "| `extensionProviders[].envoyFileAccessLog` | `path` (default `/dev/stdout`) and `logFormat.text` or "
      "`logFormat.labels` (empty: Istio's default labels; no `logFormat`: Istio's default text). The built-in "
      "provider `envoy` (`/dev/stdout`) takes `accessLogEncoding` and `accessLogFormat` until it is given a "
      "`logFormat` |\n"
      "| `extensionProviders[].envoyFileAccessLog.omitEmptyValues` | not supported (a warning): empty values are "
      "written |\n"
      "| `extensionProviders[].envoyHttpAls`, `envoyTcpAls`, `envoyOtelAls` | not supported: a Telemetry that "
      "names one gets a warning and no access log is written |\n\n"
      "Formats may use these command operators (`%REQ(X?Y):N%` and `%RESP(X?Y):N%` with a header name, an "
      "alternative and a length, `%START_TIME(format)%` with a strftime format, `%%` for a percent sign):";
  const auto& names = access_log::supported_commands();
  for (size_t i = 0; i < names.size(); ++i) {
    md += i ? ", `%" : " `%";
    md.append(names[i]).append("%`");
  }
  return md + ".\n";
}

}  // namespace

std::vector<std::string> support_entries_without_field() {
  const auto set = crdschema::current_schemas();
  std::vector<std::string> out;
  for (const auto* table : {&kNotSupported, &kSupportedNotes}) {
    for (const NotSupported& n : *table) {
      bool found = false;
      for (const KindInfo& k : all_kinds()) {
        if (k.kind != n.kind || !is_istio(k.group)) continue;
        const crdschema::Crd* crd = set->find_crd(std::string(k.group), std::string(k.kind));
        const crdschema::Version* ver = crd ? crd->storage_version() : nullptr;
        if (ver == nullptr || !ver->root) continue;
        for (const Field& f : fields_of(k.kind, *ver->root)) found = found || path_matches(n.path, f.path);
      }
      if (!found) out.push_back(std::string(n.kind) + " " + std::string(n.path));
    }
  }
  return out;
}

void report_unsupported_fields(const Resource& resource, Diagnostics& diags) {
  const KindInfo* info = find_kind(resource.group, resource.kind);
  if (info == nullptr || info->support != KindSupport::supported || !is_istio(info->group)) return;
  const auto set = crdschema::current_schemas();  // held while walking its nodes
  const crdschema::Node* root = set->find_schema(resource.group, resource.kind, resource.version);
  if (root == nullptr) return;
  const auto spec = root->properties.find("spec");
  const auto v = resource.obj.find("spec");
  if (spec == root->properties.end() || v == resource.obj.end()) return;
  walk(resource, *spec->second, *v, "spec", "spec", diags);
}

std::string crd_support_markdown() {
  const auto set = crdschema::current_schemas();
  std::string md;
  md += "# Istio CRD support\n\n";
  md += "<!-- Generated by crd_support_markdown() (ctrl/crd/support.cc) from the Istio CRD schemas it\n"
        "     loads (here istio/api's customresourcedefinitions.gen.yaml, the tests' data). Do not edit:\n"
        "     regenerate with LG_REGENERATE=1 meson test -C <builddir> ctrl_crd_support -->\n\n";
  md += "linegate reads Istio's configuration kinds as the Kubernetes API server would accept them: every document "
        "is checked against the kind's OpenAPI schema and CEL rules from the CustomResourceDefinitions of your Istio "
        "installation, read at run time (`--crds`, or the colon-separated paths in `LINEGATE_CRDS`, else "
        "`/etc/linegate/crds`): export them with `kubectl get crd -o yaml > crds.yaml` or use Istio's "
        "`crd-all.gen.yaml`. Without them those checks are skipped with a warning. Every field Istio documents "
        "for a supported kind is listed below. A field marked **not supported** is accepted by the schema, but "
        "linegate does not implement it: `linegatectl analyze` and `linegate-agent` report a warning naming the "
        "field whenever a document sets it (fields under a not-supported field are covered by it). "
        "A **supported** field is validated and compiled into the gateway's snapshot (see `linegatectl "
        "proxy-config`); the dataplane acts on it as its gateways land: TCP/TLS passthrough and upstream "
        "clusters, the HTTP/1.1 router, TLS termination for SIMPLE and MUTUAL servers (certificates by SNI, "
        "client CA, versions, cipher suites, client certificates checked against `subjectAltNames`, "
        "`verifyCertificateSpki` and `verifyCertificateHash`); still to come are ISTIO_MUTUAL and origination. "
        "In paths, `[]` stands for any list item and `{}` for any map value.\n\n";
  md += "## Kinds\n\n| kind | apiVersions | status | note |\n| --- | --- | --- | --- |\n";
  for (const KindInfo& k : all_kinds()) {
    const std::string status = k.support == KindSupport::supported ? "supported" : "not supported";
    std::string name(k.kind);
    if (k.support == KindSupport::supported && is_istio(k.group)) name = '[' + name + "](#" + anchor(k.kind) + ")";
    md += "| " + name + " | " + join_versions(k) + " | " + status + " | " + std::string(k.why) + " |\n";
  }
  md += "\nOther kinds are reported with a warning and ignored. A supported kind in an apiVersion not listed here "
        "is an error.\n\n";
  md += "Kubernetes `Service`, `Endpoints`, `EndpointSlice` and `Secret` are read as the service registry and as "
        "credential sources (`kubernetes.io/tls` Secrets, and Istio's `cacert` key for CA bundles). They get the "
        "checks the API server makes (ports 1-65535, protocols, IP addresses, base64 data, the keys a TLS Secret "
        "needs); their fields that configure kube-proxy or cloud load balancers do not concern a gateway and are "
        "ignored.\n";
  md += mesh_config_markdown();
  for (const KindInfo& k : all_kinds()) {
    if (k.support != KindSupport::supported || !is_istio(k.group)) continue;
    const crdschema::Crd* crd = set->find_crd(std::string(k.group), std::string(k.kind));
    const crdschema::Version* ver = crd ? crd->storage_version() : nullptr;
    md += "\n## " + std::string(k.kind) + "\n\n";
    md += "apiVersions: " + join_versions(k) + "\n\n";
    if (!k.why.empty()) md += std::string(k.why) + ".\n\n";
    if (ver == nullptr || !ver->root) {
      md += "(no CRD schema loaded)\n";
      continue;
    }
    md += "| field | status | note |\n| --- | --- | --- |\n";
    for (const Field& f : fields_of(k.kind, *ver->root))
      md += "| `" + f.path + "` | " + f.status + " | " + f.note + " |\n";
  }
  return md;
}

}  // namespace lg::ctrl
