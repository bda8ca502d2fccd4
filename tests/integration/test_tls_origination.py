"""TLS origination toward upstreams (DestinationRule trafficPolicy.tls
SIMPLE and MUTUAL), against nginx serving TLS on the kernel side of the tap.

Clients speak plain HTTP to the gateway's port 8080 (and once, as a TCP
stream, to port 9000, a TCP route toward simple's cluster); each host routes to a
ServiceEntry whose DestinationRule originates TLS in a different way:

  simple.test    SIMPLE, CA from a CA-only Secret, SNI = the service host
  alias.test     SIMPLE, tls.sni names the certificate's host (the service host does not)
  pinned.test    SIMPLE, subjectAltNames naming the certificate
  mtls.test      MUTUAL, credentialName (kubernetes.io/tls with ca.crt); nginx verifies the client
  mtlsfile.test  MUTUAL from files (clientCertificate, privateKey, caCertificates)
  tls12.test     SIMPLE toward an nginx that speaks TLS 1.2 only (keepalive_requests 2)
  insecure.test  SIMPLE, insecureSkipVerify (no CA: Istio refuses one alongside)
  badca.test     SIMPLE, the CA unrelated: the handshake fails → 503 UF
  badsan.test    SIMPLE, subjectAltNames naming someone else → 503 UF
  badsni.test    SIMPLE, tls.sni not on the certificate → 503 UF
  nocert.test    SIMPLE toward the nginx that requires a client certificate → nginx's 400
  mute.test      SIMPLE toward a TCP server that accepts and never speaks → 503 UF at connectTimeout
  istio.test     ISTIO_MUTUAL: no workload certificate → 503, listed in server_info's tls_errors

Cluster counters (Envoy's cluster.<name>.ssl.* with underscores) are
checked as exact deltas. Two gateways: record offload on (default) and
`tls: {record_offload: false}`.
"""
import hashlib
import socket
import threading
import time

import pytest

import lgtest
from http_peers import (NginxUpstream, crd, destination_rule, dest, docs, get, http_gateway, http_server,
                        request, start_http_gateway, virtual_service)
from lgtest import wait_until
from tls_peers import Pki, tls_secret, wrk

pytestmark = pytest.mark.usefixtures("linegate_env")

HTTP_PORT = 8080
TCP_PORT = 9000  # a TCP server whose route goes to ORIGIN: the L4 gateway originates TLS
TCP_ISTIO_PORT = 9001  # a TCP route to the ISTIO_MUTUAL cluster, which has no context
SVC_PORT = 443
ORIGIN = "api.origin.test"  # the name on the nginx certificates
NGINX = {"simple": 19501, "mtls": 19502, "tls12": 19503}
MUTE_PORT = 19504
TLS12_SUITE = "ECDHE-ECDSA-AES128-GCM-SHA256"
BIG = 1 << 20


class Certs:
    def __init__(self, d):
        self.pki = pki = Pki(d)
        self.ca = pki.ca
        self.server = pki.issue("origin", ORIGIN, [ORIGIN])
        self.server_chain = pki.issue("origin-rsa", ORIGIN, [ORIGIN], kind="rsa", issuer=pki.intermediate)
        self.client = pki.issue("gw-client", "gateway-client", client=True,
                                uris=["spiffe://cluster.local/ns/istio-system/sa/gateway"])


def service(name: str, host: str, port: int, peer: str) -> str:
    return crd("ServiceEntry", name, {
        "hosts": [host], "location": "MESH_EXTERNAL", "resolution": "STATIC",
        "ports": [{"number": SVC_PORT, "name": "http", "protocol": "HTTP", "targetPort": port}],
        "endpoints": [{"address": peer}]})


def origination(name: str, host: str, port: int, peer: str, tls: dict, connect_timeout: str = "") -> list[str]:
    policy = {"tls": tls}
    if connect_timeout:
        policy["connectionPool"] = {"tcp": {"connectTimeout": connect_timeout}}
    return [service(name, host, port, peer),
            destination_rule(f"dr-{name}", host, traffic_policy=policy),
            virtual_service(f"vs-{name}", [f"{name}.test"], [{"route": [dest(host, SVC_PORT)]}], ["gw"])]


