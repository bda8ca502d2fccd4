"""bench/compare.sh end to end with short phases: the same HTTP/1.1
workload through linegate (memif), nginx and HAProxy (taps), the generator
alone, the table and summary.json; then --tls, where the client→proxy leg
is HTTPS (TLS 1.3, TLS_AES_128_GCM_SHA256) beside plain HTTP, and linegate
runs once more with its record offload off. Nothing is left behind, and the
published figures in docs/performance.md are untouched. No timing
assertions: the figures are the benchmark's business."""
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import lgtest

pytestmark = [pytest.mark.usefixtures("linegate_env"), pytest.mark.slow]

DOC = lgtest.REPO / "docs" / "performance.md"
TAPS = ("lgbc0", "lgbu0")
SUITE = ("TLSv1.3", "TLS_AES_128_GCM_SHA256")


def sweep(out: Path, pid: int) -> list[str]:
    """Removes what a compare run (process pid, writing into out) left, and
    says what that was. Every command it starts names out, and its DPDK file
    prefixes end in its pid, so nothing else is touched."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in (pid, os.getpid()):
            continue
        try:
            cmdline = Path("/proc", d, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(out) in cmdline:
            found.append(f"process {d}: {cmdline[:200]}")
            try:
                os.kill(int(d), signal.SIGKILL)
            except ProcessLookupError:
                pass
    for tap in TAPS:  # compare.py refuses to start while they exist, so these are the run's
        if lgtest.link_exists(tap):
            found.append(f"interface {tap}")
            subprocess.run(["ip", "link", "del", tap], capture_output=True)
    for d in lgtest.DPDK_RUN_DIR.glob(f"lgb-*-{pid}"):
        found.append(f"DPDK runtime directory {d}")
        shutil.rmtree(d, ignore_errors=True)
    return found


@pytest.fixture
def compare(tmp_path):
    """compare(*args, timeout=) runs bench/compare.sh into tmp_path/cmp and
    returns (CompletedProcess, out). compare.py cleans up after itself, also
    on failure; a run that hangs gets SIGTERM (which makes it clean up), and
    after the test a sweep removes whatever is still there, also when the
    test failed."""
    out = tmp_path / "cmp"
    runs = []

    def run(*args: str, timeout: float):
        p = subprocess.Popen([str(lgtest.REPO / "bench" / "compare.sh"), *args, "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        runs.append(p.pid)
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
            try:
                stdout, stderr = p.communicate(timeout=90)
            except subprocess.TimeoutExpired:
                p.kill()
                stdout, stderr = p.communicate()
            pytest.fail(f"compare.sh did not finish within {timeout:.0f}s:\n{stdout[-4000:]}{stderr[-2000:]}")
        return subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr), out

    yield run
    left = [x for pid in runs for x in sweep(out, pid)]
    assert not left, f"left behind (now removed): {left}"


def assert_clean_run(p: subprocess.CompletedProcess, doc_before: str):
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    # Forced or leftover cleanup (process, tap, socket, DPDK run dir) is printed as "cleanup: ...".
    assert not [line for line in p.stdout.splitlines() if line.startswith("cleanup:")], p.stdout[-3000:]
    assert DOC.read_text() == doc_before
    for tap in TAPS:
        assert not lgtest.link_exists(tap)


def test_compare_quick(compare):
    before = DOC.read_text()
    p, out = compare("--duration", "1.5", "--warmup", "0.5", "--no-docs", timeout=400)
    assert_clean_run(p, before)
    s = json.loads((out / "summary.json").read_text())
    rows = {r["proxy"]: r for r in s["rows"]}
    assert set(rows) == {"linegate", "nginx", "haproxy"}, s["rows"]
    for name, r in rows.items():
        assert r["max_rps"] > 0 and r["cycles_per_request"] > 0 and r["p99_us_at_rate"] > 0, (name, r)
    # The printed table names every proxy with its ratios.
    for name in ("| linegate |", "| nginx |", "| haproxy |", "Generator alone"):
        assert name in p.stdout, p.stdout[-3000:]
    for png in ("latency-vs-throughput.png", "latency-percentiles.png", "timeline.png"):
        assert (out / png).exists() or any(out.glob(f"*{png}")), sorted(x.name for x in out.iterdir())


def test_compare_tls_quick(compare):
    """--tls --quick with 1 s phases (ten of them: HTTPS and plain maxima,
    linegate's HTTPS without offload, p99 over HTTPS): every HTTPS phase
    made verified handshakes and served requests without an error, on the
    suite asked for (the kernel proxies' probe, linegate's offload counters),
    and the report has every row."""
    before = DOC.read_text()
    p, out = compare("--tls", "--quick", "--duration", "1", "--warmup", "0.5", timeout=300)
    assert_clean_run(p, before)
    s = json.loads((out / "summary.json").read_text())
    assert (s["workload"]["tls"]["version"], s["workload"]["tls"]["cipher"]) == SUITE, s["workload"]
    rows = {r["label"]: r for r in s["rows"]}
    assert set(rows) == {"linegate", "linegate, OpenSSL records", "nginx", "haproxy"}, list(rows)
    for label, r in rows.items():
        https, http = r["https"], r["http"]
        assert https["max_rps"] > 0 and https["requests"] > 0 and https["cycles_per_request"] > 0, (label, https)
        assert http["max_rps"] > 0 and http["cycles_per_request"] > 0, (label, http)
        assert r["https_over_http"]["max_rps"] > 0, (label, r)
        # The client: verified handshakes, about one per keep-alive connection, all on its offloaded records.
        t = https["client_tls"]
        assert t["verify"] and t["sni"] == "bench.example.com", (label, t)
        assert 0 < t["ssl_handshake"] == t["ssl_offloaded"], (label, t)
        assert t["ssl_connection_error"] == t["ssl_fail_verify_error"] == t["ssl_handshake_timeout"] == 0, (label, t)
        # The proxy's side of the same handshakes.
        pt = https["proxy_tls"]
        if r["proxy"] == "linegate":
            assert pt["ssl_handshake"] > 0 and pt["ssl_connection_error"] == 0, (label, pt)
            assert pt["ssl_offloaded"] == (pt["ssl_handshake"] if r["record_offload"] else 0), (label, pt)
        else:
            assert (pt["protocol"], pt["cipher"], pt["verification"]) == (*SUITE, "OK"), (label, pt)
        if r["record_offload"] is not False:
            assert https["p99_us_at_rate"] > 0, (label, https)
    # Every phase, HTTPS or not: only 2xx answers, no errors of any kind.
    for key, ph in s["phases"].items():
        r = json.loads(Path(ph["json"]).read_text())
        assert r["status"]["2xx"] > 0 and sum(r["status"].values()) == r["status"]["2xx"], (key, r["status"])
        assert not any(r["errors"].values()), (key, r["errors"])
        assert ("tls" in r) == ("https" in key), key
    for name in ("| linegate |", "| linegate, OpenSSL records |", "| nginx |", "| haproxy |", "TLS: TLSv1.3"):
        assert name in p.stdout, p.stdout[-3000:]
