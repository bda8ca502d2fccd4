// Each kind of check the schema validator makes, with the API server's wording.
#include "ctrl/crd/kinds.h"
#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema.h"
#include "ctrl/crd/schema_model.h"
#include "tests/unit/ctrl/crd/crd_test_env.h"

#include <gtest/gtest.h>

namespace lg::ctrl {
namespace {

struct Result {
  std::vector<std::string> errors;  // "path: message"
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
  std::string all() const {
    std::string s;
    for (const auto& e : errors) s += "E " + e + "\n";
    for (const auto& w : warnings) s += "W " + w + "\n";
    for (const auto& i : infos) s += "I " + i + "\n";
    return s;
  }
  bool has_error(const std::string& text) const {
    for (const auto& e : errors)
      if (e.find(text) != std::string::npos) return true;
    return false;
  }
};

Result check(const std::string& yaml) {
  Diagnostics d;
  const auto docs = load_text(yaml, "t.yaml", d);
  EXPECT_EQ(docs.size(), 1u) << "test manifest did not load";
  EXPECT_FALSE(d.has_errors()) << "loader errors in test manifest";
  for (const auto& r : docs) validate_schema(r, d);
  Result res;
  for (const Diagnostic& x : d.items()) {
    const std::string line = x.path.empty() ? x.message : x.path + ": " + x.message;
    if (x.severity == Severity::error) res.errors.push_back(line);
    else if (x.severity == Severity::warning) res.warnings.push_back(line);
    else res.infos.push_back(line);
  }
  return res;
}

// Every Schema test validates against Istio's CRDs.
class Schema : public WithIstioCrds {};

std::string pa(const std::string& spec) {
  return "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec:\n" + spec;
}

TEST_F(Schema, EnumViolationNamesTheSupportedValues) {
  const Result r = check(pa("  mtls:\n    mode: BLAH\n"));
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0],
            "spec.mtls.mode: Unsupported value: \"BLAH\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\"");
}

TEST_F(Schema, RequiredFields) {
  Result r = check("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec: {}\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"spec.hosts: Required value"}) << r.all();
  r = check("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"spec: Required value"}) << r.all();
}

TEST_F(Schema, StringLengthsAndPatterns) {
  Result r = check(
      "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t}\n"
      "spec:\n  metrics:\n  - providers:\n    - name: \"\"\n");
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0],
            "spec.metrics[0].providers[0].name: Invalid value: \"\": spec.metrics[0].providers[0].name in body should "
            "be at least 1 chars long");
  r = check(pa("  selector:\n    matchLabels:\n      app: " + std::string(64, 'x') + "\n"));
  EXPECT_EQ(r.errors, std::vector<std::string>{"spec.selector.matchLabels[app]: Too long: may not be longer than 63"})
      << r.all();
  r = check(
      "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: r}\n"
      "spec:\n  targetRef: {group: \"__\", kind: Service, name: foo}\n");
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0],
            "spec.targetRef.group: Invalid value: \"__\": spec.targetRef.group in body should match "
            "'^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'");
}

TEST_F(Schema, NumericRanges) {
  const Result r = check(
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\n"
      "spec:\n  host: a\n  trafficPolicy:\n    loadBalancer:\n      warmup: {duration: 10s, minimumPercent: 150.0, aggression: -0.5}\n");
  ASSERT_EQ(r.errors.size(), 2u) << r.all();
  EXPECT_EQ(r.errors[0],
            "spec.trafficPolicy.loadBalancer.warmup.aggression: Invalid value: -0.5: "
            "spec.trafficPolicy.loadBalancer.warmup.aggression in body should be greater than or equal to 0");
  EXPECT_EQ(r.errors[1],
            "spec.trafficPolicy.loadBalancer.warmup.minimumPercent: Invalid value: 150: "
            "spec.trafficPolicy.loadBalancer.warmup.minimumPercent in body should be less than or equal to 100");
}

