"""TLS termination at the gateway (HTTPS Gateway servers, tls.mode SIMPLE
and MUTUAL) against real TLS peers: curl, openssl s_client, gnutls-cli,
wrk, testssl and python's ssl, with python upstreams (http_peers'
HttpUpstream, JSON echo, `x-upstream: <name>`) and nginx on the kernel side
of the tap.

Certificates are issued at test time (tls_peers.Pki): a root CA, an
intermediate, ECDSA P-256 and RSA-2048 leaves, client certificates, and an
unrelated CA. They reach the gateway as Kubernetes Secrets in the same YAML
(kubernetes.io/tls with tls.crt/tls.key/ca.crt, Opaque with
cert/key/cacert, and the "<credentialName>-cacert" form).

Gateways (configs checked by `linegatectl analyze` before they start):
- `gw`: the main config, default bootstrap: TLS records on the IPsec-MB
  record layer (tls.record_offload defaults to true);
- `gw_openssl_records`: the same config with `tls: {record_offload: false}`,
  every record on OpenSSL's record layer. Tests of the record path (curl,
  suites, bodies both ways, keep-alive, pipelining, record/segment
  boundaries, resumption, gnutls, wrk, mTLS success) run against both
  (`anygw`); handshake-only refusals and the scanners run against `gw`;
- `gw_dual`: one server with credentialNames [ECDSA, RSA] (Istio 1.22+),
  apart so that the rest does not depend on that field.

The main config's port 8443 holds six HTTPS servers picked by SNI, in this
order (the first answers a ClientHello without SNI or with an unknown name):
  a.tls.example.com        ECDSA, kubernetes.io/tls Secret
  b.tls.example.com        RSA-2048 signed by the intermediate (chain sent), Opaque Secret
  *.wild.tls.example.com   ECDSA wildcard
  x.wild.tls.example.com   ECDSA; exact beats the wildcard listed before it
  min13.tls.example.com    minProtocolVersion TLSV1_3
  only12.tls.example.com   maxProtocolVersion TLSV1_2, one cipher suite
Each has its own VirtualService (the wildcard's names y.wild.tls.example.com)
and upstream. Ports 8445 and 8446 are MUTUAL: 8445 takes its client CA from
the Secret "mtls-cert-cacert", 8446 from ca.crt in its own Secret; 8447-8449
are MUTUAL with subjectAltNames, verifyCertificateHash and
verifyCertificateSpki naming the client certificate (another certificate of
the same CA is refused with bad_certificate).

Listener counters read at the admin: listener.0.0.0.0_<port>.ssl_handshake,
ssl_connection_error, ssl_session_reused, ssl_no_certificate,
ssl_fail_verify_error, ssl_offloaded; the tests check exact deltas. A
resumed handshake counts in ssl_handshake too; a refused handshake (also a
MUTUAL refusal, with its ssl_no_certificate / ssl_fail_verify_error) counts
in ssl_connection_error only; a client that closes after complete exchanges
without close_notify (python, wrk at exit) is not a TLS error.

Run time: about a minute on 2 cores (three gateway start-ups; testssl
-p -s -E -U takes ~25 s, bounded at 240 s; two 5 s wrk runs).
"""
import http.client
import json
import os
import random
import re
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

import lgtest
from agent_tools import AgentProcess
from http_peers import (NginxUpstream, Upstreams, build_request, config_state, dest, docs, pattern, service_entry,
                        sha256, start_http_gateway, virtual_service, wait_config_applied, write_config)
from lgtest import wait_until
from tls_peers import (BioTlsClient, Pki, TlsConn, client_context, client_hello_bytes, curl, gateway, gnutls_cli,
                       http_request_bytes, https_server, key_type, cert_cn, cert_dns_names, peer_certificate,
                       s_client, run_testssl, tls_secret, wrk)

pytestmark = pytest.mark.usefixtures("linegate_env")

HTTPS_PORT = 8443
MTLS_PORT = 8445  # client CA from the "<credentialName>-cacert" Secret
MTLS_CA_PORT = 8446  # client CA from ca.crt in the credential's own Secret
MTLS_SAN_PORT = 8447  # MUTUAL + subjectAltNames: the client's SPIFFE URI
MTLS_HASH_PORT = 8448  # MUTUAL + verifyCertificateHash: the client's certificate
MTLS_SPKI_PORT = 8449  # MUTUAL + verifyCertificateSpki: the client's key (+ an unrelated hash)
CLIENT_URI = "spiffe://cluster.local/ns/tls/sa/client"
SVC_PORT = 9080
NS = "tls.svc"

A = "a.tls.example.com"
B = "b.tls.example.com"
WILD = "*.wild.tls.example.com"
XWILD = "x.wild.tls.example.com"
YWILD = "y.wild.tls.example.com"  # only the wildcard server covers it
MIN13 = "min13.tls.example.com"
ONLY12 = "only12.tls.example.com"
DUAL = "dual.tls.example.com"
MTLS = "mtls.tls.example.com"
MTLS2 = "mtls2.tls.example.com"

# upstream name → kernel port (on the tap's kernel address)
UPSTREAMS = {"a": 19401, "b": 19402, "wild": 19403, "xwild": 19404, "min13": 19405, "only12": 19406,
             "mtls": 19408, "mtls2": 19409}
NGINX_PORT = 19410  # wrk's upstream (route /wrk on a.tls.example.com)
DUAL_UPSTREAMS = {"dual": 19407}

ONLY12_SUITE = "ECDHE-ECDSA-AES256-GCM-SHA384"
TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
TLS12_ECDSA_SUITES = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                      "ECDHE-ECDSA-CHACHA20-POLY1305"]
TLS12_RSA_SUITES = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"]

SSL_COUNTERS = ("ssl_handshake", "ssl_connection_error", "ssl_session_reused", "ssl_no_certificate",
                "ssl_fail_verify_error", "ssl_fail_verify_san", "ssl_fail_verify_cert_hash", "ssl_offloaded")

VERSIONS = ["1.2", "1.3"]
CURL_VERSION = {"1.2": ["--tlsv1.2", "--tls-max", "1.2"], "1.3": ["--tlsv1.3"]}
S_CLIENT_VERSION = {"1.2": "-tls1_2", "1.3": "-tls1_3"}
PY_VERSION = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}

# What OpenSSL prints for the alerts the gateway must send.
ALERT_PROTOCOL_VERSION = "alert protocol version"  # protocol_version (70)
ALERT_HANDSHAKE_FAILURE = "sslv3 alert handshake failure"  # handshake_failure (40)
ALERT_CERTIFICATE_REQUIRED = "tlsv13 alert certificate required"  # certificate_required (116)
ALERT_UNKNOWN_CA = "tlsv1 alert unknown ca"  # unknown_ca (48)
ALERT_BAD_CERTIFICATE = "sslv3 alert bad certificate"  # bad_certificate (42)


# =====================================================================
# certificates and config


class Certs:
    """Every certificate of the module, issued once."""

    def __init__(self, d):
        self.pki = pki = Pki(d)
        self.ca = pki.ca
        self.a = pki.issue("a", A, [A])
        self.b = pki.issue("b", B, [B], kind="rsa", issuer=pki.intermediate)
        self.wild = pki.issue("wild", WILD, [WILD])
        self.xwild = pki.issue("xwild", XWILD, [XWILD])
        self.min13 = pki.issue("min13", MIN13, [MIN13])
        self.only12 = pki.issue("only12", ONLY12, [ONLY12])
        self.dual_ecdsa = pki.issue("dual-ecdsa", "dual ECDSA", [DUAL])
        self.dual_rsa = pki.issue("dual-rsa", "dual RSA", [DUAL], kind="rsa")
        self.mtls = pki.issue("mtls", MTLS, [MTLS])
        self.mtls2 = pki.issue("mtls2", MTLS2, [MTLS2], kind="rsa")
        self.client = pki.issue("client", "client-1", client=True, uris=[CLIENT_URI])
        # Same CA, another identity: passes the chain check, fails the pins.
        self.client_other = pki.issue("client-other", "client-2", client=True,
                                      uris=["spiffe://cluster.local/ns/tls/sa/other"])
        self.intruder = pki.issue("intruder", "intruder", client=True, issuer=pki.other_ca)


