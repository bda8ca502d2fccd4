// ctrl/validate/mesh_config: MeshConfig read from ConfigMap istio-system/istio
// over istiod's defaults, access log providers resolved as istiod does, and
// what analyze() says about both.
#include "ctrl/crd/loader.h"
#include "ctrl/validate/analyze.h"
#include "ctrl/validate/mesh_config.h"
#include "l7/access_log/format.h"

#include <gtest/gtest.h>

using namespace lg::ctrl;

namespace {

// ConfigMap istio-system/istio whose `mesh` is `mesh_yaml` (indented as a block scalar).
Resource mesh_config_map(const std::string& mesh_yaml) {
  std::string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n";
  size_t start = 0;
  while (start < mesh_yaml.size()) {
    const size_t end = mesh_yaml.find('\n', start);
    yaml += "    " + mesh_yaml.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  Diagnostics d;
  auto rs = load_text(yaml, "mesh.yaml", d);
  EXPECT_FALSE(d.has_errors());
  EXPECT_EQ(rs.size(), 1u);
  return rs.empty() ? Resource{} : rs[0];
}

struct Read {
  MeshConfig mesh;
  std::vector<MeshConfigIssue> issues;
  std::string all() const {
    std::string out;
    for (const auto& i : issues) out += (i.error ? "E " : "W ") + i.path + ": " + i.message + "\n";
    return out;
  }
};

Read read(const std::string& mesh_yaml) {
  const Resource cm = mesh_config_map(mesh_yaml);
  Read r;
  r.mesh = read_mesh_config(&cm, &r.issues);
  return r;
}

KeyValues istio_labels() {
  KeyValues out;
  for (const auto& [k, v] : lg::access_log::istio_json_labels()) out.emplace_back(k, v);
  return out;
}

TEST(MeshConfig, DefaultsAreIstiods) {
  const MeshConfig m = read_mesh_config(nullptr);
  EXPECT_EQ(m.access_log_file, "");
  EXPECT_FALSE(m.access_log_json);
  EXPECT_TRUE(m.default_access_logging.empty());
  ASSERT_EQ(m.extension_providers.size(), 3u);
  EXPECT_EQ(m.extension_providers[0].name, "prometheus");
  EXPECT_EQ(m.extension_providers[1].name, "stackdriver");
  const ResolvedProvider envoy = resolve_access_log_provider(m, "envoy");
  ASSERT_EQ(envoy.use, ProviderUse::file);
  EXPECT_EQ(envoy.log.path, "/dev/stdout");
  EXPECT_FALSE(envoy.log.json);
  EXPECT_EQ(envoy.log.text_format, lg::access_log::kIstioTextFormat);
  EXPECT_EQ(resolve_access_log_provider(m, "Envoy").use, ProviderUse::file) << "istiod's fetchProvider ignores case";
  EXPECT_EQ(resolve_access_log_provider(m, "prometheus").use, ProviderUse::no_log);
  EXPECT_EQ(resolve_access_log_provider(m, "otel").use, ProviderUse::undefined);
}

TEST(MeshConfig, OnlyIstioSystemIstioIsTheMeshConfig) {
  Resource cm = mesh_config_map("accessLogFile: /dev/stdout");
  EXPECT_TRUE(is_mesh_config(cm));
  cm.name = "istio-canary";
  EXPECT_FALSE(is_mesh_config(cm));
  cm.name = "istio";
  cm.ns = "default";
  EXPECT_FALSE(is_mesh_config(cm));
}

TEST(MeshConfig, ProvidersReplaceBuiltinsByNameAndFollowThem) {
  const Read r = read(R"(accessLogFile: /var/log/legacy.log
defaultProviders:
  accessLogging: [envoy, json-file]
extensionProviders:
- name: json-file
  envoyFileAccessLog:
    path: /var/log/gw.json
    logFormat:
      labels: {path: "%REQ(:PATH)%", code: "%RESPONSE_CODE%", agent: "%REQ(USER-AGENT)%"}
- name: envoy
  envoyFileAccessLog: {path: /dev/stderr}
- name: text-file
  envoy_file_access_log: {log_format: {text: "%PROTOCOL% %RESPONSE_CODE%"}}
- name: empty-labels
  envoyFileAccessLog: {logFormat: {labels: {}}}
- name: envoy-format
  envoyFileAccessLog: {logFormat: {}}
- name: otel
  envoyOtelAls: {service: otel.istio-system.svc.cluster.local, port: 4317}
)");
  EXPECT_TRUE(r.issues.empty()) << r.all();
  EXPECT_EQ(r.mesh.access_log_file, "/var/log/legacy.log");
  EXPECT_EQ(r.mesh.default_access_logging, (std::vector<std::string>{"envoy", "json-file"}));
  std::vector<std::string> names;
  for (const auto& p : r.mesh.extension_providers) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"prometheus", "stackdriver", "envoy", "json-file", "text-file", "empty-labels",
                                             "envoy-format", "otel"}));

  const ResolvedProvider envoy = resolve_access_log_provider(r.mesh, "envoy");
  ASSERT_EQ(envoy.use, ProviderUse::file);
  EXPECT_EQ(envoy.log.path, "/dev/stderr");
  EXPECT_EQ(envoy.log.text_format, lg::access_log::kIstioTextFormat);

  const ResolvedProvider json = resolve_access_log_provider(r.mesh, "json-file");
  ASSERT_EQ(json.use, ProviderUse::file);
  EXPECT_TRUE(json.log.json);
  EXPECT_EQ(json.log.json_labels,
            (KeyValues{{"agent", "%REQ(USER-AGENT)%"}, {"code", "%RESPONSE_CODE%"}, {"path", "%REQ(:PATH)%"}}));

  const ResolvedProvider text = resolve_access_log_provider(r.mesh, "text-file");
  ASSERT_EQ(text.use, ProviderUse::file) << "proto field names work too";
  EXPECT_EQ(text.log.path, "/dev/stdout");
  EXPECT_EQ(text.log.text_format, "%PROTOCOL% %RESPONSE_CODE%\n");

  const ResolvedProvider empty = resolve_access_log_provider(r.mesh, "empty-labels");
  ASSERT_EQ(empty.use, ProviderUse::file);
  EXPECT_EQ(empty.log.json_labels, istio_labels());

  const ResolvedProvider envoy_format = resolve_access_log_provider(r.mesh, "envoy-format");
  ASSERT_EQ(envoy_format.use, ProviderUse::file);
  EXPECT_EQ(envoy_format.log.text_format.rfind("[%START_TIME%] \"%REQ(:METHOD)%", 0), 0u) << "Envoy's own default";
  EXPECT_EQ(envoy_format.log.text_format.find("RESPONSE_CODE_DETAILS"), std::string::npos);
  EXPECT_TRUE(lg::access_log::parse(envoy_format.log.text_format).ok());

  EXPECT_EQ(resolve_access_log_provider(r.mesh, "otel").use, ProviderUse::remote);
}