TEST_F(Schema, TypesNullAndIntOrString) {
  Result r = check("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"spec: Invalid value: \"null\": spec in body must be of type object: \"null\""})
      << r.all();
  r = check("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n  hosts: a.com\n");
  EXPECT_EQ(r.errors,
            std::vector<std::string>{"spec.hosts: Invalid value: \"string\": spec.hosts in body must be of type array: \"string\""})
      << r.all();
  // 5.0 reaches the API server as 5 (kubectl's JSON has no float/int distinction): an integer.
  r = check(
      "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\n"
      "spec:\n  hosts: [a.com]\n  ports: [{name: http, number: 80.0, protocol: HTTP}]\n");
  EXPECT_TRUE(r.errors.empty()) << r.all();
  r = check(
      "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\n"
      "spec:\n  hosts: [a.com]\n  ports: [{name: http, number: 80.5, protocol: HTTP}]\n");
  EXPECT_TRUE(r.has_error("spec.ports[0].number in body must be of type integer: \"number\"")) << r.all();
}

TEST_F(Schema, UnknownFieldsAsStrictFieldValidationReportsThem) {
  const Result r = check(
      "_err: ignored test annotation\n"
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, colour: red}\n"
      "status: {anything: goes}\n"
      "extra: 1\n"
      "spec:\n  hosts: [a]\n  foo: 1\n  http:\n  - route:\n    - destination: {host: a, bar: 2}\n");
  EXPECT_EQ(r.errors, (std::vector<std::string>{
                          "metadata.colour: unknown field \"metadata.colour\"",
                          "extra: unknown field \"extra\"",
                          "spec.foo: unknown field \"spec.foo\"",
                          "spec.http[0].route[0].destination.bar: unknown field \"spec.http[0].route[0].destination.bar\"",
                      }))
      << r.all();
}

TEST_F(Schema, PreserveUnknownFieldsAllowsFreeFormValues) {
  const Result r = check(
      "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: e}\n"
      "spec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    patch:\n      operation: INSERT_BEFORE\n"
      "      value: {name: x, typed_config: {'@type': t, anything: [1, 2]}}\n");
  EXPECT_TRUE(r.errors.empty()) << r.all();
}

TEST_F(Schema, CelRuleViolationAndEvaluationError) {
  Result r = check(pa("  portLevelMtls:\n    \"80\": {mode: STRICT}\n"));
  EXPECT_EQ(r.errors, std::vector<std::string>{"spec: Invalid value: \"object\": portLevelMtls requires selector"}) << r.all();
  r = check(pa("  selector: {matchLabels: {a: b}}\n  portLevelMtls:\n    \"acd\": {mode: STRICT}\n"));
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0].rfind("spec.portLevelMtls: Invalid value: \"object\": ", 0), 0u) << r.errors[0];
  EXPECT_NE(r.errors[0].find("type conversion error from"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[0].find("evaluating rule: port must be between 1-65535"), std::string::npos) << r.errors[0];
  r = check(
      "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: e}\n"
      "spec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {context: WAYPOINT, waypoint: {portNumber: 65536}}\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{
                          "spec.configPatches[0].match.waypoint.portNumber: Invalid value: \"integer\": port must be between 1-65535"})
      << r.all();
}

TEST_F(Schema, CelRulesAreSkippedAfterABlockingError) {
  // An enum error blocks CEL, as in the API server; the missing selector is then not reported.
  const Result r = check(pa("  mtls: {mode: BLAH}\n  portLevelMtls:\n    \"80\": {mode: STRICT}\n"));
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_NE(r.errors[0].find("Unsupported value: \"BLAH\""), std::string::npos);
  ASSERT_EQ(r.infos.size(), 1u) << r.all();
  EXPECT_NE(r.infos[0].find("some validation rules were not checked"), std::string::npos);
}