def svc(name: str) -> str:
    return f"{name}.{NS}"


def tls_config(peer: str, c: Certs) -> str:
    gw = ["tls-gw"]
    parts = [
        gateway("tls-gw", [
            https_server(HTTPS_PORT, "https-a", [A], "a-cert"),
            https_server(HTTPS_PORT, "https-b", [B], "b-cert"),
            https_server(HTTPS_PORT, "https-wild", [WILD], "wild-cert"),
            https_server(HTTPS_PORT, "https-xwild", [XWILD], "xwild-cert"),
            https_server(HTTPS_PORT, "https-min13", [MIN13], "min13-cert", minProtocolVersion="TLSV1_3"),
            https_server(HTTPS_PORT, "https-only12", [ONLY12], "only12-cert", maxProtocolVersion="TLSV1_2",
                         cipherSuites=[ONLY12_SUITE]),
        ]),
        gateway("mtls-gw", [
            https_server(MTLS_PORT, "https-mtls", [MTLS], "mtls-cert", mode="MUTUAL"),
            https_server(MTLS_CA_PORT, "https-mtls-ca", [MTLS2], "mtls2-cert", mode="MUTUAL"),
            https_server(MTLS_SAN_PORT, "https-mtls-san", [MTLS], "mtls-cert", mode="MUTUAL",
                         subjectAltNames=["spiffe://cluster.local/ns/tls/sa/nobody", CLIENT_URI]),
            https_server(MTLS_HASH_PORT, "https-mtls-hash", [MTLS], "mtls-cert", mode="MUTUAL",
                         verifyCertificateHash=[c.client.sha256_hex]),
            https_server(MTLS_SPKI_PORT, "https-mtls-spki", [MTLS], "mtls-cert", mode="MUTUAL",
                         verifyCertificateSpki=[c.client.spki_sha256_b64],
                         verifyCertificateHash=[c.intruder.sha256_hex.replace(":", "").lower()]),
        ]),
        tls_secret("a-cert", c.a),
        tls_secret("b-cert", c.b, generic=True),  # Opaque: cert/key (leaf + intermediate)
        tls_secret("wild-cert", c.wild),
        tls_secret("xwild-cert", c.xwild),
        tls_secret("min13-cert", c.min13),
        tls_secret("only12-cert", c.only12),
        tls_secret("mtls-cert", c.mtls),  # no CA here: it comes from mtls-cert-cacert
        tls_secret("mtls-cert-cacert", None, ca=c.ca, generic=True),
        tls_secret("mtls2-cert", c.mtls2, ca=c.ca),  # kubernetes.io/tls with ca.crt
    ]
    for name, port in UPSTREAMS.items():
        parts.append(service_entry(name, svc(name), SVC_PORT, [(peer, port, {})]))
    parts.append(service_entry("wrk", svc("wrk"), SVC_PORT, [(peer, NGINX_PORT, {})]))
    # The wildcard server's VirtualService names y.wild only: a "*.wild" one
    # would also join x.wild's route table (Istio intersects VirtualService
    # and server hosts) and, merged first by name, take x.wild's traffic.
    hosts = {"a": A, "b": B, "wild": YWILD, "xwild": XWILD, "min13": MIN13, "only12": ONLY12}
    for name, host in hosts.items():
        http = [{"route": [dest(svc(name), SVC_PORT)]}]
        if name == "a":
            http.insert(0, {"match": [{"uri": {"prefix": "/wrk"}}], "route": [dest(svc("wrk"), SVC_PORT)]})
        parts.append(virtual_service(f"vs-{name}", [host], http, gw))
    parts.append(virtual_service("vs-mtls", [MTLS], [{"route": [dest(svc("mtls"), SVC_PORT)]}], ["mtls-gw"]))
    parts.append(virtual_service("vs-mtls2", [MTLS2], [{"route": [dest(svc("mtls2"), SVC_PORT)]}], ["mtls-gw"]))
    return docs(*parts)


def dual_config(peer: str, c: Certs) -> str:
    """One server with two credentials (Istio 1.22+ credentialNames): an
    ECDSA P-256 and an RSA-2048 certificate for the same name."""
    return docs(
        gateway("dual-gw", [https_server(HTTPS_PORT, "https-dual", [DUAL],
                                         credential_names=["dual-ecdsa", "dual-rsa"])]),
        tls_secret("dual-ecdsa", c.dual_ecdsa),
        tls_secret("dual-rsa", c.dual_rsa),
        service_entry("dual", svc("dual"), SVC_PORT, [(peer, DUAL_UPSTREAMS["dual"], {})]),
        virtual_service("vs-dual", [DUAL], [{"route": [dest(svc("dual"), SVC_PORT)]}], ["dual-gw"]))


# =====================================================================
# gateways


class TlsGw:
    """A running gateway, its upstreams and the certificates; clients
    address the gateway's IPv4 address with the wanted SNI."""

    def __init__(self, g, ups: Upstreams, nginx: NginxUpstream, certs: Certs, offload: bool):
        self.g, self.ups, self.nginx, self.certs, self.offload = g, ups, nginx, certs, offload
        self.addr = g.ip4

    # -- counters
    def listener(self, port: int = HTTPS_PORT) -> dict:
        prefix = f"listener.0.0.0.0_{port}."
        return {k[len(prefix):]: v for k, v in self.g.stats().items() if k.startswith(prefix)}

    def ssl_counters(self, port: int = HTTPS_PORT) -> dict:
        st = self.listener(port)
        missing = [n for n in SSL_COUNTERS if n not in st]
        assert not missing, f"listener 0.0.0.0_{port} has no {missing}; it has {sorted(st)}"
        return {n: st[n] for n in SSL_COUNTERS}

    def offloaded(self, n: int) -> int:
        """ssl_offloaded's expected delta for n handshakes on offloadable suites."""
        return n if self.offload else 0

    def assert_ssl_deltas(self, before: dict, port: int = HTTPS_PORT, ignore=(), **want):
        """Every ssl_* counter of the listener moved by exactly want[name]
        (0 when not named) since `before`; names in `ignore` are not checked."""
        expect = {n: before[n] + want.get(n, 0) for n in SSL_COUNTERS if n not in ignore}
        last = lgtest.settle(lambda: self.ssl_counters(port), expect)
        got = {n: last[n] - before[n] for n in expect}
        assert last == expect, f"listener 0.0.0.0_{port} ssl counter deltas {got}, expected {want} (others 0)"

    # -- clients
    def curl(self, host: str, target: str, *args: str, port: int = HTTPS_PORT, verify: bool = True,
             timeout: float = 60):
        trust = ["--cacert", str(self.certs.ca.cert)] if verify else ["-k"]
        return curl(f"https://{host}:{port}{target}", *trust, *args, resolve=f"{host}:{port}:{self.addr}",
                    timeout=timeout)

    def s_client(self, sni, *args: str, target=None, host=None, port: int = HTTPS_PORT):
        """openssl s_client with SNI `sni` (None: no SNI) trusting the root
        CA; with `target`, one GET (Host: host or sni, Connection: close)."""
        req = http_request_bytes(host or sni, target) if target else None
        return s_client(self.addr, port, sni, "-CAfile", str(self.certs.ca.cert), *args, request=req)

    def conn(self, sni, version=None, port: int = HTTPS_PORT, verify: bool = True, **ctx_kw) -> TlsConn:
        v = PY_VERSION[version] if version else None
        ctx = client_context(self.certs.ca if verify else None, minimum=v, maximum=v, **ctx_kw)
        return TlsConn(self.addr, port, sni, ctx)

    def bio_client(self, sni: str, version: str) -> BioTlsClient:
        v = PY_VERSION[version]
        return BioTlsClient(self.addr, HTTPS_PORT, sni, client_context(self.certs.ca, minimum=v, maximum=v))


