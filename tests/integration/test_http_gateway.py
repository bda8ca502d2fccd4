"""The HTTP/1.1 gateway (L7) against kernel peers, Envoy/Istio semantics.

Bookinfo-style upstreams (productpage, reviews v1/v2/v3, ratings, details:
python HTTP/1.1 servers from http_peers that echo what they received as JSON
and say who they are in `x-upstream`) on the kernel side of the tap; clients
(raw sockets, curl) connect to the gateway's address.

Two gateways serve the whole file, each with one config (checked by
`linegatectl analyze` before it starts), to keep start-ups few:
- `routing`: host/uri/header/query/method/authority matching, weights,
  rewrites, redirects, direct responses, header manipulation, CORS, the
  Gateway's httpsRedirect, forwarding headers, and HTTP/1.1 mechanics
  (keep-alive, pipelining, chunked, large bodies, 100-continue, websocket,
  HTTP/1.0);
- `resilience`: faults, timeouts, retries, mirroring, outlier detection,
  connection pool limits, consistent-hash load balancing and the local
  answers for missing or dead upstreams.

Local answers carry Envoy's bodies ("no healthy upstream", "upstream connect
error or disconnect/reset before headers. reset reason: ...", "upstream
request timeout", "fault filter abort").
"""
import concurrent.futures
import json
import os
import subprocess
import time

import pytest

import lgtest
from http_peers import (UUID_RE, HttpConn, Upstreams, build_request, dest, destination_rule, docs, http_gateway,
                        http_server, pattern, service_entry, sha256, start_http_gateway, virtual_service)
from lgtest import wait_until

pytestmark = pytest.mark.usefixtures("linegate_env")

PORT = 8080  # HTTP server of both gateways
REDIRECT_PORT = 8081  # routing gateway: tls.httpsRedirect server
SVC_PORT = 9080  # service port of every ServiceEntry
NS = "bookinfo.svc"

# upstream name → kernel port (on the tap's kernel address)
ROUTING_UPSTREAMS = {"productpage": 19080, "reviews-v1": 19081, "reviews-v2": 19082, "reviews-v3": 19083,
                     "ratings": 19084, "details": 19085}
RESILIENCE_UPSTREAMS = {"details": 19085, "ratings": 19084, "flaky": 19090, "half-live": 19092, "o1": 19093,
                        "o2": 19094, "pool": 19095, "slowpool": 19096, "h1": 19101, "h2": 19102, "h3": 19103}
DEAD_PORTS = (19091, 19111, 19112)  # nothing listens there: the kernel refuses (RST)
# The routing gateway's proxy.max_request_bytes, above the 2 MiB bodies its other tests send.
MAX_REQUEST_BYTES = 3 << 20


def svc(name: str) -> str:
    return f"{name}.{NS}"


def to(name: str, subset=None, weight=None, **extra) -> dict:
    return dest(svc(name), SVC_PORT, subset, weight, **extra)


def se(peer: str, name: str, eps: list[tuple[int, dict]]) -> str:
    return service_entry(name, svc(name), SVC_PORT, [(peer, port, labels) for port, labels in eps])


class Gw:
    """A running gateway with its upstreams; requests go to its HTTP port."""

    def __init__(self, g, ups: Upstreams):
        self.g, self.ups, self.addr = g, ups, g.ip4

    def conn(self, port: int = PORT) -> HttpConn:
        return HttpConn(self.addr, port)

    def req(self, host, target, headers=None, method="GET", body=None, port=PORT):
        with self.conn(port) as c:
            return c.request(method, target, host, headers, body)

    def stat(self, name: str, cluster: str = "") -> int:
        """A listener counter summed over the HTTP listeners, or (cluster
        given) a cluster counter summed over clusters whose name contains it."""
        prefix = "cluster." if cluster else "listener."
        return sum(v for k, v in self.g.stats().items()
                   if k.startswith(prefix) and k.endswith("." + name) and cluster in k)

    def seen(self, target: str) -> list:
        """(upstream, record) for every request any upstream got with this exact target."""
        return [(n, r) for n, u in self.ups.items() for r in u.requests() if r.target == target]

    def curl(self, *args, timeout=60) -> subprocess.CompletedProcess:
        return subprocess.run(["curl", "-sS", "--max-time", str(timeout), *args], capture_output=True,
                              timeout=timeout + 10)


def _gateway_fixture(tmp_path_factory, name, make_yaml, upstreams, extra_top=None):
    factory = lgtest.Factory(tmp_path_factory.mktemp(name))
    ups = None
    try:
        g, _ = start_http_gateway(factory, make_yaml, extra_top)
        ups = Upstreams(g.peer4)
        for n, port in upstreams.items():
            ups.add(n, port)
        yield Gw(g, ups)
    finally:
        if ups is not None:
            ups.close()
        factory.cleanup()


# =====================================================================
# routing gateway


