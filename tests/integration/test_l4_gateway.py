"""The L4 gateway through a tap with kernel peers: TCP routes (bulk, many
connections, weights), TLS PASSTHROUGH by SNI with openssl s_client against
openssl s_server upstreams, AUTO_PASSTHROUGH (cluster and subset from the
SNI), outlier detection on refused connections, maxConnections, and the
tls_inspector's bounds (malformed hello, timeout).

Upstreams live on the kernel side of the same tap (the peer address,
distinct ports); clients connect to the dataplane's address."""
import json
import os
import socket
import ssl
import threading
import time

import pytest

import lgtest
from l4_peers import (TcpServer, TlsServer, gateway, greeting, s_client_subject, service_entry, start_standalone)
from lgtest import wait_until
from tcp_peers import echo_transfer

pytestmark = pytest.mark.usefixtures("linegate_env")

GB = int(os.environ.get("LG_L4_BULK_BYTES", 1 << 30))  # smaller for local debugging


def start(factory, tmp_path, make_yaml, **proxy):
    """A linegate in standalone mode whose config make_yaml(peer) builds
    once the tap's kernel address (the upstreams' address) is known."""
    g, info = start_standalone(factory, make_yaml, {"tcp": {"time_wait_ms": 0, "max_connections": 8192},
                                                    "proxy": {"hello_timeout_ms": 1000, **proxy}})
    assert info["update_success"] == 1 and info["last_error"] == "", g.log_text()
    return g


def tcp_route_config(peer: str, listen_port: int, backends: list[tuple[str, int, int]], dr: str = "") -> str:
    """A TCP Gateway server on listen_port; one VirtualService tcp rule
    splitting over ServiceEntries (name, upstream port, weight)."""
    docs = [gateway("l4", f"  - port: {{number: {listen_port}, name: tcp, protocol: TCP}}\n    hosts: ['*']\n")]
    route = []
    for name, port, weight in backends:
        docs.append(service_entry(name, f"{name}.l4.test", port, "TCP", [{"address": peer, "port": port}]))
        route.append(f"    - destination: {{host: {name}.l4.test, port: {{number: {port}}}}}\n      weight: {weight}")
    docs.append(f"""\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: tcp-routes, namespace: istio-system}}
spec:
  hosts: ['*']
  gateways: [l4]
  tcp:
  - match: [{{port: {listen_port}}}]
    route:
""" + "\n".join(route) + "\n")
    if dr:
        docs.append(dr)
    return "---\n".join(docs)


def cluster_stats(g, name: str) -> dict:
    prefix = f"cluster.{name}."
    return {k[len(prefix):]: v for k, v in g.stats().items() if k.startswith(prefix)}


def listener_stats(g, name: str) -> dict:
    prefix = f"listener.{name}."
    return {k[len(prefix):]: v for k, v in g.stats().items() if k.startswith(prefix)}


def hosts(g, cluster: str) -> dict:
    for c in json.loads(g.get("/clusters?format=json"))["cluster_statuses"]:
        if c["name"] == cluster:
            return {f"{h['address']}:{h['port']}": h for h in c["host_statuses"]}
    raise AssertionError(f"no cluster {cluster}")


@pytest.mark.slow
def test_one_gigabyte_each_way_through_a_tcp_route(linegate_factory, tmp_path):
    g = start(linegate_factory, tmp_path, lambda peer: tcp_route_config(peer, 9000, [("echo", 9100, 100)]))
    echo = TcpServer(g.peer4, 9100, mode="echo")
    try:
        got, same = echo_transfer(g.ip4, 9000, GB, timeout=600)
        assert got == GB and same, (got, same)
        st = cluster_stats(g, "outbound|9100||echo.l4.test")
        assert st["upstream_cx_total"] == 1 and st["upstream_cx_rx_bytes_total"] == GB, st
        assert st["upstream_cx_tx_bytes_total"] == GB, st
        ls = listener_stats(g, "0.0.0.0_9000")
        assert ls["downstream_cx_rx_bytes_total"] == GB and ls["downstream_cx_tx_bytes_total"] == GB, ls
        # The half-close went through both ways and both connections closed.
        assert wait_until(lambda: listener_stats(g, "0.0.0.0_9000")["downstream_cx_active"] == 0, 10)
        assert wait_until(lambda: cluster_stats(g, "outbound|9100||echo.l4.test")["upstream_cx_active"] == 0, 10)
    finally:
        echo.close()