def _start(tmp_path_factory, name: str, certs: Certs, offload: bool, extra_top=None, make_config=tls_config,
           upstreams=UPSTREAMS, with_nginx=True):
    factory = lgtest.Factory(tmp_path_factory.mktemp(name))
    ups = nginx = None
    try:
        g, _ = start_http_gateway(factory, lambda peer: make_config(peer, certs), extra_top)
        ups = Upstreams(g.peer4)
        for n, port in upstreams.items():
            ups.add(n, port)
        if with_nginx:
            nginx = NginxUpstream(g.workdir, g.peer4, NGINX_PORT, "wrk")
        yield TlsGw(g, ups, nginx, certs, offload)
    finally:
        if nginx is not None:
            nginx.close()
        if ups is not None:
            ups.close()
        factory.cleanup()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("https-pki"))


@pytest.fixture(scope="module")
def gw(linegate_env, tmp_path_factory, certs):
    """Default bootstrap: record offload on."""
    yield from _start(tmp_path_factory, "https-offload", certs, True)


@pytest.fixture(scope="module")
def gw_openssl_records(linegate_env, tmp_path_factory, certs):
    """tls.record_offload: false: every record through OpenSSL."""
    yield from _start(tmp_path_factory, "https-openssl-records", certs, False, {"tls": {"record_offload": False}})


@pytest.fixture(scope="module")
def gw_dual(linegate_env, tmp_path_factory, certs):
    """The dual-certificate server alone (default bootstrap)."""
    yield from _start(tmp_path_factory, "https-dual", certs, True, make_config=dual_config,
                      upstreams=DUAL_UPSTREAMS, with_nginx=False)


@pytest.fixture(params=["offload", "openssl-records"])
def anygw(request):
    return request.getfixturevalue("gw" if request.param == "offload" else "gw_openssl_records")


# =====================================================================
# 1. curl, both versions


@pytest.mark.parametrize("version", VERSIONS)
def test_curl_reaches_the_upstream_with_x_forwarded_proto_https(anygw, version):
    before = anygw.ssl_counters()
    r = anygw.curl(A, f"/curl/{version}", *CURL_VERSION[version])
    assert r.rc == 0 and r.status == 200, r
    assert r.protocol == f"TLSv{version}", r
    assert r.alpn == "http/1.1" and r.info["http_version"] == "1.1", r
    assert r.info["ssl_verify_result"] == 0, r
    assert r.header("x-upstream") == "a", r
    got = r.json()
    assert got["server"] == "a" and got["path"] == f"/curl/{version}", got
    assert r.seen_headers("x-forwarded-proto") == ["https"], got
    assert r.seen_headers("x-forwarded-for") == [anygw.g.peer4], got
    anygw.assert_ssl_deltas(before, ssl_handshake=1, ssl_offloaded=anygw.offloaded(1))


def test_listener_counts_connections_and_requests(gw):
    before = gw.listener()
    for i in range(3):
        assert gw.curl(A, f"/count/{i}").status == 200
    moved = {}

    def counted():
        after = gw.listener()
        moved.update({k: after[k] - before[k] for k in ("downstream_cx_total", "downstream_rq_2xx")})
        return moved == {"downstream_cx_total": 3, "downstream_rq_2xx": 3}

    assert wait_until(counted, lgtest.COUNTER_TIMEOUT), moved


# =====================================================================
# 2. SNI: certificate and route table per server


# id, SNI sent, Certs attribute of the certificate served
SNI_CASES = [
    ("exact-a", A, "a"),
    ("exact-b-rsa", B, "b"),
    ("wildcard", YWILD, "wild"),
    ("exact-beats-wildcard", XWILD, "xwild"),
    ("min13", MIN13, "min13"),
    ("unknown-name-gets-first-server", "unknown.example.org", "a"),
    ("no-sni-gets-first-server", None, "a"),
]


@pytest.mark.parametrize("sni,which", [c[1:] for c in SNI_CASES], ids=[c[0] for c in SNI_CASES])
def test_sni_selects_the_certificate(gw, sni, which):
    want = getattr(gw.certs, which)
    got = peer_certificate(gw.addr, HTTPS_PORT, sni, minimum=ssl.TLSVersion.TLSv1_3)
    assert got.serial_number == want.x509.serial_number, \
        f"SNI {sni}: got {cert_cn(got)} {cert_dns_names(got)}, want {want.cn} {cert_dns_names(want.x509)}"
    if sni in (A, B, XWILD, YWILD):
        # The same choice over TLS 1.2 (another ClientHello shape).
        got12 = peer_certificate(gw.addr, HTTPS_PORT, sni, maximum=ssl.TLSVersion.TLSv1_2)
        assert got12.serial_number == want.x509.serial_number, (sni, cert_cn(got12))


# SNI and Host → upstream (every server routes with its own VirtualService)
ROUTE_CASES = [(A, "a"), (B, "b"), (YWILD, "wild"), (XWILD, "xwild"), (MIN13, "min13"), (ONLY12, "only12")]


@pytest.mark.parametrize("sni,upstream", ROUTE_CASES, ids=[u for _, u in ROUTE_CASES])
def test_each_server_routes_with_its_virtual_service(gw, sni, upstream):
    with gw.conn(sni) as c:  # verifies the chain and the name
        r = c.request("GET", f"/route/{upstream}", sni)
    assert (r.status, r.upstream) == (200, upstream), r
    assert r.json()["path"] == f"/route/{upstream}" and r.seen_headers("x-forwarded-proto") == ["https"], r.json()


@pytest.mark.parametrize("sni", ["unknown.example.org", None], ids=["unknown-sni", "no-sni"])
def test_first_server_routes_a_hello_without_a_known_name(gw, sni):
    with gw.conn(sni, verify=False) as c:
        r = c.request("GET", "/route/first", A)
    assert (r.status, r.upstream) == (200, "a"), r


@pytest.mark.parametrize("sni,host,other", [(A, B, "b"), (B, A, "a"), (XWILD, YWILD, "wild")],
                         ids=["a-asks-b", "b-asks-a", "xwild-asks-wildcard"])
def test_a_server_does_not_route_hosts_of_other_servers(gw, sni, host, other):
    # The server chosen by SNI routes with its own table: a Host that only
    # another server of the port covers finds no virtual host there (404 NR),
    # as Envoy's per-filter-chain route configs answer.
    gw.ups.clear_all()
    with gw.conn(sni) as c:
        r = c.request("GET", f"/cross/{other}", host)
    assert r.status == 404 and r.upstream is None, r
    assert gw.ups[other].requests("/cross/") == []


def test_the_intermediate_is_sent_with_the_leaf(gw):
    r = gw.s_client(B)
    assert [cert_cn(c) for c in r.certs] == [B, gw.certs.pki.intermediate.cn], r
    assert r.verify_code == 0, r  # the client trusts only the root
    assert key_type(r.leaf) == "RSA-2048", r


# =====================================================================
# 3. every offloaded suite, with a request through s_client

SUITE_CASES = ([("1.3", s, A, "a") for s in TLS13_SUITES] + [("1.2", s, A, "a") for s in TLS12_ECDSA_SUITES]
               + [("1.2", s, B, "b") for s in TLS12_RSA_SUITES])


@pytest.mark.parametrize("version,suite,sni,upstream", SUITE_CASES, ids=[c[1] for c in SUITE_CASES])
def test_offloaded_suite_carries_a_request(anygw, version, suite, sni, upstream):
    args = ["-tls1_3", "-ciphersuites", suite] if version == "1.3" else ["-tls1_2", "-cipher", suite]
    before = anygw.ssl_counters()
    r = anygw.s_client(sni, *args, target=f"/suite/{suite}")
    assert (r.protocol, r.cipher) == (f"TLSv{version}", suite), r
    assert r.verify_code == 0, r
    assert r.status == 200 and r.response.upstream == upstream, r
    assert r.response.json()["path"] == f"/suite/{suite}", r
    anygw.assert_ssl_deltas(before, ssl_handshake=1, ssl_offloaded=anygw.offloaded(1))


