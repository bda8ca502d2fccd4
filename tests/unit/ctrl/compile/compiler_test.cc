// Compiler entry points: determinism, content versioning, JSON redaction,
// gateway selection by node labels.
#include "tests/unit/ctrl/compile/test_util.h"

#include <openssl/evp.h>

#include <algorithm>
#include <random>

namespace lg::ctrl::testing {
namespace {

const char* kBookinfo = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: bookinfo}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["bookinfo.example.com"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["bookinfo.example.com"]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: bookinfo}
spec:
  hosts: ["bookinfo.example.com"]
  gateways: ["bookinfo-gateway"]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v3}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  ports: [{name: http, port: 9080}]
  selector: {app: reviews}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-1, namespace: bookinfo}
spec: {address: 10.0.0.1, labels: {app: reviews, version: v1}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-2, namespace: bookinfo}
spec: {address: 10.0.0.2, labels: {app: reviews, version: v2}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-3, namespace: bookinfo}
spec: {address: 10.0.0.3, labels: {app: reviews, version: v3}}
---
apiVersion: v1
kind: Secret
metadata: {name: bookinfo-cert, namespace: istio-system}
type: kubernetes.io/tls
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\nnot-a-real-cert\n-----END CERTIFICATE-----\n"
  tls.key: "-----BEGIN PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----\n"
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
)";

TEST(CompileDeterminism, ShuffledInputGivesIdenticalBytesAndVersion) {
  const std::vector<Resource> base = load(kBookinfo);
  ASSERT_EQ(base.size(), 9u);
  const pb::GatewaySnapshot first = compile_snapshot(base, ingress_node());
  const std::string bytes = serialize_snapshot(first);
  ASSERT_FALSE(first.listeners().empty());
  std::mt19937 rng(1234);
  for (int i = 0; i < 20; ++i) {
    std::vector<Resource> shuffled = base;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    const pb::GatewaySnapshot again = compile_snapshot(shuffled, ingress_node());
    EXPECT_EQ(serialize_snapshot(again), bytes) << "shuffle " << i;
    EXPECT_EQ(again.version(), first.version());
    EXPECT_EQ(snapshot_to_json(again), snapshot_to_json(first));
  }
}

TEST(CompileDeterminism, NodeLabelOrderDoesNotMatter) {
  GatewayNode a = ingress_node();
  GatewayNode b = ingress_node();
  b.labels.clear();
  b.labels.emplace("app", "istio-ingressgateway");
  b.labels.emplace("istio", "ingressgateway");
  EXPECT_EQ(compile(kBookinfo, a).version(), compile(kBookinfo, b).version());
}

TEST(CompileVersion, IsSha256PrefixOfSnapshotWithoutVersion) {
  const pb::GatewaySnapshot s = compile(kBookinfo);
  ASSERT_EQ(s.version().size(), 16u);
  EXPECT_TRUE(std::all_of(s.version().begin(), s.version().end(), [](char c) { return std::isxdigit(c) && !std::isupper(c); }));
  pb::GatewaySnapshot copy = s;
  copy.clear_version();
  const std::string bytes = serialize_snapshot(copy);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr), 1);
  char hex[17];
  for (int i = 0; i < 8; ++i) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  EXPECT_EQ(s.version(), std::string(hex, 16));
}

TEST(CompileVersion, ChangesWhenContentChanges) {
  std::string changed = kBookinfo;
  const size_t at = changed.find("weight: 90");
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, 10, "weight: 80");
  const size_t at2 = changed.find("weight: 10");
  changed.replace(at2, 10, "weight: 20");
  const pb::GatewaySnapshot a = compile(kBookinfo), b = compile(changed);
  EXPECT_NE(a.version(), b.version());
  // A change this gateway does not see leaves the version alone.
  const std::string unrelated = std::string(kBookinfo) + R"(
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other, namespace: bookinfo}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 81, name: http, protocol: HTTP}, hosts: ["*"]}]
)";
  EXPECT_EQ(compile(unrelated).version(), a.version());
  // The node's id is not part of the content (gateways of one identity share
  // a snapshot); its network is.
  GatewayNode other = ingress_node();
  other.id = "gw-b";
  EXPECT_EQ(compile(kBookinfo, other).version(), a.version());
  other.network = "network-b";
  EXPECT_NE(compile(kBookinfo, other).version(), a.version());
}

