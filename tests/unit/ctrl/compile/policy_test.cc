// DestinationRule lookup and merge, registry, credentials, security and
// telemetry composition, rate limits.
#include <map>

#include "ctrl/compile/describe.h"
#include "ctrl/compile/peer_authentication.h"
#include "ctrl/validate/analyze.h"
#include "l7/access_log/format.h"
#include "tests/unit/ctrl/compile/test_util.h"

namespace lg::ctrl::testing {
namespace {

// Gateway in istio-system routing /<path> of x.example.com to each host given.
std::string routes_to(const std::vector<std::string>& destinations) {
  std::string out = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: [x.example.com]
  gateways: [gw]
  http:
)";
  for (size_t i = 0; i < destinations.size(); ++i)
    out += "  - match: [{uri: {prefix: /" + std::to_string(i) + "}}]\n    route: [{destination: {" + destinations[i] + "}}]\n";
  return out + "---\n";
}

std::string service(const std::string& ns, const std::string& name, const std::string& ports = "[{name: http, port: 80}]") {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  ports: " + ports +
         "\n---\n";
}

std::string dr(const std::string& ns, const std::string& name, const std::string& host, const std::string& body) {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  host: " + host + "\n" + body + "---\n";
}

TEST(DestinationRuleLookup, PrecedenceForAGatewayOutsideTheRootNamespace) {
  const std::string yaml = routes_to({"host: reviews.bookinfo.svc.cluster.local"}) + service("bookinfo", "reviews") +
                           dr("gateways", "gw-ns", "reviews.bookinfo.svc.cluster.local", "") +
                           dr("bookinfo", "svc-ns", "reviews", "") +
                           dr("istio-system", "root", "\"*.local\"", "");
  auto dr_of = [](const pb::GatewaySnapshot& s) {
    const pb::Cluster* c = find_cluster(s, "outbound|80||reviews.bookinfo.svc.cluster.local");
    return c ? c->destination_rule() : std::string("<no cluster>");
  };
  // The VirtualService lives in istio-system; the gateway node runs in "gateways".
  EXPECT_EQ(dr_of(compile(yaml, ingress_node("gateways"))), "gateways/gw-ns");
  EXPECT_EQ(dr_of(compile(yaml, ingress_node("elsewhere"))), "bookinfo/svc-ns");
  const std::string no_svc_ns = routes_to({"host: reviews.bookinfo.svc.cluster.local"}) + service("bookinfo", "reviews") +
                                dr("istio-system", "root", "\"*.local\"", "");
  EXPECT_EQ(dr_of(compile(no_svc_ns, ingress_node("elsewhere"))), "istio-system/root");
}

TEST(DestinationRuleLookup, GatewayInTheRootNamespacePrefersTheServiceNamespace) {
  // istiod: a root-namespace proxy only takes the root's exportTo "." rules
  // first, so mesh-wide catch-alls kept there do not shadow service rules.
  const std::string yaml = routes_to({"host: reviews.bookinfo.svc.cluster.local"}) + service("bookinfo", "reviews") +
                           dr("istio-system", "catch-all", "\"*.local\"", "") + dr("bookinfo", "svc-ns", "reviews", "");
  const pb::GatewaySnapshot s1 = compile(yaml);
  const pb::Cluster* c = find_cluster(s1, "outbound|80||reviews.bookinfo.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->destination_rule(), "bookinfo/svc-ns");
  const std::string private_root = routes_to({"host: reviews.bookinfo.svc.cluster.local"}) + service("bookinfo", "reviews") +
                                   dr("istio-system", "private", "\"*.local\"", "  exportTo: [\".\"]\n") +
                                   dr("bookinfo", "svc-ns", "reviews", "");
  const pb::GatewaySnapshot s2 = compile(private_root);
  c = find_cluster(s2, "outbound|80||reviews.bookinfo.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->destination_rule(), "istio-system/private");
}

TEST(DestinationRuleLookup, ExportToAndMostSpecificHost) {
  const std::string yaml = routes_to({"host: reviews.bookinfo.svc.cluster.local"}) + service("bookinfo", "reviews") +
                           dr("bookinfo", "hidden", "reviews", "  exportTo: [\".\"]\n") +
                           dr("bookinfo", "wild", "\"*.bookinfo.svc.cluster.local\"", "") +
                           dr("bookinfo", "wider", "\"*.svc.cluster.local\"", "");
  const pb::GatewaySnapshot s1 = compile(yaml, ingress_node("gateways"));
  const pb::Cluster* c = find_cluster(s1, "outbound|80||reviews.bookinfo.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->destination_rule(), "bookinfo/wild");
  // In the rule's own namespace the private exact rule is visible and wins.
  const pb::GatewaySnapshot s2 = compile(yaml, ingress_node("bookinfo"));
  c = find_cluster(s2, "outbound|80||reviews.bookinfo.svc.cluster.local");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->destination_rule(), "bookinfo/hidden");
}

TEST(DestinationRuleLookup, WorkloadSelectorAppliesOnlyToSelectedGatewaysInItsNamespace) {
  const std::string base = routes_to({"host: reviews.bookinfo.svc.cluster.local"}) + service("bookinfo", "reviews") +
                           dr("gateways", "plain", "reviews.bookinfo.svc.cluster.local", "");
  const std::string selected = base + dr("gateways", "z-selected", "reviews.bookinfo.svc.cluster.local",
                                         "  workloadSelector: {matchLabels: {istio: ingressgateway}}\n");
  const std::string other = base + dr("gateways", "z-other", "reviews.bookinfo.svc.cluster.local",
                                      "  workloadSelector: {matchLabels: {istio: egressgateway}}\n");
  auto dr_of = [](const std::string& y) {
    const pb::GatewaySnapshot s = compile(y, ingress_node("gateways"));
    const pb::Cluster* c = find_cluster(s, "outbound|80||reviews.bookinfo.svc.cluster.local");
    return c ? c->destination_rule() : std::string("<no cluster>");
  };
  EXPECT_EQ(dr_of(selected), "gateways/z-selected");
  EXPECT_EQ(dr_of(other), "gateways/plain");
}

const char* kMergeRule = R"(  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    connectionPool: {tcp: {maxConnections: 7}}
    outlierDetection: {consecutive5xxErrors: 2}
    portLevelSettings:
    - port: {number: 9090}
      connectionPool: {http: {http1MaxPendingRequests: 3}}
  subsets:
  - name: plain
    labels: {version: v1}
  - name: tuned
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpHeaderName: X-User}}
      portLevelSettings:
      - port: {number: 9090}
        tls: {mode: SIMPLE, sni: tuned.example.com}
)";

