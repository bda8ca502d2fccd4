"""linegate-loadgen --tls against nginx serving TLS on the kernel side of a
tap: HTTPS keep-alive (records on IPsec-MB, or on OpenSSL's record layer),
TLS 1.2 with a chosen suite, back-to-back handshakes (tcp-connect), a
server that does not verify, and the command lines it refuses. nginx's log
says what was negotiated; the generator's JSON counts its handshakes."""
import os
import subprocess

import pytest

import lgtest
from http_peers import NginxUpstream
from loadgen_tools import LOADGEN_BIN, Loadgen
from tls_peers import Pki

pytestmark = pytest.mark.usefixtures("linegate_env")

NAME = "origin.loadgen.test"
PORT = 18443
TLS12_SUITE = "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("loadgen-pki"))
    p.server = p.issue("origin", NAME, [NAME])
    return p


@pytest.fixture
def origin(tmp_path, pki):
    """(tap name, nginx) — the generator's tap gets 10.96.2.1 on the kernel
    side once it exists; nginx serves TLS there."""
    tap = f"lgtt{os.getpid() % 10000}"
    state = {"nginx": None, "loadgens": []}

    def start(name: str, *args: str, duration: str = "1") -> Loadgen:
        lg = Loadgen(tmp_path, name, ["--port", f"net_tap0,iface={tap}", "--ip", "10.96.2.2/24",
                                      "--target", f"10.96.2.1:{PORT}", "--duration", duration, "--warmup", "0.2",
                                      *args], cpu=0).start()
        state["loadgens"].append(lg)
        assert lgtest.wait_until(lambda: lgtest.link_exists(tap), 20), lg.log_text()
        lgtest.run(["ip", "addr", "add", "10.96.2.1/24", "dev", tap])
        if state["nginx"] is None:
            state["nginx"] = NginxUpstream(tmp_path, "10.96.2.1", PORT, "tls",
                                           ssl={"cert": str(pki.server.chain), "key": str(pki.server.key)})
        lgtest.run(["ip", "link", "set", tap, "up"])  # the generator starts once the link is up
        return lg

    try:
        yield start, lambda: state["nginx"]
    finally:
        leftovers = []
        for lg in state["loadgens"]:
            lg.stop()
            leftovers += lg.cleanup()
        if state["nginx"] is not None:
            state["nginx"].close()
        subprocess.run(["ip", "link", "del", tap], capture_output=True)
        assert not leftovers, f"left behind: {leftovers}"


def finished(lg: Loadgen, timeout: float = 60) -> dict:
    rc = lg.wait(timeout)
    assert rc == 0, lg.log_text()
    return lg.result()


@pytest.mark.parametrize("offload", [True, False], ids=["offload", "openssl-records"])
def test_https_keepalive_verifies_and_counts_handshakes(origin, pki, offload):
    start, nginx = origin
    args = ["--tls", "--tls-ca", str(pki.ca.cert), "--host", f"{NAME}:{PORT}", "--path", "/k{0..9}",
            "--connections", "4"]
    r = finished(start("https", *args, *([] if offload else ["--tls-no-offload"])))
    assert r["requests"] > 100 and r["status"]["2xx"] == r["requests"], r
    assert sum(r["errors"].values()) == 0, r["errors"]
    tls = r["tls"]
    assert tls["sni"] == NAME and tls["verify"] and tls["record_offload"] == offload, tls
    # A connect before the measured window can fail on a loaded machine
    # (the generator retries it): each connection that came up is one
    # handshake, and none failed in TLS.
    conns = r["connections"]
    up = conns["opened"] - conns["failed"]
    assert tls["ssl_handshake"] == up >= 4, f"{tls} {conns}"
    assert tls["ssl_offloaded"] == (up if offload else 0) and tls["ssl_connection_error"] == 0, f"{tls}"
    entries = nginx().entries()
    assert len(entries) == r["requests_total"], (len(entries), r["requests_total"])
    assert {(e["sni"], e["tls"], e["alpn"]) for e in entries} == {(NAME, "TLSv1.3", "http/1.1")}, entries[:3]
    assert len({e["conn"] for e in entries}) == up


def test_tls12_with_a_chosen_suite(origin, pki):
    start, nginx = origin
    r = finished(start("tls12", "--tls", "--tls-sni", NAME, "--tls-version", "1.2", "--tls-ciphers", TLS12_SUITE,
                       "--connections", "2"))
    assert r["requests"] > 0 and r["status"]["2xx"] == r["requests"], r
    assert r["tls"]["ssl_handshake"] == r["tls"]["ssl_offloaded"] == 2, r["tls"]
    assert {(e["tls"], e["cipher"]) for e in nginx().entries()} == {("TLSv1.2", TLS12_SUITE)}


def test_tcp_connect_mode_counts_full_handshakes(origin, pki):
    """Each connection is a full TLS handshake, closed once it is done
    (nginx logs no request: none is sent)."""
    start, _ = origin
    r = finished(start("handshakes", "--tls", "--tls-sni", NAME, "--mode", "tcp-connect", "--connections", "4"))
    assert r["requests"] > 20, r
    assert r["tls"]["ssl_handshake"] >= r["requests"] and r["tls"]["ssl_connection_error"] == 0, r["tls"]
    assert r["errors"]["connect"] == 0, r["errors"]


def test_a_server_that_does_not_verify_fails_every_connect(origin, pki, tmp_path):
    start, nginx = origin
    other = tmp_path / "other-ca.pem"
    other.write_bytes(pki.other_ca.cert_pem)
    r = finished(start("badca", "--tls", "--tls-sni", NAME, "--tls-ca", str(other), "--connections", "2",
                       "--timeout-ms", "2000"))
    assert r["requests_total"] == 0 and r["errors"]["connect"] > 0, r
    assert r["tls"]["ssl_fail_verify_error"] > 0 and r["tls"]["ssl_handshake"] == 0, r["tls"]
    assert nginx().entries() == []


@pytest.mark.parametrize("args,message", [
    (["--tls-sni", "a.test"], "--tls-sni requires --tls"),
    (["--tls", "--tls-cert", "/etc/hostname"], "--tls-cert requires --tls-key"),
    (["--tls", "--tls-version", "1.1"], "--tls-version"),
    (["--tls", "--tls-ca", "/nonexistent/ca.pem"], "--tls-ca"),
])
def test_bad_tls_command_lines(args, message):
    p = subprocess.run([str(LOADGEN_BIN), "--port", "net_tap0", "--ip", "10.0.0.2/24", "--target", "10.0.0.1:443",
                        *args], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert message in p.stderr, p.stderr