TEST_F(Schema, PropertyCountsAndListTypes) {
  Result r = check(pa("  selector: {matchLabels: {a: b}}\n  portLevelMtls: {}\n"));
  EXPECT_EQ(r.errors, std::vector<std::string>{
                          "spec.portLevelMtls: Invalid value: 0: spec.portLevelMtls in body should have at least 1 properties"})
      << r.all();
  r = check(
      "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\n"
      "spec:\n  hosts: [a.com]\n  ports: [{name: a, number: 1}, {name: a, number: 2}]\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"spec.ports[1]: Duplicate value: {\"name\":\"a\"}"}) << r.all();
}

TEST_F(Schema, OneOfAllowsOnlyOneAlternative) {
  const Result r = check(
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
      "spec:\n  hosts: [a]\n  http:\n  - match:\n    - uri: {exact: /a, prefix: /b}\n    route: [{destination: {host: a}}]\n");
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0],
            "spec.http[0].match[0].uri: Invalid value: \"object\": \"spec.http[0].match[0].uri\" must validate one and "
            "only one schema (oneOf). Found 2 valid alternatives");
}

TEST_F(Schema, MetadataSyntax) {
  const Result r = check(
      "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
      "metadata:\n  name: Bad_Name\n  namespace: Prod\n  labels: {\"a b\": x, ok: \"-bad-\"}\n"
      "spec: {}\n");
  ASSERT_EQ(r.errors.size(), 4u) << r.all();
  EXPECT_TRUE(r.has_error("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain")) << r.all();
  EXPECT_TRUE(r.has_error("metadata.namespace: Invalid value: \"Prod\": a lowercase RFC 1123 label")) << r.all();
  EXPECT_TRUE(r.has_error("metadata.labels: Invalid value: \"a b\": name part must consist")) << r.all();
  EXPECT_TRUE(r.has_error("metadata.labels[ok]: Invalid value: \"-bad-\": a valid label must be")) << r.all();
}

TEST_F(Schema, ValidRealisticManifestsPass) {
  const std::string manifests =
      "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: bookinfo-gateway, namespace: bookinfo}\n"
      "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
      "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [bookinfo.example.com]\n"
      "    tls: {mode: SIMPLE, credentialName: bookinfo-cert}\n"
      "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n    tls: {httpsRedirect: true}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\n"
      "spec:\n  hosts: [bookinfo.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n"
      "  - match: [{headers: {end-user: {exact: jason}}, uri: {prefix: /reviews}}]\n"
      "    route: [{destination: {host: reviews, subset: v2}}]\n"
      "  - route:\n    - {destination: {host: reviews, subset: v1, port: {number: 9080}}, weight: 90}\n"
      "    - {destination: {host: reviews, subset: v3}, weight: 10}\n    timeout: 5s\n"
      "    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 5xx}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: reviews}\n"
      "spec:\n  host: reviews\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}, tls: {mode: ISTIO_MUTUAL}}\n"
      "  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: external-api}\n"
      "spec:\n  hosts: [api.example.com]\n  location: MESH_EXTERNAL\n  resolution: DNS\n"
      "  ports: [{number: 443, name: https, protocol: TLS}]\n"
      "---\n"
      "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\n"
      "spec:\n  mtls: {mode: STRICT}\n"
      "---\n"
      "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all, namespace: prod}\n"
      "spec: {}\n"
      "---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: bookinfo}\n"
      "spec:\n  selector: {app: reviews}\n  ports: [{name: http, port: 9080, targetPort: 9080}]\n"
      "---\n"
      "apiVersion: v1\nkind: Secret\nmetadata: {name: bookinfo-cert, namespace: istio-system}\n"
      "type: kubernetes.io/tls\ndata: {tls.crt: dGVzdA==, tls.key: dGVzdA==}\n";
  Diagnostics d;
  const auto docs = load_text(manifests, "bookinfo.yaml", d);
  ASSERT_EQ(docs.size(), 8u);
  for (const auto& r : docs) {
    EXPECT_TRUE(check_kind(r, d)) << r.ref();
    validate_schema(r, d);
  }
  std::string all;
  for (const auto& x : d.items()) all += x.format() + "\n";
  EXPECT_EQ(d.items().size(), 0u) << all;
}

