// l7/router: host selection, route matching (every Istio match kind, the
// host-wide URI regex scan), compiled route fields, rewrite, redirect
// Location, CORS origins, build errors, per-worker scratch.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <string>
#include <thread>
#include <vector>

#include "l7/router/router.h"

namespace lg::l7 {
namespace {

pb::GatewaySnapshot parse(const std::string& text) {
  pb::GatewaySnapshot s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s)) << text;
  return s;
}

// A route answering with a direct response, named so tests can see which won.
std::string named_route(const std::string& name, const std::string& match = "") {
  return "routes { name: '" + name + "' match { " + match + " } direct_response { status: 200 } }\n";
}

struct Req {
  std::string method = "GET", path = "/", query, authority = "example.com", scheme = "http";
  uint16_t port = 80;
  std::vector<http1::Header> headers;
  RequestView view() const { return {method, path, query, authority, scheme, port, headers}; }
};

class Fixture {
 public:
  explicit Fixture(const std::string& text, unsigned workers = 1) : snap_(parse(text)) {
    std::string error;
    routes_ = build_routes(snap_, workers, &error);
    EXPECT_NE(routes_, nullptr) << error;
  }
  const Routes& routes() const { return *routes_; }
  // Name of the matched route, "" when none.
  std::string match(const Req& r, unsigned worker = 0, uint32_t table = 0, uint32_t* vhost = nullptr) const {
    const uint32_t i = routes_->match(table, r.view(), worker, vhost);
    return i == kNoRoute ? "" : routes_->route(i).spec->name();
  }
  const Route& route_for(const Req& r) const { return routes_->route(routes_->match(0, r.view(), 0)); }

 private:
  pb::GatewaySnapshot snap_;
  std::unique_ptr<Routes> routes_;
};

std::string one_host(const std::string& routes, const std::string& domain = "*") {
  return "route_tables { name: 't' virtual_hosts { name: 'h' domains: '" + domain + "' " + routes + " } }";
}

Req at(const std::string& authority, const std::string& path = "/") {
  Req r;
  r.authority = authority;
  r.path = path;
  return r;
}

// ------------------------------------------------------------ virtual hosts

TEST(RouterHosts, ExactWildcardLongestStar) {
  Fixture f(R"(route_tables { name: 't'
    virtual_hosts { name: 'exact' domains: 'a.example.com' domains: '[::1]' routes { name: 'exact' } }
    virtual_hosts { name: 'wild' domains: '*.example.com' routes { name: 'wild' } }
    virtual_hosts { name: 'longer' domains: '*.b.example.com' routes { name: 'longer' } }
    virtual_hosts { name: 'port' domains: 'p.example.com:8080' routes { name: 'port' } }
    virtual_hosts { name: 'anyport' domains: 'h.test:*' routes { name: 'anyport' } }
    virtual_hosts { name: 'prefix' domains: 'foo.*' routes { name: 'prefix' } }
    virtual_hosts { name: 'star' domains: '*' routes { name: 'star' } } })");
  EXPECT_EQ(f.match(at("a.example.com")), "exact");
  EXPECT_EQ(f.match(at("A.Example.COM:80")), "exact");  // case and port
  EXPECT_EQ(f.match(at("[::1]:80")), "exact");
  EXPECT_EQ(f.match(at("[::1]")), "exact");
  EXPECT_EQ(f.match(at("x.example.com")), "wild");
  EXPECT_EQ(f.match(at("x.y.example.com:443")), "wild");
  EXPECT_EQ(f.match(at("x.b.example.com")), "longer");
  EXPECT_EQ(f.match(at("B.example.com")), "wild");  // "*.b.example.com" needs a label before it
  EXPECT_EQ(f.match(at("example.com")), "star");
  EXPECT_EQ(f.match(at("p.example.com:8080")), "port");
  EXPECT_EQ(f.match(at("p.example.com:9090")), "wild");
  EXPECT_EQ(f.match(at("h.test:1234")), "anyport");
  EXPECT_EQ(f.match(at("foo.bar")), "prefix");
  EXPECT_EQ(f.match(at("")), "star");
  uint32_t vh = 0;
  f.match(at("x.b.example.com"), 0, 0, &vh);
  EXPECT_EQ(vh, 2u);
}

