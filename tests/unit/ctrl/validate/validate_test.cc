// Unit tests for ctrl/validate helpers (host names, wildcard matching,
// durations, the route regex dialect, the EnvoyFilter rate-limit parse) and
// for analyze() behaviours that need no manifest file.
#include "ctrl/crd/loader.h"
#include "ctrl/validate/analyze.h"
#include "ctrl/validate/envoy_filter.h"
#include "ctrl/validate/hosts.h"
#include "ctrl/validate/regex.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

using namespace lg::ctrl;
using namespace lg::ctrl::validate;

namespace {

std::vector<Resource> load(const std::string& yaml) {
  Diagnostics d;
  auto r = load_text(yaml, "test.yaml", d);
  EXPECT_FALSE(d.has_errors()) << (d.items().empty() ? "" : d.items()[0].format());
  return r;
}

std::string all(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& x : d.items()) out += x.format() + "\n";
  return out;
}

bool has_diag(const Diagnostics& d, Severity s, const std::string& text) {
  for (const Diagnostic& x : d.items())
    if (x.severity == s && x.format().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Hosts, Dns1123Label) {
  EXPECT_TRUE(is_dns1123_label("reviews"));
  EXPECT_TRUE(is_dns1123_label("a1-b2"));
  EXPECT_FALSE(is_dns1123_label(""));
  EXPECT_FALSE(is_dns1123_label("-a"));
  EXPECT_FALSE(is_dns1123_label("a-"));
  EXPECT_FALSE(is_dns1123_label("a.b"));
  EXPECT_FALSE(is_dns1123_label(std::string(64, 'a')));
  EXPECT_TRUE(is_dns1123_label(std::string(63, 'a')));
}

TEST(Hosts, FqdnAndWildcardDomain) {
  EXPECT_FALSE(check_fqdn("reviews.default.svc.cluster.local"));
  EXPECT_FALSE(check_fqdn("istio.io."));  // trailing dot
  EXPECT_TRUE(check_fqdn("*.example.com"));
  EXPECT_TRUE(check_fqdn("a..b"));
  EXPECT_TRUE(check_fqdn(""));
  ASSERT_TRUE(check_fqdn("10.0.0.300"));
  EXPECT_NE(check_fqdn("10.0.0.300")->find("cannot be all-numeric"), std::string::npos);

  EXPECT_FALSE(check_wildcard_domain("*"));
  EXPECT_FALSE(check_wildcard_domain("*.example.com"));
  EXPECT_FALSE(check_wildcard_domain("reviews"));
  EXPECT_TRUE(check_wildcard_domain("foo.*.com"));  // wildcard only in the first label
  EXPECT_TRUE(check_wildcard_domain("bad_name.com"));
  ASSERT_TRUE(check_wildcard_domain("a..b"));
  EXPECT_EQ(*check_wildcard_domain("a..b"), "domain name \"a..b\" invalid (label \"\" invalid)");
}

TEST(Hosts, NamespaceSlashHost) {
  EXPECT_FALSE(check_namespace_slash_host("istio-system/*", false));
  EXPECT_FALSE(check_namespace_slash_host("./*", false));
  EXPECT_FALSE(check_namespace_slash_host("*/reviews.example.com", true));
  EXPECT_FALSE(check_namespace_slash_host("~/*", false));
  EXPECT_TRUE(check_namespace_slash_host("~/*", true));  // gateways: no "~"
  EXPECT_FALSE(check_namespace_slash_host("bookinfo.example.com", true));  // old style, gateways only
  EXPECT_EQ(*check_namespace_slash_host("bookinfo.example.com", false), "host must be of form namespace/dnsName");
  EXPECT_NE(check_namespace_slash_host("ns/reviews", true)->find("short names"), std::string::npos);
  EXPECT_NE(check_namespace_slash_host("ns/foo*.example.com", false)->find("partial wildcard"), std::string::npos);
  EXPECT_FALSE(check_namespace_slash_host("10.1.2.3", true));  // gateways accept IPs
}

TEST(Hosts, WildcardMatching) {
  EXPECT_TRUE(host_matches("foo.com", "foo.com"));
  EXPECT_TRUE(host_matches("foo.com", "*.com"));
  EXPECT_TRUE(host_matches("*.com", "foo.com"));
  EXPECT_TRUE(host_matches("*", "foo.com"));
  EXPECT_TRUE(host_matches("*.com", "*.foo.com"));
  EXPECT_FALSE(host_matches("foo.com", "bar.com"));
  EXPECT_FALSE(host_matches("*.foo.com", "foo.com"));
  EXPECT_FALSE(host_matches("*.bar.com", "*.foo.com"));

  EXPECT_TRUE(host_subset_of("a.example.com", "*.example.com"));
  EXPECT_TRUE(host_subset_of("*.a.example.com", "*.example.com"));
  EXPECT_TRUE(host_subset_of("anything", "*"));
  EXPECT_FALSE(host_subset_of("*.example.com", "a.example.com"));
  EXPECT_FALSE(host_subset_of("*.example.com", "*.a.example.com"));
  EXPECT_FALSE(host_subset_of("example.com", "*.example.com"));
}

TEST(Hosts, ShortNamesResolveInTheResourceNamespace) {
  EXPECT_EQ(resolve_short_name("reviews", "bookinfo"), "reviews.bookinfo.svc.cluster.local");
  EXPECT_EQ(resolve_short_name("reviews.default", "bookinfo"), "reviews.default");  // has a dot: taken as is
  EXPECT_EQ(resolve_short_name("*", "bookinfo"), "*");
}

TEST(Hosts, IpAndCidr) {
  EXPECT_TRUE(is_ip_address("10.1.2.3"));
  EXPECT_TRUE(is_ip_address("2001:db8::1"));
  EXPECT_FALSE(is_ip_address("10.1.2"));
  EXPECT_TRUE(is_cidr("10.0.0.0/8"));
  EXPECT_TRUE(is_cidr("2001:db8::/32"));
  EXPECT_FALSE(is_cidr("10.0.0.0/33"));
  EXPECT_FALSE(is_cidr("10.0.0.0/"));
  EXPECT_EQ(*check_ip_or_cidr("10.0.0.0/33"), "10.0.0.0/33 is not a valid CIDR block");
  EXPECT_FALSE(check_port(1));
  EXPECT_FALSE(check_port(65535));
  EXPECT_EQ(*check_port(0), "port number 0 must be in the range 1..65535");
  EXPECT_TRUE(check_port(65536));
}

TEST(Durations, GoAndProtobufForms) {
  EXPECT_EQ(parse_duration_ns("1.5s"), 1500000000);
  EXPECT_EQ(parse_duration_ns("100ms"), 100000000);
  EXPECT_EQ(parse_duration_ns("1h30m"), 5400000000000LL);
  EXPECT_EQ(parse_duration_ns("0"), 0);
  EXPECT_FALSE(parse_duration_ns("10"));
  EXPECT_FALSE(parse_duration_ns("1x"));
  EXPECT_FALSE(parse_duration_ns(""));
  EXPECT_FALSE(check_duration("10s"));
  EXPECT_EQ(*check_duration("500us"), "duration must be greater than 1ms");
  EXPECT_EQ(*check_duration("1500us"), "only durations to ms precision are supported");
}

TEST(RouteRegex, AcceptsWhatBothEnginesRun) {
  for (const char* re : {"/api/v[0-9]+/.*", "^/foo", "(?i)abc", "[[:alpha:]]+", "\\bfoo\\b", "(?P<id>[0-9]+)", ""})
    EXPECT_FALSE(check_route_regex(re)) << re << ": " << check_route_regex(re).value_or("");
}

TEST(RouteRegex, RejectsWithTheEngineMessage) {
  EXPECT_EQ(check_route_regex("(?=x)"), "regex \"(?=x)\" is not supported: Zero-width assertions are not supported.");
  EXPECT_EQ(check_route_regex("(a)\\1"), "regex \"(a)\\1\" is not supported: Back-references are unsupported.");
  // RE2 accepts these; Hyperscan does not.
  EXPECT_TRUE(check_route_regex("a$b"));
  EXPECT_TRUE(check_route_regex("\\C"));
  // The index in Hyperscan's message points into the user's pattern, not the anchored one.
  const auto u = check_route_regex("(?U)a+");
  ASSERT_TRUE(u);
  EXPECT_NE(u->find("at index 0"), std::string::npos) << *u;
  // Hyperscan accepts .NET-style named groups; Istio (RE2) does not.
  const auto n = check_route_regex("(?<n>a)");
  ASSERT_TRUE(n);
  EXPECT_NE(n->find("is not valid RE2 syntax"), std::string::npos) << *n;
  EXPECT_NE(check_route_regex(std::string(1025, 'a'))->find("too large"), std::string::npos);
}

TEST(EnvoyFilter, ParsesTheDocumentedLocalRateLimit) {
  const auto rs = load(R"(apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: rl, namespace: istio-system}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: GATEWAY}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          statPrefix: http_local_rate_limiter
          tokenBucket: {maxTokens: 4, tokensPerFill: 2, fillInterval: 1.5s}
          filterEnabled: {runtimeKey: e, defaultValue: {numerator: 50, denominator: HUNDRED}}
          filterEnforced: {runtimeKey: f, defaultValue: {numerator: 10000, denominator: MILLION}}
  - applyTo: VIRTUAL_HOST
    match:
      context: GATEWAY
      routeConfiguration: {vhost: {name: "api.example.com:443"}}
    patch:
      operation: MERGE
      value:
        typed_per_filter_config:
          envoy.filters.http.local_ratelimit:
            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
            value:
              stat_prefix: vhost
              token_bucket: {max_tokens: 10, fill_interval: 60s}
)");
  ASSERT_EQ(rs.size(), 1u);
  std::vector<EnvoyFilterIssue> issues;
  const auto rl = parse_local_rate_limits(rs[0], issues);
  EXPECT_TRUE(issues.empty()) << issues[0].path << ": " << issues[0].message;
  ASSERT_EQ(rl.size(), 2u);
  EXPECT_EQ(rl[0].context, "GATEWAY");
  EXPECT_EQ(rl[0].max_tokens, 4u);
  EXPECT_EQ(rl[0].tokens_per_fill, 2u);
  EXPECT_EQ(rl[0].fill_interval_ms, 1500u);
  EXPECT_DOUBLE_EQ(rl[0].enabled_percent, 50.0);
  EXPECT_DOUBLE_EQ(rl[0].enforced_percent, 1.0);
  EXPECT_EQ(rl[1].apply_to, "VIRTUAL_HOST");
  EXPECT_EQ(rl[1].vhost, "api.example.com:443");
  EXPECT_EQ(rl[1].max_tokens, 10u);
  EXPECT_EQ(rl[1].tokens_per_fill, 1u);  // Envoy's default
  EXPECT_EQ(rl[1].fill_interval_ms, 60000u);
}

TEST(Analyze, WeightsMessageNamesFileDocKindAndPath) {
  const auto rs = load(R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      weight: 60
    - destination: {host: reviews}
      weight: 30
)");
  Diagnostics d;
  analyze(rs, d);
  EXPECT_TRUE(has_diag(d, Severity::error,
                       "Error: test.yaml (doc 2) VirtualService default/reviews: spec.http[0].route: weights sum to 90, "
                       "expected 100"))
      << all(d);
  EXPECT_EQ(d.error_count(), 1u) << all(d);
}

TEST(Analyze, IncompleteRegistryTurnsHostErrorsIntoWarnings) {
  const auto rs = load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
)");
  Diagnostics complete;
  analyze(rs, complete);
  EXPECT_TRUE(has_diag(complete, Severity::error, "host not in registry")) << all(complete);
  Diagnostics partial;
  analyze(rs, partial, AnalyzeOptions{.registry_complete = false});
  EXPECT_FALSE(partial.has_errors()) << all(partial);
  EXPECT_TRUE(has_diag(partial, Severity::warning, "host not in registry")) << all(partial);
}

