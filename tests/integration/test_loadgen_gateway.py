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


def test_sixty_second_run_through_linegate(tmp_path):
    conf = tmp_path / "istio"
    conf.mkdir()
    (conf / "bench.yaml").write_text(istio_config())
    admin = lgtest.free_tcp_port()
    prefix = f"lgt-gw-{os.getpid()}"
    boot = tmp_path / "bootstrap.yaml"
    boot.write_text(lgtest.to_yaml({
        "node": {"id": prefix, "labels": {"istio": "ingressgateway"}},
        "eal": [f"--file-prefix={prefix}"],
        "workers": 1,
        "ports": [
            {"name": "client", "device": memif(0, tmp_path / "c.sock", server=True), "ipv4": "10.96.1.1/24"},
            {"name": "upstream", "device": memif(1, tmp_path / "u.sock", server=True), "ipv4": "10.96.2.1/24"},
        ],
        "admin": f"127.0.0.1:{admin}",
        "tcp": {"time_wait_ms": 1000},
        "config_dir": str(conf),
    }))
    log = open(tmp_path / "linegate.log", "w")
    gw = subprocess.Popen(["taskset", "-c", "1", str(lgtest.linegate_binary()), "--bootstrap", str(boot)],
                          stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    gen = None
    try:
        def ready():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1).status == 200
            except OSError:
                return False
        assert lgtest.wait_until(ready, 20), (tmp_path / "linegate.log").read_text()
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
        gw.send_signal(signal.SIGINT)
        try:
            gw.wait(15)
        except subprocess.TimeoutExpired:
            gw.kill()
            gw.wait()
        log.close()
        assert not left, left
    assert not (lgtest.DPDK_RUN_DIR / prefix).exists()