TEST(RouterHosts, NoHostNoRoute) {
  Fixture f(R"(route_tables { name: 't' virtual_hosts { name: 'a' domains: 'a.com' require_tls: true routes { name: 'r' } } }
               route_tables { name: 'u' virtual_hosts { name: 'b' domains: 'b.com' routes { name: 'r2' } } })");
  uint32_t vh = 0;
  EXPECT_EQ(f.match(at("b.com"), 0, 0, &vh), "");
  EXPECT_EQ(vh, UINT32_MAX);
  EXPECT_EQ(f.match(at("b.com"), 0, 1), "r2");
  EXPECT_EQ(f.match(at("a.com"), 0, 7), "");  // no such table
  EXPECT_TRUE(f.routes().require_tls(0, 0));
  EXPECT_FALSE(f.routes().require_tls(1, 0));
}

TEST(RouterHosts, ManyDomains) {
  std::string text = "route_tables { name: 't' ";
  for (int i = 0; i < 300; ++i)
    text += "virtual_hosts { name: 'h" + std::to_string(i) + "' domains: 'host" + std::to_string(i) +
            ".example.com' routes { name: 'r" + std::to_string(i) + "' } }";
  text += "}";
  Fixture f(text);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(f.match(at("host" + std::to_string(i) + ".example.com")), "r" + std::to_string(i));
  EXPECT_EQ(f.match(at("host300.example.com")), "");
}

// ------------------------------------------------------------------ routes

TEST(RouterMatch, FirstMatchWinsAndUriKinds) {
  Fixture f(one_host(named_route("a", "uri { prefix: '/a' }") + named_route("ab", "uri { prefix: '/a/b' }") +
                     named_route("exact", "uri { exact: '/x' }") +
                     named_route("ci_exact", "uri { exact: '/Case' } ignore_uri_case: true") +
                     named_route("ci_prefix", "uri { prefix: '/Up/' } ignore_uri_case: true") +
                     named_route("re", "uri { regex: '/re/[0-9]+' } ignore_uri_case: true") +
                     named_route("all")));
  auto path = [&](const std::string& p) { return f.match(at("example.com", p)); };
  EXPECT_EQ(path("/a/b/c"), "a");
  EXPECT_EQ(path("/x"), "exact");
  EXPECT_EQ(path("/x/"), "all");
  EXPECT_EQ(path("/X"), "all");
  EXPECT_EQ(path("/cASE"), "ci_exact");
  EXPECT_EQ(path("/uP/x"), "ci_prefix");
  EXPECT_EQ(path("/re/123"), "re");
  EXPECT_EQ(path("/re/123x"), "all");  // full-value match
  EXPECT_EQ(path("/RE/123"), "all");   // ignoreUriCase does not apply to regex (Istio)
  EXPECT_EQ(path("/"), "all");
}

TEST(RouterMatch, FiftyRegexRoutesFirstWins) {
  std::string routes;
  // Route i matches "/p/<digits ending in i>"; route 5 also needs a header.
  for (int i = 0; i < 50; ++i)
    routes += named_route("r" + std::to_string(i), "uri { regex: '/p/[0-9]*" + std::to_string(i) + "' }" +
                                                       (i == 5 ? " headers { name: 'x-five' present: true }" : ""));
  routes += named_route("fallback");
  Fixture f(one_host(routes));
  auto path = [&](const std::string& p) { return f.match(at("example.com", p)); };
  EXPECT_EQ(path("/p/12"), "r2");     // routes 2 and 12 match: the first wins
  EXPECT_EQ(path("/p/7745"), "r45");  // 5 needs its header
  Req r = at("example.com", "/p/7745");
  r.headers = {{"X-Five", "1"}};
  EXPECT_EQ(f.match(r), "r5");
  EXPECT_EQ(path("/p/49"), "r9");
  EXPECT_EQ(path("/p/x"), "fallback");
  EXPECT_EQ(path("/q/1"), "fallback");
}

TEST(RouterMatch, RegexHostWithMoreThan64Routes) {
  std::string routes;
  for (int i = 0; i < 130; ++i) routes += named_route("r" + std::to_string(i), "uri { regex: '/n/" + std::to_string(i) + "' }");
  Fixture f(one_host(routes));
  EXPECT_EQ(f.match(at("example.com", "/n/0")), "r0");
  EXPECT_EQ(f.match(at("example.com", "/n/64")), "r64");
  EXPECT_EQ(f.match(at("example.com", "/n/129")), "r129");
  EXPECT_EQ(f.match(at("example.com", "/n/130")), "");
}

