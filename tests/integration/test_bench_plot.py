"""bench/plot.py turns linegate-loadgen JSON files into PNGs, and rejects a
file that is not one with exit status 2 and a message, not a traceback.

The inputs are synthetic: two labels, three rates each, as a rate sweep
produces. Needs Debian's python3-matplotlib (skipped without it).
"""
import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLOT = REPO / "bench" / "plot.py"
PYTHON = "/usr/bin/python3"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUTPUTS = ("latency-vs-throughput.png", "latency-percentiles.png", "timeline.png")


@pytest.fixture(scope="module", autouse=True)
def matplotlib_present():
    r = subprocess.run([PYTHON, "-c", "import matplotlib"], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"matplotlib not importable by {PYTHON}: apt-get install python3-matplotlib")


def loadgen_json(label: str, rate: float, base_us: float, errors: int = 0) -> dict:
    ladder = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100]
    # Latency grows with the percentile and with load, as a real sweep's would.
    lat = {p: base_us * (1 + rate / 50000) * (1 + p / (100.001 - p) / 10) for p in ladder}
    return {
        "tool": "linegate-loadgen", "version": "test", "label": label, "config": {"rate": rate},
        "mode": "http", "open_loop": True, "target_rate": rate, "duration_s": 5.0, "warmup_s": 1.0,
        "requests": int(rate * 5), "requests_total": int(rate * 6), "throughput_rps": rate * 0.99,
        "latency_us": {"min": lat[0], "mean": lat[50] * 1.1, "p50": lat[50], "p90": lat[90], "p99": lat[99],
                       "p999": lat[99.9], "p9999": lat[99.99], "max": lat[100]},
        "latency_percentiles": [[p, v] for p, v in lat.items()],
        "latency_histogram": [[lat[50], int(rate * 5)]],
        "timeline": [{"t": t, "requests": int(rate), "errors": errors if t == 3 else 0, "bytes": 0}
                     for t in range(1, 6)],
        "errors": {"connect": 0, "timeout": 0, "reset": 0, "protocol": 0, "status_4xx": 0, "status_5xx": 0},
    }


def plot(*args) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, str(PLOT), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_rate_sweep_makes_three_pngs(tmp_path):
    files = []
    for label, base in (("direct", 30.0), ("via linegate", 55.0)):
        for rate in (10000, 40000, 80000):
            f = tmp_path / f"{label.replace(' ', '-')}-{rate}.json"
            f.write_text(json.dumps(loadgen_json(label, rate, base, errors=7 if rate == 80000 else 0)))
            files.append(f)
    out = tmp_path / "plots"
    r = plot("--out", out, "--prefix", "sweep-", *files)
    assert r.returncode == 0, r.stderr
    for name in OUTPUTS:
        png = out / f"sweep-{name}"
        assert str(png) in r.stdout.splitlines(), r.stdout
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10000, f"{png}: not a plausible PNG"


@pytest.mark.parametrize("mangle, message", [
    (lambda d: d["latency_us"].pop("p99"), "missing key 'latency_us.p99'"),
    (lambda d: d.pop("timeline"), "missing key 'timeline'"),
    (lambda d: d.update(tool="wrk2"), "not a linegate-loadgen JSON"),
])
def test_not_a_loadgen_json_exits_2_naming_file_and_key(tmp_path, mangle, message):
    doc = loadgen_json("x", 1000, 20.0)
    mangle(doc)
    bad = tmp_path / "bad-run.json"
    bad.write_text(json.dumps(doc))
    r = plot("--out", tmp_path / "plots", bad)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "bad-run.json" in r.stderr and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "plots").exists()


def test_unparsable_json_exits_2(tmp_path):
    bad = tmp_path / "truncated.json"
    bad.write_text('{"tool": "linegate-loadgen", "label": ')
    r = plot("--out", tmp_path, bad)
    assert r.returncode == 2
    assert "truncated.json: not valid JSON" in r.stderr and "Traceback" not in r.stderr, r.stderr