TEST(CompileJson, RedactsPrivateKeysByDefaultOnly) {
  const pb::GatewaySnapshot s = compile(kBookinfo);
  ASSERT_EQ(s.secrets_size(), 1);
  EXPECT_NE(s.secrets(0).private_key().find("TOP-SECRET"), std::string::npos) << "key must still be on the wire";
  const std::string redacted = snapshot_to_json(s);
  EXPECT_NE(redacted.find("\"privateKey\": \"[redacted]\""), std::string::npos);
  // base64("-----BEGIN PRIVATE KEY") starts with this; neither form may appear.
  EXPECT_EQ(redacted.find("LS0tLS1CRUdJTiBQUklWQVRFIEtFW"), std::string::npos);
  EXPECT_EQ(redacted.find("TOP-SECRET"), std::string::npos);
  const std::string full = snapshot_to_json(s, false);
  EXPECT_NE(full.find("LS0tLS1CRUdJTiBQUklWQVRFIEtFW"), std::string::npos);
  EXPECT_EQ(full.find("[redacted]"), std::string::npos);
}

TEST(CompileJson, KeepsProtoFieldOrder) {
  const std::string json = snapshot_to_json(compile(kBookinfo));
  const size_t version = json.find("\"version\""), gateways = json.find("\"gateways\""),
               listeners = json.find("\"listeners\""), clusters = json.find("\"clusters\"");
  ASSERT_NE(version, std::string::npos);
  EXPECT_LT(version, gateways);
  EXPECT_LT(gateways, listeners);
  EXPECT_LT(listeners, clusters);
}

// --- gateway selection

std::string gateway_with_selector(const std::string& name, const std::string& selector, int port) {
  return "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " + name +
         ", namespace: istio-system}\nspec:\n" + selector + "  servers:\n  - port: {number: " + std::to_string(port) +
         ", name: http, protocol: HTTP}\n    hosts: [\"*\"]\n---\n";
}

TEST(CompileSelection, SelectorMustBeSubsetOfNodeLabels) {
  const std::string yaml = gateway_with_selector("exact", "  selector: {istio: ingressgateway}\n", 80) +
                           gateway_with_selector("two-labels", "  selector: {istio: ingressgateway, app: istio-ingressgateway}\n", 81) +
                           gateway_with_selector("extra-label", "  selector: {istio: ingressgateway, zone: a}\n", 82) +
                           gateway_with_selector("other", "  selector: {istio: egressgateway}\n", 83) +
                           gateway_with_selector("no-selector", "", 84) +
                           gateway_with_selector("empty-selector", "  selector: {}\n", 85);
  const pb::GatewaySnapshot s = compile(yaml);
  const std::vector<std::string> got(s.gateways().begin(), s.gateways().end());
  EXPECT_EQ(got, (std::vector<std::string>{"istio-system/empty-selector", "istio-system/exact", "istio-system/no-selector",
                                           "istio-system/two-labels"}));
  std::vector<uint32_t> ports;
  for (const auto& l : s.listeners()) ports.push_back(l.port());
  EXPECT_EQ(ports, (std::vector<uint32_t>{80, 81, 84, 85}));
}

TEST(CompileSelection, NodeWithoutLabelsGetsOnlyUnselectiveGateways) {
  const std::string yaml = gateway_with_selector("exact", "  selector: {istio: ingressgateway}\n", 80) +
                           gateway_with_selector("no-selector", "", 84);
  GatewayNode bare;
  bare.id = "bare";
  const pb::GatewaySnapshot s = compile(yaml, bare);
  ASSERT_EQ(s.gateways_size(), 1);
  EXPECT_EQ(s.gateways(0), "istio-system/no-selector");
  EXPECT_EQ(s.node().namespace_(), "istio-system") << "empty node namespace defaults to the root namespace";
}

TEST(CompileRobustness, OddInputNeverCrashes) {
  // Shapes analyze() would reject; the compiler must still return a snapshot.
  const char* yaml = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: weird, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: "not an object"
  - hosts: 7
  - port: {number: 80, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: weird, namespace: default}
spec:
  hosts: "*"
  gateways: [weird]
  http:
  - match: 5
    route: {destination: 3}
  - route: [{destination: {host: nowhere, port: {number: "x"}}}]
    timeout: forever
    retries: {attempts: -1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: weird, namespace: default}
spec:
  host: 12
  trafficPolicy: {loadBalancer: "x", portLevelSettings: [{port: 5}]}
  subsets: [{name: a, labels: [1, 2]}]
)";
  const pb::GatewaySnapshot s = compile(yaml);
  EXPECT_EQ(s.version().size(), 16u);
  EXPECT_EQ(s.listeners_size(), 1);
}

TEST(CompileRobustness, DuplicateDefinitionsAreDeterministic) {
  const std::string dup = std::string(kBookinfo) + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
  subsets: [{name: v1, labels: {version: v1}}]
)";
  std::vector<Resource> r = load(dup);
  const pb::GatewaySnapshot a = compile_snapshot(r, ingress_node());
  std::reverse(r.begin(), r.end());
  const pb::GatewaySnapshot b = compile_snapshot(r, ingress_node());
  EXPECT_EQ(a.version(), b.version());
  bool warned = false;
  for (const auto& w : a.warnings()) warned |= w.find("defined more than once") != std::string::npos;
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace lg::ctrl::testing