TEST(RouterMatch, Headers) {
  Fixture f(one_host(named_route("present", "headers { name: 'x-p' present: true }") +
                     named_route("exact", "headers { name: 'x-e' match { exact: 'v1' } }") +
                     named_route("prefix", "headers { name: 'x-pre' match { prefix: 'ab' } }") +
                     named_route("regex", "headers { name: 'x-re' match { regex: '[a-c]+,d' } }") +
                     named_route("both", "headers { name: 'x-1' match { exact: '1' } } headers { name: 'x-2' present: true }") +
                     named_route("authority_hdr", "headers { name: ':authority' match { exact: 'h:1' } }") +
                     named_route("none", "uri { exact: '/none' }")));
  auto with = [&](std::vector<http1::Header> h, std::string authority = "example.com") {
    Req r = at(authority);
    r.headers = std::move(h);
    return f.match(r);
  };
  EXPECT_EQ(with({{"X-P", ""}}), "present");
  EXPECT_EQ(with({{"x-e", "v1"}}), "exact");
  EXPECT_EQ(with({{"x-e", "V1"}}), "");  // values are case-sensitive
  EXPECT_EQ(with({{"x-pre", "abc"}}), "prefix");
  EXPECT_EQ(with({{"x-pre", "xab"}}), "");
  EXPECT_EQ(with({{"x-re", "abc"}, {"x-other", "1"}, {"X-Re", "d"}}), "regex");  // joined "abc,d"
  EXPECT_EQ(with({{"x-re", "abc"}}), "");
  EXPECT_EQ(with({{"x-1", "1"}}), "");
  EXPECT_EQ(with({{"x-1", "1"}, {"x-2", "z"}}), "both");
  EXPECT_EQ(with({}, "h:1"), "authority_hdr");
}

TEST(RouterMatch, WithoutHeaders) {
  Fixture f(one_host(named_route("no_debug", "without_headers { name: 'x-debug' present: true }") +
                     named_route("not_beta", "without_headers { name: 'x-ver' match { exact: 'beta' } }") +
                     named_route("rest")));
  Req r = at("example.com");
  EXPECT_EQ(f.match(r), "no_debug");
  r.headers = {{"x-debug", "1"}};
  EXPECT_EQ(f.match(r), "not_beta");
  r.headers = {{"x-debug", "1"}, {"x-ver", "alpha"}};
  EXPECT_EQ(f.match(r), "not_beta");
  r.headers = {{"x-debug", "1"}, {"x-ver", "beta"}};
  EXPECT_EQ(f.match(r), "rest");
}

TEST(RouterMatch, QueryParams) {
  Fixture f(one_host(named_route("exact", "query_params { name: 'a' match { exact: 'x y' } }") +
                     named_route("regex", "query_params { name: 'n' match { regex: '[0-9]+' } }") +
                     named_route("present", "query_params { name: 'p' present: true }") +
                     named_route("rest")));
  auto q = [&](const std::string& query) {
    Req r = at("example.com");
    r.query = query;
    return f.match(r);
  };
  EXPECT_EQ(q("a=x+y"), "exact");
  EXPECT_EQ(q("b=1&a=x%20y"), "exact");
  EXPECT_EQ(q("a=x&a=x+y"), "rest");  // the first value counts
  EXPECT_EQ(q("n=123"), "regex");
  EXPECT_EQ(q("n=12a"), "rest");
  EXPECT_EQ(q("p"), "present");
  EXPECT_EQ(q("p="), "present");
  EXPECT_EQ(q("pp=1"), "rest");
  EXPECT_EQ(q(""), "rest");
}

TEST(RouterMatch, MethodAuthorityScheme) {
  Fixture f(one_host(named_route("post", "method { exact: 'POST' }") +
                     named_route("auth", "authority { prefix: 'api.' }") +
                     named_route("auth_port", "authority { regex: 'w\\\\.example\\\\.com:8[0-9]+' }") +
                     named_route("https", "scheme { exact: 'https' }") + named_route("rest")));
  Req r = at("example.com");
  EXPECT_EQ(f.match(r), "rest");
  r.method = "POST";
  EXPECT_EQ(f.match(r), "post");
  r.method = "GET";
  r.authority = "api.example.com";
  EXPECT_EQ(f.match(r), "auth");
  r.authority = "w.example.com:8080";  // authority is matched as received
  EXPECT_EQ(f.match(r), "auth_port");
  r.authority = "w.example.com";
  EXPECT_EQ(f.match(r), "rest");
  r.scheme = "https";
  EXPECT_EQ(f.match(r), "https");
}

