"""Malformed requests and request smuggling against the HTTP/1.1 gateway
(RFC 9112 framing rules), on raw sockets.

Each case sends bytes no conforming parser may forward as they are. The
gateway must answer with an error (the class, or the exact code where the
spec fixes one: 414 URI too long, 431 header section too large / too many
fields) or close without answering; in both cases it closes the connection
after, and the upstream records no request with the case's unique target
(/smuggle/<n>), nor the smuggled inner request (/inner/<n>) some cases hide
in a body. The upstream records a request as soon as its header section
arrives, so even a request whose body fails later counts.

One gateway serves the table; a normal request works afterwards.
"""
import time

import pytest

import lgtest
from http_peers import (HttpConn, Upstreams, dest, docs, http_gateway, http_server, service_entry,
                        start_http_gateway, virtual_service)

pytestmark = pytest.mark.usefixtures("linegate_env")

PORT = 8080
HOST = "smuggle.example.com"
UPSTREAM_PORT = 19200


def config(peer: str) -> str:
    # One exact host: an absolute-form target naming another authority routes nowhere.
    return docs(http_gateway("smuggle-gw", [http_server(PORT, [HOST])]),
                service_entry("backend", "backend.smuggle.svc", 9080, [(peer, UPSTREAM_PORT, {})]),
                virtual_service("smuggle", [HOST], [{"route": [dest("backend.smuggle.svc", 9080)]}], ["smuggle-gw"]))


@pytest.fixture(scope="module")
def gw(linegate_env, tmp_path_factory):
    factory = lgtest.Factory(tmp_path_factory.mktemp("http-smuggling"))
    ups = None
    try:
        g, _ = start_http_gateway(factory, config)
        ups = Upstreams(g.peer4)
        ups.add("backend", UPSTREAM_PORT)
        yield g, ups["backend"]
    finally:
        if ups is not None:
            ups.close()
        factory.cleanup()


def inner(n: int) -> bytes:
    return f"GET /inner/{n} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()


def head(n: int, *lines: str, line: str = "", host: bool = True) -> bytes:
    """A request head for case n: request line (default GET /smuggle/n
    HTTP/1.1), Host unless host=False, the given raw lines, empty line."""
    out = (line or f"GET /smuggle/{n} HTTP/1.1") + "\r\n"
    if host:
        out += f"Host: {HOST}\r\n"
    out += "".join(f"{x}\r\n" for x in lines)
    return out.encode("latin-1") + b"\r\n"


E400 = {400}
ETE = {400, 501}  # transfer codings: 501 for an unknown coding (RFC 9112 6.1), 400 for bad framing
EVER = {400, 505}