TEST(MeshConfig, BuiltinEnvoyTakesTheMeshFormat) {
  Read r = read("accessLogEncoding: JSON\naccessLogFormat: '{\"b\": \"%BYTES_SENT%\", \"a\": \"%PROTOCOL%\"}'\n");
  EXPECT_TRUE(r.issues.empty()) << r.all();
  ResolvedProvider envoy = resolve_access_log_provider(r.mesh, "envoy");
  ASSERT_EQ(envoy.use, ProviderUse::file);
  EXPECT_TRUE(envoy.log.json);
  EXPECT_EQ(envoy.log.json_labels, (KeyValues{{"a", "%PROTOCOL%"}, {"b", "%BYTES_SENT%"}}));

  r = read("accessLogFormat: '%PROTOCOL%'\nextensionProviders:\n- {name: envoy, envoyFileAccessLog: {path: /tmp/a}}\n");
  envoy = resolve_access_log_provider(r.mesh, "envoy");
  ASSERT_EQ(envoy.use, ProviderUse::file);
  EXPECT_EQ(envoy.log.path, "/tmp/a");
  EXPECT_EQ(envoy.log.text_format, "%PROTOCOL%\n") << "a user `envoy` without logFormat keeps the mesh format";

  const ResolvedProvider legacy = mesh_access_log(r.mesh, "/var/log/x");
  EXPECT_EQ(legacy.use, ProviderUse::file);
  EXPECT_EQ(legacy.log.path, "/var/log/x");
  EXPECT_EQ(legacy.log.text_format, "%PROTOCOL%\n");
}