// ------------------------------------------------------------ route fields

TEST(RouterRoute, DestinationsAndSettings) {
  Fixture f(R"(
    clusters { name: 'outbound|80||a.svc' }
    clusters { name: 'outbound|80||b.svc' }
    route_tables { name: 't' virtual_hosts { name: 'h' domains: '*'
      routes { name: 'redir' match { uri { prefix: '/r' } } redirect { uri: '/x' code: 302 } }
      routes { name: 'fwd'
        route {
          clusters { cluster: 'outbound|80||b.svc' weight: 30 }
          clusters { cluster: 'outbound|80||missing' weight: 20 }
          clusters { cluster: 'outbound|80||a.svc' weight: 50 request_headers { set { name: 'x' value: 'y' } } }
          timeout_ms: 1500
          retries { attempts: 3 per_try_timeout_ms: 200 retry_on: '5xx' retry_on: 'connect-failure'
                    retry_on: 'unavailable' retry_on: 'retriable-status-codes' retriable_status_codes: 503 }
          mirrors { cluster: 'outbound|80||a.svc' percentage: 10 }
          rewrite { authority: 'new.host' }
        }
        fault { delay { fixed_delay_ms: 50 percentage: 12.5 } abort { http_status: 503 percentage: 0.0001 } }
        cors { allow_origins { exact: 'https://a.com' } }
      }
    } })");
  const Route& r = f.route_for(at("x"));
  EXPECT_EQ(r.action, RouteAction::forward);
  const auto d = f.routes().destinations(r);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].cluster, 1u);
  EXPECT_EQ(d[1].cluster, UINT32_MAX);
  EXPECT_EQ(d[2].cluster, 0u);
  EXPECT_EQ(d[0].cumulative_weight, 30u);
  EXPECT_EQ(d[1].cumulative_weight, 50u);
  EXPECT_EQ(d[2].cumulative_weight, 100u);
  EXPECT_EQ(d[2].spec->request_headers().set(0).value(), "y");
  EXPECT_EQ(r.total_weight, 100u);
  EXPECT_EQ(r.timeout_ms, 1500u);
  EXPECT_EQ(r.retry_attempts, 3u);
  EXPECT_EQ(r.per_try_timeout_ms, 200u);
  EXPECT_EQ(r.retry_on, kRetry5xx | kRetryConnectFailure | kRetryRetriableStatusCodes);
  EXPECT_EQ(r.delay_ms, 50u);
  EXPECT_EQ(r.delay_ppm, 125000u);
  EXPECT_EQ(r.abort_status, 503);
  EXPECT_EQ(r.abort_ppm, 1u);
  EXPECT_TRUE(r.has_cors);
  EXPECT_TRUE(r.has_mirror);
  EXPECT_TRUE(r.has_rewrite);
  EXPECT_TRUE(r.has_header_ops);

  const Route& redir = f.route_for(at("x", "/r"));
  EXPECT_EQ(redir.action, RouteAction::redirect);
  EXPECT_EQ(f.routes().destinations(redir).size(), 0u);
  // A route with no retries block has attempts 0 in the snapshot.
  Fixture g(one_host("routes { name: 'd' direct_response { status: 204 } }"));
  const Route& dr = g.route_for(at("x"));
  EXPECT_EQ(dr.action, RouteAction::direct_response);
  EXPECT_EQ(dr.retry_attempts, 0u);
  EXPECT_FALSE(dr.has_cors || dr.has_mirror || dr.has_rewrite || dr.has_header_ops);
}

// ---------------------------------------------------------------- rewrites

std::string rewrite_of(const Fixture& f, const std::string& path, size_t cap = 256) {
  Req r = at("example.com", path);
  std::string out(cap, '\0');
  const size_t n = f.routes().rewrite_path(f.route_for(r), r.view(), out.data(), cap, 0);
  return n == SIZE_MAX ? "<overflow>" : out.substr(0, n);
}

