"""The full benchmark topology for one minute, with no kernel in the path:
loadgen client ⇄ memif ⇄ linegate ⇄ memif ⇄ loadgen responder, the client
cycling through 100 routes. The run prints a progress line every second and
the summary, writes the JSON, and bench/plot.py draws it; every request is
answered 200 by the responder through the gateway, and the gateway's own
counters agree with the generator's."""
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

import lgtest
from loadgen_tools import Loadgen, memif

pytestmark = [pytest.mark.usefixtures("linegate_env"), pytest.mark.slow]

ROUTES = 100


def istio_config() -> str:
    """The configuration compare.sh benchmarks with, pointed at this test's responder."""
    sys.path.insert(0, str(lgtest.REPO / "bench"))
    import compare  # noqa: E402  (bench/compare.py: one definition of the benchmark's routes)
    return compare.istio_yaml(ROUTES, "10.96.2.2")


def stats(admin: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/stats?format=json", timeout=5) as r:
        return json.load(r)


class Gateway:
    """linegate between two memif links it serves (client side, upstream side)."""

    def __init__(self, tmp_path):
        conf = tmp_path / "istio"
        conf.mkdir()
        (conf / "bench.yaml").write_text(istio_config())
        self.tmp_path = tmp_path
        self.admin = lgtest.free_tcp_port()
        self.prefix = f"lgt-gw-{os.getpid()}"
        boot = tmp_path / "bootstrap.yaml"
        boot.write_text(lgtest.to_yaml({
            "node": {"id": self.prefix, "labels": {"istio": "ingressgateway"}},
            "eal": [f"--file-prefix={self.prefix}"],
            "workers": 1,
            "ports": [
                {"name": "client", "device": memif(0, tmp_path / "c.sock", server=True), "ipv4": "10.96.1.1/24"},
                {"name": "upstream", "device": memif(1, tmp_path / "u.sock", server=True), "ipv4": "10.96.2.1/24"},
            ],
            "admin": f"127.0.0.1:{self.admin}",
            "tcp": {"time_wait_ms": 1000},
            "config_dir": str(conf),
        }))
        self.log = open(tmp_path / "linegate.log", "w")
        self.proc = subprocess.Popen(["taskset", "-c", "1", str(lgtest.linegate_binary()), "--bootstrap", str(boot)],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def ready(self) -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/ready", timeout=1).status == 200
        except OSError:
            return False

    def log_text(self) -> str:
        return (self.tmp_path / "linegate.log").read_text()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def gateway(tmp_path):
    gw = Gateway(tmp_path)
    try:
        assert lgtest.wait_until(gw.ready, 20), gw.log_text()
        yield gw
    finally:
        gw.stop()
    assert gw.proc.returncode == 0, gw.log_text()
    assert not (lgtest.DPDK_RUN_DIR / gw.prefix).exists()


def test_sixty_second_run_through_linegate(tmp_path, gateway):
    admin = gateway.admin
    gen = None
    try:
        gen = Loadgen(tmp_path, "gen", [
            "--port", memif(0, tmp_path / "c.sock", server=False), "--ip", "10.96.1.2/24",
            "--port", memif(1, tmp_path / "u.sock", server=False), "--ip", "10.96.2.2/24",
            "--listen", "8000", "--response-bytes", "1024",
            "--target", "10.96.1.1:8080", "--host", "bench.example.com", "--path", f"/r{{0..{ROUTES - 1}}}/item",
            "--connections", "32", "--warmup", "5", "--duration", "55"], cpu=0).start()
        assert gen.wait(120) == 0, gen.log_text()
        r = gen.result()
        progress = [line for line in gen.log_path.read_text().splitlines() if line.startswith("[")]
        assert len(progress) >= 55, progress[-3:]
        assert "measuring" in progress[10] and "req/s" in progress[10]
        summary = gen.out_path.read_text()
        for word in ("throughput", "percentiles (us)", "errors", "generator", "responder"):
            assert word in summary, summary

        assert 54.9 < r["duration_s"] < 55.1
        assert len(r["timeline"]) == 55 and all(s["requests"] > 0 for s in r["timeline"])
        assert r["requests"] > 0 and r["status"]["2xx"] == r["requests"]
        assert all(v == 0 for v in r["errors"].values()), r["errors"]
        # Every request went through the gateway and came back from the responder.
        assert r["responder"]["requests"] >= r["requests_total"]
        assert r["responder"]["bad_requests"] == 0
        s = stats(admin)
        rq = sum(v["downstream_rq_total"] for v in s["listeners"].values())
        ok = sum(v["downstream_rq_2xx"] for v in s["listeners"].values())
        assert rq >= r["requests_total"] and ok == rq, (rq, ok, r["requests_total"])
        busy = sum(w["busy_cycles"] for w in s["workers"])
        print(f"gateway: {busy / rq:.0f} cycles per request; generator {r['loadgen']['cycles_per_request']:.0f} "
              f"(client and responder), {r['throughput_rps']:.0f} requests/s")

        png = tmp_path / "plots"
        p = subprocess.run(["/usr/bin/python3", str(lgtest.REPO / "bench" / "plot.py"), "--out", str(png),
                            str(gen.json_path)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        for name in ("latency-vs-throughput.png", "latency-percentiles.png", "timeline.png"):
            assert (png / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        left = gen.cleanup() if gen else []
    assert not left, left


def test_gateway_outlives_memif_peers_that_leave_under_load(tmp_path, gateway):
    """DPDK's memif driver unmaps a link's rings on its interrupt thread when
    the peer leaves, while a worker may be inside a burst on them; linegate
    makes that unmap wait for the workers (drivers/pollers.h). Peers that end
    or are killed mid-load, on the client link and on the upstream link,
    leave the gateway serving the next ones."""
    made: list[Loadgen] = []

    def start(name: str, args: list[str]) -> Loadgen:
        made.append(Loadgen(tmp_path, name, args, cpu=0).start())
        return made[-1]

    def upstream(n: int) -> Loadgen:
        return start(f"resp{n}", ["--port", memif(1, tmp_path / "u.sock", server=False), "--ip", "10.96.2.2/24",
                                  "--listen", "8000", "--response-bytes", "1024"])

    def client(n: int, duration: str) -> Loadgen:
        return start(f"cli{n}", ["--port", memif(0, tmp_path / "c.sock", server=False), "--ip", "10.96.1.2/24",
                                 "--target", "10.96.1.1:8080", "--host", "bench.example.com",
                                 "--path", f"/r{{0..{ROUTES - 1}}}/item", "--connections", "32",
                                 "--warmup", "0", "--duration", duration])

    def loaded(cli: Loadgen) -> None:
        cli.wait_for_log("req/s")

    def alive() -> None:
        assert gateway.proc.poll() is None, f"linegate ended with {gateway.proc.returncode}:\n{gateway.log_text()}"

    try:
        resp = upstream(0)
        for n in range(6):  # client link: the peer ends its run, or is killed, at full load
            cli = client(n, "1")
            if n % 2 == 0:
                assert cli.wait(30) == 0, cli.log_text()
            else:
                loaded(cli)
                cli.kill()
            alive()
        for n in (1, 2):  # upstream link: the responder is killed under load, then ends cleanly
            cli = client(10 + n, "30")
            loaded(cli)
            if n == 1:
                resp.kill()
            else:
                assert resp.stop() == 0, resp.log_text()
            alive()
            assert cli.stop() == 0, cli.log_text()
            resp = upstream(n)
        r = client(20, "2")
        assert r.wait(30) == 0, r.log_text()
        r = r.result()
        alive()
        assert r["requests"] > 1000 and r["status"]["2xx"] == r["requests"], r["status"]
    finally:
        left = [x for lg in made for x in lg.cleanup()]
    assert not left, left
