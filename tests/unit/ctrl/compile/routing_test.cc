// VirtualService binding and route translation at a gateway.
#include "tests/unit/ctrl/compile/test_util.h"

namespace lg::ctrl::testing {
namespace {

// A gateway in `gw_ns` with one HTTP server on port 80 for `hosts`.
std::string gateway(const std::string& gw_ns, const std::string& hosts, const std::string& name = "gw") {
  return "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " + name + ", namespace: " + gw_ns +
         "}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n"
         "    hosts: " + hosts + "\n---\n";
}

std::string vs(const std::string& ns, const std::string& name, const std::string& hosts, const std::string& gateways,
               const std::string& extra = "") {
  std::string out = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + name +
                    ", namespace: " + ns + "}\nspec:\n  hosts: " + hosts + "\n";
  if (!gateways.empty()) out += "  gateways: " + gateways + "\n";
  out += extra;
  out += "  http:\n  - route: [{destination: {host: " + name + "-svc." + ns + ".svc.cluster.local, port: {number: 80}}}]\n---\n";
  return out;
}

// VirtualServices that produced routes in http.80, by "ns/name".
std::vector<std::string> bound(const pb::GatewaySnapshot& s) {
  std::vector<std::string> out;
  if (const pb::RouteTable* t = find_table(s, "http.80"))
    for (const auto& vh : t->virtual_hosts())
      for (const auto& r : vh.routes())
        if (std::find(out.begin(), out.end(), r.virtual_service()) == out.end()) out.push_back(r.virtual_service());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(VsBinding, GatewayNamesResolveRelativeToTheVirtualService) {
  const std::string yaml = gateway("web", "[\"*\"]") +
                           vs("web", "short", "[a.example.com]", "[gw]") +                 // web/gw
                           vs("web", "dotslash", "[b.example.com]", "[./gw]") +            // web/gw
                           vs("other", "qualified", "[c.example.com]", "[web/gw]") +       // web/gw
                           vs("web", "legacy-fqdn", "[d.example.com]", "[gw.web.svc.cluster.local]") +
                           vs("other", "short-elsewhere", "[e.example.com]", "[gw]") +    // other/gw: none
                           vs("web", "mesh-only", "[f.example.com]", "[mesh]") +
                           vs("web", "no-gateways", "[g.example.com]", "") +
                           vs("web", "mesh-and-gw", "[h.example.com]", "[mesh, gw]");
  EXPECT_EQ(bound(compile(yaml)), (std::vector<std::string>{"other/qualified", "web/dotslash", "web/legacy-fqdn",
                                                            "web/mesh-and-gw", "web/short"}));
}

TEST(VsBinding, NamespaceQualifiedServerHosts) {
  const std::string yaml = gateway("istio-system", "[\"prod/*.example.com\", \"./ops.example.com\", \"*/shared.example.com\"]") +
                           vs("prod", "shop", "[shop.example.com]", "[istio-system/gw]") +
                           vs("dev", "shop", "[shop.example.com]", "[istio-system/gw]") +      // dev may not use prod/*
                           vs("istio-system", "ops", "[ops.example.com]", "[gw]") +            // ./ = gateway namespace
                           vs("prod", "ops", "[ops.example.com]", "[istio-system/gw]") +
                           vs("dev", "shared", "[shared.example.com]", "[istio-system/gw]");   // */ = any namespace
  const pb::GatewaySnapshot s = compile(yaml);
  // prod/ops binds through "prod/*.example.com"; dev/shop may not use it.
  EXPECT_EQ(bound(s), (std::vector<std::string>{"dev/shared", "istio-system/ops", "prod/ops", "prod/shop"}));
  ASSERT_EQ(s.listeners_size(), 1);
  const auto& hosts = s.listeners(0).servers(0).hosts();
  EXPECT_EQ(std::vector<std::string>(hosts.begin(), hosts.end()),
            (std::vector<std::string>{"prod/*.example.com", "istio-system/ops.example.com", "shared.example.com"}));
}

TEST(VsBinding, HostIntersectionKeepsTheMoreSpecificName) {
  const std::string yaml = gateway("web", "[\"*.example.com\", \"api.other.com\"]") +
                           vs("web", "wild", "[\"*\"]", "[gw]") +
                           vs("web", "narrow", "[x.example.com]", "[gw]") +
                           vs("web", "miss", "[x.example.org]", "[gw]");
  const pb::GatewaySnapshot s = compile(yaml);
  const pb::RouteTable* t = find_table(s, "http.80");
  ASSERT_NE(t, nullptr);
  std::vector<std::string> vhosts;
  for (const auto& vh : t->virtual_hosts()) vhosts.push_back(vh.name());
  EXPECT_EQ(vhosts, (std::vector<std::string>{"*.example.com:80", "api.other.com:80", "x.example.com:80"}));
  const pb::VirtualHost* x = find_vhost(s, "http.80", "x.example.com:80");
  ASSERT_NE(x, nullptr);
  ASSERT_EQ(x->routes_size(), 1);
  EXPECT_EQ(x->routes(0).virtual_service(), "web/narrow");
  EXPECT_EQ(bound(s), (std::vector<std::string>{"web/narrow", "web/wild"}));
}

TEST(VsBinding, ExportToLimitsVisibilityFromTheGatewayNamespace) {
  const std::string yaml = gateway("web", "[\"*\"]") +
                           vs("web", "private", "[a.example.com]", "[gw]", "  exportTo: [\".\"]\n") +
                           vs("web", "to-gw-ns", "[b.example.com]", "[gw]", "  exportTo: [istio-system]\n") +
                           vs("web", "public", "[c.example.com]", "[gw]", "  exportTo: [\"*\"]\n");
  EXPECT_EQ(bound(compile(yaml)), (std::vector<std::string>{"web/public", "web/to-gw-ns"}));
  EXPECT_EQ(bound(compile(yaml, ingress_node("web"))), (std::vector<std::string>{"web/private", "web/public"}));
}

TEST(VsBinding, VirtualServicesOnOneHostMergeInNamespaceNameOrder) {
  const std::string yaml = gateway("web", "[\"*\"]") + vs("web", "b", "[a.example.com]", "[gw]") +
                           vs("web", "a", "[a.example.com]", "[gw]");
  const pb::GatewaySnapshot s = compile(yaml);
  const pb::VirtualHost* vh = find_vhost(s, "http.80", "a.example.com:80");
  ASSERT_NE(vh, nullptr);
  ASSERT_EQ(vh->routes_size(), 2);
  EXPECT_EQ(vh->routes(0).virtual_service(), "web/a");
  EXPECT_EQ(vh->routes(1).virtual_service(), "web/b");
}

const char* kRoutes = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-catchall, namespace: web}
spec:
  hosts: [app.example.com]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /}}]
    route: [{destination: {host: app}}]
  - match: [{uri: {prefix: /never}}]
    route: [{destination: {host: app}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b-specific, namespace: web}
spec:
  hosts: [app.example.com]
  gateways: [gw]
  http:
  - name: api
    match:
    - {name: v2, uri: {prefix: /v2}, headers: {X-Canary: {}}, queryParams: {debug: {exact: "1"}}}
    - {name: other-port, port: 8080, uri: {prefix: /p}}
    - {name: egress-only, gateways: [egress], uri: {prefix: /e}}
    - {name: wrong-labels, sourceLabels: {app: nope}, uri: {prefix: /l}}
    - {name: right-labels, sourceLabels: {istio: ingressgateway}, uri: {prefix: /r}}
    - {name: wrong-ns, sourceNamespace: default, uri: {prefix: /n}}
    - {name: this-gw, gateways: [gw], port: 80, uri: {exact: /g}}
    route: [{destination: {host: app}}]
    retries: {attempts: 0}
    timeout: 1.5s
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: web}
spec:
  ports: [{name: http, port: 8000}]
)";