TEST(RouterRewrite, PrefixExactRegexNone) {
  Fixture g(one_host(
      "routes { name: 'pre' match { uri { prefix: '/api/' } } route { rewrite { uri: '/v2/' } } }"
      "routes { name: 'ci' match { uri { prefix: '/CI' } ignore_uri_case: true } route { rewrite { uri: '/ci' } } }"
      "routes { name: 'ex' match { uri { exact: '/old' } } route { rewrite { uri: '/new' } } }"
      "routes { name: 're' match { uri { regex: '/re/.*' } } route { rewrite { uri: '/whole' } } }"
      "routes { name: 'rr' match { uri { prefix: '/rr/' } } route { rewrite { uri_regex_match: '^/rr/([a-z]+)/(\\\\d+)' "
      "uri_regex_rewrite: '/\\\\2/\\\\1' } } }"
      "routes { name: 'all' match { uri { prefix: '/g/' } } route { rewrite { uri_regex_match: 'o' uri_regex_rewrite: '0' } } }"
      "routes { name: 'empty' match { uri { prefix: '/e' } } route { rewrite { uri_regex_match: 'x*' uri_regex_rewrite: '-' } } }"
      "routes { name: 'auth' match { uri { prefix: '/auth' } } route { rewrite { authority: 'h' } } }"
      "routes { name: 'any' route { rewrite { uri: '/base' } } }"));
  EXPECT_EQ(rewrite_of(g, "/api/users"), "/v2/users");
  EXPECT_EQ(rewrite_of(g, "/cI/x"), "/ci/x");
  EXPECT_EQ(rewrite_of(g, "/old"), "/new");
  EXPECT_EQ(rewrite_of(g, "/re/a/b"), "/whole");
  EXPECT_EQ(rewrite_of(g, "/rr/abc/42/tail"), "/42/abc/tail");
  EXPECT_EQ(rewrite_of(g, "/rr/ABC/42"), "/rr/ABC/42");  // regex does not match: path unchanged
  EXPECT_EQ(rewrite_of(g, "/g/foo/boo"), "/g/f00/b00");  // every match replaced
  EXPECT_EQ(rewrite_of(g, "/e/ax"), "-/-e-/-a-");  // empty matches as RE2::GlobalReplace
  EXPECT_EQ(rewrite_of(g, "/auth/x"), "/auth/x");
  EXPECT_EQ(rewrite_of(g, "/zzz"), "/basezzz");  // no URI match = Envoy prefix "/"
  EXPECT_EQ(rewrite_of(g, "/api/users", 5), "<overflow>");
  EXPECT_EQ(rewrite_of(g, "/g/foo/boo", 4), "<overflow>");
}

// The regex rewrite is written without std::string; it must agree with
// RE2::GlobalReplace (what Envoy's regex_rewrite uses).
TEST(RouterRewrite, AgreesWithGlobalReplace) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x*", "-"}, {"o", "0"}, {"(a)(b)?", "[\\\\1|\\2|\\0]"}, {"^/", "/p/"}, {"$", "/end"}, {"\\b", "|"},
      {"/+", "/"}, {"(?i)A", "\\0\\0"}, {"é", "e"}};
  const std::vector<std::string> paths = {"/", "/e/ax", "/ab/a/abab", "//a///b//", "/Aaa", "/caf\xc3\xa9/x", ""};
  for (const auto& [re, sub] : cases) {
    std::string routes = "routes { name: 'r' route { rewrite { uri_regex_match: '" + re + "' uri_regex_rewrite: '" + sub + "' } } }";
    Fixture f(one_host(routes));
    const pb::GatewaySnapshot s = parse(one_host(routes));
    const std::string& pattern = s.route_tables(0).virtual_hosts(0).routes(0).route().rewrite().uri_regex_match();
    const std::string& rewrite = s.route_tables(0).virtual_hosts(0).routes(0).route().rewrite().uri_regex_rewrite();
    for (const std::string& path : paths) {
      std::string want = path;
      RE2::GlobalReplace(&want, RE2(pattern), rewrite);
      EXPECT_EQ(rewrite_of(f, path), want) << pattern << " / " << rewrite << " on " << path;
    }
  }
}

// ---------------------------------------------------------------- redirects

std::string location(const Fixture& f, Req r) {
  char out[512];
  const size_t n = f.routes().redirect_location(f.route_for(r), r.view(), out, sizeof out);
  return n == SIZE_MAX ? "<overflow>" : std::string(out, n);
}

