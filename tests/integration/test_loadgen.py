"""linegate-loadgen against real peers: itself over memif (client ⇄
responder, no kernel), kernel programs over taps (curl against its
responder, a Python HTTP server under its client), and linegate between two
memif links for a full 60-second run whose JSON bench/plot.py draws.

Every figure checked comes from the generator's JSON; each case says which
behaviour it pins down (modes, open loop with coordinated-omission
correction, errors by kind, bad command lines)."""
import http.server
import os
import subprocess
import threading

import pytest

import lgtest
from loadgen_tools import LOADGEN_BIN, Loadgen, memif

pytestmark = pytest.mark.usefixtures("linegate_env")


@pytest.fixture
def loadgens(tmp_path):
    """Factory: loadgens(name, args, cpu=None) → a started Loadgen; all are
    stopped afterwards and must leave no EAL state behind."""
    if not LOADGEN_BIN.exists():
        pytest.fail(f"{LOADGEN_BIN} not built (ninja -C build bench/linegate-loadgen)", pytrace=False)
    made: list[Loadgen] = []

    def make(name: str, args: list[str], cpu=None) -> Loadgen:
        lg = Loadgen(tmp_path, name, args, cpu).start()
        made.append(lg)
        return lg

    yield make
    leftovers = []
    for lg in made:
        leftovers += lg.cleanup()
    assert not leftovers, f"left behind: {leftovers}"


def responder(loadgens, tmp_path, *extra, name="resp", sock="d.sock"):
    """The memif server side; returns once its socket exists (a memif
    client cannot start before)."""
    lg = loadgens(name, ["--port", memif(0, tmp_path / sock, server=True), "--ip", "10.94.0.2/24",
                         "--listen", "8000", "--source-port", "9000", *extra], cpu=1)
    assert lgtest.wait_until(lambda: (tmp_path / sock).exists(), 20), lg.log_text()
    return lg


def client(loadgens, tmp_path, *extra, name="cli", sock="d.sock", duration="2", warmup="0.5"):
    return loadgens(name, ["--port", memif(0, tmp_path / sock, server=False), "--ip", "10.94.0.1/24",
                           "--duration", duration, "--warmup", warmup, *extra], cpu=0)


def finished(lg: Loadgen, timeout: float = 60) -> dict:
    rc = lg.wait(timeout)
    assert rc == 0, lg.log_text()
    return lg.result()