# Each case builds its bytes from its number n; expected statuses when the gateway answers.
# must_answer: the exact code is required (the spec fixes it), not only a close.
CASES = [
    ("cl-and-te", lambda n: head(n, "Content-Length: 6", "Transfer-Encoding: chunked",
                                 line=f"POST /smuggle/{n} HTTP/1.1") + b"0\r\n\r\n" + inner(n), E400),
    ("te-and-cl", lambda n: head(n, "Transfer-Encoding: chunked", "Content-Length: 3",
                                 line=f"POST /smuggle/{n} HTTP/1.1") + b"0\r\n\r\n" + inner(n), E400),
    ("cl-cl-differ", lambda n: head(n, "Content-Length: 0", "Content-Length: 40", line=f"POST /smuggle/{n} HTTP/1.1")
     + inner(n), E400),
    ("cl-list-differ", lambda n: head(n, "Content-Length: 0, 40", line=f"POST /smuggle/{n} HTTP/1.1") + inner(n), E400),
    ("cl-plus-sign", lambda n: head(n, "Content-Length: +5", line=f"POST /smuggle/{n} HTTP/1.1") + b"hello", E400),
    ("cl-minus-sign", lambda n: head(n, "Content-Length: -5", line=f"POST /smuggle/{n} HTTP/1.1") + b"hello", E400),
    ("cl-inner-space", lambda n: head(n, "Content-Length: 1 0", line=f"POST /smuggle/{n} HTTP/1.1") + b"0123456789",
     E400),
    ("cl-hex", lambda n: head(n, "Content-Length: 0x5", line=f"POST /smuggle/{n} HTTP/1.1") + b"hello", E400),
    ("cl-overflow", lambda n: head(n, "Content-Length: 99999999999999999999999", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"hello", E400),
    ("te-obs-fold", lambda n: head(n, "Transfer-Encoding:", " chunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"0\r\n\r\n", E400),
    ("te-xchunked", lambda n: head(n, "Transfer-Encoding: xchunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"0\r\n\r\n", ETE),
    ("te-chunked-not-last", lambda n: head(n, "Transfer-Encoding: chunked, gzip", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"0\r\n\r\n", ETE),
    ("te-chunked-twice", lambda n: head(n, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked",
                                        line=f"POST /smuggle/{n} HTTP/1.1") + b"0\r\n\r\n", ETE),
    ("te-identity", lambda n: head(n, "Transfer-Encoding: identity", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"0\r\n\r\n", ETE),
    ("te-in-http10", lambda n: head(n, "Transfer-Encoding: chunked", line=f"POST /smuggle/{n} HTTP/1.0")
     + b"0\r\n\r\n" + inner(n), ETE),
    ("chunk-size-0x", lambda n: head(n, "Transfer-Encoding: chunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"0x5\r\nhello\r\n0\r\n\r\n", E400),
    ("chunk-size-negative", lambda n: head(n, "Transfer-Encoding: chunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"-1\r\nh\r\n0\r\n\r\n", E400),
    ("chunk-size-overflow", lambda n: head(n, "Transfer-Encoding: chunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"10000000000000005\r\nhello\r\n0\r\n\r\n", E400),
    ("chunk-ext-ctl", lambda n: head(n, "Transfer-Encoding: chunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"5;e\x01x=1\r\nhello\r\n0\r\n\r\n", E400),
    ("chunk-data-no-crlf", lambda n: head(n, "Transfer-Encoding: chunked", line=f"POST /smuggle/{n} HTTP/1.1")
     + b"5\r\nhelloXX0\r\n\r\n" + inner(n), E400),
    ("bare-lf-in-head", lambda n: f"GET /smuggle/{n} HTTP/1.1\r\nHost: {HOST}\nX-A: 1\r\n\r\n".encode(), E400),
    ("bare-cr-in-value", lambda n: head(n, "X-A: a\rb"), E400),
    ("obs-fold", lambda n: head(n, "X-A: a", "  folded"), E400),
    ("space-before-colon", lambda n: head(n, "X-A : 1"), E400),
    ("space-before-colon-cl", lambda n: head(n, "Content-Length : 40", line=f"POST /smuggle/{n} HTTP/1.1") + inner(n),
     E400),
    ("tab-in-name", lambda n: head(n, "X\tA: 1"), E400),
    ("nul-in-value", lambda n: head(n, "X-A: a\x00b"), E400),
    ("del-in-name", lambda n: head(n, "X\x7fA: 1"), E400),
    ("non-token-name", lambda n: head(n, "X@A: 1"), E400),
    ("empty-name", lambda n: head(n, ": 1"), E400),
    ("no-colon", lambda n: head(n, "X-A 1"), E400),
    ("non-ascii-name", lambda n: head(n, "X-\xdcber: 1"), E400),
    ("request-line-two-spaces", lambda n: head(n, line=f"GET  /smuggle/{n} HTTP/1.1"), E400),
    ("request-line-extra-token", lambda n: head(n, line=f"GET /smuggle/{n} HTTP/1.1 x"), E400),
    ("method-bad-chars", lambda n: head(n, line=f"G(T /smuggle/{n} HTTP/1.1"), E400),
    ("version-1.2", lambda n: head(n, line=f"GET /smuggle/{n} HTTP/1.2"), EVER),
    ("version-2.0", lambda n: head(n, line=f"GET /smuggle/{n} HTTP/2.0"), EVER),
    ("version-garbage", lambda n: head(n, line=f"GET /smuggle/{n} HTTP/1.x"), EVER),
    ("version-lowercase", lambda n: head(n, line=f"GET /smuggle/{n} http/1.1"), EVER),
    ("http09", lambda n: f"GET /smuggle/{n}\r\n\r\n".encode(), EVER),
    ("missing-host-1.1", lambda n: head(n, host=False), E400),
    ("two-hosts", lambda n: head(n, f"Host: other-{n}.example.com"), E400),
    ("absolute-form-host-mismatch", lambda n: head(n, line=f"GET http://evil.example/smuggle/{n} HTTP/1.1"),
     {400, 404}),
    ("space-in-target", lambda n: head(n, line=f"GET /smuggle/{n} b HTTP/1.1"), E400),
    ("nul-in-target", lambda n: head(n, line=f"GET /smuggle/{n}\x00x HTTP/1.1"), E400),
    ("ctl-in-target", lambda n: head(n, line=f"GET /smuggle/{n}\x01 HTTP/1.1"), E400),
    ("leading-whitespace", lambda n: b"  " + head(n), E400),
    ("header-too-large-70k", lambda n: head(n, "X-Big: " + "a" * 70_000), {431}),
    ("uri-too-long-10k", lambda n: head(n, line=f"GET /smuggle/{n}?{'q' * 10_000} HTTP/1.1"), {414}),
    ("too-many-headers-101", lambda n: head(n, *(f"X-H{i}: {i}" for i in range(101))), {431}),
]
MUST_ANSWER = {"header-too-large-70k", "uri-too-long-10k", "too-many-headers-101"}


def exchange(g, data: bytes, timeout: float = 5.0):
    """Sends data; returns (response or None, closed by the gateway)."""
    c = HttpConn(g.ip4, PORT, timeout=timeout)
    try:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it may close before taking everything
        try:
            r = c.read()
        except (AssertionError, EOFError, OSError):
            r = None
        return r, c.closed_by_peer(timeout)
    finally:
        c.close()


@pytest.mark.parametrize("n,build,expected", [pytest.param(i, c[1], c[2], id=c[0]) for i, c in enumerate(CASES)])
def test_malformed_request_is_refused_and_never_forwarded(gw, request, n, build, expected):
    g, backend = gw
    name = request.node.callspec.id
    r, closed = exchange(g, build(n))
    if r is None:
        assert name not in MUST_ANSWER, f"{name}: closed without the {expected} answer"
    else:
        assert r.status in expected, f"{name}: {r!r}"
        assert r.upstream is None, r
    assert closed, f"{name}: connection left open after the error"
    time.sleep(0.05)
    leaked = [t for t in backend.targets() if t.startswith((f"/smuggle/{n}", f"/inner/{n}"))]
    assert leaked == [], f"{name}: reached the upstream: {leaked}"


def test_content_length_zero_then_a_request_is_two_requests(gw):
    """Not smuggling: a body-less request followed by another is pipelining;
    the second is framed as its own request, never as the first's body."""
    g, backend = gw
    with HttpConn(g.ip4, PORT) as c:
        c.send(head(900, "Content-Length: 0", line="POST /smuggle-ok/900 HTTP/1.1")
               + b"GET /smuggle-ok/901 HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n\r\n")
        first, second = c.read(), c.read()
    assert first.status == 200 and first.json()["path"] == "/smuggle-ok/900" and first.json()["body_len"] == 0
    assert second.status == 200 and second.json()["path"] == "/smuggle-ok/901"
    assert [r.target for r in backend.requests("/smuggle-ok/")] == ["/smuggle-ok/900", "/smuggle-ok/901"]


def test_nothing_leaked_and_gateway_still_serves(gw):
    g, backend = gw
    time.sleep(0.5)
    leaked = [t for t in backend.targets() if t.startswith(("/smuggle/", "/inner/"))]
    assert leaked == [], leaked
    with HttpConn(g.ip4, PORT) as c:
        for i in range(3):
            r = c.request("GET", f"/healthy/{i}", HOST)
            assert (r.status, r.upstream) == (200, "backend"), r
        r = c.request("POST", "/healthy/chunked", HOST, {"Transfer-Encoding": "chunked"}, b"5\r\nhello\r\n0\r\n\r\n")
        assert r.status == 200 and r.json()["body_len"] == 5, r


def test_case_table_is_big_enough():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