Req redirect_req(const std::string& path, const std::string& authority = "www.example.com",
                 const std::string& query = "", const std::string& scheme = "http", uint16_t port = 80) {
  Req r = at(authority, path);
  r.query = query;
  r.scheme = scheme;
  r.port = port;
  return r;
}

TEST(RouterRedirect, Variants) {
  Fixture f(one_host(
      "routes { name: 'uri' match { uri { exact: '/old' } } redirect { uri: '/new' code: 301 } }"
      "routes { name: 'uriq' match { uri { exact: '/q' } } redirect { uri: '/new?a=1' } }"
      "routes { name: 'auth' match { uri { exact: '/auth' } } redirect { authority: 'other.com' } }"
      "routes { name: 'https' match { uri { prefix: '/s' } } redirect { scheme: 'https' } }"
      "routes { name: 'port' match { uri { prefix: '/port' } } redirect { port: 8443 port_policy: REDIRECT_PORT_EXPLICIT } }"
      "routes { name: 'reqport' match { uri { prefix: '/rp' } } redirect { port: 8080 port_policy: "
      "REDIRECT_PORT_FROM_REQUEST_PORT scheme: 'https' } }"
      "routes { name: 'default' match { uri { prefix: '/def' } } redirect { scheme: 'https' port_policy: "
      "REDIRECT_PORT_FROM_PROTOCOL_DEFAULT } }"
      "routes { name: 'pre' match { uri { prefix: '/pre/' } } redirect { prefix_rewrite: '/post/' } }"
      "routes { name: 'rel' match { uri { prefix: '/rel' } } redirect { uri: 'rel' } }"));
  EXPECT_EQ(location(f, redirect_req("/old")), "http://www.example.com/new");
  EXPECT_EQ(location(f, redirect_req("/old", "www.example.com", "x=1")), "http://www.example.com/new?x=1");
  EXPECT_EQ(location(f, redirect_req("/q", "www.example.com", "x=1")), "http://www.example.com/new?a=1");
  EXPECT_EQ(location(f, redirect_req("/auth", "www.example.com:8080")), "http://other.com/auth");
  // Scheme change drops the old scheme's default port, keeps others (Envoy).
  EXPECT_EQ(location(f, redirect_req("/s", "www.example.com:80")), "https://www.example.com/s");
  EXPECT_EQ(location(f, redirect_req("/s", "www.example.com:8080")), "https://www.example.com:8080/s");
  EXPECT_EQ(location(f, redirect_req("/s", "[::1]:80")), "https://[::1]/s");
  EXPECT_EQ(location(f, redirect_req("/port", "www.example.com:8080")), "http://www.example.com:8443/port");
  EXPECT_EQ(location(f, redirect_req("/port", "[::1]:8080")), "http://[::1]:8443/port");
  EXPECT_EQ(location(f, redirect_req("/rp", "www.example.com", "", "http", 8080)), "https://www.example.com:8080/rp");
  EXPECT_EQ(location(f, redirect_req("/def", "www.example.com:8080")), "https://www.example.com/def");
  EXPECT_EQ(location(f, redirect_req("/pre/a/b", "www.example.com", "k=v")), "http://www.example.com/post/a/b?k=v");
  EXPECT_EQ(location(f, redirect_req("/rel")), "http://www.example.com/rel");
  char small[8];
  Req r = redirect_req("/old");
  EXPECT_EQ(f.routes().redirect_location(f.route_for(r), r.view(), small, sizeof small), SIZE_MAX);
}

// --------------------------------------------------------------------- CORS

TEST(RouterCors, Origins) {
  Fixture f(one_host(
      "routes { name: 'c' match { uri { prefix: '/c' } } route { } cors { allow_origins { exact: 'https://a.com' } "
      "allow_origins { prefix: 'https://b.' } allow_origins { regex: 'https://[a-z]+\\\\.c\\\\.com' } } }"
      "routes { name: 'star' match { uri { prefix: '/star' } } route { } cors { allow_origins { exact: '*' } } }"
      "routes { name: 'none' route { } }"));
  const Route& c = f.route_for(at("x", "/c"));
  EXPECT_TRUE(f.routes().cors_origin_allowed(c, "https://a.com", 0));
  EXPECT_FALSE(f.routes().cors_origin_allowed(c, "https://a.com.evil", 0));
  EXPECT_TRUE(f.routes().cors_origin_allowed(c, "https://b.org", 0));
  EXPECT_TRUE(f.routes().cors_origin_allowed(c, "https://x.c.com", 0));
  EXPECT_FALSE(f.routes().cors_origin_allowed(c, "https://x.c.com.evil", 0));
  EXPECT_TRUE(f.routes().cors_origin_allowed(f.route_for(at("x", "/star")), "https://anything", 0));
  EXPECT_FALSE(f.routes().cors_origin_allowed(f.route_for(at("x", "/other")), "https://a.com", 0));
}