def routing_config(peer: str) -> str:
    p = ROUTING_UPSTREAMS
    gw = ["bookinfo-gw"]
    parts = [
        http_gateway("bookinfo-gw", [http_server(PORT, ["bookinfo.example.com", "*.example.com"])]),
        http_gateway("secure-gw", [http_server(REDIRECT_PORT, ["secure.example.com"], tls={"httpsRedirect": True})]),
        se(peer, "productpage", [(p["productpage"], {"version": "v1"})]),
        se(peer, "reviews", [(p[f"reviews-{v}"], {"version": v}) for v in ("v1", "v2", "v3")]),
        se(peer, "ratings", [(p["ratings"], {"version": "v1"})]),
        se(peer, "details", [(p["details"], {"version": "v1"})]),
        destination_rule("reviews", svc("reviews"), ["v1", "v2", "v3"]),
        virtual_service("bookinfo", ["bookinfo.example.com"], [
            {"name": "jason", "match": [{"uri": {"prefix": "/reviews"}, "headers": {"end-user": {"exact": "jason"}}}],
             "route": [to("reviews", "v2")]},
            {"match": [{"uri": {"prefix": "/reviews"}}], "route": [to("reviews", "v1")]},
            {"match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/static/"}},
                       {"uri": {"regex": "/api/v[0-9]+/products/[0-9]+"}}], "route": [to("productpage")]},
            {"match": [{"uri": {"prefix": "/ratings"}}], "route": [to("ratings")]},
            {"match": [{"uri": {"prefix": "/details"}}], "route": [to("details")]},
        ], gw),
        virtual_service("wild", ["*.wild.example.com"], [{"route": [to("ratings")]}], gw),
        virtual_service("match", ["match.example.com", "alt.match.example.com"], [
            {"match": [{"uri": {"exact": "/casey"}, "ignoreUriCase": True}], "route": [to("reviews", "v3")]},
            {"match": [{"uri": {"prefix": "/hdr"}, "headers": {"x-exact": {"exact": "yes"}}}],
             "route": [to("reviews", "v1")]},
            {"match": [{"uri": {"prefix": "/hdr"}, "headers": {"x-prefix": {"prefix": "abc"}}}],
             "route": [to("reviews", "v2")]},
            {"match": [{"uri": {"prefix": "/hdr"}, "headers": {"x-regex": {"regex": "v[0-9]+"}}}],
             "route": [to("reviews", "v3")]},
            {"match": [{"uri": {"prefix": "/hdr"}, "headers": {"x-present": {}}}], "route": [to("ratings")]},
            {"match": [{"uri": {"prefix": "/wh"}, "withoutHeaders": {"x-block": {"exact": "1"}}}],
             "route": [to("ratings")]},
            {"match": [{"uri": {"prefix": "/qp"}, "queryParams": {"q": {"exact": "1"}}}],
             "route": [to("reviews", "v1")]},
            {"match": [{"uri": {"prefix": "/qp"}, "queryParams": {"r": {"regex": "[a-z]+"}}}],
             "route": [to("reviews", "v2")]},
            {"match": [{"uri": {"prefix": "/method"}, "method": {"exact": "POST"}}], "route": [to("reviews", "v3")]},
            {"match": [{"uri": {"prefix": "/auth"}, "authority": {"prefix": "alt."}}], "route": [to("ratings")]},
            {"match": [{"uri": {"prefix": "/order"}}], "route": [to("reviews", "v1")]},
            {"match": [{"uri": {"exact": "/order/x"}}], "route": [to("reviews", "v2")]},
            {"match": [{"uri": {"exact": "/exact"}}], "route": [to("reviews", "v2")]},
            {"match": [{"uri": {"regex": "/re/[0-9]{3}"}}], "route": [to("productpage")]},
            {"route": [to("details")]},
        ], gw),
        virtual_service("canary", ["canary.example.com"],
                        [{"route": [to("reviews", "v1", 90), to("reviews", "v2", 10)]}], gw),
        virtual_service("weighted", ["weighted.example.com"],
                        [{"route": [to("reviews", "v1", 50), to("reviews", "v2", 30), to("reviews", "v3", 20)]}], gw),
        virtual_service("rewrite", ["rewrite.example.com"], [
            {"match": [{"uri": {"prefix": "/api/v1/"}}], "rewrite": {"uri": "/"}, "route": [to("details")]},
            {"match": [{"uri": {"exact": "/old"}}], "rewrite": {"uri": "/new"}, "route": [to("details")]},
            {"match": [{"uri": {"prefix": "/rx/"}}],
             "rewrite": {"uriRegexRewrite": {"match": "^/rx/(.*)/v([0-9]+)$", "rewrite": "/\\2/\\1"}},
             "route": [to("details")]},
            {"match": [{"uri": {"prefix": "/auth-rw"}}], "rewrite": {"authority": "details.internal"},
             "route": [to("details")]},
            {"match": [{"uri": {"prefix": "/hdrs"}}],
             "headers": {"request": {"set": {"x-set": "s"}, "add": {"x-add": "a"}, "remove": ["x-remove"]},
                         "response": {"set": {"x-resp-set": "s"}, "add": {"x-resp-add": "a"},
                                      "remove": ["x-drop"]}},
             "route": [to("details")]},
            {"match": [{"uri": {"prefix": "/dest-hdrs"}}],
             "route": [to("details", headers={"request": {"set": {"x-dest": "d"}, "remove": ["x-remove"]},
                                              "response": {"set": {"x-dest-resp": "r"}, "remove": ["x-drop"]}})]},
            {"route": [to("details")]},
        ], gw),
        virtual_service("redirect", ["redirect.example.com"], [
            {"match": [{"uri": {"exact": "/r1"}}], "redirect": {"uri": "/new"}},
            {"match": [{"uri": {"exact": "/r2"}}], "redirect": {"authority": "other.example.com"}},
            {"match": [{"uri": {"exact": "/r3"}}], "redirect": {"scheme": "https"}},
            {"match": [{"uri": {"exact": "/r4"}}], "redirect": {"port": 9443}},
            {"match": [{"uri": {"exact": "/r5"}}], "redirect": {"uri": "/x", "redirectCode": 302}},
            {"match": [{"uri": {"exact": "/r6"}}], "redirect": {"uri": "/x", "redirectCode": 308}},
            {"match": [{"uri": {"exact": "/direct"}}], "directResponse": {"status": 418, "body": {"string": "teapot"}}},
            {"match": [{"uri": {"exact": "/direct503"}}], "directResponse": {"status": 503}},
            {"route": [to("details")]},
        ], gw),
        virtual_service("cors", ["cors.example.com"], [
            {"corsPolicy": {"allowOrigins": [{"exact": "https://good.example"}], "allowMethods": ["GET", "POST"],
                            "allowHeaders": ["x-custom"], "exposeHeaders": ["x-exposed"], "maxAge": "24h"},
             "route": [to("details")]},
        ], gw),
        virtual_service("secure", ["secure.example.com"], [{"route": [to("details")]}], ["secure-gw"]),
        virtual_service("proto", ["proto.example.com", "ws.example.com"], [{"route": [to("details")]}], gw),
    ]
    return docs(*parts)


