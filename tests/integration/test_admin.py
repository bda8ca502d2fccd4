"""Admin HTTP endpoints and DPDK telemetry commands."""
import http.client
import json
import re
import socket
import time

import pytest

import lgtest
from lgtest import assert_ping

pytestmark = pytest.mark.usefixtures("linegate_env")

PINGS = 5


@pytest.fixture(scope="module")
def dut(shared_linegate):
    lg = shared_linegate()
    # ping may send a few more than asked while waiting for late replies.
    lg.pings4 = assert_ping(lg.ip4, count=PINGS).transmitted
    lg.pings6 = assert_ping(lg.ip6, count=PINGS, v6=True).transmitted
    lg.wait_counter("icmp_echo_replies_sent", lg.pings4)
    lg.wait_counter("icmp6_echo_replies_sent", lg.pings6)
    return lg


def test_ready(dut):
    status, headers, body = dut.request("GET", "/ready")
    assert (status, body) == (200, "LIVE\n")
    assert headers["Content-Type"].startswith("text/plain")


def test_stats_text_has_every_counter(dut):
    s = dut.stats()
    assert s["server.state"] == "LIVE"
    for reason in lgtest.drop_reasons():
        assert isinstance(s[f"port.p0.drop.{reason}"], int), reason
    for event in lgtest.event_names():
        assert isinstance(s[f"port.p0.{event}"], int), event
    assert s["port.p0.icmp_echo_replies_sent"] == dut.pings4
    assert s["port.p0.icmp6_echo_replies_sent"] == dut.pings6
    assert s["port.p0.link_up"] == 1
    assert s["worker.0.loop_iterations"] > 0


def test_software_counters_match_the_port(dut):
    """Every frame the port delivers is counted by the stack, and every frame
    the stack sends is counted by the port (equal once traffic is quiet)."""
    keys = [("rx_frames", "hw.rx_packets"), ("rx_bytes", "hw.rx_bytes"),
            ("tx_frames", "hw.tx_packets"), ("tx_bytes", "hw.tx_bytes")]
    last = {}

    def equal():
        s = dut.stats()
        last.update({k: (s[f"port.p0.{k}"], s[f"port.p0.{h}"]) for k, h in keys})
        return all(a == b for a, b in last.values())

    assert lgtest.wait_until(equal, lgtest.COUNTER_TIMEOUT, interval=0.1), last


def test_stats_json(dut):
    j = json.loads(dut.get("/stats?format=json"))
    assert j["node"]["id"] == dut.node_id and j["state"] == "LIVE"
    (port,) = j["ports"]
    assert port["name"] == "p0" and port["mac"].lower() == dut.mac
    assert set(port["drops"]) == set(lgtest.drop_reasons())
    assert set(port["events"]) == set(lgtest.event_names())
    assert port["events"]["icmp_echo_replies_sent"] == dut.pings4
    assert port["hw"]["rx_packets"] >= 2 * PINGS


def test_prometheus(dut):
    text = dut.get("/stats/prometheus")
    assert "# TYPE linegate_drops_total counter\n" in text
    assert "# HELP linegate_drops_total " in text
    samples = lgtest.parse_prometheus(text)
    drops = lgtest.prom_drops(samples)
    assert set(drops) == set(lgtest.drop_reasons()), "one linegate_drops_total line per reason"
    # Exactly one sample per (port, reason).
    assert len(re.findall(r'^linegate_drops_total\{port="p0",reason="[a-z0-9_]+"\} \d+$', text, re.M)) \
        == len(lgtest.drop_reasons())
    for event in lgtest.event_names():
        name = f"linegate_{event}_total"
        assert samples[("# TYPE", name)] == "counter", name
        assert (name, frozenset({("port", "p0")})) in samples, name
    assert samples[("linegate_icmp_echo_replies_sent_total", frozenset({("port", "p0")}))] == dut.pings4
    assert samples[("linegate_server_live", frozenset())] == 1
    # Same exposition through /stats?format=prometheus.
    alt = lgtest.parse_prometheus(dut.get("/stats?format=prometheus"))
    assert set(alt) == set(samples)


