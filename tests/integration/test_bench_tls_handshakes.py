"""bench/tls_handshakes.py end to end with the shortest phases (1 s, one
repetition, two clients): linegate and nginx each serve TLS 1.3 full and
resumed handshakes with ECDSA P-256 and RSA-2048 certificates; every phase
made handshakes, the resumed phases really resumed (by the servers' own
counts: linegate's ssl_session_reused, nginx's $ssl_session_reused), the
full ones never did, summary.json holds the figures, and nothing is left
behind. No timing assertions: the figures are the benchmark's business."""
import json
import subprocess

import pytest

import lgtest

pytestmark = [pytest.mark.usefixtures("linegate_env"), pytest.mark.slow]

FIELDS = ("handshakes", "reused", "server_cycles", "cycles_per_handshake", "handshakes_per_s_per_core",
          "on_cpu_cycles_per_handshake", "client", "wall_s")


def test_tls_handshakes_quick(tmp_path):
    out = tmp_path / "hs"
    p = subprocess.run([str(lgtest.REPO / "bench" / "tls_handshakes.py"), "--duration", "1", "--repetitions", "1",
                        "--clients", "2", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["workload"]["tsc_hz"] > 0 and s["environment"]["nginx"] and s["environment"]["linegate"], s
    rows = {(r["server"], r["key"], r["mode"]): r for r in s["rows"]}
    assert set(rows) == {(srv, key, mode) for srv in ("linegate", "nginx") for key in ("p256", "rsa2048")
                         for mode in ("full", "resumed")}, sorted(rows)
    for (srv, key, mode), r in rows.items():
        assert all(f in r for f in FIELDS), (srv, key, mode, sorted(r))
        assert r["handshakes"] > 0 and r["client"]["connections"] > 0, r
        assert r["cycles_per_handshake"] > 0 and r["handshakes_per_s_per_core"] > 0, r
        if mode == "resumed":
            assert r["reused"] > 0 and r["client"]["reused"] > 0, r
        else:
            assert r["reused"] == 0 and r["client"]["reused"] == 0, r
        if srv == "linegate":
            assert r["errors"] == 0, r
    for c in s["cells"]:
        assert c["linegate_over_nginx_cycles_per_handshake"]["median"] > 0, c
    assert "| ECDSA P-256 | resumed |" in p.stdout and "| RSA-2048 | full |" in p.stdout, p.stdout[-3000:]
    # Forced or leftover cleanup (process, tap, DPDK run dir) is printed as "cleanup: ..."; nginx removes
    # its pid file when it exits.
    assert not [line for line in p.stdout.splitlines() if line.startswith("cleanup:")], p.stdout[-3000:]
    assert not (out / "nginx" / "nginx.pid").exists()