@pytest.fixture(scope="module")
def routing(linegate_env, tmp_path_factory):
    yield from _gateway_fixture(tmp_path_factory, "http-routing", routing_config, ROUTING_UPSTREAMS,
                                {"proxy": {"max_request_bytes": MAX_REQUEST_BYTES}})


M, B, RW = "match.example.com", "bookinfo.example.com", "rewrite.example.com"

# id, host, method, target, request headers → status, upstream (None: a local answer), path seen upstream
ROUTES = [
    ("host-exact", B, "GET", "/productpage", {}, 200, "productpage", "/productpage"),
    ("host-with-port", "bookinfo.example.com:8080", "GET", "/productpage", {}, 200, "productpage", None),
    ("host-case-insensitive", "BookInfo.Example.COM", "GET", "/productpage", {}, 200, "productpage", None),
    ("host-wildcard", "a.wild.example.com", "GET", "/w1", {}, 200, "ratings", "/w1"),
    ("host-wildcard-two-labels", "b.c.wild.example.com", "GET", "/w2", {}, 200, "ratings", "/w2"),
    ("host-unknown", "nobody.other.org", "GET", "/productpage?unknown", {}, 404, None, None),
    ("host-in-gateway-without-vs", "unbound.example.com", "GET", "/productpage?unbound", {}, 404, None, None),
    ("uri-prefix", B, "GET", "/static/app.js", {}, 200, "productpage", "/static/app.js"),
    ("uri-regex", B, "GET", "/api/v1/products/42", {}, 200, "productpage", None),
    ("uri-regex-is-full-match", B, "GET", "/api/v1/products/42/x", {}, 404, None, None),
    ("uri-no-route", B, "GET", "/nothing-here", {}, 404, None, None),
    ("uri-exact-is-case-sensitive", B, "GET", "/ProductPage", {}, 404, None, None),
    ("end-user-jason", B, "GET", "/reviews/1", {"end-user": "jason"}, 200, "reviews-v2", None),
    ("end-user-other", B, "GET", "/reviews/2", {"end-user": "alice"}, 200, "reviews-v1", None),
    ("end-user-absent", B, "GET", "/reviews/3", {}, 200, "reviews-v1", None),
    ("ignore-uri-case-upper", M, "GET", "/CASEY", {}, 200, "reviews-v3", "/CASEY"),
    ("ignore-uri-case-lower", M, "GET", "/casey", {}, 200, "reviews-v3", None),
    ("header-exact", M, "GET", "/hdr/1", {"x-exact": "yes"}, 200, "reviews-v1", None),
    ("header-exact-case-sensitive", M, "GET", "/hdr/2", {"x-exact": "Yes"}, 200, "details", None),
    ("header-name-case-insensitive", M, "GET", "/hdr/3", {"X-EXACT": "yes"}, 200, "reviews-v1", None),
    ("header-prefix", M, "GET", "/hdr/4", {"x-prefix": "abcdef"}, 200, "reviews-v2", None),
    ("header-regex", M, "GET", "/hdr/5", {"x-regex": "v12"}, 200, "reviews-v3", None),
    ("header-regex-is-full-match", M, "GET", "/hdr/6", {"x-regex": "v12x"}, 200, "details", None),
    ("header-present", M, "GET", "/hdr/7", {"x-present": "whatever"}, 200, "ratings", None),
    ("header-absent-falls-through", M, "GET", "/hdr/8", {}, 200, "details", None),
    ("without-headers-absent", M, "GET", "/wh/1", {}, 200, "ratings", None),
    ("without-headers-present", M, "GET", "/wh/2", {"x-block": "1"}, 200, "details", None),
    ("without-headers-other-value", M, "GET", "/wh/3", {"x-block": "2"}, 200, "ratings", None),
    ("query-exact", M, "GET", "/qp?q=1", {}, 200, "reviews-v1", "/qp?q=1"),
    ("query-exact-mismatch", M, "GET", "/qp?q=12", {}, 200, "details", None),
    ("query-exact-among-others", M, "GET", "/qp?a=2&q=1&z", {}, 200, "reviews-v1", "/qp?a=2&q=1&z"),
    ("query-regex", M, "GET", "/qp?r=abc", {}, 200, "reviews-v2", None),
    ("query-regex-mismatch", M, "GET", "/qp?r=ab1", {}, 200, "details", None),
    ("method-post", M, "POST", "/method", {}, 200, "reviews-v3", None),
    ("method-get-falls-through", M, "GET", "/method", {}, 200, "details", None),
    ("authority-prefix", "alt.match.example.com", "GET", "/auth", {}, 200, "ratings", None),
    ("authority-mismatch", M, "GET", "/auth", {}, 200, "details", None),
    ("first-match-wins", M, "GET", "/order/x", {}, 200, "reviews-v1", None),
    ("uri-exact-ignores-query", M, "GET", "/exact?a=b", {}, 200, "reviews-v2", "/exact?a=b"),
    ("uri-regex-ignores-query", M, "GET", "/re/123?x=1", {}, 200, "productpage", None),
    ("uri-regex-length", M, "GET", "/re/1234", {}, 200, "details", None),
    ("rewrite-prefix", RW, "GET", "/api/v1/reviews/1", {}, 200, "details", "/reviews/1"),
    ("rewrite-prefix-to-root", RW, "GET", "/api/v1/", {}, 200, "details", "/"),
    ("rewrite-prefix-keeps-query", RW, "GET", "/api/v1/x?y=1", {}, 200, "details", "/x?y=1"),
    ("rewrite-exact", RW, "GET", "/old", {}, 200, "details", "/new"),
    ("rewrite-exact-keeps-query", RW, "GET", "/old?x=1", {}, 200, "details", "/new?x=1"),
    ("rewrite-regex", RW, "GET", "/rx/foo/v7", {}, 200, "details", "/7/foo"),
    ("no-rewrite", RW, "GET", "/plain", {}, 200, "details", "/plain"),
]