def test_server_info(dut):
    info = dut.server_info()
    assert info["node"] == {"id": dut.node_id, "cluster": "cluster1", "network": "network1"}
    assert info["state"] == "LIVE" and info["workers"] == 1
    (port,) = info["ports"]
    assert port["name"] == "p0" and port["driver"] == "net_tap"
    assert port["device"] == f"net_tap{dut.n},iface={dut.tap}"
    assert re.fullmatch(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", port["mac"])
    assert port["link_up"] is True


def test_help_lists_endpoints(dut):
    body = dut.get("/help")
    for path in ("/ready", "/stats", "/stats/prometheus", "/server_info", "/quitquitquit (POST)"):
        assert path in body, body


def test_unknown_path_and_wrong_methods(dut):
    assert dut.request("GET", "/nope")[0] == 404
    status, headers, _ = dut.request("POST", "/stats")
    assert status == 405 and headers.get("Allow") == "GET, HEAD"
    status, headers, body = dut.request("GET", "/quitquitquit")
    assert status == 405 and headers.get("Allow") == "POST", body
    time.sleep(0.3)
    assert dut.alive(), "GET /quitquitquit must not stop the dataplane"
    assert dut.request("GET", "/ready")[2] == "LIVE\n"


def test_head_and_keep_alive(dut):
    conn = http.client.HTTPConnection("127.0.0.1", dut.admin_port, timeout=5)
    try:
        conn.request("HEAD", "/ready")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b""
        # Same connection, next request.
        conn.request("GET", "/ready")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b"LIVE\n")
    finally:
        conn.close()


def test_malformed_request_gets_400(dut):
    with socket.create_connection(("127.0.0.1", dut.admin_port), timeout=5) as s:
        s.sendall(b"NOT A REQUEST\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 "), reply


def test_stalled_client_does_not_block_others(dut):
    """The admin server shares the control thread: a client that sends half a
    request and goes quiet must not hold up everyone else."""
    stalled = [socket.create_connection(("127.0.0.1", dut.admin_port), timeout=5) for _ in range(5)]
    try:
        for s in stalled:
            s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n")  # no blank line
        # Bounded by the request's own timeout: a blocked server times out.
        assert dut.request("GET", "/ready", timeout=5)[2] == "LIVE\n"
    finally:
        for s in stalled:
            s.close()


def test_telemetry_port_stats(dut):
    j = dut.telemetry("/linegate/port_stats,p0")["/linegate/port_stats"]
    assert j["rx_frames"] >= 2 * PINGS
    assert j["icmp_echo_replies_sent"] == dut.pings4
    assert j["link_up"] == 1
    for reason in lgtest.drop_reasons():
        assert f"drop_{reason}" in j, reason
    for event in lgtest.event_names():
        assert event in j, event
    # Counters that do not move on their own agree with /stats.
    s = dut.stats()
    assert j["drop_ipv4_bad_checksum"] == s["port.p0.drop.ipv4_bad_checksum"]


def test_telemetry_info_ports_workers(dut):
    info = dut.telemetry("/linegate/info")["/linegate/info"]
    assert info["node_id"] == dut.node_id and info["state"] == "LIVE"
    assert info["ports"] == 1 and info["workers"] == 1
    assert dut.telemetry("/linegate/ports")["/linegate/ports"] == ["p0"]
    workers = dut.telemetry("/linegate/workers")["/linegate/workers"]
    assert workers["worker0_loop_iterations"] > 0
    # The standard DPDK commands are there too.
    assert "/linegate/port_stats" in dut.telemetry("/")["/"]


def test_telemetry_unknown_port(dut):
    j = dut.telemetry("/linegate/port_stats,nope")
    assert j.get("/linegate/port_stats") in (None, {}), j


def test_quitquitquit_post_stops_cleanly(linegate):
    lg = linegate()
    assert_ping(lg.ip4, count=3)
    status, _, body = lg.request("POST", "/quitquitquit")
    assert (status, body) == (200, "OK\n")
    assert lg.wait_exit(10) == 0, lg.describe()
    lgtest.assert_clean_stop(lg)