TEST(SubsetPolicyMerge, FieldsOverrideWholesaleAndPortLevelDoesNotInherit) {
  const std::string yaml =
      routes_to({"host: api.web.svc.cluster.local, subset: plain", "host: api.web.svc.cluster.local, subset: tuned",
                 "host: api.web.svc.cluster.local, port: {number: 9090}",
                 "host: api.web.svc.cluster.local, subset: tuned, port: {number: 9090}"}) +
      service("web", "api", "[{name: http, port: 80}, {name: http-admin, port: 9090}]") + dr("web", "api", "api", kMergeRule);
  const pb::GatewaySnapshot s = compile(yaml);

  const pb::Cluster* plain = find_cluster(s, "outbound|80|plain|api.web.svc.cluster.local");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->policy().load_balancer().simple(), pb::LB_ROUND_ROBIN);
  EXPECT_EQ(plain->policy().connection_pool().tcp().max_connections(), 7u);
  EXPECT_EQ(plain->policy().outlier_detection().consecutive_5xx_errors(), 2u);
  EXPECT_EQ(plain->policy().outlier_detection().base_ejection_time_ms(), 30000u);

  // Subset fields replace the top-level ones; the rest is inherited.
  const pb::Cluster* tuned = find_cluster(s, "outbound|80|tuned|api.web.svc.cluster.local");
  ASSERT_NE(tuned, nullptr);
  EXPECT_EQ(tuned->policy().load_balancer().consistent_hash().http_header_name(), "x-user");
  EXPECT_EQ(tuned->policy().load_balancer().consistent_hash().ring_hash_minimum_ring_size(), 1024u);
  EXPECT_EQ(tuned->policy().connection_pool().tcp().max_connections(), 7u);
  EXPECT_EQ(tuned->policy().outlier_detection().consecutive_5xx_errors(), 2u);
  EXPECT_TRUE(tuned->policy().tls().auto_mtls());

  // Top-level port settings replace connectionPool, loadBalancer,
  // outlierDetection and tls: unset ones fall back to defaults.
  const pb::Cluster* admin = find_cluster(s, "outbound|9090||api.web.svc.cluster.local");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->policy().load_balancer().simple(), pb::LB_LEAST_REQUEST);
  EXPECT_EQ(admin->policy().connection_pool().http().http1_max_pending_requests(), 3u);
  EXPECT_EQ(admin->policy().connection_pool().tcp().max_connections(), 0u);
  EXPECT_EQ(admin->policy().connection_pool().tcp().connect_timeout_ms(), 10000u);
  EXPECT_FALSE(admin->policy().has_outlier_detection());

  // Subset port settings replace the same four fields again.
  const pb::Cluster* tuned_admin = find_cluster(s, "outbound|9090|tuned|api.web.svc.cluster.local");
  ASSERT_NE(tuned_admin, nullptr);
  EXPECT_FALSE(tuned_admin->policy().load_balancer().has_consistent_hash());
  EXPECT_EQ(tuned_admin->policy().connection_pool().http().http1_max_pending_requests(), 0u);
  EXPECT_EQ(tuned_admin->policy().tls().mode(), pb::UPSTREAM_TLS_SIMPLE);
  EXPECT_EQ(tuned_admin->policy().tls().sni(), "tuned.example.com");
  EXPECT_FALSE(tuned_admin->policy().tls().auto_mtls());

  // Consistent hashing keeps retries on the same host (no previous-hosts predicate).
  const pb::VirtualHost* vh = find_vhost(s, "http.80", "x.example.com:80");
  ASSERT_NE(vh, nullptr);
  ASSERT_EQ(vh->routes_size(), 4);
  EXPECT_TRUE(vh->routes(0).route().retries().ignore_previous_hosts());
  EXPECT_FALSE(vh->routes(1).route().retries().ignore_previous_hosts());
  EXPECT_TRUE(vh->routes(3).route().retries().ignore_previous_hosts());
}

TEST(SubsetPolicyMerge, UndefinedSubsetGetsNoCluster) {
  const std::string yaml = routes_to({"host: api.web.svc.cluster.local, subset: missing"}) + service("web", "api") +
                           dr("web", "api", "api", kMergeRule);
  const pb::GatewaySnapshot s = compile(yaml);
  EXPECT_EQ(s.clusters_size(), 0);
  ASSERT_EQ(s.warnings_size(), 1);
  EXPECT_NE(s.warnings(0).find("subset missing"), std::string::npos);
}