TEST(HttpRoutes, MatchesThatCannotApplyHereAreDropped) {
  const pb::GatewaySnapshot s = compile(kRoutes);
  const pb::VirtualHost* vh = find_vhost(s, "http.80", "app.example.com:80");
  ASSERT_NE(vh, nullptr);
  std::vector<std::string> names;
  for (const auto& r : vh->routes()) names.push_back(r.name() + "@" + r.virtual_service());
  // Catch-all of a-catchall moves last; its second rule is never reachable and is dropped.
  EXPECT_EQ(names, (std::vector<std::string>{"api.v2@web/b-specific", "api.right-labels@web/b-specific",
                                             "api.this-gw@web/b-specific", "@web/a-catchall"}));
}

TEST(HttpRoutes, MatchDetailsAndResolvedDefaults) {
  const pb::GatewaySnapshot s = compile(kRoutes);
  const pb::VirtualHost* vh = find_vhost(s, "http.80", "app.example.com:80");
  ASSERT_NE(vh, nullptr);
  const pb::Route& v2 = vh->routes(0);
  EXPECT_EQ(v2.match().uri().prefix(), "/v2");
  ASSERT_EQ(v2.match().headers_size(), 1);
  EXPECT_EQ(v2.match().headers(0).name(), "x-canary") << "header names are lower-cased";
  EXPECT_TRUE(v2.match().headers(0).present());
  ASSERT_EQ(v2.match().query_params_size(), 1);
  EXPECT_EQ(v2.match().query_params(0).match().exact(), "1");
  EXPECT_EQ(v2.route().retries().attempts(), 0u) << "attempts: 0 disables retries";
  EXPECT_EQ(v2.route().timeout_ms(), 1500u);
  ASSERT_EQ(v2.route().clusters_size(), 1);
  // No destination port: the service's only port.
  EXPECT_EQ(v2.route().clusters(0).cluster(), "outbound|8000||app.web.svc.cluster.local");
  EXPECT_EQ(v2.route().clusters(0).weight(), 100u);
  const pb::Route& catch_all = vh->routes(3);
  EXPECT_EQ(catch_all.route().retries().attempts(), 2u) << "Istio's default retry policy";
  EXPECT_EQ(catch_all.route().retries().retry_on(0), "connect-failure");
  EXPECT_TRUE(catch_all.route().retries().ignore_previous_hosts());
  EXPECT_EQ(catch_all.route().timeout_ms(), 0u) << "no timeout unless set";
}