TEST(Analyze, ServiceEntryWildcardHostCoversDestinations) {
  const auto rs = load(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wiki, namespace: default}
spec:
  hosts: ["*.wikipedia.org"]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wiki, namespace: default}
spec:
  hosts: ["*.wikipedia.org"]
  tls:
  - match: [{port: 443, sniHosts: [en.wikipedia.org]}]
    route:
    - destination: {host: en.wikipedia.org}
)");
  Diagnostics d;
  analyze(rs, d);
  EXPECT_FALSE(d.has_errors()) << all(d);
}

TEST(Analyze, UnsupportedKindIsOneWarningAndNothingElse) {
  const auto rs = load(R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: vms, namespace: default}
spec:
  template: {serviceAccount: default}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
spec: {}
)");
  Diagnostics d;
  analyze(rs, d);
  ASSERT_EQ(d.items().size(), 2u) << all(d);
  EXPECT_EQ(d.warning_count(), 2u);
  EXPECT_NE(d.items()[0].message.find("kind WorkloadGroup.networking.istio.io is not supported by linegate: "),
            std::string::npos);
  EXPECT_NE(d.items()[1].message.find("kind Widget.example.com is not supported by linegate"), std::string::npos);
}

TEST(Analyze, DuplicateNamesBothSources) {
  Diagnostics ld;
  auto a = load_text("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {ports: [{port: 80}]}\n",
                     "a.yaml", ld);
  auto b = load_text("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {ports: [{port: 81}]}\n",
                     "b.yaml", ld);
  a.insert(a.end(), b.begin(), b.end());
  Diagnostics d;
  analyze(a, d);
  EXPECT_TRUE(has_diag(d, Severity::error, "duplicate Service x/s: defined in a.yaml (doc 1) and again in b.yaml (doc 1)"))
      << all(d);
}