# Suites outside the offered set: CBC, RSA key transport, CCM.
REFUSED_SUITES = [("1.2", "ECDHE-RSA-AES128-SHA", B), ("1.2", "ECDHE-ECDSA-AES128-SHA256", A),
                  ("1.2", "AES128-GCM-SHA256", B), ("1.2", "AES256-SHA", B), ("1.3", "TLS_AES_128_CCM_SHA256", A)]


@pytest.mark.parametrize("version,suite,sni", REFUSED_SUITES, ids=[c[1] for c in REFUSED_SUITES])
def test_suite_outside_the_default_list_is_refused(gw, version, suite, sni):
    args = ["-tls1_3", "-ciphersuites", suite] if version == "1.3" else ["-tls1_2", "-cipher", suite]
    before = gw.ssl_counters()
    r = gw.s_client(sni, *args, target="/refused-suite")
    assert ALERT_HANDSHAKE_FAILURE in r.err and r.response is None, r
    gw.assert_ssl_deltas(before, ssl_connection_error=1)


def test_alpn_selects_http11(gw):
    r = gw.s_client(A, "-alpn", "h2,http/1.1", target="/alpn")
    assert r.alpn == "http/1.1" and r.status == 200, r


# =====================================================================
# 4. bodies both ways, keep-alive, pipelining, record boundaries

TWO_MIB = 2 << 20


@pytest.mark.parametrize("version", VERSIONS)
def test_two_mib_upload(anygw, version, tmp_path):
    data = os.urandom(TWO_MIB)
    f = tmp_path / "upload.bin"
    f.write_bytes(data)
    r = anygw.curl(A, "/upload", *CURL_VERSION[version], "-H", "Content-Type: application/octet-stream",
                   "--data-binary", f"@{f}")
    assert r.rc == 0 and r.status == 200 and r.protocol == f"TLSv{version}", r
    got = r.json()
    assert got["body_len"] == TWO_MIB and got["body_sha256"] == sha256(data), got


@pytest.mark.parametrize("version", VERSIONS)
def test_upload_to_a_slow_reader_resumes(anygw, version, tmp_path):
    """The upstream reads 64 KiB every 20 ms: the gateway's plaintext bound
    fills again and again, and the ciphertext it already took (OpenSSL's
    buffer, in record mode) must still be opened when the reader makes room,
    the last of it included, when the client has nothing more to send."""
    data = os.urandom(TWO_MIB)
    f = tmp_path / "upload.bin"
    f.write_bytes(data)
    r = anygw.curl(A, "/upload", *CURL_VERSION[version], "-H", "Content-Type: application/octet-stream",
                   "-H", "x-test-read-pace: 0.02", "--data-binary", f"@{f}", timeout=30)
    assert r.rc == 0 and r.status == 200, r
    got = r.json()
    assert got["body_len"] == TWO_MIB and got["body_sha256"] == sha256(data), got


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("version", VERSIONS)
def test_two_mib_download(anygw, version, chunked, tmp_path):
    out = tmp_path / "download.bin"
    hdrs = ["-H", f"x-test-size: {TWO_MIB}"] + (["-H", "x-test-chunked: 1"] if chunked else [])
    r = anygw.curl(A, "/download", *CURL_VERSION[version], *hdrs, "-o", str(out))
    assert r.rc == 0 and r.status == 200 and r.protocol == f"TLSv{version}", r
    body = out.read_bytes()
    assert len(body) == TWO_MIB and sha256(body) == r.header("x-body-sha256"), (len(body), r)
    assert body == pattern(TWO_MIB)


@pytest.mark.parametrize("version", VERSIONS)
def test_keep_alive_many_requests_on_one_tls_connection(anygw, version):
    """http.client over one TLS connection: 60 requests, GETs and POSTs
    with bodies up to 64 KiB, then 1 MiB down; one handshake in all."""
    rnd = random.Random(8)
    before = anygw.ssl_counters()
    tls = anygw.conn(A, version)
    assert tls.version == f"TLSv{version}"
    conn = http.client.HTTPSConnection(A, HTTPS_PORT, timeout=10)
    conn.sock = tls.sock  # already connected, SNI and name checked: http.client keeps using it
    try:
        for i in range(60):
            body = rnd.randbytes(rnd.randrange(1, 65536)) if i % 2 else None
            conn.request("POST" if body else "GET", f"/ka/{version}/{i}", body=body, headers={"Host": A})
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == 200 and resp.getheader("x-upstream") == "a", (i, resp.status, data[:200])
            assert not resp.will_close, f"request {i}: the gateway closes a keep-alive connection"
            if body is not None:
                got = json.loads(data)
                assert got["body_len"] == len(body) and got["body_sha256"] == sha256(body), (i, got)
        conn.request("GET", f"/ka/{version}/big", headers={"Host": A, "x-test-size": str(1 << 20)})
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 200 and data == pattern(1 << 20) and sha256(data) == resp.getheader("x-body-sha256")
    finally:
        conn.close()
        tls.close()
    assert len(anygw.ups["a"].requests(f"/ka/{version}/")) == 61
    anygw.assert_ssl_deltas(before, ssl_handshake=1, ssl_offloaded=anygw.offloaded(1))


@pytest.mark.parametrize("version", VERSIONS)
def test_pipelined_requests_are_answered_in_order(anygw, version):
    body = os.urandom(50000)
    with anygw.conn(A, version) as c:
        c.send(b"".join([build_request("GET", f"/pipe/{version}/{i}", A, {"x-test-delay": d})
                         for i, d in enumerate(("0.3", "0", "0.1"))]
                        + [build_request("POST", f"/pipe/{version}/3", A, None, body)]))
        got = [c.read().json() for _ in range(4)]
        assert [g["path"] for g in got] == [f"/pipe/{version}/{i}" for i in range(4)], got
        assert got[3]["body_sha256"] == sha256(body), got[3]
        r = c.request("GET", f"/pipe/{version}/after", A)
        assert r.status == 200 and r.upstream == "a", r


@pytest.mark.parametrize("version", VERSIONS)
def test_one_byte_records_in_one_segment(anygw, version):
    """A request sealed one plaintext byte per record, all records written
    to the socket at once: many records in one TCP segment."""
    req = build_request("POST", f"/records/tiny/{version}", A, None, b"hello, records")
    with anygw.bio_client(A, version) as c:
        assert c.version == f"TLSv{version}"
        wire = b"".join(c.seal(req[i:i + 1]) for i in range(len(req)))
        assert len(wire) > 20 * len(req)  # one record per byte
        c.send_raw(wire)
        r = c.read()
    assert r is not None and r.status == 200 and r.upstream == "a", r
    got = r.json()
    assert got["path"] == f"/records/tiny/{version}" and got["body_sha256"] == sha256(b"hello, records"), got


@pytest.mark.parametrize("version", VERSIONS)
def test_records_straddle_tcp_segments(anygw, version):
    """Three pipelined requests, each one record, written in 700-byte pieces
    (TCP_NODELAY, a pause between): record headers and tags split across
    segments, several records' ends and starts in one segment."""
    bodies = [os.urandom(n) for n in (3000, 1, 9000)]
    with anygw.bio_client(A, version) as c:
        wire = b"".join(c.seal(build_request("POST", f"/records/split/{version}/{i}", A, None, b))
                        for i, b in enumerate(bodies))
        for i in range(0, len(wire), 700):
            c.send_raw(wire[i:i + 700])
            time.sleep(0.002)
        for i, b in enumerate(bodies):
            r = c.read()
            assert r is not None and r.status == 200, (i, r)
            got = r.json()
            assert got["path"] == f"/records/split/{version}/{i}" and got["body_sha256"] == sha256(b), got


@pytest.mark.parametrize("version", VERSIONS)
def test_a_request_in_tiny_segments(anygw, version):
    """One record (request + 4 KB body) written 13 bytes at a time."""
    body = os.urandom(4000)
    with anygw.bio_client(A, version) as c:
        wire = c.seal(build_request("POST", f"/records/drip/{version}", A, None, body))
        for i in range(0, len(wire), 13):
            c.send_raw(wire[i:i + 13])
            time.sleep(0.001)
        r = c.read()
    assert r is not None and r.status == 200 and r.json()["body_sha256"] == sha256(body), r