TEST(Registry, ServiceEntryEndpointsAndPorts) {
  const std::string yaml = routes_to({"host: api.example.com, port: {number: 443}", "host: vms.internal, port: {number: 80}",
                                      "host: vms.internal, port: {number: 80}, subset: blue"}) + R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: egress}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vms, namespace: apps}
spec:
  hosts: [vms.internal]
  location: MESH_INTERNAL
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  resolution: STATIC
  endpoints:
  - {address: 10.9.0.1, labels: {color: blue}, ports: {http: 9999}, weight: 0, locality: r1/z1}
  workloadSelector: {labels: {app: vms}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-a, namespace: apps}
spec: {address: 10.9.0.2, labels: {app: vms, color: green}, serviceAccount: vms, network: net2}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-other-ns, namespace: default}
spec: {address: 10.9.0.3, labels: {app: vms}}
---
)" + dr("apps", "vms", "vms.internal", "  subsets: [{name: blue, labels: {color: blue}}]\n");
  const pb::GatewaySnapshot s = compile(yaml);
  const pb::Cluster* api = find_cluster(s, "outbound|443||api.example.com");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->discovery(), pb::DISCOVERY_STRICT_DNS);
  EXPECT_TRUE(api->mesh_external());
  EXPECT_FALSE(api->policy().has_tls()) << "no auto mTLS toward MESH_EXTERNAL";
  ASSERT_EQ(api->endpoints_size(), 1);
  EXPECT_EQ(api->endpoints(0).address(), "api.example.com");
  EXPECT_EQ(api->endpoints(0).port(), 443u);

  const pb::Cluster* vms = find_cluster(s, "outbound|80||vms.internal");
  ASSERT_NE(vms, nullptr);
  ASSERT_EQ(vms->endpoints_size(), 2);
  EXPECT_EQ(vms->endpoints(0).address(), "10.9.0.1");
  EXPECT_EQ(vms->endpoints(0).port(), 9999u) << "endpoint's named port";
  EXPECT_EQ(vms->endpoints(0).weight(), 1u);
  EXPECT_EQ(vms->endpoints(0).locality().zone(), "z1");
  EXPECT_EQ(vms->endpoints(1).port(), 8080u) << "targetPort";
  EXPECT_EQ(vms->endpoints(1).network(), "net2");
  EXPECT_EQ(vms->endpoints(1).tls_mode(), "istio");
  ASSERT_EQ(vms->policy().tls().subject_alt_names_size(), 1);
  EXPECT_EQ(vms->policy().tls().subject_alt_names(0), "spiffe://cluster.local/ns/apps/sa/vms");
  const pb::Cluster* blue = find_cluster(s, "outbound|80|blue|vms.internal");
  ASSERT_NE(blue, nullptr);
  ASSERT_EQ(blue->endpoints_size(), 1);
  EXPECT_EQ(blue->endpoints(0).address(), "10.9.0.1");
}

TEST(Registry, SidecarEgressHostsNarrowWhatTheGatewaySees) {
  const std::string yaml = routes_to({"host: a.shop.svc.cluster.local", "host: b.billing.svc.cluster.local"}) +
                           service("shop", "a") + service("billing", "b") + R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress: [{hosts: ["shop/*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)";
  const pb::GatewaySnapshot s = compile(yaml);
  EXPECT_NE(find_cluster(s, "outbound|80||a.shop.svc.cluster.local"), nullptr);
  EXPECT_EQ(find_cluster(s, "outbound|80||b.billing.svc.cluster.local"), nullptr);
  EXPECT_EQ(s.outbound().mode(), pb::OUTBOUND_REGISTRY_ONLY);
  EXPECT_EQ(s.outbound().sidecar(), "istio-system/default");
}

TEST(Secrets, CacertRuleAndOnlyReferencedSecrets) {
  const char* yaml = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: MUTUAL, credentialName: a-cred}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: MUTUAL, credentialName: b-cred}
  - port: {number: 443, name: https-c, protocol: HTTPS}
    hosts: [c.example.com]
    tls: {mode: SIMPLE, credentialName: c-cred}
---
apiVersion: v1
kind: Secret
metadata: {name: a-cred, namespace: istio-system}
stringData: {tls.crt: A-CERT, tls.key: A-KEY, ca.crt: A-CA}
---
apiVersion: v1
kind: Secret
metadata: {name: a-cred-cacert, namespace: istio-system}
stringData: {ca.crt: A-SEPARATE-CA}
---
apiVersion: v1
kind: Secret
metadata: {name: b-cred, namespace: istio-system}
stringData: {cert: B-CERT, key: B-KEY, cacert: B-CA}
---
apiVersion: v1
kind: Secret
metadata: {name: c-cred, namespace: web}
stringData: {tls.crt: C-CERT, tls.key: C-KEY}
---
apiVersion: v1
kind: Secret
metadata: {name: unused, namespace: istio-system}
stringData: {tls.crt: X, tls.key: Y}
)";
  const pb::GatewaySnapshot s = compile(yaml);
  std::vector<std::string> names;
  for (const auto& sec : s.secrets()) names.push_back(sec.name());
  EXPECT_EQ(names, (std::vector<std::string>{"a-cred", "a-cred-cacert", "b-cred"}));
  ASSERT_EQ(s.listeners_size(), 1);
  EXPECT_EQ(s.listeners(0).servers(0).tls().ca_credential_name(), "a-cred-cacert") << "-cacert Secret first";
  EXPECT_EQ(s.listeners(0).servers(1).tls().ca_credential_name(), "b-cred") << "else the credential's own CA";
  EXPECT_EQ(s.secrets(1).type(), pb::SECRET_CA_ONLY);
  EXPECT_EQ(s.secrets(2).type(), pb::SECRET_GENERIC);
  EXPECT_EQ(s.secrets(2).ca_cert(), "B-CA");
  bool missing = false;
  for (const auto& w : s.warnings()) missing |= w.find("istio-system/c-cred") != std::string::npos;
  EXPECT_TRUE(missing) << "credentials are read from the gateway's namespace, not the Gateway's";
}

