"""bench/compare.sh end to end with short phases (1.5 s measured): the same
HTTP/1.1 workload through linegate (memif), nginx and HAProxy (taps), the
generator alone, the table and summary.json; nothing left behind, and the
published figures in docs/performance.md untouched."""
import json
import subprocess

import pytest

import lgtest

pytestmark = [pytest.mark.usefixtures("linegate_env"), pytest.mark.slow]


def test_compare_quick(tmp_path):
    doc = lgtest.REPO / "docs" / "performance.md"
    before = doc.read_text()
    out = tmp_path / "cmp"
    p = subprocess.run([str(lgtest.REPO / "bench" / "compare.sh"), "--duration", "1.5", "--warmup", "0.5",
                        "--no-docs", "--out", str(out)],
                       capture_output=True, text=True, timeout=400)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
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
    assert doc.read_text() == before
    for tap in ("lgbc0", "lgbu0"):
        assert not lgtest.link_exists(tap)
    assert not list(lgtest.DPDK_RUN_DIR.glob("lgb-*"))