def check_latency_shape(r: dict):
    lat = r["latency_us"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["p9999"] <= lat["max"], lat
    ladder = [v for _, v in r["latency_percentiles"]]
    assert ladder == sorted(ladder) and ladder[-1] == lat["max"], r["latency_percentiles"]
    assert sum(n for _, n in r["latency_histogram"]) == r["latency_us"]["samples"] == r["requests"]


def test_keepalive_client_and_responder_over_memif(loadgens, tmp_path):
    resp = responder(loadgens, tmp_path, "--response-bytes", "1000")
    cli = client(loadgens, tmp_path, "--target", "10.94.0.2:8000", "--connections", "16",
                 "--path", "/r{0..9}/item", "--host", "h{1..3}.example.com", "--method", "GET,POST",
                 "--request-bytes", "300", "--header", "x-bench: 1")
    r = finished(cli)
    assert r["tool"] == "linegate-loadgen" and r["mode"] == "http" and not r["open_loop"]
    assert r["requests"] > 1000, r
    assert r["status"]["2xx"] == r["requests"]
    assert all(v == 0 for v in r["errors"].values()), r["errors"]
    assert r["connections"]["opened"] == 16 and r["connections"]["failed"] == 0
    check_latency_shape(r)
    # Every second of the window is there and adds up to the total.
    assert len(r["timeline"]) == 2
    assert sum(s["requests"] for s in r["timeline"]) == r["requests"]
    # Each answer carries exactly the 1000 body bytes asked for (plus a head).
    per_request = r["bytes_received"] / r["requests"]
    assert 1000 < per_request < 1200, per_request
    assert 300 < r["bytes_sent"] / r["requests"] < 500
    assert 0 < r["loadgen"]["busy_fraction"] <= 1 and r["loadgen"]["cycles_per_request"] > 0
    resp.stop()
    rr = resp.result()["responder"]
    assert rr["bad_requests"] == 0
    assert rr["requests"] >= r["requests_total"]
    # The summary table went to stdout.
    out = cli.out_path.read_text()
    assert "requests/s" in out and "p99" in out, out


@pytest.mark.parametrize("mode,port,field", [("http-close", 8000, "requests"), ("tcp-connect", 8000, "requests"),
                                             ("tcp-bulk", 9000, "gbps_received")])
def test_other_workloads(loadgens, tmp_path, mode, port, field):
    responder(loadgens, tmp_path)
    r = finished(client(loadgens, tmp_path, "--target", f"10.94.0.2:{port}", "--mode", mode, "--connections", "8"))
    assert r["mode"] == mode
    assert r[field] > 0, r
    assert all(v == 0 for v in r["errors"].values()), r["errors"]
    if mode != "tcp-bulk":
        # A new connection for every request (or connection counted).
        assert r["connections"]["opened"] >= r["requests"]
        check_latency_shape(r)
    else:
        assert r["connections"]["opened"] == 8 and r["gbps_received"] > 0.1


def test_open_loop_holds_the_rate(loadgens, tmp_path):
    responder(loadgens, tmp_path)
    r = finished(client(loadgens, tmp_path, "--target", "10.94.0.2:8000", "--rate", "2000", "--connections", "8"))
    assert r["open_loop"] and r["target_rate"] == 2000
    assert 1900 <= r["throughput_rps"] <= 2100, r["throughput_rps"]
    assert r["status"]["2xx"] == r["requests"]
    check_latency_shape(r)


def test_open_loop_counts_queueing_the_server_caused(loadgens, tmp_path):
    """Coordinated omission: the server takes 20 ms an answer, so two
    connections manage 100/s while 400/s are asked for. Closed loop reports
    20 ms; open loop reports the time from when each request was due, which
    grows with the backlog to hundreds of milliseconds."""
    responder(loadgens, tmp_path, "--response-delay-us", "20000")
    closed = finished(client(loadgens, tmp_path, "--target", "10.94.0.2:8000", "--connections", "2", name="closed"))
    # The upper bound only has to stay well under the open loop's backlog
    # (a shared two-core machine adds scheduling delay to every answer).
    assert 19000 <= closed["latency_us"]["p50"] <= 100000, closed["latency_us"]
    opened = finished(client(loadgens, tmp_path, "--target", "10.94.0.2:8000", "--connections", "2",
                             "--rate", "400", name="open"))
    assert opened["throughput_rps"] < 150
    assert opened["latency_us"]["p50"] > 200000, opened["latency_us"]
    assert opened["latency_us"]["max"] > 1000000, opened["latency_us"]


def test_errors_by_kind(loadgens, tmp_path):
    responder(loadgens, tmp_path, "--status", "200:1,503:1", "--response-delay-us", "0-300000")
    r = finished(client(loadgens, tmp_path, "--target", "10.94.0.2:8000", "--connections", "8",
                        "--timeout-ms", "150", name="status"))
    # Half the answers are 503 (counted as errors by status class), and the
    # ones slower than 150 ms are timeouts.
    assert r["status"]["5xx"] > 0 and r["status"]["2xx"] > 0
    assert r["errors"]["status_5xx"] == r["status"]["5xx"]
    assert 0.25 < r["status"]["5xx"] / r["requests"] < 0.75, r["status"]
    assert r["errors"]["timeout"] > 0, r["errors"]
    assert r["errors"]["connect"] == r["errors"]["protocol"] == 0
    # Nobody listens on 8001: every connection is refused.
    r = finished(client(loadgens, tmp_path, "--target", "10.94.0.2:8001", "--connections", "2", name="refused"))
    assert r["requests"] == 0 and r["errors"]["connect"] > 0, r["errors"]
    assert r["connections"]["failed"] > 0


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b"k" * 512

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_taps_with_kernel_peers(loadgens, tmp_path):
    """The generator's responder answers curl, and its client drives a
    kernel HTTP server: the tap topology compare.sh uses for nginx/HAProxy."""
    tap_r, tap_c = f"lgtr{os.getpid() % 10000}", f"lgtc{os.getpid() % 10000}"
    server = None
    try:
        resp = loadgens("tapresp", ["--port", f"net_tap0,iface={tap_r}", "--ip", "10.95.1.2/24",
                                    "--listen", "8000", "--response-bytes", "777"], cpu=1)
        assert lgtest.wait_until(lambda: lgtest.link_exists(tap_r), 20), resp.log_text()
        lgtest.run(["ip", "addr", "add", "10.95.1.1/24", "dev", tap_r])
        lgtest.run(["ip", "link", "set", tap_r, "up"])
        resp.wait_for_log("responder on port 8000")
        got = lgtest.run(["curl", "-sS", "--max-time", "5", "-o", str(tmp_path / "body"), "-w", "%{http_code}",
                          "http://10.95.1.2:8000/anything"])
        assert got.stdout == "200" and (tmp_path / "body").stat().st_size == 777

        cli = loadgens("tapcli", ["--port", f"net_tap0,iface={tap_c}", "--ip", "10.95.2.2/24",
                                  "--target", "10.95.2.1:18080", "--connections", "4", "--duration", "1",
                                  "--warmup", "0.2"], cpu=0)
        assert lgtest.wait_until(lambda: lgtest.link_exists(tap_c), 20), cli.log_text()
        lgtest.run(["ip", "addr", "add", "10.95.2.1/24", "dev", tap_c])
        server = http.server.ThreadingHTTPServer(("10.95.2.1", 18080), _Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        lgtest.run(["ip", "link", "set", tap_c, "up"])  # the generator starts once the link is up
        r = finished(cli)
        assert r["requests"] > 0 and r["status"]["2xx"] == r["requests"], r
        assert 512 < r["bytes_received"] / r["requests"] < 700
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        for t in (tap_r, tap_c):
            subprocess.run(["ip", "link", "del", t], capture_output=True)


@pytest.mark.parametrize("args,message", [
    (["--port", "net_tap0", "--target", "10.0.0.1:80"], "--ip"),
    (["--port", "net_tap0", "--ip", "10.0.0.2/24"], "nothing to do"),
    (["--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1:80", "--path", "/r{9..1}"], "--path"),
    (["--port", "net_tap0", "--ip", "10.0.0.2/24", "--listen", "80", "--response-bytes", "5-1"], "--response-bytes"),
    (["--port", "net_tap0", "--ip", "10.0.0.2/33", "--listen", "80"], "ports[0]"),
    (["--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1:80", "--mode", "udp"], "--mode"),
])
def test_bad_command_lines(args, message):
    p = subprocess.run([str(LOADGEN_BIN), *args], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert message in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and "terminate" not in p.stderr


def test_device_that_cannot_open_fails_cleanly(tmp_path, loadgens):
    lg = loadgens("nodev", ["--port", "net_nosuchpmd0", "--ip", "10.0.0.2/24", "--listen", "80"])
    assert lg.wait(30) == 1
    assert "net_nosuchpmd0" in lg.log_text()