TEST(Security, PeerAuthenticationComposition) {
  const char* yaml = R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: mesh, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ns, namespace: gateways}
spec: {mtls: {mode: UNSET}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: wl, namespace: gateways}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  mtls: {mode: PERMISSIVE}
  portLevelMtls:
    "8443": {mode: STRICT}
    "9000": {mode: UNSET}
    "80": {mode: DISABLE}
)";
  const pb::GatewaySnapshot s = compile(yaml, ingress_node("gateways"));
  const pb::PeerAuthentication& pa = s.security().peer_authentication();
  EXPECT_EQ(pa.mode(), pb::MTLS_PERMISSIVE);
  EXPECT_TRUE(pa.mode_set());
  ASSERT_EQ(pa.port_level_size(), 2) << "UNSET ports inherit: left out";
  EXPECT_EQ(pa.port_level(0).port(), 80u);
  EXPECT_EQ(pa.port_level(0).mode(), pb::MTLS_DISABLE);
  EXPECT_EQ(pa.port_level(1).port(), 8443u);
  EXPECT_EQ(pa.port_level(1).mode(), pb::MTLS_STRICT);
  EXPECT_EQ(compile::mtls_mode_for_port(pa, 9000), pb::MTLS_PERMISSIVE) << "UNSET inherits the workload mode";
  EXPECT_EQ(compile::mtls_mode_for_port(pa, 80), pb::MTLS_DISABLE);
  EXPECT_EQ(std::vector<std::string>(pa.policies().begin(), pa.policies().end()),
            (std::vector<std::string>{"istio-system/mesh", "gateways/ns", "gateways/wl"}));
  // UNSET at namespace level inherits the mesh's STRICT.
  GatewayNode other = ingress_node("gateways");
  other.labels = {{"istio", "egressgateway"}};
  EXPECT_EQ(compile(yaml, other).security().peer_authentication().mode(), pb::MTLS_STRICT);
}

std::string workload_entry(const std::string& ns, const std::string& name, const std::string& address,
                           const std::string& labels) {
  return "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec: {address: " + address + ", labels: " + labels + "}\n---\n";
}

std::string peer_authentication(const std::string& ns, const std::string& name, const std::string& body) {
  return "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n" + body + "---\n";
}

// istiod's mtlsChecker: auto mTLS sends plain text to an endpoint whose own
// PeerAuthentication (its namespace and labels, port-level for its port) is
// DISABLE; an explicit DestinationRule ISTIO_MUTUAL ignores it.
TEST(Security, AutoMtlsHonoursTheDestinationPeerAuthentication) {
  auto svc = [](const std::string& ns, const std::string& name) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + ns +
           "}\nspec: {selector: {app: " + name + "}, ports: [{name: http, port: 8080}]}\n---\n";
  };
  const std::string yaml =
      routes_to({"host: web.shop.svc.cluster.local", "host: api.api.svc.cluster.local",
                 "host: old.other.svc.cluster.local", "host: pay.pay.svc.cluster.local"}) +
      svc("shop", "web") + workload_entry("shop", "web-1", "10.0.0.1", "{app: web, tier: legacy}") +
      workload_entry("shop", "web-2", "10.0.0.2", "{app: web}") + svc("api", "api") +
      workload_entry("api", "api-1", "10.0.1.1", "{app: api}") + svc("other", "old") +
      workload_entry("other", "old-1", "10.0.2.1", "{app: old}") + svc("pay", "pay") +
      workload_entry("pay", "pay-1", "10.0.3.1", "{app: pay}") +
      peer_authentication("istio-system", "mesh", "  mtls: {mode: DISABLE}\n") +
      peer_authentication("shop", "ns", "  mtls: {mode: STRICT}\n") +
      peer_authentication("shop", "legacy", "  selector: {matchLabels: {tier: legacy}}\n  mtls: {mode: DISABLE}\n") +
      peer_authentication("api", "ports",
                          "  selector: {matchLabels: {app: api}}\n  mtls: {mode: STRICT}\n"
                          "  portLevelMtls: {\"8080\": {mode: DISABLE}, \"9090\": {mode: PERMISSIVE}}\n") +
      peer_authentication("pay", "ns", "  mtls: {mode: DISABLE}\n") +
      dr("pay", "pay", "pay", "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n");
  const pb::GatewaySnapshot s = compile(yaml);
  auto disabled = [&](const std::string& host, const std::string& address) -> std::string {
    const pb::Cluster* c = find_cluster(s, "outbound|8080||" + host);
    if (!c) return "<no cluster>";
    for (const pb::Endpoint& e : c->endpoints())
      if (e.address() == address) return e.peer_mtls_disabled() ? "disabled" : "mtls";
    return "<no endpoint>";
  };
  EXPECT_EQ(disabled("web.shop.svc.cluster.local", "10.0.0.1"), "disabled") << "the workload policy";
  EXPECT_EQ(disabled("web.shop.svc.cluster.local", "10.0.0.2"), "mtls") << "the namespace's STRICT over the mesh's";
  EXPECT_EQ(disabled("api.api.svc.cluster.local", "10.0.1.1"), "disabled") << "port-level, for the endpoint's port";
  EXPECT_EQ(disabled("old.other.svc.cluster.local", "10.0.2.1"), "disabled") << "the mesh policy";
  EXPECT_EQ(disabled("pay.pay.svc.cluster.local", "10.0.3.1"), "mtls") << "DestinationRule ISTIO_MUTUAL wins";
  EXPECT_FALSE(find_cluster(s, "outbound|8080||pay.pay.svc.cluster.local")->policy().tls().auto_mtls());
}