def test_thousand_concurrent_proxied_connections(linegate_factory, tmp_path):
    g = start(linegate_factory, tmp_path, lambda peer: tcp_route_config(peer, 9000, [("echo", 9100, 100)]))
    echo = TcpServer(g.peer4, 9100, mode="echo")
    socks = []
    try:
        for i in range(1000):
            s = socket.create_connection((g.ip4, 9000), timeout=20)
            s.sendall(f"hello {i}\n".encode())
            socks.append(s)
        for i, s in enumerate(socks):
            want = f"hello {i}\n".encode()
            got = b""
            while len(got) < len(want):
                b = s.recv(64)
                assert b, f"connection {i} closed early"
                got += b
            assert got == want
        ls = listener_stats(g, "0.0.0.0_9000")
        assert ls["downstream_cx_active"] == 1000 and ls["downstream_cx_total"] == 1000, ls
        assert cluster_stats(g, "outbound|9100||echo.l4.test")["upstream_cx_active"] == 1000
        assert echo.accepted == 1000
    finally:
        for s in socks:
            s.close()
        echo.close()
    assert wait_until(lambda: listener_stats(g, "0.0.0.0_9000")["downstream_cx_active"] == 0, 20), \
        listener_stats(g, "0.0.0.0_9000")


def test_weighted_route_splits_2000_connections_50_50(linegate_factory, tmp_path):
    g = start(linegate_factory, tmp_path,
              lambda peer: tcp_route_config(peer, 9000, [("blue", 9101, 50), ("green", 9102, 50)]))
    blue, green = TcpServer(g.peer4, 9101, name="blue"), TcpServer(g.peer4, 9102, name="green")
    try:
        seen = {"blue": 0, "green": 0}
        for _ in range(2000):
            who = greeting(g.ip4, 9000)
            assert who in seen, who
            seen[who] += 1
        assert 950 <= seen["blue"] <= 1050 and seen["blue"] + seen["green"] == 2000, seen
    finally:
        blue.close()
        green.close()


def test_refusing_endpoint_is_ejected_and_returns_after_base_ejection_time(linegate_factory, tmp_path):
    dr = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pool, namespace: istio-system}
spec:
  host: pool.l4.test
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 3s, maxEjectionPercent: 100}
"""

    def cfg(peer):
        docs = [gateway("l4", "  - port: {number: 9000, name: tcp, protocol: TCP}\n    hosts: ['*']\n"),
                service_entry("pool", "pool.l4.test", 9300, "TCP",
                              [{"address": peer, "port": 9301}, {"address": peer, "port": 9302}]),
                """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pool, namespace: istio-system}
spec:
  hosts: ['*']
  gateways: [l4]
  tcp:
  - route:
    - destination: {host: pool.l4.test, port: {number: 9300}}