TEST(SchemaKinds, KindsAndVersions) {
  Diagnostics d;
  auto docs = load_text(
      "apiVersion: security.istio.io/v1alpha1\nkind: PeerAuthentication\nmetadata: {name: a}\n---\n"
      "apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: b}\n---\n"
      "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: c}\n---\n"
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n"
      "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: e}\n",
      "k.yaml", d);
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_FALSE(check_kind(docs[0], d));
  EXPECT_FALSE(check_kind(docs[1], d));
  EXPECT_FALSE(check_kind(docs[2], d));
  EXPECT_FALSE(check_kind(docs[3], d));
  EXPECT_TRUE(check_kind(docs[4], d));
  ASSERT_EQ(d.items().size(), 4u);
  EXPECT_EQ(d.items()[0].severity, Severity::error);
  EXPECT_EQ(d.items()[0].format(),
            "Error: k.yaml (doc 1) PeerAuthentication default/a: apiVersion: Unsupported value: "
            "\"security.istio.io/v1alpha1\": PeerAuthentication is accepted as security.istio.io/v1beta1 and "
            "security.istio.io/v1");
  EXPECT_EQ(d.items()[1].severity, Severity::warning);
  EXPECT_NE(d.items()[1].message.find("not supported"), std::string::npos);
  EXPECT_NE(d.items()[2].message.find("use Istio Gateway/VirtualService"), std::string::npos) << d.items()[2].message;
  EXPECT_NE(d.items()[3].message.find("unknown kind apps/v1 Deployment"), std::string::npos) << d.items()[3].message;
  const KindInfo* k = find_kind("networking.istio.io", "WorkloadGroup");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->support, KindSupport::unsupported);
  EXPECT_EQ(find_kind("networking.istio.io", "Nope"), nullptr);
}

TEST(KubernetesKinds, Service) {
  const Result r = check(
      "apiVersion: v1\nkind: Service\nmetadata: {name: 9bad}\n"
      "spec:\n  type: ClusterIP\n  clusterIP: 10.0.0.300\n  ports:\n"
      "  - {port: 0, protocol: FOO}\n  - {name: http, port: 80, targetPort: web--x}\n  - {name: http, port: 81, nodePort: 70000}\n");
  EXPECT_TRUE(r.has_error("metadata.name: Invalid value: \"9bad\": a DNS-1035 label")) << r.all();
  EXPECT_TRUE(r.has_error("spec.clusterIP: Invalid value: \"10.0.0.300\": must be a valid IP address")) << r.all();
  EXPECT_TRUE(r.has_error("spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive")) << r.all();
  EXPECT_TRUE(r.has_error("spec.ports[0].protocol: Unsupported value: \"FOO\": supported values: \"SCTP\", \"TCP\", \"UDP\""))
      << r.all();
  EXPECT_TRUE(r.has_error("spec.ports[0].name: Required value")) << r.all();
  EXPECT_TRUE(r.has_error("spec.ports[1].targetPort: Invalid value: \"web--x\": must not contain consecutive hyphens")) << r.all();
  EXPECT_TRUE(r.has_error("spec.ports[2].name: Duplicate value: \"http\"")) << r.all();
  EXPECT_TRUE(r.has_error("spec.ports[2].nodePort: Invalid value: 70000")) << r.all();
  EXPECT_EQ(r.errors.size(), 8u) << r.all();
}