// The gateway's own policy applies on its mesh ports only (every server
// ISTIO_MUTUAL): port-level, else the workload mode when one is set, else
// STRICT (the Gateway's word).
TEST(Security, GatewayPeerAuthenticationOnMeshPorts) {
  auto server = [](int port, const std::string& mode) {
    return "  - port: {number: " + std::to_string(port) + ", name: p" + std::to_string(port) +
           ", protocol: HTTPS}\n    hosts: [\"*\"]\n    tls: {mode: " + mode + ", credentialName: c}\n";
  };
  const std::string gw = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: "
                         "istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n" +
                         server(15443, "ISTIO_MUTUAL") + server(8443, "ISTIO_MUTUAL") + server(9443, "ISTIO_MUTUAL") +
                         server(443, "SIMPLE") + "---\n";
  auto modes = [](const pb::GatewaySnapshot& s) {
    std::map<uint32_t, std::string> out;
    for (const pb::Listener& l : s.listeners())
      out[l.port()] = l.has_peer_mtls() ? pb::MtlsMode_Name(l.peer_mtls()) : "-";
    return out;
  };
  using M = std::map<uint32_t, std::string>;
  EXPECT_EQ(modes(compile(gw)), (M{{443, "-"}, {8443, "MTLS_STRICT"}, {9443, "MTLS_STRICT"}, {15443, "MTLS_STRICT"}}))
      << "no policy: the Gateway's ISTIO_MUTUAL stands";
  const std::string policies =
      gw + peer_authentication("gateways", "gw",
                               "  selector: {matchLabels: {istio: ingressgateway}}\n  mtls: {mode: PERMISSIVE}\n"
                               "  portLevelMtls: {\"8443\": {mode: DISABLE}, \"443\": {mode: DISABLE}}\n");
  const pb::GatewaySnapshot with_policies = compile(policies, ingress_node("gateways"));
  EXPECT_EQ(modes(with_policies),
            (M{{443, "-"}, {8443, "MTLS_DISABLE"}, {9443, "MTLS_PERMISSIVE"}, {15443, "MTLS_PERMISSIVE"}}));
  std::string table;
  ASSERT_TRUE(describe_table(with_policies, "listeners", table));
  EXPECT_NE(table.find("ISTIO_MUTUAL cred=c peer=PERMISSIVE"), std::string::npos) << table;
  EXPECT_EQ(modes(compile(policies)), (M{{443, "-"}, {8443, "MTLS_STRICT"}, {9443, "MTLS_STRICT"}, {15443, "MTLS_STRICT"}}))
      << "a policy of another namespace";
  GatewayNode other = ingress_node("gateways");
  other.labels = {{"istio", "eastwestgateway"}};
  const std::string eastwest = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: "
                               "istio-system}\nspec:\n  selector: {istio: eastwestgateway}\n  servers:\n" +
                               server(15443, "ISTIO_MUTUAL") + "---\n" +
                               peer_authentication("gateways", "gw", "  selector: {matchLabels: {istio: "
                                                   "ingressgateway}}\n  mtls: {mode: PERMISSIVE}\n");
  EXPECT_EQ(modes(compile(eastwest, other)), (M{{15443, "MTLS_STRICT"}})) << "the policy selects another workload";
}

TEST(Security, AuthorizationPolicySelectionAndOrder) {
  const char* yaml = R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: z-allow-nothing, namespace: istio-system}
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: root-selected, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ns-wide, namespace: gateways}
spec:
  action: AUDIT
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-ns, namespace: default}
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: targeted, namespace: gateways}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: x}]
  action: DENY
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a-custom, namespace: gateways}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: CUSTOM
  provider: {name: opa}
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
)";
  const pb::GatewaySnapshot s = compile(yaml, ingress_node("gateways"));
  std::vector<std::string> names;
  for (const auto& p : s.security().authorization_policies()) names.push_back(p.name());
  EXPECT_EQ(names, (std::vector<std::string>{"gateways/a-custom", "istio-system/root-selected", "istio-system/z-allow-nothing",
                                             "gateways/ns-wide"}));
  EXPECT_EQ(s.security().authorization_policies(1).rules_size(), 1) << "rules: [{}] keeps its match-all rule";
  EXPECT_EQ(s.security().authorization_policies(2).rules_size(), 0) << "allow-nothing has no rules";
  EXPECT_EQ(s.security().authorization_policies(0).provider(), "opa");
}