def test_close_notify_precedes_the_close(gw):
    """After answering `Connection: close` the gateway ends TLS properly
    (RFC 8446 6.1: close_notify before closing the write side): the client
    reads a clean end of stream, not a truncation."""
    for version in VERSIONS:
        with gw.conn(A, version, strict_eof=True) as c:
            r = c.request("GET", f"/close-notify/{version}", A, {"Connection": "close"})
            assert r.status == 200 and r.closes, r
            try:
                rest = c.sock.recv(100)
            except ssl.SSLError as e:
                pytest.fail(f"TLS {version}: the gateway closed TCP without close_notify: {e}")
            assert rest == b"", rest


# =====================================================================
# 5. session resumption


@pytest.mark.parametrize("request_update", [True, False], ids=["K-update-requested", "k-not-requested"])
def test_key_update_mid_connection(anygw, request_update):
    """openssl s_client's K/k commands (RFC 8446 §4.6.3) between two requests
    on one TLS 1.3 connection: the gateway opens the client's records under
    the next keys, and for K answers with its own KeyUpdate and seals the
    second response under its next keys, which the client must open."""
    cmd = ["openssl", "s_client", "-connect", f"{anygw.addr}:{HTTPS_PORT}", "-servername", A, "-tls1_3",
           "-CAfile", str(anygw.certs.ca.cert)]  # (-ign_eof would turn the command letters off)
    keyed = anygw.listener()["ssl_key_updates"]
    base = f"/ku/{'K' if request_update else 'k'}"
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # s_client reads a command only when it is all it read: the lines go
        # one at a time. It exits when the gateway closes after the second
        # response (Connection: close), before its stdin ends.
        for chunk in (f"GET {base}/1 HTTP/1.1\r\nHost: {A}\r\n\r\n".encode(), b"K\n" if request_update else b"k\n",
                      f"GET {base}/2 HTTP/1.1\r\nHost: {A}\r\nConnection: close\r\n\r\n".encode()):
            time.sleep(0.5)
            try:
                p.stdin.write(chunk)
                p.stdin.flush()
            except BrokenPipeError:
                break  # s_client is gone: its output says why
        p.wait(timeout=20)  # stdin stays open: its end would make s_client close first
        out, err = p.stdout.read(), p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = out.decode("latin-1")
    assert "KEYUPDATE" in text + err.decode("latin-1"), text + err.decode("latin-1")
    assert text.count("HTTP/1.1 200") == 2 and "400 Bad Request" not in text, text
    assert [r.target for r in anygw.ups["a"].requests(base)] == [f"{base}/1", f"{base}/2"]
    assert wait_until(lambda: anygw.listener()["ssl_key_updates"] - keyed == anygw.offloaded(1), 5), anygw.listener()


@pytest.mark.parametrize("version", VERSIONS)
def test_session_resumption(anygw, version, tmp_path):
    sess = tmp_path / f"session-{version}.pem"
    flag = S_CLIENT_VERSION[version]
    before = anygw.ssl_counters()
    first = anygw.s_client(A, flag, "-sess_out", str(sess), target=f"/resume/{version}/1")
    assert first.status == 200 and not first.reused, first
    assert sess.exists() and sess.stat().st_size > 0, f"no session (ticket) to resume: {first!r}"
    second = anygw.s_client(A, flag, "-sess_in", str(sess), target=f"/resume/{version}/2")
    assert second.reused and second.protocol == f"TLSv{version}", second
    assert second.status == 200 and second.response.upstream == "a", second
    anygw.assert_ssl_deltas(before, ssl_handshake=2, ssl_session_reused=1, ssl_offloaded=anygw.offloaded(2))


# =====================================================================
# 6. protocol versions per server


def test_min_tls13_server_refuses_tls12(gw):
    before = gw.ssl_counters()
    r = gw.s_client(MIN13, "-tls1_2", target="/min13/12")
    assert ALERT_PROTOCOL_VERSION in r.err and r.response is None, r
    c = gw.curl(MIN13, "/min13/12-curl", *CURL_VERSION["1.2"])
    assert c.rc == 35 and ALERT_PROTOCOL_VERSION in c.error, c
    gw.assert_ssl_deltas(before, ssl_connection_error=2)
    assert gw.ups["min13"].requests("/min13/12") == []
    ok = gw.s_client(MIN13, "-tls1_3", target="/min13/13")
    assert ok.protocol == "TLSv1.3" and ok.status == 200 and ok.response.upstream == "min13", ok
    # The version floor is the server's, not the port's: TLS 1.2 to another name works.
    other = gw.s_client(A, "-tls1_2", target="/min13/other-server")
    assert other.protocol == "TLSv1.2" and other.status == 200 and other.response.upstream == "a", other


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
@pytest.mark.parametrize("sni", [A, None], ids=["sni", "no-sni"])
def test_tls10_and_tls11_are_refused(gw, flag, sni):
    before = gw.ssl_counters()
    # SECLEVEL=0 so that OpenSSL 3's client offers these versions at all.
    r = gw.s_client(sni, flag, "-cipher", "DEFAULT:@SECLEVEL=0", target="/old-version", host=A)
    assert ALERT_PROTOCOL_VERSION in r.err and r.response is None, r
    gw.assert_ssl_deltas(before, ssl_connection_error=1)


def test_max_tls12_and_cipher_suites_follow_the_sni(gw):
    r = gw.s_client(ONLY12, target="/only12/default")  # offers 1.3 and every suite
    assert (r.protocol, r.cipher) == ("TLSv1.2", ONLY12_SUITE), r
    assert r.status == 200 and r.response.upstream == "only12", r
    before = gw.ssl_counters()
    r = gw.s_client(ONLY12, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", target="/only12/other-suite")
    assert ALERT_HANDSHAKE_FAILURE in r.err and r.response is None, r
    r = gw.s_client(ONLY12, "-tls1_3", target="/only12/tls13")
    assert ALERT_PROTOCOL_VERSION in r.err and r.response is None, r
    gw.assert_ssl_deltas(before, ssl_connection_error=2)
    # The same suite and version are fine on the port's other servers.
    r = gw.s_client(A, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", target="/only12/a")
    assert r.status == 200 and r.response.upstream == "a", r


# =====================================================================
# dual certificates (credentialNames): the client's signature offer picks

DUAL_CASES = [
    ("tls13-rsa-only-sigalgs", ["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"], "dual_rsa"),
    ("tls13-ecdsa-only-sigalgs", ["-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256"], "dual_ecdsa"),
    ("tls12-ecdhe-rsa", ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], "dual_rsa"),
    ("tls12-ecdhe-ecdsa", ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], "dual_ecdsa"),
]


@pytest.mark.parametrize("args,which", [c[1:] for c in DUAL_CASES], ids=[c[0] for c in DUAL_CASES])
def test_dual_certificate_follows_the_signature_offer(gw_dual, args, which):
    want = getattr(gw_dual.certs, which)
    before = gw_dual.ssl_counters()
    r = gw_dual.s_client(DUAL, *args, target=f"/dual/{which}")
    assert r.leaf is not None and r.leaf.serial_number == want.x509.serial_number, \
        (f"want {want.cn} ({want.key_type}), got {cert_cn(r.leaf) if r.leaf else None} "
         f"({key_type(r.leaf) if r.leaf else None})", r)
    assert r.verify_code == 0 and r.status == 200 and r.response.upstream == "dual", r
    gw_dual.assert_ssl_deltas(before, ssl_handshake=1, ssl_offloaded=1)


# =====================================================================
# 7. MUTUAL

MTLS_SERVERS = [(MTLS_PORT, MTLS, "mtls"), (MTLS_CA_PORT, MTLS2, "mtls2")]
MTLS_IDS = ["ca-from-cacert-secret", "ca-from-ca.crt"]