TEST(HttpRoutes, DestinationPortFallsBackToTheListenerPort) {
  const std::string yaml = std::string(kRoutes) + R"(
---
apiVersion: v1
kind: Service
metadata: {name: multi, namespace: web}
spec:
  ports: [{name: http, port: 80}, {name: http-alt, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi, namespace: web}
spec:
  hosts: [multi.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: multi}}]
)";
  const pb::GatewaySnapshot s = compile(yaml);
  const pb::VirtualHost* vh = find_vhost(s, "http.80", "multi.example.com:80");
  ASSERT_NE(vh, nullptr);
  EXPECT_EQ(vh->routes(0).route().clusters(0).cluster(), "outbound|80||multi.web.svc.cluster.local");
}

TEST(HttpRoutes, HttpsRedirectAddsRequireTls) {
  const char* yaml = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [secure.example.com, web/plain.example.com]
    tls: {httpsRedirect: true}
)";
  const pb::GatewaySnapshot s = compile(yaml);
  for (const char* h : {"secure.example.com:80", "plain.example.com:80"}) {
    const pb::VirtualHost* vh = find_vhost(s, "http.80", h);
    ASSERT_NE(vh, nullptr) << h;
    EXPECT_TRUE(vh->require_tls());
    EXPECT_EQ(vh->routes_size(), 0);
  }
}

const char* kTls = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    tls: {mode: PASSTHROUGH}
    hosts: ["*.example.com"]
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: cert}
    hosts: [term.example.org]
  - port: {number: 443, name: https2, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: cert}
    hosts: [term.example.org]
  - port: {number: 443, name: plain, protocol: HTTP}
    hosts: [x.example.net]
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: web}
spec:
  hosts: ["*.example.com"]
  gateways: [gw]
  tls:
  - match: [{sniHosts: [a.example.com], port: 443}]
    route: [{destination: {host: a.web.svc.cluster.local, port: {number: 8443}}}]
  - match: [{sniHosts: [b.example.com], port: 8443}]
    route: [{destination: {host: b.web.svc.cluster.local, port: {number: 8443}}}]
  tcp:
  - route:
    - {destination: {host: db.web.svc.cluster.local, port: {number: 5432}}, weight: 50}
    - {destination: {host: db2.web.svc.cluster.local, port: {number: 5432}}, weight: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: web}
spec:
  hosts: [a.example.com]
  gateways: [gw]
  tls:
  - match: [{sniHosts: [a.example.com]}]
    route: [{destination: {host: other.web.svc.cluster.local, port: {number: 8443}}}]
)";

TEST(L4Routes, PassthroughTerminatedAndTcpServersOnTheirPorts) {
  const pb::GatewaySnapshot s = compile(kTls);
  ASSERT_EQ(s.listeners_size(), 2);
  const pb::Listener& l443 = s.listeners(0);
  EXPECT_EQ(l443.port(), 443u);
  ASSERT_EQ(l443.servers_size(), 2) << "duplicate SNI host and the HTTP server on a TLS port are dropped";
  const pb::Server& pt = l443.servers(0);
  ASSERT_EQ(pt.tls_routes_size(), 1) << "port-mismatched and duplicate-SNI matches are dropped";
  EXPECT_EQ(pt.tls_routes(0).sni_hosts(0), "a.example.com");
  EXPECT_EQ(pt.tls_routes(0).clusters(0).cluster(), "outbound|8443||a.web.svc.cluster.local");
  EXPECT_EQ(l443.servers(1).route_table(), "https.443.https.gw.web");
  EXPECT_TRUE(l443.route_table().empty());
  const pb::Listener& l9000 = s.listeners(1);
  ASSERT_EQ(l9000.servers(0).tcp_routes_size(), 1);
  EXPECT_EQ(l9000.servers(0).tcp_routes(0).clusters_size(), 2);
  EXPECT_EQ(l9000.servers(0).tcp_routes(0).clusters(1).weight(), 50u);
  int warnings = 0;
  for (const auto& w : s.warnings())
    warnings += w.find("duplicate SNI") != std::string::npos || w.find("already serves") != std::string::npos ||
                w.find("SNI host already routed") != std::string::npos;
  EXPECT_EQ(warnings, 3);
}

}  // namespace
}  // namespace lg::ctrl::testing