TEST(Telemetry, AccessLogProvidersFollowIstioScoping) {
  const char* yaml = R"(
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging: [{providers: [{name: envoy}]}]
  tracing: [{providers: [{name: zipkin}, {name: other}], randomSamplingPercentage: 5}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ns, namespace: gateways}
spec:
  accessLogging: [{filter: {expression: "response.code >= 500"}}]
  metrics:
  - overrides:
    - match: {metric: ALL_METRICS, mode: SERVER}
      disabled: true
    - match: {metric: REQUEST_COUNT}
      tagOverrides: {source_app: {value: "'gw'"}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: wl, namespace: gateways}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  tracing: [{match: {mode: SERVER}, randomSamplingPercentage: 99}]
)";
  const pb::GatewaySnapshot s = compile(yaml, ingress_node("gateways"));
  const pb::Telemetry& t = s.telemetry();
  ASSERT_EQ(t.access_logs_size(), 1);
  EXPECT_EQ(t.access_logs(0).provider(), "envoy");
  EXPECT_EQ(t.access_logs(0).filter(), "response.code >= 500") << "a provider-less entry filters the inherited providers";
  EXPECT_EQ(t.tracing().provider(), "zipkin");
  EXPECT_DOUBLE_EQ(t.tracing().random_sampling_percentage(), 5) << "SERVER-only entries skip gateways";
  ASSERT_EQ(t.metrics_size(), 1);
  EXPECT_EQ(t.metrics(0).provider(), "prometheus");
  EXPECT_FALSE(t.metrics(0).disabled()) << "ALL_METRICS disabled for SERVER only";
  ASSERT_EQ(t.metrics(0).overrides_size(), 1);
  EXPECT_EQ(t.metrics(0).overrides(0).metric(), "REQUEST_COUNT");
  EXPECT_EQ(t.metrics(0).overrides(0).tags(0).value(), "'gw'");
}

// ConfigMap `ns/name` whose `mesh` is `mesh_yaml` (written at column 0).
std::string mesh_config(const std::string& mesh_yaml, const std::string& ns = "istio-system",
                        const std::string& name = "istio") {
  std::string out = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns +
                    "}\ndata:\n  mesh: |\n";
  size_t start = 0;
  while (start < mesh_yaml.size()) {
    const size_t end = mesh_yaml.find('\n', start);
    out += "    " + mesh_yaml.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out + "---\n";
}

// A mesh-wide Telemetry logging to `providers` (none: an entry without providers).
std::string log_to(const std::vector<std::string>& providers, const std::string& extra = "") {
  std::string out = "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: mesh-default, namespace: istio-system}\n"
                    "spec:\n  accessLogging:\n  - providers: [";
  for (size_t i = 0; i < providers.size(); ++i) out += (i ? ", {name: " : "{name: ") + providers[i] + "}";
  return out + "]\n" + extra + "---\n";
}

std::vector<std::pair<std::string, std::string>> labels_of(const pb::AccessLog& l) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const pb::KeyValue& kv : l.json_labels()) out.emplace_back(kv.key(), kv.value());
  return out;
}

std::vector<std::pair<std::string, std::string>> istio_labels() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : access_log::istio_json_labels()) out.emplace_back(k, v);
  return out;
}

bool has_warning(const pb::GatewaySnapshot& s, const std::string& text) {
  for (const std::string& w : s.warnings())
    if (w.find(text) != std::string::npos) return true;
  return false;
}

TEST(AccessLogs, BuiltinEnvoyProviderWritesIstiosDefaultTextToStdout) {
  const pb::GatewaySnapshot s = compile(log_to({"envoy"}));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  const pb::AccessLog& l = s.telemetry().access_logs(0);
  EXPECT_EQ(l.provider(), "envoy");
  EXPECT_EQ(l.path(), "/dev/stdout");
  EXPECT_EQ(l.encoding(), pb::ACCESS_LOG_TEXT);
  EXPECT_EQ(l.text_format(), access_log::kIstioTextFormat);
  EXPECT_EQ(l.json_labels_size(), 0);
  EXPECT_EQ(s.warnings_size(), 0);
}

TEST(AccessLogs, BuiltinEnvoyProviderUsesTheMeshJsonFormat) {
  const pb::GatewaySnapshot s = compile(
      mesh_config("accessLogEncoding: JSON\n"
                  "accessLogFormat: '{\"path\": \"%REQ(:PATH)%\", \"code\": \"%RESPONSE_CODE%\", \"agent\": \"%REQ(USER-AGENT)%\"}'") +
      log_to({"envoy"}));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  const pb::AccessLog& l = s.telemetry().access_logs(0);
  EXPECT_EQ(l.path(), "/dev/stdout");
  EXPECT_EQ(l.encoding(), pb::ACCESS_LOG_JSON);
  EXPECT_EQ(l.text_format(), "");
  EXPECT_EQ(labels_of(l), (std::vector<std::pair<std::string, std::string>>{
                              {"agent", "%REQ(USER-AGENT)%"}, {"code", "%RESPONSE_CODE%"}, {"path", "%REQ(:PATH)%"}}))
      << "in the order of their keys";

  const pb::GatewaySnapshot d = compile(mesh_config("accessLogEncoding: JSON") + log_to({"envoy"}));
  ASSERT_EQ(d.telemetry().access_logs_size(), 1);
  EXPECT_EQ(labels_of(d.telemetry().access_logs(0)), istio_labels()) << "no accessLogFormat: Istio's labels, in Istio's order";
}