// ------------------------------------------------------------ build errors

TEST(RouterBuild, InvalidRegexIsAnError) {
  for (const std::string& match :
       {std::string("uri { regex: '(?=x)y' }"), std::string("uri { regex: 'a(' }"),
        std::string("headers { name: 'x' match { regex: '(?=a)' } }"), std::string("method { regex: '[' }")}) {
    const pb::GatewaySnapshot s = parse(one_host(named_route("ok", "uri { regex: '/fine' }") + named_route("bad", match)));
    std::string error;
    EXPECT_EQ(build_routes(s, 1, &error), nullptr) << match;
    EXPECT_NE(error.find("route 1"), std::string::npos) << error;
    EXPECT_NE(error.find("regex"), std::string::npos) << error;
  }
  const pb::GatewaySnapshot s = parse(one_host(
      "routes { name: 'r' route { rewrite { uri_regex_match: '(' uri_regex_rewrite: '/' } } }"));
  std::string error;
  EXPECT_EQ(build_routes(s, 1, &error), nullptr);
  EXPECT_NE(error.find("uriRegexRewrite"), std::string::npos) << error;
  const pb::GatewaySnapshot s2 = parse(one_host(
      "routes { name: 'r' route { rewrite { uri_regex_match: '(a)' uri_regex_rewrite: '\\\\2' } } }"));
  EXPECT_EQ(build_routes(s2, 1, &error), nullptr);
}

TEST(RouterBuild, EmptySnapshot) {
  pb::GatewaySnapshot s;
  std::string error;
  auto routes = build_routes(s, 2, &error);
  ASSERT_NE(routes, nullptr) << error;
  Req r;
  EXPECT_EQ(routes->match(0, r.view(), 0), kNoRoute);
}

// -------------------------------------------------------------- workers

TEST(RouterWorkers, TwoWorkersScanConcurrently) {
  std::string routes;
  for (int i = 0; i < 20; ++i)
    routes += named_route("r" + std::to_string(i), "uri { regex: '/w/[a-z]*" + std::to_string(i) + "' } "
                                                   "headers { name: 'x-k' match { regex: 'k[0-9]+' } }");
  routes += "routes { name: 'rw' match { uri { prefix: '/rw/' } } route { rewrite { uri_regex_match: '/rw/(\\\\w+)' "
            "uri_regex_rewrite: '/\\\\1' } } }";
  Fixture f(one_host(routes), 2);
  auto run = [&](unsigned worker, int* failures) {
    for (int n = 0; n < 2000; ++n) {
      const int i = (n + static_cast<int>(worker) * 7) % 20;
      Req r = at("example.com", "/w/abc" + std::to_string(i));
      const std::string k = "k" + std::to_string(n);  // the header views it
      r.headers = {{"x-k", k}};
      if (f.match(r, worker) != "r" + std::to_string(i) && ++*failures == 1) ADD_FAILURE() << f.match(r, worker);
      Req w = at("example.com", "/rw/word" + std::to_string(n));
      char out[64];
      const size_t len = f.routes().rewrite_path(f.route_for(w), w.view(), out, sizeof out, worker);
      if ((len == SIZE_MAX || std::string(out, len) != "/word" + std::to_string(n)) && ++*failures == 1)
        ADD_FAILURE() << (len == SIZE_MAX ? "overflow" : std::string(out, len));
    }
  };
  int fail0 = 0, fail1 = 0;
  std::thread t0(run, 0u, &fail0), t1(run, 1u, &fail1);
  t0.join();
  t1.join();
  EXPECT_EQ(fail0, 0);
  EXPECT_EQ(fail1, 0);
  EXPECT_EQ(f.match(at("example.com", "/w/abc1"), 2), "");  // no such worker
}

}  // namespace
}  // namespace lg::l7