TEST(KubernetesKinds, EndpointsAndEndpointSlice) {
  Result r = check(
      "apiVersion: v1\nkind: Endpoints\nmetadata: {name: reviews}\n"
      "subsets:\n- addresses: [{ip: 10.1.2.3}, {ip: not-an-ip}]\n  ports: [{port: 9080, protocol: TCP}]\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"subsets[0].addresses[1].ip: Invalid value: \"not-an-ip\": must be a valid "
                                               "IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"})
      << r.all();
  r = check(
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: reviews-abc}\naddressType: IPv4\n"
      "endpoints:\n- addresses: [10.1.2.3, 'fd00::1']\n  conditions: {ready: true}\n  zone: z1\n"
      "ports: [{name: http, port: 9080, protocol: TCP}]\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"endpoints[0].addresses[1]: Invalid value: \"fd00::1\": must be a valid IPv4 address"})
      << r.all();
  r = check("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: x}\nendpoints: []\n");
  EXPECT_EQ(r.errors, std::vector<std::string>{"addressType: Required value"}) << r.all();
}

TEST(KubernetesKinds, SecretNeverEchoesItsData) {
  const Result r = check(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: cert}\ntype: kubernetes.io/tls\n"
      "data: {tls.crt: 'c2VjcmV0LWtleQ==', 'bad key': 'bm90IGJhc2U2NA!!'}\n");
  EXPECT_TRUE(r.has_error("data[tls.key]: Required value")) << r.all();
  EXPECT_TRUE(r.has_error("data[bad key]: Invalid value: \"bad key\": a valid config key")) << r.all();
  EXPECT_TRUE(r.has_error("data[bad key]: Invalid value: <value not shown>: illegal base64 data at input byte 14")) << r.all();
  EXPECT_EQ(r.all().find("bm90IGJhc2U2NA"), std::string::npos) << r.all();
  EXPECT_EQ(r.errors.size(), 3u) << r.all();
}

TEST(KubernetesKinds, ConfigMap) {
  Result r = check(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\nimmutable: true\n"
      "data: {mesh: 'accessLogFile: /dev/stdout', 'bad key': x, both: y}\nbinaryData: {both: eA==, blob: 'eA!'}\n");
  EXPECT_TRUE(r.has_error("data[bad key]: Invalid value: \"bad key\": a valid config key")) << r.all();
  EXPECT_TRUE(r.has_error("data[both]: Invalid value: \"both\": duplicate of key present in binaryData")) << r.all();
  EXPECT_TRUE(r.has_error("binaryData[both]: Invalid value: \"both\": duplicate of key present in data")) << r.all();
  EXPECT_TRUE(r.has_error("binaryData[blob]: Invalid value: <value not shown>: illegal base64 data at input byte 2"))
      << r.all();
  EXPECT_EQ(r.errors.size(), 4u) << r.all();
  r = check("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\nspec: {}\n");
  EXPECT_TRUE(r.has_error("data[a]: ")) << r.all();
  EXPECT_TRUE(r.has_error("unknown field \"spec\"")) << r.all();
  EXPECT_EQ(r.errors.size(), 2u) << r.all();
}

// Checks a schema written by hand, for the keywords Istio's CRDs do not use.
fielderr::List openapi(const std::string& schema, const std::string& value) {
  const auto node = crdschema::build_node(Json::parse(schema));
  fielderr::List errs;
  crdschema::validate_openapi(*node, Json::parse(value), "x", errs);
  crdschema::validate_list_types(*node, Json::parse(value), "x", errs);
  return errs;
}

std::vector<std::string> bodies(const fielderr::List& l) {
  std::vector<std::string> out;
  for (const auto& e : l) out.push_back(e.path + ": " + e.message);
  return out;
}