TEST(AccessLogs, FileProviderFormats) {
  const std::string mesh = mesh_config(R"(accessLogFormat: "%PROTOCOL%"
extensionProviders:
- name: text
  envoyFileAccessLog:
    path: /var/log/gw.log
    logFormat: {text: "%REQ(:METHOD)% %RESPONSE_CODE%"}
- name: json
  envoyFileAccessLog:
    logFormat:
      labels: {status: "%RESPONSE_CODE%", authority: "%REQ(:AUTHORITY)%", method: "%REQ(:METHOD)%"}
- name: json-default
  envoyFileAccessLog: {path: /dev/stderr, logFormat: {labels: {}}}
- name: plain
  envoyFileAccessLog: {path: /var/log/plain.log}
)");
  const pb::GatewaySnapshot s = compile(mesh + log_to({"text", "json", "json-default", "plain"}));
  ASSERT_EQ(s.telemetry().access_logs_size(), 4);
  const auto& logs = s.telemetry().access_logs();
  EXPECT_EQ(logs[0].provider(), "json");  // sorted by provider
  EXPECT_EQ(logs[0].path(), "/dev/stdout");
  EXPECT_EQ(logs[0].encoding(), pb::ACCESS_LOG_JSON);
  EXPECT_EQ(labels_of(logs[0]), (std::vector<std::pair<std::string, std::string>>{
                                    {"authority", "%REQ(:AUTHORITY)%"}, {"method", "%REQ(:METHOD)%"}, {"status", "%RESPONSE_CODE%"}}));
  EXPECT_EQ(logs[1].provider(), "json-default");
  EXPECT_EQ(logs[1].path(), "/dev/stderr");
  EXPECT_EQ(labels_of(logs[1]), istio_labels()) << "empty labels: Istio's default";
  EXPECT_EQ(logs[2].provider(), "plain");
  EXPECT_EQ(logs[2].encoding(), pb::ACCESS_LOG_TEXT);
  EXPECT_EQ(logs[2].text_format(), access_log::kIstioTextFormat) << "only the built-in envoy takes the mesh's format";
  EXPECT_EQ(logs[3].provider(), "text");
  EXPECT_EQ(logs[3].path(), "/var/log/gw.log");
  EXPECT_EQ(logs[3].text_format(), "%REQ(:METHOD)% %RESPONSE_CODE%\n") << "Istio appends the missing newline";
  EXPECT_EQ(s.warnings_size(), 0);
}

TEST(AccessLogs, LegacyAccessLogFileWithoutTelemetry) {
  const pb::GatewaySnapshot s = compile(mesh_config("accessLogFile: /var/log/access.log\naccessLogFormat: '%PROTOCOL%'"));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  const pb::AccessLog& l = s.telemetry().access_logs(0);
  EXPECT_EQ(l.provider(), "");
  EXPECT_EQ(l.filter(), "");
  EXPECT_EQ(l.path(), "/var/log/access.log");
  EXPECT_EQ(l.encoding(), pb::ACCESS_LOG_TEXT);
  EXPECT_EQ(l.text_format(), "%PROTOCOL%\n");

  const pb::GatewaySnapshot j = compile(mesh_config("accessLogFile: /dev/stdout\naccessLogEncoding: JSON"));
  ASSERT_EQ(j.telemetry().access_logs_size(), 1);
  EXPECT_EQ(j.telemetry().access_logs(0).encoding(), pb::ACCESS_LOG_JSON);
  EXPECT_EQ(labels_of(j.telemetry().access_logs(0)), istio_labels());

  EXPECT_EQ(compile(mesh_config("accessLogEncoding: JSON")).telemetry().access_logs_size(), 0) << "no file, no log";
}

TEST(AccessLogs, TelemetryLoggingReplacesAccessLogFile) {
  const std::string mesh = mesh_config(R"(accessLogFile: /var/log/legacy.log
extensionProviders:
- name: otel
  envoyOtelAls: {service: otel.observability.svc.cluster.local, port: 4317}
)");
  pb::GatewaySnapshot s = compile(mesh + log_to({"envoy"}));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  EXPECT_EQ(s.telemetry().access_logs(0).provider(), "envoy");
  EXPECT_EQ(s.telemetry().access_logs(0).path(), "/dev/stdout");

  s = compile(mesh + log_to({"otel"}));
  EXPECT_EQ(s.telemetry().access_logs_size(), 0) << "istiod configures the OpenTelemetry log instead of the file";

  // What istiod does when Telemetry leaves no log to build: the file again.
  s = compile(mesh + log_to({"envoy"}, "    disabled: true\n"));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  EXPECT_EQ(s.telemetry().access_logs(0).path(), "/var/log/legacy.log");
  s = compile(mesh + log_to({"nowhere"}));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  EXPECT_EQ(s.telemetry().access_logs(0).provider(), "");
}

TEST(AccessLogs, DefaultProvidersLogWithoutTelemetry) {
  const std::string mesh = mesh_config(R"(defaultProviders: {accessLogging: [envoy, file]}
extensionProviders:
- name: file
  envoyFileAccessLog: {path: /var/log/file.log}
)");
  pb::GatewaySnapshot s = compile(mesh);
  ASSERT_EQ(s.telemetry().access_logs_size(), 2);
  EXPECT_EQ(s.telemetry().access_logs(0).provider(), "envoy");
  EXPECT_EQ(s.telemetry().access_logs(1).provider(), "file");
  EXPECT_EQ(s.telemetry().access_logs(1).path(), "/var/log/file.log");
  EXPECT_EQ(s.telemetry().access_logs(1).filter(), "");

  // A Telemetry entry without providers applies to the default ones.
  s = compile(mesh + log_to({}, "    filter: {expression: response.code >= 500}\n"));
  ASSERT_EQ(s.telemetry().access_logs_size(), 2);
  EXPECT_EQ(s.telemetry().access_logs(1).filter(), "response.code >= 500");
  // One that names a provider replaces them.
  s = compile(mesh + log_to({"file"}));
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  EXPECT_EQ(s.telemetry().access_logs(0).provider(), "file");
}