TEST(Analyze, NoCrashOnWrongTypes) {
  // Every field the checks read has the wrong type: the schema reports it,
  // and the semantic and cross-resource checks must simply not trip.
  const auto rs = load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: odd, namespace: default}
spec:
  hosts: 7
  gateways: {a: b}
  http: [1, "x", {route: "r", match: 3, fault: [], retries: {retryOn: 5}}]
  tls: [{match: [{sniHosts: 3}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: odd, namespace: default}
spec: {servers: [{port: 5, hosts: [1], tls: "x"}], selector: []}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: odd, namespace: default}
spec: {host: [], subsets: [{labels: 5}], trafficPolicy: {loadBalancer: 3}}
---
apiVersion: v1
kind: Secret
metadata: {name: odd, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: "!!!", tls.key: 3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    accessLogFormat: {a: 1}
    accessLogEncoding: [JSON]
    defaultProviders: 4
    extensionProviders: [1, {name: 3, envoyFileAccessLog: 5}, {name: x, envoyFileAccessLog: {path: [], logFormat: {labels: 7, text: []}}}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: odd, namespace: istio-system}
spec: {accessLogging: [{providers: 3}, {providers: [{name: 5}, 6]}, 7]}
)");
  Diagnostics d;
  analyze(rs, d);
  validate_semantics(rs, d);  // also run them on what the schema rejected
  validate_cross_resource(rs, d, {});
  for (const Diagnostic& x : d.items()) EXPECT_EQ(x.message.find("internal error"), std::string::npos) << x.format();
}

TEST(IstioCorpus, ValidDocumentsPassSemanticChecks) {
  // Istio's own *-valid.yaml documents must not trip the webhook-style checks
  // (registry and other cross-resource checks aside).
  const char* dir = std::getenv("LG_ISTIO_TESTDATA");
  if (dir == nullptr || !std::filesystem::is_directory(dir)) GTEST_SKIP() << "LG_ISTIO_TESTDATA not set";
  size_t docs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 11 || name.substr(name.size() - 11) != "-valid.yaml") continue;
    Diagnostics ld;
    const auto rs = load_paths({e.path().string()}, ld);
    docs += rs.size();
    Diagnostics d;
    validate_semantics(rs, d);
    EXPECT_EQ(d.error_count(), 0u) << name << ":\n" << all(d);
  }
  EXPECT_GT(docs, 10u);
}