TEST(OpenApi, KeywordsIstioDoesNotUse) {
  EXPECT_EQ(bodies(openapi(R"({"type":"integer","minimum":0,"exclusiveMinimum":true})", "0")),
            std::vector<std::string>{"x: Invalid value: 0: x in body should be greater than 0"});
  EXPECT_EQ(bodies(openapi(R"({"type":"number","maximum":1.5,"exclusiveMaximum":true})", "1.5")),
            std::vector<std::string>{"x: Invalid value: 1.5: x in body should be less than 1.5"});
  EXPECT_EQ(bodies(openapi(R"({"type":"array","minItems":2,"items":{"type":"string"}})", R"(["a"])")),
            std::vector<std::string>{"x: Invalid value: 1: x in body should have at least 2 items"});
  EXPECT_EQ(bodies(openapi(R"({"type":"array","maxItems":1,"items":{"type":"string"}})", R"(["a","b"])")),
            std::vector<std::string>{"x: Too many: 2: must have at most 1 items"});
  EXPECT_EQ(bodies(openapi(R"({"type":"object","maxProperties":1,"additionalProperties":{"type":"string"}})", R"({"a":"1","b":"2"})")),
            std::vector<std::string>{"x: Too many: 2: must have at most 1 items"});
  EXPECT_EQ(bodies(openapi(R"({"type":"string","format":"byte"})", R"("not base64!")")),
            std::vector<std::string>{"x: Invalid value: \"not base64!\": x in body must be of type byte: \"not base64!\""});
  EXPECT_TRUE(openapi(R"({"type":"string","format":"byte"})", R"("aGk=")").empty());
  EXPECT_TRUE(openapi(R"({"type":"string","nullable":true})", "null").empty());
  EXPECT_TRUE(openapi(R"({"x-kubernetes-int-or-string":true})", "8080").empty());
  EXPECT_TRUE(openapi(R"({"x-kubernetes-int-or-string":true})", R"("http")").empty());
  EXPECT_EQ(bodies(openapi(R"({"x-kubernetes-int-or-string":true})", "true")),
            std::vector<std::string>{"x: Invalid value: \"boolean\": x in body must be of type integer,string: \"boolean\""});
  EXPECT_EQ(bodies(openapi(R"({"type":"object","properties":{"a":{"type":"string"}},"not":{"required":["a"]}})", R"({"a":"1"})")),
            std::vector<std::string>{"x: Invalid value: \"object\": \"x\" must not validate the schema (not)"});
  EXPECT_EQ(bodies(openapi(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},
                               "anyOf":[{"required":["a"]},{"required":["b"]}]})", "{}")),
            (std::vector<std::string>{"x: Invalid value: \"object\": \"x\" must validate at least one schema (anyOf)",
                                      "x.a: Required value"}));
  EXPECT_EQ(bodies(openapi(R"({"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}})", R"(["a","b","a"])")),
            std::vector<std::string>{"x[2]: Duplicate value: \"a\""});
}

TEST(OpenApi, CelRulesOnAHandWrittenSchema) {
  const auto node = crdschema::build_node(Json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}},
    "x-kubernetes-validations":[
      {"rule":"self.a < 5","message":"a must be below 5"},
      {"rule":"self.a <","message":"never compiles"},
      {"rule":"self.a == oldSelf.a","message":"immutable"},
      {"rule":"self.a > 100"},
      {"rule":"self.b == 1","message":"b is one"}]})"));
  fielderr::List errs;
  crdschema::validate_rules(*node, Json::parse(R"({"a":7})"), "x", errs);
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0].message, "Invalid value: \"object\": a must be below 5");
  EXPECT_FALSE(errs[0].warning);
  EXPECT_TRUE(errs[1].warning);  // outside the CEL subset: reported, not failed
  EXPECT_NE(errs[1].message.find("rule not checked"), std::string::npos) << errs[1].message;
  EXPECT_EQ(errs[2].message, "Invalid value: \"object\": failed rule: self.a > 100");
  EXPECT_EQ(errs[3].message, "Invalid value: \"object\": no such key: b evaluating rule: b is one");
  errs.clear();
  crdschema::validate_rules(*node, Json::parse(R"({"a":1, "b":1})"), "x", errs);
  ASSERT_EQ(errs.size(), 2u);  // the compile warning and "self.a > 100"
}

}  // namespace
}  // namespace lg::ctrl