TEST(MeshConfig, ProblemsNameTheirField) {
  const Read r = read(R"(accessLogEncoding: XML
accessLogFile: 7
defaultProviders: {accessLogging: envoy}
extensionProviders:
- name: bad-text
  envoyFileAccessLog: {logFormat: {text: "%REQ(:PATH)% %UPSTREAM_PEER_SUBJECT%"}}
- name: bad-label
  envoyFileAccessLog: {logFormat: {labels: {ok: "%PROTOCOL%", size: 5, worse: "%NOPE%"}}}
- name: both
  envoyFileAccessLog: {logFormat: {text: "x", labels: {a: "%PROTOCOL%"}}, omitEmptyValues: true}
- name: mystery
  somethingNew: {}
)");
  auto has = [&](bool error, const std::string& path, const std::string& text) {
    for (const auto& i : r.issues)
      if (i.error == error && i.path == path && i.message.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has(true, "accessLogEncoding", "Unsupported value: \"XML\": supported values: \"TEXT\", \"JSON\"")) << r.all();
  EXPECT_TRUE(has(true, "accessLogFile", "must be a string, not 7")) << r.all();
  EXPECT_TRUE(has(true, "defaultProviders.accessLogging", "must be a list of provider names")) << r.all();
  EXPECT_TRUE(has(true, "extensionProviders[0].envoyFileAccessLog.logFormat.text",
                  "provider \"bad-text\": format rejected: %UPSTREAM_PEER_SUBJECT% is not a command linegate writes"))
      << r.all();
  EXPECT_TRUE(has(true, "extensionProviders[0].envoyFileAccessLog.logFormat.text",
                  "; the command operators linegate writes are START_TIME, REQ, RESP,"))
      << r.all();
  EXPECT_TRUE(has(true, "extensionProviders[1].envoyFileAccessLog.logFormat.labels[size]",
                  "linegate writes labels whose value is a format string, not 5"))
      << r.all();
  EXPECT_TRUE(has(true, "extensionProviders[2].envoyFileAccessLog.logFormat", "set text or labels, not both")) << r.all();
  EXPECT_TRUE(has(false, "extensionProviders[2].envoyFileAccessLog.omitEmptyValues", "not supported by linegate")) << r.all();
  EXPECT_TRUE(has(false, "extensionProviders[3]", "provider \"mystery\" has no provider field linegate knows")) << r.all();
  EXPECT_EQ(r.issues.size(), 9u) << r.all();

  EXPECT_FALSE(r.mesh.access_log_json) << "an unknown encoding leaves istiod's TEXT";
  const ResolvedProvider text = resolve_access_log_provider(r.mesh, "bad-text");
  EXPECT_EQ(text.use, ProviderUse::bad_format);
  EXPECT_NE(text.error.find("%UPSTREAM_PEER_SUBJECT%"), std::string::npos) << text.error;
  const ResolvedProvider label = resolve_access_log_provider(r.mesh, "bad-label");
  EXPECT_EQ(label.use, ProviderUse::bad_format);
  EXPECT_EQ(label.error, "label \"size\" is not a string");
  EXPECT_EQ(resolve_access_log_provider(r.mesh, "mystery").use, ProviderUse::no_log);
}

TEST(MeshConfig, BadJsonFormatKeepsIstiosDefaultLabels) {
  for (const char* format : {"'not json'", "'[\"%PROTOCOL%\"]'", "'{\"a\": 1}'"}) {
    const Read r = read(std::string("accessLogEncoding: JSON\naccessLogFormat: ") + format + "\n");
    ASSERT_FALSE(r.issues.empty()) << format;
    EXPECT_TRUE(r.issues[0].error);
    EXPECT_EQ(r.issues[0].path.rfind("accessLogFormat", 0), 0u) << r.all();
    const ResolvedProvider envoy = resolve_access_log_provider(r.mesh, "envoy");
    ASSERT_EQ(envoy.use, ProviderUse::file) << format;
    EXPECT_EQ(envoy.log.json_labels, istio_labels()) << format;
  }
  const Read r = read("accessLogEncoding: JSON\naccessLogFormat: '{\"a\": \"%FOO%\"}'\n");
  ASSERT_EQ(r.issues.size(), 1u) << r.all();
  EXPECT_EQ(r.issues[0].path, "accessLogFormat[a]");
  EXPECT_EQ(mesh_access_log(r.mesh, "/dev/stdout").use, ProviderUse::bad_format);
}

TEST(MeshConfig, UnreadableMeshIsTheDefault) {
  Read r = read("accessLogFile: a: b\n");
  ASSERT_EQ(r.issues.size(), 1u) << r.all();
  EXPECT_EQ(r.issues[0].path, "");
  EXPECT_NE(r.issues[0].message.find("MeshConfig is not valid YAML: YAML syntax error at line 1"), std::string::npos)
      << r.all();
  EXPECT_EQ(r.mesh.access_log_file, "");
  r = read("- a list");
  ASSERT_EQ(r.issues.size(), 1u) << r.all();
  EXPECT_NE(r.issues[0].message.find("MeshConfig must be a YAML map"), std::string::npos) << r.all();
  r = read("# only a comment");
  EXPECT_TRUE(r.issues.empty()) << r.all();
}

std::vector<std::string> analyze_text(const std::string& yaml) {
  Diagnostics ld;
  const auto rs = load_text(yaml, "t.yaml", ld);
  EXPECT_FALSE(ld.has_errors());
  Diagnostics d;
  analyze(rs, d);
  std::vector<std::string> out;
  for (const Diagnostic& x : d.items()) out.push_back(x.format());
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(MeshConfigAnalyze, ErrorsNameTheConfigMapAndTheMeshField) {
  const auto d = analyze_text(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    accessLogFile: /dev/stdout
    accessLogEncoding: XML
    accessLogFormat: "[%START_TIME%] %REQ(:PATH)% %FILTER_STATE(x)%"
    defaultProviders: {accessLogging: [envoy, otel, nowhere]}
    extensionProviders:
    - name: otel
      envoyOtelAls: {service: otel.observability.svc.cluster.local, port: 4317}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  mesh: "{{ not: [yaml"
)");
  const std::string all = joined(d);
  EXPECT_EQ(d.size(), 4u) << all;
  auto has = [&](const std::string& line) { return all.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("Error: t.yaml (doc 1) ConfigMap istio-system/istio: data[mesh].accessLogEncoding: Unsupported value: "
                  "\"XML\": supported values: \"TEXT\", \"JSON\""))
      << all;
  EXPECT_NE(all.find("Error: t.yaml (doc 1) ConfigMap istio-system/istio: data[mesh].accessLogFormat: format rejected: "
                     "%FILTER_STATE% is not a command linegate writes (see the supported list); the command operators "
                     "linegate writes are START_TIME, REQ, RESP, PROTOCOL,"),
            std::string::npos)
      << all;
  EXPECT_TRUE(has("Warning: t.yaml (doc 1) ConfigMap istio-system/istio: data[mesh].defaultProviders.accessLogging[1]: "
                  "provider \"otel\" (envoyOtelAls) is not supported by linegate: no access log is written"))
      << all;
  EXPECT_TRUE(has("Warning: t.yaml (doc 1) ConfigMap istio-system/istio: data[mesh].defaultProviders.accessLogging[2]: "
                  "provider \"nowhere\" is not defined in the MeshConfig's extensionProviders (ConfigMap "
                  "istio-system/istio): istiod skips it and no access log is written"))
      << all;
}

TEST(MeshConfigAnalyze, UnreadableMeshIsAnError) {
  const auto d = analyze_text(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata: {mesh: 'a: b: c'}\n---\n"
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: other}\ndata: {mesh: 'a: b: c'}\n");
  ASSERT_EQ(d.size(), 1u) << joined(d);
  EXPECT_EQ(d[0].rfind("Error: t.yaml (doc 1) ConfigMap istio-system/istio: data[mesh]: MeshConfig is not valid YAML: "
                       "YAML syntax error at line 1, column ",
                       0),
            0u)
      << d[0];
}

TEST(MeshConfigAnalyze, TelemetryProvidersAreCheckedAgainstTheMeshConfig) {
  const auto d = analyze_text(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    extensionProviders:
    - name: otel
      envoyOtelAls: {service: otel.observability.svc.cluster.local, port: 4317}
    - name: file
      envoyFileAccessLog: {path: /var/log/gw.log}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging:
  - providers: [{name: envoy}, {name: file}, {name: otel}, {name: missing}, {name: prometheus}]
  - providers: [{name: also-missing}]
    disabled: true
)");
  const std::string all = joined(d);
  EXPECT_EQ(d.size(), 3u) << all;
  const std::string at = "Warning: t.yaml (doc 2) Telemetry istio-system/mesh-default: spec.accessLogging[0].providers";
  auto has = [&](const std::string& line) { return all.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has(at + "[2].name: provider \"otel\" (envoyOtelAls) is not supported by linegate: no access log is written"))
      << all;
  EXPECT_TRUE(has(at + "[3].name: provider \"missing\" is not defined in the MeshConfig's extensionProviders (ConfigMap "
                       "istio-system/istio): istiod skips it and no access log is written"))
      << all;
  EXPECT_TRUE(has(at + "[4].name: provider \"prometheus\" (prometheus) writes no access logs, in Istio as in linegate: no "
                       "access log is written"))
      << all;
}

}  // namespace