def config(peer: str, c: Certs) -> str:
    files = {"clientCertificate": str(c.client.cert), "privateKey": str(c.client.key),
             "caCertificates": str(c.ca.cert)}
    def tcp_server(port):
        return {"port": {"number": port, "name": f"tcp-{port}", "protocol": "TCP"}, "hosts": ["*"]}

    def tcp_route(port, host):
        return {"match": [{"port": port}], "route": [{"destination": {"host": host, "port": {"number": SVC_PORT}}}]}

    parts = [http_gateway("gw", [http_server(HTTP_PORT, ["*"]), tcp_server(TCP_PORT), tcp_server(TCP_ISTIO_PORT)]),
             crd("VirtualService", "vs-tcp", {"hosts": ["*"], "gateways": ["gw"],
                                              "tcp": [tcp_route(TCP_PORT, ORIGIN),
                                                      tcp_route(TCP_ISTIO_PORT, "istio.origin.test")]}),
             tls_secret("origin-ca", None, ca=c.ca, generic=True),
             tls_secret("other-ca", None, ca=c.pki.other_ca, generic=True),
             tls_secret("gw-client", c.client, ca=c.ca)]
    ca = {"credentialName": "origin-ca"}
    parts += origination("simple", ORIGIN, NGINX["simple"], peer, {"mode": "SIMPLE", **ca})
    parts += origination("alias", "alias.origin.test", NGINX["simple"], peer, {"mode": "SIMPLE", "sni": ORIGIN, **ca})
    parts += origination("pinned", "pinned.origin.test", NGINX["simple"], peer,
                         {"mode": "SIMPLE", "sni": ORIGIN, "subjectAltNames": ["x.test", ORIGIN], **ca})
    parts += origination("mtls", "mtls.origin.test", NGINX["mtls"], peer,
                         {"mode": "MUTUAL", "credentialName": "gw-client", "sni": ORIGIN})
    parts += origination("mtlsfile", "mtlsfile.origin.test", NGINX["mtls"], peer,
                         {"mode": "MUTUAL", "sni": ORIGIN, **files})
    parts += origination("tls12", "tls12.origin.test", NGINX["tls12"], peer, {"mode": "SIMPLE", "sni": ORIGIN, **ca})
    parts += origination("insecure", "insecure.origin.test", NGINX["simple"], peer,
                         {"mode": "SIMPLE", "insecureSkipVerify": True})
    parts += origination("badca", "badca.origin.test", NGINX["simple"], peer,
                         {"mode": "SIMPLE", "sni": ORIGIN, "credentialName": "other-ca"})
    parts += origination("badsan", "badsan.origin.test", NGINX["simple"], peer,
                         {"mode": "SIMPLE", "sni": ORIGIN, "subjectAltNames": ["someone.else.test"], **ca})
    parts += origination("badsni", "badsni.origin.test", NGINX["simple"], peer,
                         {"mode": "SIMPLE", "sni": "wrong.origin.test", **ca})
    parts += origination("nocert", "nocert.origin.test", NGINX["mtls"], peer, {"mode": "SIMPLE", "sni": ORIGIN, **ca})
    parts += origination("mute", "mute.origin.test", MUTE_PORT, peer, {"mode": "SIMPLE", "sni": ORIGIN, **ca},
                         connect_timeout="1s")
    parts += origination("istio", "istio.origin.test", NGINX["simple"], peer, {"mode": "ISTIO_MUTUAL"})
    return docs(*parts)


def cluster_name(host: str) -> str:
    return f"outbound|{SVC_PORT}||{host}"