@pytest.mark.parametrize("host,method,target,headers,status,upstream,seen_path",
                         [pytest.param(*r[1:], id=r[0]) for r in ROUTES])
def test_route_table(routing, host, method, target, headers, status, upstream, seen_path):
    r = routing.req(host, target, headers, method=method, body=b"" if method == "POST" else None)
    assert r.status == status, r
    assert r.upstream == upstream, r
    if upstream is None:
        assert r.status == 404 and routing.seen(target) == [], routing.seen(target)
    else:
        got = r.json()
        assert got["server"] == upstream and got["method"] == method
        assert got["path"] == (seen_path or target), got


def test_rewrite_authority_sets_host_seen_upstream(routing):
    r = routing.req(RW, "/auth-rw/1")
    assert (r.status, r.upstream) == (200, "details"), r
    assert r.seen_headers("host") == ["details.internal"], r.json()
    # Without the rewrite the client's Host reaches the upstream unchanged.
    assert routing.req(RW, "/plain").seen_headers("host") == [RW]


def _share(g: "Gw", host: str, n: int) -> dict:
    seen: dict = {}
    with g.conn() as c:
        for i in range(n):
            r = c.request("GET", f"/split/{i}", host)
            assert r.status == 200, r
            seen[r.upstream] = seen.get(r.upstream, 0) + 1
    return seen


def test_canary_90_10_over_1000_requests(routing):
    seen = _share(routing, "canary.example.com", 1000)
    assert set(seen) <= {"reviews-v1", "reviews-v2"} and sum(seen.values()) == 1000, seen
    assert 850 <= seen.get("reviews-v1", 0) <= 950, seen


def test_weighted_three_way(routing):
    seen = _share(routing, "weighted.example.com", 1000)
    assert set(seen) == {"reviews-v1", "reviews-v2", "reviews-v3"}, seen
    for name, want in (("reviews-v1", 500), ("reviews-v2", 300), ("reviews-v3", 200)):
        assert abs(seen[name] - want) <= 60, seen


# id, target → status, Location
REDIRECTS = [
    ("uri", "/r1", 301, "http://redirect.example.com/new"),
    ("uri-keeps-query", "/r1?a=b", 301, "http://redirect.example.com/new?a=b"),
    ("authority", "/r2", 301, "http://other.example.com/r2"),
    ("scheme", "/r3", 301, "https://redirect.example.com/r3"),
    ("port", "/r4", 301, "http://redirect.example.com:9443/r4"),
    ("code-302", "/r5", 302, "http://redirect.example.com/x"),
    ("code-308", "/r6", 308, "http://redirect.example.com/x"),
]


@pytest.mark.parametrize("target,status,location", [pytest.param(*r[1:], id=r[0]) for r in REDIRECTS])
def test_redirect(routing, target, status, location):
    r = routing.req("redirect.example.com", target)
    assert (r.status, r.header("location"), r.upstream) == (status, location, None), r
    assert routing.seen(target) == []


@pytest.mark.parametrize("target,status,body", [("/direct", 418, b"teapot"), ("/direct503", 503, b"")],
                         ids=["with-body", "status-only"])
def test_direct_response(routing, target, status, body):
    r = routing.req("redirect.example.com", target)
    assert (r.status, r.body, r.upstream) == (status, body, None), r
    assert routing.seen(target) == []


def test_route_request_headers_set_add_remove(routing):
    r = routing.req(RW, "/hdrs/req", {"x-set": "client", "x-add": "client", "x-remove": "1", "x-keep": "k"})
    assert r.status == 200, r
    assert r.seen_headers("x-set") == ["s"]
    assert sorted(r.seen_headers("x-add")) == ["a", "client"]
    assert r.seen_headers("x-remove") == [] and r.seen_headers("x-keep") == ["k"]


def test_route_response_headers_set_add_remove(routing):
    r = routing.req(RW, "/hdrs/resp", {"x-test-resp-x-resp-set": "upstream", "x-test-resp-x-drop": "1",
                                       "x-test-resp-x-resp-add": "upstream"})
    assert r.status == 200, r
    assert r.header_all("x-resp-set") == ["s"]
    assert sorted(r.header_all("x-resp-add")) == ["a", "upstream"]
    assert r.header("x-drop") is None and r.upstream == "details"


def test_destination_level_headers(routing):
    r = routing.req(RW, "/dest-hdrs", {"x-remove": "1", "x-dest": "client", "x-test-resp-x-drop": "1"})
    assert r.status == 200, r
    assert r.seen_headers("x-dest") == ["d"] and r.seen_headers("x-remove") == []
    assert r.header_all("x-dest-resp") == ["r"] and r.header("x-drop") is None


CORS = "cors.example.com"