""", dr]
        return "---\n".join(docs)

    g = start(linegate_factory, tmp_path, cfg)
    cluster = "outbound|9300||pool.l4.test"
    good = TcpServer(g.peer4, 9301, name="good")  # 9302 refuses: the kernel answers RST
    bad_host = f"{g.peer4}:9302"
    revived = None
    try:
        # Every client still gets through: a refused connect goes to the next endpoint.
        for _ in range(10):
            assert greeting(g.ip4, 9000) == "good"
        h = hosts(g, cluster)
        assert h[bad_host]["cx_connect_fail"] == 3 and h[bad_host]["ejected"], h
        assert h[bad_host]["health_flags"] == "/failed_outlier_check"
        st = cluster_stats(g, cluster)
        assert st["outlier_detection_ejections_enforced_total"] == 1, st
        attempts = h[bad_host]["cx_total"]
        revived = TcpServer(g.peer4, 9302, name="revived")
        t0 = time.monotonic()
        # While ejected it gets nothing (even though it listens again now).
        while time.monotonic() - t0 < 2.0:
            assert greeting(g.ip4, 9000) == "good"
        assert hosts(g, cluster)[bad_host]["cx_total"] == attempts
        # Back after baseEjectionTime (3 s, swept at the 1 s interval).
        assert wait_until(lambda: not hosts(g, cluster)[bad_host]["ejected"], 5), hosts(g, cluster)
        names = {greeting(g.ip4, 9000) for _ in range(6)}
        assert names == {"good", "revived"}, names
        assert cluster_stats(g, cluster)["outlier_detection_ejections_active"] == 0
    finally:
        good.close()
        if revived:
            revived.close()


def test_max_connections_is_enforced(linegate_factory, tmp_path):
    dr = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: limited, namespace: istio-system}
spec:
  host: limited.l4.test
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 5, connectTimeout: 2s}
"""
    g = start(linegate_factory, tmp_path, lambda peer: tcp_route_config(peer, 9000, [("limited", 9400, 100)], dr))
    server = TcpServer(g.peer4, 9400, name="limited")
    cluster = "outbound|9400||limited.l4.test"
    held = []
    try:
        for _ in range(5):
            s = socket.create_connection((g.ip4, 9000), timeout=5)
            assert s.makefile("rb").readline() == b"limited\n"
            held.append(s)
        # The sixth is refused: reset without reaching the upstream.
        assert greeting(g.ip4, 9000) is None
        st = cluster_stats(g, cluster)
        assert st["upstream_cx_overflow"] == 1 and st["upstream_cx_active"] == 5, st
        assert server.accepted == 5
        held.pop().close()
        assert wait_until(lambda: cluster_stats(g, cluster)["upstream_cx_active"] == 4, 5)
        assert greeting(g.ip4, 9000) == "limited"
    finally:
        for s in held:
            s.close()
        server.close()


def passthrough_config(peer: str) -> str:
    docs = [gateway("tls", """\
  - port: {number: 9443, name: tls, protocol: TLS}
    hosts: [a.example.com, b.example.com]
    tls: {mode: PASSTHROUGH}
"""),
            service_entry("svc-a", "svc-a.l4.test", 9501, "TLS", [{"address": peer, "port": 9501}]),
            service_entry("svc-b", "svc-b.l4.test", 9502, "TLS", [{"address": peer, "port": 9502}]),
            """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: sni, namespace: istio-system}
spec:
  hosts: [a.example.com, b.example.com]
  gateways: [tls]
  tls:
  - match: [{port: 9443, sniHosts: [a.example.com]}]
    route: [{destination: {host: svc-a.l4.test, port: {number: 9501}}}]
  - match: [{port: 9443, sniHosts: [b.example.com]}]
    route: [{destination: {host: svc-b.l4.test, port: {number: 9502}}}]
"""]
    return "---\n".join(docs)