@pytest.mark.parametrize("port,host,upstream", MTLS_SERVERS, ids=MTLS_IDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mutual_accepts_a_client_certificate_from_the_ca(anygw, version, port, host, upstream):
    cl = anygw.certs.client
    before = anygw.ssl_counters(port)
    r = anygw.curl(host, f"/mtls/{version}", *CURL_VERSION[version], "--cert", str(cl.chain), "--key", str(cl.key),
                   port=port)
    assert r.rc == 0 and r.status == 200 and r.protocol == f"TLSv{version}", r
    assert r.header("x-upstream") == upstream and r.seen_headers("x-forwarded-proto") == ["https"], r
    anygw.assert_ssl_deltas(before, port, ssl_handshake=1, ssl_offloaded=anygw.offloaded(1))


@pytest.mark.parametrize("port,host,upstream", MTLS_SERVERS, ids=MTLS_IDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mutual_refuses_a_client_without_certificate(gw, version, port, host, upstream):
    alert = ALERT_CERTIFICATE_REQUIRED if version == "1.3" else ALERT_HANDSHAKE_FAILURE
    before = gw.ssl_counters(port)
    r = gw.s_client(host, S_CLIENT_VERSION[version], target="/mtls/no-cert", port=port)
    assert alert in r.err and r.response is None, r
    c = gw.curl(host, "/mtls/no-cert-curl", *CURL_VERSION[version], port=port)
    assert c.rc != 0 and alert in c.error, c
    gw.assert_ssl_deltas(before, port, ssl_no_certificate=2, ssl_connection_error=2)
    assert gw.ups[upstream].requests("/mtls/no-cert") == []


@pytest.mark.parametrize("port,host,upstream", MTLS_SERVERS, ids=MTLS_IDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mutual_refuses_a_certificate_from_another_ca(gw, version, port, host, upstream):
    bad = gw.certs.intruder
    before = gw.ssl_counters(port)
    r = gw.s_client(host, S_CLIENT_VERSION[version], "-cert", str(bad.cert), "-key", str(bad.key),
                    target="/mtls/other-ca", port=port)
    assert ALERT_UNKNOWN_CA in r.err and r.response is None, r
    c = gw.curl(host, "/mtls/other-ca-curl", *CURL_VERSION[version], "--cert", str(bad.cert), "--key", str(bad.key),
                port=port)
    assert c.rc != 0 and ALERT_UNKNOWN_CA in c.error, c
    gw.assert_ssl_deltas(before, port, ssl_fail_verify_error=2, ssl_connection_error=2)
    assert gw.ups[upstream].requests("/mtls/other-ca") == []


PIN_SERVERS = [(MTLS_SAN_PORT, "ssl_fail_verify_san"), (MTLS_HASH_PORT, "ssl_fail_verify_cert_hash"),
               (MTLS_SPKI_PORT, "ssl_fail_verify_cert_hash")]
PIN_IDS = ["subjectAltNames", "verifyCertificateHash", "verifyCertificateSpki"]


@pytest.mark.parametrize("port,counter", PIN_SERVERS, ids=PIN_IDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mutual_pins_accept_the_named_client(anygw, version, port, counter):
    """The client's SPIFFE URI SAN is the second name listed; its hash is
    listed in Istio's colon form; its SPKI is pinned while the hash list names
    another certificate (either list accepts, as in Envoy)."""
    cl = anygw.certs.client
    before = anygw.ssl_counters(port)
    r = anygw.curl(MTLS, f"/pin/{port}/{version}", *CURL_VERSION[version], "--cert", str(cl.chain), "--key",
                   str(cl.key), port=port)
    assert r.rc == 0 and r.status == 200 and r.header("x-upstream") == "mtls", r
    anygw.assert_ssl_deltas(before, port, ssl_handshake=1, ssl_offloaded=anygw.offloaded(1))


@pytest.mark.parametrize("port,counter", PIN_SERVERS, ids=PIN_IDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mutual_pins_refuse_another_client_of_the_same_ca(gw, version, port, counter):
    """A certificate the CA signed but the pins do not name: bad_certificate,
    counted as Envoy counts it, and nothing reaches the upstream."""
    other = gw.certs.client_other
    before = gw.ssl_counters(port)
    r = gw.s_client(MTLS, S_CLIENT_VERSION[version], "-cert", str(other.cert), "-key", str(other.key),
                    target="/pin/other", port=port)
    assert ALERT_BAD_CERTIFICATE in r.err and r.response is None, r
    c = gw.curl(MTLS, "/pin/other-curl", *CURL_VERSION[version], "--cert", str(other.cert), "--key",
                str(other.key), port=port)
    assert c.rc != 0 and ALERT_BAD_CERTIFICATE in c.error, c
    gw.assert_ssl_deltas(before, port, ssl_connection_error=2, **{counter: 2})
    assert gw.ups["mtls"].requests("/pin/other") == [] and gw.ups["mtls"].requests("/pin/other-curl") == []


def test_mutual_server_certificate_is_its_own(gw):
    # The client CA does not replace the server chain: each port serves its leaf.
    assert peer_certificate(gw.addr, MTLS_PORT, MTLS).serial_number == gw.certs.mtls.x509.serial_number
    assert peer_certificate(gw.addr, MTLS_CA_PORT, MTLS2).serial_number == gw.certs.mtls2.x509.serial_number


# =====================================================================
# 8. gnutls-cli

GNUTLS_CASES = [("1.2", A, "a"), ("1.3", A, "a"), ("1.2", B, "b"), ("1.3", B, "b")]


@pytest.mark.parametrize("version,sni,upstream", GNUTLS_CASES, ids=[f"tls{v}-{u}" for v, _, u in GNUTLS_CASES])
def test_gnutls_cli(anygw, version, sni, upstream):
    r = gnutls_cli(anygw.addr, HTTPS_PORT, sni, anygw.certs.ca, f"NORMAL:-VERS-ALL:+VERS-TLS{version}",
                   http_request_bytes(sni, f"/gnutls/{version}"))
    assert r.handshake_ok and r.trusted and r.protocol == f"TLS{version}", r
    assert r.status == 200 and r.response.upstream == upstream, r
    assert r.response.json()["path"] == f"/gnutls/{version}", r


# =====================================================================
# 9. testssl

TESTSSL_VULNS = ["heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS",
                 "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13",
                 "RC4"]


@pytest.mark.slow
def test_testssl_scan(gw, tmp_path):
    """testssl's protocols (-p), cipher categories (-s), ciphers per
    protocol (-E) and vulnerabilities (-U) against b.tls.example.com (RSA:
    ROBOT and the RSA paths get exercised; the ECDSA suites are covered by
    the s_client tests)."""
    before = gw.ssl_counters()
    t = run_testssl(gw.addr, HTTPS_PORT, B, tmp_path, ["-p", "-s", "-E", "-U"])
    f = t.by_id()
    assert t.findings and "scanTime" in f, t
    assert not [x for x in t.findings if x["id"].startswith("scanProblem") or x["severity"] == "FATAL"], t
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert f[proto]["finding"].startswith("not offered"), (proto, f[proto], t)
    assert f["TLS1_2"]["finding"].startswith("offered"), f["TLS1_2"]
    assert f["TLS1_3"]["finding"].startswith("offered"), f["TLS1_3"]
    assert f["ALPN"]["finding"] == "http/1.1", f["ALPN"]
    for cat in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
        assert f[f"cipherlist_{cat}"]["finding"] == "not offered", (cat, f[f"cipherlist_{cat}"])
    assert f["cipherlist_STRONG"]["finding"].startswith("offered"), f["cipherlist_STRONG"]
    # -E, one finding per offered suite: id cipher-<protocol>_x<code>, finding
    # "TLS 1.2   xc02b   ECDHE-ECDSA-AES128-GCM-SHA256   ECDH 253   AESGCM ...".
    offered: dict = {}
    for x in t.findings:
        m = re.fullmatch(r"cipher-(\w+?)_x[0-9a-f]+", x["id"])
        if m:
            offered.setdefault(m.group(1), set()).add(x["finding"].split()[3])
    assert offered == {"tls1_2": set(TLS12_RSA_SUITES), "tls1_3": set(TLS13_SUITES)}, offered
    for vid in TESTSSL_VULNS:
        assert vid in f, (vid, sorted(f))
        assert f[vid]["severity"] in ("OK", "INFO", "LOW"), f[vid]
    bad = [x for x in t.findings if x["severity"] in ("MEDIUM", "HIGH", "CRITICAL")]
    assert not bad, bad
    assert t.seconds < 180, f"testssl took {t.seconds:.0f}s"
    # The scan's many refused handshakes left the gateway serving and counting.
    after = gw.ssl_counters()
    assert after["ssl_handshake"] > before["ssl_handshake"] and \
        after["ssl_connection_error"] > before["ssl_connection_error"], (before, after)
    assert gw.curl(A, "/after-testssl").status == 200
    assert gw.ups["b"].requests("/") != [], "testssl's HTTP checks (BREACH) never reached the upstream"


# =====================================================================
# 10. wrk


def test_wrk_https_load(anygw):
    before = anygw.ssl_counters()
    nginx_before = len([e for e in anygw.nginx.entries() if e["uri"].startswith("/wrk")])
    # wrk sends the URL's host (an address) as SNI: an unknown name, so the
    # first server (a.tls.example.com) answers, and routes the Host header.
    w = wrk(f"https://{anygw.addr}:{HTTPS_PORT}/wrk/load", A, threads=1, connections=16, duration_s=5)
    assert w.rc == 0 and w.requests >= 500, w
    assert w.socket_errors == {} and w.non_2xx_3xx == 0, w
    got = wait_until(lambda: len([e for e in anygw.nginx.entries() if e["uri"].startswith("/wrk")])
                     - nginx_before >= w.requests, 5)
    seen = len([e for e in anygw.nginx.entries() if e["uri"].startswith("/wrk")]) - nginx_before
    assert got and w.requests <= seen <= w.requests + 16, (seen, w)
    after = anygw.ssl_counters()
    handshakes = after["ssl_handshake"] - before["ssl_handshake"]
    assert 16 <= handshakes <= 32, (before, after)  # one per connection (wrk may reconnect a few)
    assert after["ssl_connection_error"] == before["ssl_connection_error"], (before, after)
    assert after["ssl_offloaded"] - before["ssl_offloaded"] == anygw.offloaded(handshakes), (before, after)


def rotation_config(peer: str, leaf) -> str:
    """a.tls.example.com alone, its Secret holding `leaf`, routed to nginx."""
    return docs(
        gateway("rot-gw", [https_server(HTTPS_PORT, "https-a", [A], "a-cert")]),
        tls_secret("a-cert", leaf),
        service_entry("wrk", svc("wrk"), SVC_PORT, [(peer, NGINX_PORT, {})]),
        virtual_service("vs-a", [A], [{"route": [dest(svc("wrk"), SVC_PORT)]}], ["rot-gw"]))


def test_certificate_replaced_during_a_wrk_run(linegate_factory, tmp_path, certs):
    """The Secret gets a new certificate, pushed by linegate-agent as a
    cluster's Secret change is, while wrk opens a TLS connection per request
    (Connection: close): no request fails, handshakes after the push get the
    new certificate, and a connection opened before it keeps working with
    the certificate it started with."""
    nxt = certs.pki.issue("a-next", A, [A])
    watch = tmp_path / "watch"
    watch.mkdir()
    agent = AgentProcess(tmp_path / "agent.log", [watch], debounce_ms=20).start()
    nginx = held = None
    try:
        g = linegate_factory.create(extra_top={"tcp": {"time_wait_ms": 0, "max_connections": 8192},
                                               "agent": agent.bootstrap()})
        path = watch / "config.yaml"
        write_config(path, rotation_config(g.peer4, certs.a))
        g.start()
        g.configure_kernel()
        version = wait_config_applied(g, "")["version"]
        nginx = NginxUpstream(tmp_path, g.peer4, NGINX_PORT, "wrk")
        ctx = client_context(certs.ca, minimum=ssl.TLSVersion.TLSv1_3)
        held = TlsConn(g.ip4, HTTPS_PORT, A, ctx)
        assert held.request("GET", "/wrk/held-before", A).status == 200
        assert held.peer_cert().serial_number == certs.a.x509.serial_number
        result = {}
        t = threading.Thread(target=lambda: result.update(w=wrk(
            f"https://{g.ip4}:{HTTPS_PORT}/wrk/rotate", A, threads=1, connections=8, duration_s=6,
            extra=["-H", "Connection: close"])))
        t.start()
        time.sleep(2)
        write_config(path, rotation_config(g.peer4, nxt))
        wait_config_applied(g, version)
        t.join(timeout=90)
        w = result["w"]
        assert w.rc == 0 and w.requests >= 100, w
        assert w.socket_errors == {} and w.non_2xx_3xx == 0, w
        st = g.stats()
        assert st[f"listener.0.0.0.0_{HTTPS_PORT}.ssl_handshake"] >= w.requests, w  # one per request
        assert st[f"listener.0.0.0.0_{HTTPS_PORT}.ssl_connection_error"] == 0
        assert peer_certificate(g.ip4, HTTPS_PORT, A).serial_number == nxt.x509.serial_number
        assert held.request("GET", "/wrk/held-after", A).status == 200
        assert held.peer_cert().serial_number == certs.a.x509.serial_number
    finally:
        if held is not None:
            held.close()
        if nginx is not None:
            nginx.close()
        agent.stop()


# =====================================================================
# 10b. session tickets across config pushes and key rotations

ROTATION_S = 2  # the resumption gateway's tls.ticket_key_rotation_s: two rotations take seconds


def resumption_config(peer: str, leaf) -> str:
    """a.tls.example.com alone, its Secret holding `leaf`, routed to the upstream "a"."""
    return docs(
        gateway("resume-gw", [https_server(HTTPS_PORT, "https-a", [A], "a-cert")]),
        tls_secret("a-cert", leaf),
        service_entry("a", svc("a"), SVC_PORT, [(peer, UPSTREAMS["a"], {})]),
        virtual_service("vs-a", [A], [{"route": [dest(svc("a"), SVC_PORT)]}], ["resume-gw"]))


TICKET_RE = re.compile(r"TLS session ticket:\n((?:\s+[0-9a-f]{4} - .*\n)+)")


def session_ticket(path) -> tuple[str, int]:
    """The ticket an s_client session file holds (hex dump) and its lifetime hint."""
    text = subprocess.run(["openssl", "sess_id", "-in", str(path), "-noout", "-text"], capture_output=True,
                          text=True, check=True).stdout
    hint = re.search(r"TLS session ticket lifetime hint: (\d+)", text)
    ticket = TICKET_RE.search(text)
    assert hint and ticket, text
    return ticket.group(1), int(hint.group(1))


def tickets_printed(r) -> set[str]:
    """Every ticket s_client printed: the session's, and TLS 1.3's post-handshake ones."""
    return set(TICKET_RE.findall(r.out.decode("latin-1")))


def test_tickets_survive_a_config_push_and_one_key_rotation_not_two(linegate_factory, tmp_path, certs):
    """One set of ticket keys serves every snapshot, rotated every
    ROTATION_S seconds. A TLS 1.2 ticket and a TLS 1.3 ticket, taken under
    one key, resume after linegate-agent pushes a renewed certificate
    (every OpenSSL context built anew), still resume after one rotation
    (the previous key opens them, and they are re-issued), and get a full
    handshake after two. ssl_session_reused counts the resumptions.

    The rotations happen on their own timer: each check is decided by the
    rotation count read around it (tls.ticket_key_rotations), not by time;
    a round whose count lands between two outcomes is run again."""
    nxt = certs.pki.issue("a-resume-next", A, [A])
    watch = tmp_path / "watch"
    watch.mkdir()
    agent = AgentProcess(tmp_path / "agent.log", [watch], debounce_ms=20).start()
    ups = None
    try:
        g = linegate_factory.create(extra_top={"tcp": {"time_wait_ms": 0},
                                               "tls": {"ticket_key_rotation_s": ROTATION_S},
                                               "agent": agent.bootstrap()})
        path = watch / "config.yaml"
        write_config(path, resumption_config(g.peer4, certs.a))
        g.start()
        g.configure_kernel()
        version = wait_config_applied(g, "")["version"]
        ups = Upstreams(g.peer4)
        ups.add("a", UPSTREAMS["a"])
        listener = f"listener.0.0.0.0_{HTTPS_PORT}."

        def rotations() -> int:
            return g.stats()["tls.ticket_key_rotations"]

        def connect(v: str, target: str, *args: str):
            r = s_client(g.ip4, HTTPS_PORT, A, "-CAfile", str(certs.ca.cert), S_CLIENT_VERSION[v], *args,
                         request=http_request_bytes(A, target))
            assert r.status == 200 and r.response.upstream == "a" and r.protocol == f"TLSv{v}", r
            return r

        def resume(sess: dict, round_: int, step: str) -> dict:
            """Both versions resume their session files; {version: s_client run}."""
            st = g.stats()
            handshakes, reused_before = st[listener + "ssl_handshake"], st[listener + "ssl_session_reused"]
            runs = {v: connect(v, f"/resume/{round_}/{step}/{v}", "-sess_in", str(sess[v])) for v in VERSIONS}
            want = {listener + "ssl_handshake": handshakes + 2,
                    listener + "ssl_session_reused": reused_before + sum(r.reused for r in runs.values())}
            assert wait_until(lambda: {k: g.stats()[k] for k in want} == want, lgtest.COUNTER_TIMEOUT), \
                (want, g.stats())
            return runs

        def reused(runs: dict) -> dict:
            return {v: r.reused for v, r in runs.items()}

        rounds = 3
        served = certs.a
        for round_ in range(rounds):
            # Start right after a rotation: the sessions are sealed under key r0.
            start = rotations()
            assert wait_until(lambda: rotations() > start, 3 * ROTATION_S), "no key rotation"
            r0 = rotations()
            sealed_at = time.monotonic()
            sess = {v: tmp_path / f"session-{round_}-{v}.pem" for v in VERSIONS}
            for v in VERSIONS:
                assert not connect(v, f"/resume/{round_}/first/{v}", "-sess_out", str(sess[v])).reused
            tickets = {v: session_ticket(sess[v]) for v in VERSIONS}
            for v in VERSIONS:
                assert tickets[v][1] == 2 * ROTATION_S, tickets[v]  # a ticket lives two periods
            if rotations() != r0:
                continue  # a rotation came while sealing

            # A config push: the agent sends the renewed certificate; every
            # OpenSSL context is built anew, the keys stay. It alternates from
            # what is served (a round skipped above pushed nothing: the same
            # text again would make no new version).
            served = nxt if served is certs.a else certs.a
            write_config(path, resumption_config(g.peer4, served))
            version = wait_config_applied(g, version)["version"]
            runs = resume(sess, round_, "pushed")
            if rotations() > r0 + 1:
                continue  # two rotations while pushing: nothing to tell
            assert reused(runs) == {"1.2": True, "1.3": True}, "a config push lost the sessions"

            # One rotation: the previous key opens the tickets and they are re-issued.
            assert wait_until(lambda: rotations() > r0, 3 * ROTATION_S), "no key rotation"
            if rotations() > r0 + 1 or time.monotonic() - sealed_at > 1.5 * ROTATION_S:
                continue  # too near the second rotation or the end of the sessions' lifetime
            runs = resume(sess, round_, "one-rotation")
            if rotations() > r0 + 1:
                continue
            assert reused(runs) == {"1.2": True, "1.3": True}, "the previous key no longer opens the tickets"
            for v in VERSIONS:
                assert tickets_printed(runs[v]) - {tickets[v][0]}, f"TLS {v}: the ticket was not re-issued"

            # Two rotations: the key that sealed them is gone, a full handshake.
            assert wait_until(lambda: rotations() >= r0 + 2, 3 * ROTATION_S), "no key rotation"
            assert reused(resume(sess, round_, "two-rotations")) == {"1.2": False, "1.3": False}
            break
        else:
            pytest.fail(f"every round raced a key rotation ({rounds} rounds of {ROTATION_S} s)")
    finally:
        if ups is not None:
            ups.close()
        agent.stop()


# =====================================================================
# 11. what is not TLS, or not all of it


def _closed_without_answer(s: socket.socket, timeout: float = 5.0) -> tuple[bool, bytes]:
    """Reads until EOF/RST; (closed within timeout, bytes received)."""
    got = b""
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                return True, got
            got += b
    except (ConnectionResetError, BrokenPipeError):
        return True, got
    except socket.timeout:
        return False, got
    return False, got


def _assert_still_serving(gw):
    assert gw.g.alive(), gw.g.log_text()
    r = gw.curl(A, "/still-serving")
    assert r.rc == 0 and r.status == 200 and r.header("x-upstream") == "a", r


def test_plain_http_on_the_https_port_is_closed(gw):
    before = gw.ssl_counters()
    with socket.create_connection((gw.addr, HTTPS_PORT), timeout=5) as s:
        s.sendall(f"GET /plain HTTP/1.1\r\nHost: {A}\r\n\r\n".encode())
        closed, got = _closed_without_answer(s)
    assert closed, f"still open; got {got!r}"
    assert not got.startswith(b"HTTP/"), got  # no cleartext answer
    assert got == b"" or got[0] == 0x15, got  # at most a TLS alert
    gw.assert_ssl_deltas(before, ssl_connection_error=1)
    assert gw.ups["a"].requests("/plain") == []
    _assert_still_serving(gw)


GARBAGE = [  # deterministic bytes, none of them a ClientHello
    ("binary-noise", lambda: b"\x01" + random.Random(11).randbytes(299)),
    ("handshake-record-garbage-body", lambda: b"\x16\x03\x01\x01\x00" + random.Random(12).randbytes(256)),
    ("server-hello-from-a-client", lambda: b"\x16\x03\x01\x00\x08\x02\x00\x00\x04\x03\x03\x00\x00"),
    ("application-data-first", lambda: b"\x17\x03\x03\x00\x20" + bytes(32)),
    ("oversized-record", lambda: b"\x16\x03\x01\xff\xff" + random.Random(13).randbytes(1024)),
]


@pytest.mark.parametrize("make", [g[1] for g in GARBAGE], ids=[g[0] for g in GARBAGE])
def test_garbage_instead_of_a_client_hello_is_closed(gw, make):
    before = gw.ssl_counters()
    with socket.create_connection((gw.addr, HTTPS_PORT), timeout=5) as s:
        try:
            s.sendall(make())
        except (ConnectionResetError, BrokenPipeError):
            pass
        closed, got = _closed_without_answer(s)
    assert closed, f"still open; got {got!r}"
    assert got == b"" or got[0] == 0x15, got
    gw.assert_ssl_deltas(before, ssl_connection_error=1)
    _assert_still_serving(gw)


@pytest.mark.parametrize("cut", [5, 60, 300])
def test_truncated_client_hello_then_eof_is_closed(gw, cut):
    hello = client_hello_bytes(A)
    assert len(hello) > cut
    before_active = gw.listener()["downstream_cx_active"]
    before = gw.ssl_counters()
    with socket.create_connection((gw.addr, HTTPS_PORT), timeout=5) as s:
        s.sendall(hello[:cut])
        s.shutdown(socket.SHUT_WR)
        closed, got = _closed_without_answer(s)
    assert closed, f"still open after the client's FIN; got {got!r}"
    assert got == b"" or got[0] == 0x15, got
    # A client that leaves before its hello is complete is not a TLS error
    # (Envoy sees a remote close): no counter moves.
    gw.assert_ssl_deltas(before)
    assert wait_until(lambda: gw.listener()["downstream_cx_active"] <= before_active, 5), gw.listener()
    _assert_still_serving(gw)


def test_client_resets_mid_handshake(gw):
    # The client sends a hello and resets the connection before the server's flight is read.
    for _ in range(5):
        s = socket.create_connection((gw.addr, HTTPS_PORT), timeout=5)
        s.sendall(client_hello_bytes(A))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    _assert_still_serving(gw)
    assert wait_until(lambda: gw.listener()["downstream_cx_active"] == 0, 5), gw.listener()