def test_cors_preflight_is_answered_at_the_gateway(routing):
    r = routing.req(CORS, "/cors/preflight", {"Origin": "https://good.example", "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "x-custom"}, method="OPTIONS")
    assert r.status == 200 and r.upstream is None, r
    assert r.header("access-control-allow-origin") == "https://good.example"
    assert [m.strip() for m in r.header("access-control-allow-methods").split(",")] == ["GET", "POST"]
    assert r.header("access-control-allow-headers") == "x-custom"
    assert r.header("access-control-max-age") == "86400"
    assert routing.seen("/cors/preflight") == []


def test_cors_simple_request_from_allowed_origin(routing):
    r = routing.req(CORS, "/cors/simple", {"Origin": "https://good.example"})
    assert (r.status, r.upstream) == (200, "details"), r
    assert r.header("access-control-allow-origin") == "https://good.example"
    assert r.header("access-control-expose-headers") == "x-exposed"


def test_cors_disallowed_origin_gets_no_cors_headers(routing):
    r = routing.req(CORS, "/cors/bad", {"Origin": "https://evil.example"})
    assert (r.status, r.upstream) == (200, "details"), r
    assert r.header("access-control-allow-origin") is None


def test_gateway_https_redirect(routing):
    r = routing.req("secure.example.com", "/login?next=/a", port=REDIRECT_PORT)
    assert r.status == 301 and r.header("location") == "https://secure.example.com/login?next=/a", r
    assert routing.seen("/login?next=/a") == []


# ------------------------------------------------------ forwarding headers

P = "proto.example.com"


def test_x_forwarded_for_is_the_client_address(routing):
    r = routing.req(P, "/xff/1")
    assert r.seen_headers("x-forwarded-for") == [routing.g.peer4], r.json()
    assert r.seen_headers("x-forwarded-proto") == ["http"]


def test_x_forwarded_for_is_appended(routing):
    r = routing.req(P, "/xff/2", {"X-Forwarded-For": "192.0.2.7"})
    assert r.seen_headers("x-forwarded-for") == [f"192.0.2.7, {routing.g.peer4}"], r.json()


def test_x_request_id_generated_when_absent(routing):
    ids = [routing.req(P, f"/rid/{i}").seen_header("x-request-id") for i in range(3)]
    assert all(i and UUID_RE.match(i) for i in ids) and len(set(ids)) == 3, ids


def test_x_request_id_kept_when_present(routing):
    r = routing.req(P, "/rid/kept", {"x-request-id": "3f1c0a4e-0000-4000-8000-00000000abcd"})
    assert r.seen_headers("x-request-id") == ["3f1c0a4e-0000-4000-8000-00000000abcd"], r.json()


def test_hop_by_hop_headers_are_removed(routing):
    r = routing.req(P, "/hop", [("Connection", "keep-alive, x-private"), ("x-private", "secret"),
                                ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "gzip"),
                                ("Upgrade", "h2c"), ("x-end-to-end", "kept")])
    assert r.status == 200, r
    names = {k.lower() for k, _ in r.json()["headers"]}
    assert not names & {"x-private", "keep-alive", "proxy-connection", "te", "upgrade"}, names
    for v in r.seen_headers("connection"):
        assert "x-private" not in v.lower() and "upgrade" not in v.lower(), v
    assert r.seen_headers("x-end-to-end") == ["kept"]


# ---------------------------------------------------------- HTTP/1.1 mechanics


def test_keep_alive_reuses_upstream_connections(routing):
    details = routing.ups["details"]
    with routing.conn() as c:
        for i in range(50):
            r = c.request("GET", f"/ka/{i}", P)
            assert r.status == 200 and not r.closes, r
    assert len(details.requests("/ka/")) == 50
    conns = details.connections_of("/ka/")
    assert len(conns) <= 2, f"50 requests on one client connection took {len(conns)} upstream connections"
    # Sequential clients share the pool too.
    for i in range(20):
        assert routing.req(P, f"/ka2/{i}").status == 200
    assert len(details.connections_of("/ka2/")) < 20


def test_pipelined_requests_are_answered_in_order(routing):
    with routing.conn() as c:
        c.send(b"".join(build_request("GET", f"/pipe/{i}", P, {"x-test-delay": str(d)})
                        for i, d in enumerate((0.3, 0, 0.1))))
        paths = [c.read().json()["path"] for _ in range(3)]
        assert paths == ["/pipe/0", "/pipe/1", "/pipe/2"]
        assert c.request("GET", "/pipe/after", P).status == 200


def test_chunked_request_body(routing, tmp_path):
    data = os.urandom(200_000)
    f = tmp_path / "body.bin"
    f.write_bytes(data)
    p = routing.curl("-H", "Host: " + P, "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{f}",
                     f"http://{routing.addr}:{PORT}/chunked-in")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["body_len"] == len(data) and got["body_sha256"] == sha256(data), got


def test_chunked_request_body_raw_chunks(routing):
    # Small chunks with an extension, in separate segments.
    with routing.conn() as c:
        c.send(build_request("POST", "/chunked-raw", P, {"Transfer-Encoding": "chunked"}))
        for part in (b"5;ext=1\r\nhello\r\n", b"1\r\n \r\n", b"5\r\nworld\r\n", b"0\r\n\r\n"):
            c.send(part)
            time.sleep(0.05)
        r = c.read()
        assert r.status == 200 and r.json()["body_sha256"] == sha256(b"hello world"), r


def test_chunked_response_is_passed(routing):
    r = routing.req(P, "/chunked-out", {"x-test-chunked": "1", "x-test-size": "100000"})
    assert r.status == 200 and len(r.body) == 100000 and sha256(r.body) == r.header("x-body-sha256"), r


def test_one_megabyte_post(routing):
    body = os.urandom(1 << 20)
    r = routing.req(P, "/big-post", method="POST", body=body)
    assert r.status == 200 and r.json()["body_len"] == len(body) and r.json()["body_sha256"] == sha256(body)


def test_one_megabyte_response(routing):
    r = routing.req(P, "/big-get", {"x-test-size": str(1 << 20)})
    assert r.status == 200 and len(r.body) == 1 << 20 and sha256(r.body) == r.header("x-body-sha256")
    assert r.body == pattern(1 << 20)


def test_expect_100_continue(routing, tmp_path):
    data = os.urandom(2 << 20)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    t0 = time.monotonic()
    # curl waits up to --expect100-timeout for "100 Continue" before sending the body anyway.
    p = routing.curl("-H", "Host: " + P, "-H", "Expect: 100-continue", "--expect100-timeout", "5",
                     "--data-binary", f"@{f}", "-w", "\n%{http_code}", f"http://{routing.addr}:{PORT}/expect")
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    body, code = p.stdout.rsplit(b"\n", 1)
    assert code == b"200" and json.loads(body)["body_sha256"] == sha256(data)
    assert took < 4, f"took {took:.1f}s: no 100 Continue, curl waited out its timeout"


def test_websocket_upgrade_passthrough(routing):
    with routing.conn() as c:
        c.send(build_request("GET", "/ws", "ws.example.com",
                             {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}))
        r = c.read()
        assert r.status == 101 and r.upstream == "details", r
        assert r.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        assert r.header("upgrade").lower() == "websocket"
        for msg in (b"\x81\x05hello", os.urandom(70000), b"bye"):
            c.send(msg)
            got = b""
            while len(got) < len(msg):
                chunk = c.f.read1(65536)
                assert chunk, "closed during echo"
                got += chunk
            assert got == msg
    seen = routing.seen("/ws")
    assert len(seen) == 1 and seen[0][1].header("upgrade").lower() == "websocket"


def test_http10_request_closes_connection(routing):
    with routing.conn() as c:
        c.send(b"GET /http10 HTTP/1.0\r\nHost: proto.example.com\r\n\r\n")
        r = c.read()
        assert r.status == 200 and r.json()["path"] == "/http10", r
        assert c.closed_by_peer(3), "HTTP/1.0 without keep-alive: the gateway must close"


def test_http10_without_host_gets_404(routing):
    # HTTP/1.0 may omit Host (RFC 9112 §3.2 requires it of 1.1 only); no
    # virtual host matches an empty authority here: 404 NR, then close.
    before = routing.stat("no_route")
    with routing.conn() as c:
        c.send(b"GET /http10-nohost HTTP/1.0\r\n\r\n")
        r = c.read()
        assert r is not None and r.status == 404, r
        assert c.closed_by_peer(3)
    assert routing.stat("no_route") == before + 1


def test_body_over_max_request_bytes_gets_413(routing):
    # No Istio CRD sets a body limit; the bootstrap's proxy.max_request_bytes does.
    body = b"x" * (MAX_REQUEST_BYTES + 1)
    with routing.conn() as c:
        try:
            c.send(build_request("POST", "/too-big", P, None, body))
        except (BrokenPipeError, ConnectionResetError):
            pass  # it may answer and close before taking the whole body
        r = c.read()
    assert r is not None and r.status == 413 and r.upstream is None, r
    # The declared length is over the limit: refused before anything is forwarded.
    assert routing.seen("/too-big") == []
    at_limit = routing.req(P, "/at-limit", method="POST", body=b"y" * MAX_REQUEST_BYTES)
    assert at_limit.status == 200 and at_limit.json()["body_len"] == MAX_REQUEST_BYTES


# =====================================================================
# resilience gateway


def resilience_config(peer: str) -> str:
    p = RESILIENCE_UPSTREAMS
    gw = ["resil-gw"]
    no_retry = {"retries": {"attempts": 0}}
    hash_eps = [(p[h], {"version": "v1"}) for h in ("h1", "h2", "h3")]
    lb_hash = {"hash-header": {"httpHeaderName": "x-user"},
               "hash-cookie": {"httpCookie": {"name": "lg-session", "ttl": "60s", "path": "/"}},
               "hash-ip": {"useSourceIp": True},
               "hash-query": {"httpQueryParameterName": "uid"}}
    parts = [
        http_gateway("resil-gw", [http_server(PORT, ["*.example.com"])]),
        se(peer, "details", [(p["details"], {"version": "v1"})]),
        se(peer, "ratings", [(p["ratings"], {"version": "v1"})]),
        se(peer, "flaky", [(p["flaky"], {})]),
        se(peer, "half", [(DEAD_PORTS[0], {}), (p["half-live"], {})]),
        se(peer, "outlier", [(p["o1"], {}), (p["o2"], {})]),
        se(peer, "pool", [(p["pool"], {})]),
        se(peer, "slowpool", [(p["slowpool"], {})]),
        se(peer, "dead", [(DEAD_PORTS[1], {}), (DEAD_PORTS[2], {})]),
        destination_rule("details", svc("details"), ["v9"]),
        destination_rule("half", svc("half"), traffic_policy={"loadBalancer": {"simple": "ROUND_ROBIN"}}),
        destination_rule("outlier", svc("outlier"), traffic_policy={
            "loadBalancer": {"simple": "ROUND_ROBIN"},
            "outlierDetection": {"consecutive5xxErrors": 3, "interval": "1s", "baseEjectionTime": "60s",
                                 "maxEjectionPercent": 100}}),
        destination_rule("pool", svc("pool"),
                         traffic_policy={"connectionPool": {"http": {"maxRequestsPerConnection": 1}}}),
        destination_rule("slowpool", svc("slowpool"), traffic_policy={
            "connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}),
    ]
    for name, h in lb_hash.items():
        parts.append(se(peer, name, hash_eps))
        parts.append(destination_rule(name, svc(name), traffic_policy={"loadBalancer": {"consistentHash": h}}))
        parts.append(virtual_service(name, [f"{name}.example.com"], [{"route": [to(name)]}], gw))
    parts += [
        virtual_service("fault", ["fault.example.com"], [
            {"match": [{"uri": {"prefix": "/abort50"}}],
             "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 50.0}}}, "route": [to("details")]},
            {"match": [{"uri": {"prefix": "/abort"}}],
             "fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100.0}}}, "route": [to("details")]},
            {"match": [{"uri": {"prefix": "/delay"}}],
             "fault": {"delay": {"fixedDelay": "1s", "percentage": {"value": 100.0}}}, "route": [to("details")]},
        ], gw),
        virtual_service("timeout", ["timeout.example.com"],
                        [{"timeout": "1s", "route": [to("details")], **no_retry}], gw),
        virtual_service("retry", ["retry.example.com"], [
            {"match": [{"uri": {"prefix": "/flaky3"}}], "retries": {"attempts": 3, "retryOn": "5xx"},
             "route": [to("flaky")]},
            {"match": [{"uri": {"prefix": "/flaky0"}}], "route": [to("flaky")], **no_retry},
            {"match": [{"uri": {"prefix": "/gwerr"}}], "retries": {"attempts": 3, "retryOn": "gateway-error"},
             "route": [to("flaky")]},
            {"match": [{"uri": {"prefix": "/half"}}], "retries": {"attempts": 3, "retryOn": "connect-failure"},
             "route": [to("half")]},
        ], gw),
        virtual_service("mirror", ["mirror.example.com"], [
            {"match": [{"uri": {"prefix": "/nomirror"}}], "route": [to("details")],
             "mirror": {"host": svc("ratings"), "port": {"number": SVC_PORT}}, "mirrorPercentage": {"value": 0.0}},
            {"route": [to("details")], "mirror": {"host": svc("ratings"), "port": {"number": SVC_PORT}},
             "mirrorPercentage": {"value": 100.0}},
        ], gw),
        virtual_service("outlier", ["outlier.example.com"], [{"route": [to("outlier")], **no_retry}], gw),
        virtual_service("pool", ["pool.example.com"], [{"route": [to("pool")]}], gw),
        virtual_service("overflow", ["overflow.example.com"], [{"route": [to("slowpool")], **no_retry}], gw),
        virtual_service("dead", ["dead.example.com"], [{"route": [to("dead")], **no_retry}], gw),
        virtual_service("nosubset", ["nosubset.example.com"], [{"route": [to("details", "v9")], **no_retry}], gw),
        virtual_service("reset", ["reset.example.com"], [{"route": [to("details")], **no_retry}], gw),
    ]
    return docs(*parts)


@pytest.fixture(scope="module")
def resil(linegate_env, tmp_path_factory):
    yield from _gateway_fixture(tmp_path_factory, "http-resilience", resilience_config, RESILIENCE_UPSTREAMS)


CONNECT_ERROR = b"upstream connect error or disconnect/reset before headers"


def test_fault_abort_100_percent(resil):
    before = resil.stat("fault_aborts_injected")
    for i in range(5):
        r = resil.req("fault.example.com", f"/abort/{i}")
        assert (r.status, r.body, r.upstream) == (418, b"fault filter abort", None), r
    assert resil.ups["details"].requests("/abort/") == []
    assert resil.stat("fault_aborts_injected") == before + 5  # response flag FI


def test_fault_abort_50_percent(resil):
    statuses = []
    with resil.conn() as c:
        for i in range(200):
            statuses.append(c.request("GET", f"/abort50/{i}", "fault.example.com").status)
    assert set(statuses) <= {200, 503}, set(statuses)
    aborted = statuses.count(503)
    assert 70 <= aborted <= 130, aborted
    assert len(resil.ups["details"].requests("/abort50/")) == 200 - aborted


def test_fault_delay(resil):
    before = resil.stat("fault_delays_injected")
    t0 = time.monotonic()
    r = resil.req("fault.example.com", "/delay/1")
    took = time.monotonic() - t0
    assert (r.status, r.upstream) == (200, "details"), r
    assert 1.0 <= took < 2.5, took
    assert resil.stat("fault_delays_injected") == before + 1  # DI


def test_route_timeout_gives_504(resil):
    before = resil.stat("upstream_rq_timeout", cluster="details")
    t0 = time.monotonic()
    r = resil.req("timeout.example.com", "/slow", {"x-test-delay": "3"})
    took = time.monotonic() - t0
    assert (r.status, r.body) == (504, b"upstream request timeout"), r
    assert 0.95 <= took < 2.0, took
    assert resil.stat("upstream_rq_timeout", cluster="details") == before + 1  # UT
    # Within the timeout it answers normally.
    assert resil.req("timeout.example.com", "/fast", {"x-test-delay": "0.2"}).status == 200


@pytest.mark.parametrize("path,statuses,want_status,want_tries", [
    ("/flaky3", [503, 503, 200], 200, 3),
    ("/flaky3", [500, 502, 503, 504], 504, 4),  # 1 try + 3 retries, then the last answer
    ("/flaky0", [503, 503, 200], 503, 1),
    ("/gwerr", [502, 504, 200], 200, 3),
    ("/gwerr", [500, 200], 500, 1),  # 500 is not a gateway error
], ids=["5xx-recovers", "5xx-exhausted", "attempts-0", "gateway-error-recovers", "gateway-error-not-500"])
def test_retries(resil, path, statuses, want_status, want_tries):
    flaky = resil.ups["flaky"]
    flaky.configure(statuses=statuses)
    before = resil.stat("upstream_rq_retry", cluster="flaky")
    r = resil.req("retry.example.com", path)
    assert r.status == want_status and r.upstream == "flaky", r
    assert len(flaky.requests(path)) == want_tries, flaky.requests(path)
    assert resil.stat("upstream_rq_retry", cluster="flaky") == before + want_tries - 1


def test_retry_on_connect_failure_reaches_the_live_endpoint(resil):
    live = resil.ups["half-live"]
    live.clear()
    for i in range(10):
        r = resil.req("retry.example.com", f"/half/{i}")
        assert (r.status, r.upstream) == (200, "half-live"), r
    assert len(live.requests("/half/")) == 10


def test_mirror_gets_a_copy_with_shadow_host(resil):
    ratings, details = resil.ups["ratings"], resil.ups["details"]
    for i in range(5):
        r = resil.req("mirror.example.com", f"/m/{i}", method="POST", body=b"payload-%d" % i)
        assert (r.status, r.upstream) == (200, "details"), r
    assert wait_until(lambda: len(ratings.requests("/m/")) == 5, 5), ratings.requests("/m/")
    for rec in ratings.requests("/m/"):
        assert rec.header("host") == "mirror.example.com-shadow", rec
        assert rec.method == "POST"
    assert sorted(rec.body for rec in ratings.requests("/m/")) == [b"payload-%d" % i for i in range(5)]
    assert [rec.header("host") for rec in details.requests("/m/")] == ["mirror.example.com"] * 5


def test_mirror_percentage_zero_sends_nothing(resil):
    for i in range(20):
        assert resil.req("mirror.example.com", f"/nomirror/{i}").upstream == "details"
    time.sleep(0.5)
    assert resil.ups["ratings"].requests("/nomirror/") == []


def test_outlier_detection_ejects_the_failing_endpoint(resil):
    o1, o2 = resil.ups["o1"], resil.ups["o2"]
    o1.configure(status=500)
    o2.configure(status=200)
    results = [resil.req("outlier.example.com", f"/od/{i}") for i in range(30)]
    assert len(o1.requests("/od/")) == 3, "consecutive5xxErrors: 3 ejects on the third 5xx"
    assert all(r.status == 500 and r.upstream == "o1" for r in results if r.upstream != "o2")
    assert all((r.status, r.upstream) == (200, "o2") for r in results[10:]), results[10:]


def test_max_requests_per_connection_1(resil):
    pool = resil.ups["pool"]
    with resil.conn() as c:
        for i in range(10):
            assert c.request("GET", f"/mrpc/{i}", "pool.example.com").status == 200
    recs = pool.requests("/mrpc/")
    assert len(recs) == 10 and len({r.conn for r in recs}) == 10, [r.conn for r in recs]


def test_connection_pool_overflow_gives_503(resil):
    def one(i):
        with resil.conn() as c:
            return c.request("GET", f"/overflow/{i}", "overflow.example.com", {"x-test-delay": "1"})

    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        results = list(ex.map(one, range(6)))
    ok = [r for r in results if r.status == 200]
    overflow = [r for r in results if r.status == 503 and b"overflow" in r.body]
    assert len(ok) + len(overflow) == 6 and ok and overflow, results
    assert all(r.body.startswith(CONNECT_ERROR) for r in overflow), overflow
    assert len(resil.ups["slowpool"].requests("/overflow/")) == len(ok)
    assert resil.stat("upstream_rq_pending_overflow", cluster="slowpool") == len(overflow)  # UO


def _hash_spread(resil, host, make_req, keys, reps=5):
    """key → set of upstreams that answered its requests."""
    out = {}
    for k in keys:
        names = set()
        for i in range(reps):
            target, headers = make_req(k, i)
            r = resil.req(host, target, headers)
            assert r.status == 200, r
            names.add(r.upstream)
        out[k] = names
    return out


def test_consistent_hash_header(resil):
    spread = _hash_spread(resil, "hash-header.example.com", lambda k, i: (f"/hh/{i}", {"x-user": k}),
                          [f"user-{n}" for n in range(10)])
    assert all(len(s) == 1 for s in spread.values()), spread
    assert len(set.union(*spread.values())) >= 2, spread
    # 50 requests with one value: one upstream.
    assert len(_hash_spread(resil, "hash-header.example.com", lambda k, i: (f"/hh50/{i}", {"x-user": k}),
                            ["steady"], reps=50)["steady"]) == 1


def test_consistent_hash_query_parameter(resil):
    spread = _hash_spread(resil, "hash-query.example.com", lambda k, i: (f"/hq/{i}?uid={k}&i={i}", {}),
                          [f"u{n}" for n in range(10)])
    assert all(len(s) == 1 for s in spread.values()), spread
    assert len(set.union(*spread.values())) >= 2, spread


def test_consistent_hash_source_ip(resil):
    spread = _hash_spread(resil, "hash-ip.example.com", lambda k, i: (f"/hip/{i}", {}), ["me"], reps=30)
    assert len(spread["me"]) == 1, spread


def test_consistent_hash_cookie_is_set_and_sticks(resil):
    r = resil.req("hash-cookie.example.com", "/hc/first")
    assert r.status == 200, r
    cookie = r.header("set-cookie")
    assert cookie and cookie.startswith("lg-session="), r
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    assert "max-age=60" in attrs and "path=/" in attrs, cookie
    pair = cookie.split(";")[0]
    names = {resil.req("hash-cookie.example.com", f"/hc/{i}", {"Cookie": pair}).upstream for i in range(20)}
    assert len(names) == 1, names
    # Requests carrying the cookie are not given a new one.
    assert resil.req("hash-cookie.example.com", "/hc/again", {"Cookie": pair}).header("set-cookie") is None


def test_all_endpoints_dead_gives_503(resil):
    before = resil.stat("upstream_connect_fail")
    r = resil.req("dead.example.com", "/dead")
    assert r.status == 503 and r.upstream is None, r
    assert r.body == CONNECT_ERROR + b". reset reason: connection failure", r
    assert resil.stat("upstream_connect_fail") == before + 1  # UF


def test_subset_without_endpoints_gives_no_healthy_upstream(resil):
    before = resil.stat("no_healthy_upstream")
    r = resil.req("nosubset.example.com", "/nosubset")
    assert (r.status, r.body, r.upstream) == (503, b"no healthy upstream", None), r
    assert resil.seen("/nosubset") == []
    assert resil.stat("no_healthy_upstream") == before + 1  # UH


def test_upstream_reset_before_response_gives_503(resil):
    before = resil.stat("upstream_rq_rx_reset", cluster="details")
    r = resil.req("reset.example.com", "/reset", {"x-test-reset": "1"})
    assert r.status == 503 and r.body.startswith(CONNECT_ERROR), r
    assert resil.stat("upstream_rq_rx_reset", cluster="details") == before + 1  # UR
    assert len(resil.ups["details"].requests("/reset")) == 1
    # The gateway is fine afterwards.
    assert resil.req("reset.example.com", "/after-reset").status == 200