def handshake_split(host: str, port: int, sni: str, cafile, split_at: int, pause: float = 0.2) -> str:
    """TLS through the gateway with the ClientHello sent in two TCP segments
    (a pause between them); returns the server certificate's CN."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=sni)
    with socket.create_connection((host, port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = out.read()
        assert len(hello) > split_at
        s.sendall(hello[:split_at])
        time.sleep(pause)
        s.sendall(hello[split_at:])
        while True:
            data = s.recv(65536)
            assert data, "gateway closed the connection"
            inc.write(data)
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = out.read()
                if pending:
                    s.sendall(pending)
        s.sendall(out.read())
        subject = dict(x[0] for x in tls.getpeercert()["subject"])
        return subject["commonName"]


def test_passthrough_routes_by_sni_to_the_right_kernel_tls_server(linegate_factory, tmp_path):
    g = start(linegate_factory, tmp_path, passthrough_config)
    a = TlsServer(tmp_path, g.peer4, 9501, "a.example.com")
    b = TlsServer(tmp_path, g.peer4, 9502, "b.example.com")
    try:
        assert s_client_subject(g.ip4, 9443, "a.example.com") == "CN = a.example.com"
        assert s_client_subject(g.ip4, 9443, "b.example.com") == "CN = b.example.com"
        # Unknown SNI: refused, nothing reaches an upstream.
        assert s_client_subject(g.ip4, 9443, "c.example.com") is None
        ls = listener_stats(g, "0.0.0.0_9443")
        assert ls["downstream_cx_no_route"] == 1 and ls["tls_inspector_sni_found"] == 3, ls
        # A ClientHello split across segments (every few bytes of the record header and body).
        for split in (3, 5, 40, 200):
            assert handshake_split(g.ip4, 9443, "b.example.com", b.cert, split) == "b.example.com"
    finally:
        a.close()
        b.close()


def test_malformed_or_slow_client_hello_is_reset_and_counted(linegate_factory, tmp_path):
    g = start(linegate_factory, tmp_path, passthrough_config, hello_timeout_ms=500)

    def reset_or_closed(payload: bytes, wait: float = 5.0) -> bool:
        with socket.create_connection((g.ip4, 9443), timeout=wait) as s:
            if payload:
                s.sendall(payload)
            try:
                return s.recv(100) == b""
            except ConnectionResetError:
                return True

    assert reset_or_closed(b"GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n")
    # A record announcing a handshake bigger than the bound.
    assert reset_or_closed(bytes([22, 3, 1, 0x40, 0x00, 1, 0x00, 0xff, 0xff]) + b"\0" * 64)
    t0 = time.monotonic()
    assert reset_or_closed(b"")  # sends nothing: the bounded wait ends it
    assert 0.3 < time.monotonic() - t0 < 3.0
    ls = listener_stats(g, "0.0.0.0_9443")
    assert ls["tls_inspector_client_hello_malformed"] == 1, ls
    assert ls["tls_inspector_client_hello_too_large"] == 1, ls
    assert ls["tls_inspector_timeout"] == 1, ls
    assert ls["downstream_cx_active"] == 0, ls


def test_auto_passthrough_picks_cluster_and_subset_from_the_sni(linegate_factory, tmp_path):
    def cfg(peer):
        return "---\n".join([
            gateway("cross-network-gateway", """\
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ['*.local']
    tls: {mode: AUTO_PASSTHROUGH}
"""),
            service_entry("db", "db.vm.local", 3306, "TCP",
                          [{"address": peer, "port": 9601, "version": "v1"},
                           {"address": peer, "port": 9602, "version": "v2"}]),
            """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: istio-system}
spec:
  host: db.vm.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""])

    g = start(linegate_factory, tmp_path, cfg)
    v1 = TlsServer(tmp_path, g.peer4, 9601, "v1.db.vm.local")
    v2 = TlsServer(tmp_path, g.peer4, 9602, "v2.db.vm.local")
    try:
        for _ in range(3):
            assert s_client_subject(g.ip4, 15443, "outbound_.3306_.v1_.db.vm.local") == "CN = v1.db.vm.local"
            assert s_client_subject(g.ip4, 15443, "outbound_.3306_.v2_.db.vm.local") == "CN = v2.db.vm.local"
        # No subset: either endpoint of the service.
        seen = {s_client_subject(g.ip4, 15443, "outbound_.3306_._.db.vm.local") for _ in range(6)}
        assert seen == {"CN = v1.db.vm.local", "CN = v2.db.vm.local"}, seen
        # Not a cluster this gateway has, or outside the server's hosts: refused.
        assert s_client_subject(g.ip4, 15443, "outbound_.3306_.v3_.db.vm.local") is None
        assert s_client_subject(g.ip4, 15443, "db.vm.local") is None
        assert listener_stats(g, "0.0.0.0_15443")["downstream_cx_no_route"] == 2
    finally:
        v1.close()
        v2.close()