TEST(AccessLogs, ProvidersLinegateCannotWriteAreWarnedAndSkipped) {
  const std::string yaml = mesh_config(R"(extensionProviders:
- name: otel
  envoyOtelAls: {service: otel.observability.svc.cluster.local, port: 4317}
)") + log_to({"otel", "missing", "prometheus", "envoy"});
  const pb::GatewaySnapshot s = compile(yaml);
  ASSERT_EQ(s.telemetry().access_logs_size(), 1);
  EXPECT_EQ(s.telemetry().access_logs(0).provider(), "envoy");
  EXPECT_TRUE(has_warning(s, "access log provider \"otel\" (envoyOtelAls) is not supported by linegate: no access "
                             "log is written"));
  EXPECT_TRUE(has_warning(s, "access log provider \"missing\" is not defined in the MeshConfig: no access log is "
                             "written"));
  EXPECT_EQ(s.warnings_size(), 2) << "prometheus writes no access log in Istio either";

  Diagnostics d;
  const auto resources = load(yaml);
  validate_semantics(resources, d);
  validate_cross_resource(resources, d, {});
  EXPECT_EQ(d.error_count(), 0u);
  EXPECT_EQ(d.warning_count(), 3u) << "otel, missing and prometheus";
}

TEST(AccessLogs, RejectedFormatIsAnErrorAndNoLog) {
  const std::string yaml = mesh_config(R"(accessLogFile: /dev/stdout
extensionProviders:
- name: custom
  envoyFileAccessLog:
    logFormat: {labels: {ok: "%PROTOCOL%", meta: "%DYNAMIC_METADATA(istio.mixer:status)%"}}
)") + log_to({"custom"});
  const pb::GatewaySnapshot s = compile(yaml);
  EXPECT_EQ(s.telemetry().access_logs_size(), 0) << "neither the provider nor, as with istiod, accessLogFile";
  EXPECT_TRUE(has_warning(s, "access log provider \"custom\": format rejected (label \"meta\": %DYNAMIC_METADATA% "
                             "is not a command linegate writes (see the supported list)): no access log is written"));

  Diagnostics d;
  const auto resources = load(yaml);
  validate_semantics(resources, d);
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.items()[0].path, "data[mesh].extensionProviders[0].envoyFileAccessLog.logFormat.labels[meta]");

  const pb::GatewaySnapshot legacy = compile(mesh_config("accessLogFile: /dev/stdout\naccessLogFormat: '%BAD%'"));
  EXPECT_EQ(legacy.telemetry().access_logs_size(), 0);
  EXPECT_TRUE(has_warning(legacy, "MeshConfig accessLogFormat rejected (%BAD% is not a command linegate writes"));
}

TEST(AccessLogs, OnlyIstioSystemIstioIsTheMeshConfig) {
  const std::string mesh = "accessLogFile: /var/log/other.log\ndefaultProviders: {accessLogging: [envoy]}";
  EXPECT_EQ(compile(mesh_config(mesh, "istio-system", "istio-1-22")).telemetry().access_logs_size(), 0);
  EXPECT_EQ(compile(mesh_config(mesh, "default", "istio")).telemetry().access_logs_size(), 0);
  EXPECT_EQ(compile(mesh_config(mesh, "istio-system", "istio")).telemetry().access_logs_size(), 1);
}

TEST(RateLimits, OnlyGatewayPatchesForThisWorkload) {
  const char* yaml = R"(
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: b-gw, namespace: gateways}
spec:
  workloadSelector: {labels: {istio: ingressgateway}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: GATEWAY}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          stat_prefix: rl
          token_bucket: {max_tokens: 10, fill_interval: 0.5s}
          filter_enabled: {default_value: {numerator: 5000, denominator: TEN_THOUSAND}}
          status: {code: 503}
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_OUTBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit}}
  - applyTo: CLUSTER
    patch: {operation: MERGE, value: {connect_timeout: 1s}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: a-root, namespace: istio-system}
spec:
  configPatches:
  - applyTo: VIRTUAL_HOST
    match: {context: ANY, routeConfiguration: {portNumber: 443, vhost: {name: "a.example.com:443"}}}
    patch:
      operation: MERGE
      value:
        rate_limits: [{actions: [{remote_address: {}}, {generic_key: {descriptor_value: v}}]}]
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: c-other, namespace: gateways}
spec:
  workloadSelector: {labels: {app: productpage}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: GATEWAY}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit}}
)";
  const pb::GatewaySnapshot s = compile(yaml, ingress_node("gateways"));
  ASSERT_EQ(s.rate_limits_size(), 2);
  const pb::LocalRateLimit& vh = s.rate_limits(0);  // root namespace first
  EXPECT_EQ(vh.name(), "istio-system/a-root/0");
  EXPECT_EQ(vh.scope(), pb::RATE_LIMIT_VIRTUAL_HOST);
  EXPECT_EQ(vh.port(), 443u);
  EXPECT_EQ(vh.virtual_host(), "a.example.com:443");
  ASSERT_EQ(vh.actions_size(), 2);
  EXPECT_EQ(vh.actions(0).remote_address(), "remote_address");
  EXPECT_EQ(vh.actions(1).generic_key().key(), "generic_key");
  const pb::LocalRateLimit& l = s.rate_limits(1);
  EXPECT_EQ(l.scope(), pb::RATE_LIMIT_HTTP_LISTENER);
  EXPECT_EQ(l.token_bucket().max_tokens(), 10u);
  EXPECT_EQ(l.token_bucket().tokens_per_fill(), 1u);
  EXPECT_EQ(l.token_bucket().fill_interval_ms(), 500u);
  EXPECT_DOUBLE_EQ(l.filter_enabled_percent(), 50);
  EXPECT_DOUBLE_EQ(l.filter_enforced_percent(), 0) << "Envoy's default: not enforced";
  EXPECT_EQ(l.status(), 503u);
}

}  // namespace
}  // namespace lg::ctrl::testing