class MuteServer:
    """Accepts TCP connections and never writes (a TLS server that hangs)."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_server((host, port), reuse_port=True)
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


class Origin:
    def __init__(self, g, nginx: dict, certs: Certs, offload: bool):
        self.g, self.nginx, self.certs, self.offload = g, nginx, certs, offload

    def get(self, name: str, target: str = "/", **kw):
        return get(self.g.ip4, HTTP_PORT, target, f"{name}.test", **kw)

    def cluster(self, host: str) -> dict:
        prefix = f"cluster.{cluster_name(host)}."
        return {k[len(prefix):]: v for k, v in self.g.stats().items() if k.startswith(prefix)}

    def assert_deltas(self, host: str, before: dict, **want):
        """The named cluster counters moved by exactly want[name]; the other
        ssl_* counters did not move."""
        names = set(want) | {k for k in before if k.startswith("ssl_")}
        expect = {n: before.get(n, 0) + want.get(n, 0) for n in names}
        last = lgtest.settle(lambda: self.cluster(host), expect)
        assert last == expect, {n: (last[n] - before.get(n, 0)) if last[n] is not None else None for n in names}

    def offloaded(self, n: int) -> int:
        return n if self.offload else 0


def _start(tmp_path_factory, name: str, certs: Certs, offload: bool, extra_top=None):
    factory = lgtest.Factory(tmp_path_factory.mktemp(name))
    nginx, mute = {}, None
    try:
        g, _ = start_http_gateway(factory, lambda peer: config(peer, certs), extra_top)
        server = {"cert": str(certs.server.chain), "key": str(certs.server.key)}
        nginx["simple"] = NginxUpstream(g.workdir, g.peer4, NGINX["simple"], "simple", ssl=server, big_bytes=BIG)
        nginx["mtls"] = NginxUpstream(g.workdir, g.peer4, NGINX["mtls"], "mtls",
                                      ssl={"cert": str(certs.server_chain.chain), "key": str(certs.server_chain.key),
                                           "client_ca": str(certs.ca.cert)})
        nginx["tls12"] = NginxUpstream(g.workdir, g.peer4, NGINX["tls12"], "tls12",
                                       ssl={**server, "protocols": "TLSv1.2", "ciphers": TLS12_SUITE},
                                       keepalive_requests=2)
        mute = MuteServer(g.peer4, MUTE_PORT)
        yield Origin(g, nginx, certs, offload)
    finally:
        if mute is not None:
            mute.close()
        for n in nginx.values():
            n.close()
        factory.cleanup()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("origination-pki"))


@pytest.fixture(scope="module")
def gw_offload(linegate_env, tmp_path_factory, certs):
    yield from _start(tmp_path_factory, "origination-offload", certs, True)


@pytest.fixture(scope="module")
def gw_openssl(linegate_env, tmp_path_factory, certs):
    yield from _start(tmp_path_factory, "origination-openssl", certs, False, {"tls": {"record_offload": False}})


@pytest.fixture(params=["offload", "openssl-records"])
def gw(request):
    return request.getfixturevalue("gw_offload" if request.param == "offload" else "gw_openssl")


# =====================================================================
# successful origination


@pytest.mark.parametrize("name,upstream,sni", [
    ("simple", "simple", ORIGIN),
    ("alias", "simple", ORIGIN),
    ("pinned", "simple", ORIGIN),
    ("insecure", "simple", "insecure.origin.test"),
])
def test_simple_origination_verifies_the_upstream(gw, name, upstream, sni):
    host = {"simple": ORIGIN}.get(name, f"{name}.origin.test")
    before = gw.cluster(host)
    r = gw.get(name, f"/{name}-{gw.offload}")
    assert (r.status, r.upstream) == (200, f"nginx-{upstream}"), r
    e = gw.nginx[upstream].last_entry(uri=f"/{name}-{gw.offload}")
    assert e["sni"] == sni and e["tls"] == "TLSv1.3", e
    # A pooled connection may have served it; a new one is one handshake,
    # offloaded when the gateway offloads.
    opened = gw.cluster(host)["upstream_cx_total"] - before["upstream_cx_total"]
    assert opened in (0, 1), opened
    gw.assert_deltas(host, before, ssl_handshake=opened, ssl_offloaded=gw.offloaded(opened),
                     upstream_cx_total=opened)


@pytest.mark.parametrize("name", ["mtls", "mtlsfile"])
def test_mutual_origination_presents_the_client_certificate(gw, name):
    r = gw.get(name, f"/{name}-{gw.offload}")
    assert (r.status, r.upstream) == (200, "nginx-mtls"), r
    e = gw.nginx["mtls"].last_entry(uri=f"/{name}-{gw.offload}")
    assert e["client_verify"] == "SUCCESS" and "CN=gateway-client" in e["client_dn"], e
    assert e["sni"] == ORIGIN, e


def test_requests_reuse_one_pooled_tls_connection(gw):
    host = "alias.origin.test"
    get_n = 6
    gw.get("alias", "/warm")  # the pool holds a connection from here on
    before = gw.cluster(host)
    for i in range(get_n):
        r = gw.get("alias", f"/pooled-{gw.offload}-{i}")
        assert r.status == 200, r
    entries = [gw.nginx["simple"].last_entry(uri=f"/pooled-{gw.offload}-{i}") for i in range(get_n)]
    assert len({e["conn"] for e in entries}) == 1, entries
    gw.assert_deltas(host, before, ssl_handshake=0, upstream_cx_total=0, upstream_rq_total=get_n)


def test_tls12_upstream_that_closes_after_two_requests(gw):
    """TLS 1.2 (a suite offloaded too); nginx closes every second request's
    connection (close_notify, FIN): the next request opens a new one."""
    host = "tls12.origin.test"
    before = gw.cluster(host)
    for i in range(6):
        r = gw.get("tls12", f"/tls12-{gw.offload}-{i}")
        assert (r.status, r.upstream) == (200, "nginx-tls12"), (i, r)
    entries = [gw.nginx["tls12"].last_entry(uri=f"/tls12-{gw.offload}-{i}") for i in range(6)]
    assert all(e["tls"] == "TLSv1.2" and e["cipher"] == TLS12_SUITE for e in entries), entries
    assert len({e["conn"] for e in entries}) == 3, entries
    gw.assert_deltas(host, before, ssl_handshake=3, ssl_offloaded=gw.offloaded(3), upstream_cx_total=3,
                     upstream_rq_total=6)


def test_tcp_route_originates_tls(gw):
    """The L4 gateway: a TCP route to the same cluster; the client's bytes
    (an HTTP request) reach nginx inside the gateway's TLS."""
    with socket.create_connection((gw.g.ip4, TCP_PORT), timeout=10) as s:
        s.sendall(f"GET /tcp-{gw.offload} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    assert got.startswith(b"HTTP/1.1 200") and got.endswith(b"nginx-simple\n"), got
    e = gw.nginx["simple"].last_entry(uri=f"/tcp-{gw.offload}")
    assert e["sni"] == ORIGIN and e["tls"] == "TLSv1.3", e


def test_large_bodies_both_ways(gw):
    """A 1 MiB download and a 3 MiB upload cross many records in each
    direction (record and TCP segment boundaries do not line up)."""
    r = gw.get("simple", "/big", timeout=30)
    assert r.status == 200 and len(r.body) == BIG, (r.status, len(r.body))
    assert hashlib.sha256(r.body).digest() == hashlib.sha256(gw.nginx["simple"].big).digest()
    body = bytes(range(256)) * (3 * 4096)
    name = f"upload-{gw.offload}"
    r = request(gw.g.ip4, HTTP_PORT, "PUT", f"/uploads/{name}", "simple.test", body=body, timeout=30)
    assert r.status in (201, 204), r
    assert gw.nginx["simple"].uploaded(name) == body


def test_wrk_through_origination(gw):
    """Load: 16 keep-alive clients for 3 s; every request answered 200 by
    nginx over the gateway's pooled TLS connections."""
    res = wrk(f"http://{gw.g.ip4}:{HTTP_PORT}/wrk", "simple.test", connections=16, duration_s=3)
    assert res.rc == 0 and res.requests > 500, res
    assert not any(res.socket_errors.values()) and res.non_2xx_3xx == 0, res


# =====================================================================
# refused upstreams


@pytest.mark.parametrize("name,counter", [
    ("badca", "ssl_fail_verify_error"),
    ("badsni", "ssl_fail_verify_error"),
    ("badsan", "ssl_fail_verify_san"),
])
def test_an_upstream_that_does_not_verify_is_a_connect_failure(gw_offload, name, counter):
    gw = gw_offload
    host = f"{name}.origin.test"
    before = gw.cluster(host)
    r = gw.get(name, "/")
    assert r.status == 503 and "connection failure" in r.text, r
    # Each of the three tries (Istio's default: 2 retries on connect-failure) fails alike.
    gw.assert_deltas(host, before, **{counter: 3, "ssl_connection_error": 3, "upstream_cx_connect_fail": 3})


def test_no_client_certificate_gets_the_upstreams_answer(gw_offload):
    """A SIMPLE origination toward a server that wants a client
    certificate: nginx completes the handshake and answers 400 itself."""
    r = gw_offload.get("nocert", "/")
    assert r.status == 400 and "No required SSL certificate was sent" in r.text, r


def test_an_upstream_that_never_answers_the_hello_times_out(gw_offload):
    gw = gw_offload
    host = "mute.origin.test"
    before = gw.cluster(host)
    t0 = time.monotonic()
    r = gw.get("mute", "/", timeout=20)
    took = time.monotonic() - t0
    assert r.status == 503, r
    # TCP connects at once; each of the three tries (connect-failure
    # retries) waits connectTimeout for the handshake.
    assert took >= 2.7, took
    gw.assert_deltas(host, before, ssl_handshake_timeout=3, upstream_cx_connect_timeout=3)


def test_istio_mutual_without_a_workload_certificate(gw_offload):
    """Requests are refused (never sent in plain text), on HTTP and TCP routes."""
    gw = gw_offload
    host = "istio.origin.test"
    before = gw.cluster(host)
    r = gw.get("istio", "/")
    assert r.status == 503 and "upstream TLS context unavailable" in r.text, r
    got = b""
    try:  # the gateway resets the connection, maybe before the request is sent
        with socket.create_connection((gw.g.ip4, TCP_ISTIO_PORT), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = s.recv(65536)
    except ConnectionResetError:
        pass
    assert got == b"", got
    gw.assert_deltas(host, before, upstream_cx_total=0, upstream_cx_connect_fail=0, upstream_rq_total=0)
    errors = gw.g.server_info()["config"]["tls_errors"]
    assert any(cluster_name("istio.origin.test") in e and "workload certificate" in e for e in errors), errors
