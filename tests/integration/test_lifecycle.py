"""Start-up, shutdown and isolation: signals stop linegate cleanly (tap gone,
EAL runtime directory and hugepage files removed), run-time failures exit 1
and still clean up, and two instances run side by side."""
import signal
import socket
import subprocess

import pytest

import lgtest
from lgtest import assert_ping

pytestmark = pytest.mark.usefixtures("linegate_env")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(linegate, sig):
    lg = linegate()
    assert_ping(lg.ip4, count=5)
    assert (lgtest.DPDK_RUN_DIR / lg.prefix).is_dir()
    # --huge-unlink: no hugepage file exists even while running, so a crash leaves none.
    assert lgtest.hugepage_files(lg.prefix) == []
    lg.send_signal(sig)
    assert lg.wait_exit(10) == 0, lg.describe()
    lgtest.assert_clean_stop(lg)
    if sig == signal.SIGTERM:
        # SIGTERM drains first (nothing in flight here: it stops at once).
        assert f"signal {signal.strsignal(sig)}: draining" in lg.log_text()
        assert "drained: stopping" in lg.log_text()
    else:
        assert f"signal {signal.strsignal(sig)}: stopping" in lg.log_text()


def test_sigterm_during_start_up(linegate_factory):
    """A stop signal that arrives while ports are being opened is honoured
    once start-up completes: exit 0, everything cleaned up."""
    lg = linegate_factory.create().launch()
    assert lgtest.wait_until(lambda: lgtest.link_exists(lg.tap) or lg.proc.poll() is not None, 20,
                             interval=0.001), lg.describe()
    lg.send_signal(signal.SIGTERM)
    assert lg.wait_exit(10) == 0, lg.describe()
    lgtest.assert_clean_stop(lg)


def test_sigterm_under_traffic(linegate):
    lg = linegate()
    flood = subprocess.Popen(["ping", "-4", "-n", "-q", "-i", "0.002", "-c", "100000", lg.ip4],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert lg.wait_counter("icmp_echo_replies_sent", 50) >= 50
        lg.send_signal(signal.SIGTERM)
        assert lg.wait_exit(10) == 0, lg.describe()
    finally:
        flood.kill()
        flood.wait()
    lgtest.assert_clean_stop(lg)


def test_restart_after_sigkill(linegate):
    """A crash leaves the EAL runtime directory behind (nothing can remove it)
    but no tap and no hugepage files; the same bootstrap starts again."""
    lg = linegate()
    assert_ping(lg.ip4, count=3)
    lg.send_signal(signal.SIGKILL)
    assert lg.wait_exit(10) == -signal.SIGKILL
    assert lgtest.wait_until(lambda: not lgtest.link_exists(lg.tap), 5), "tap outlived its process"
    assert lgtest.hugepage_files(lg.prefix) == []
    lg.start()  # same prefix, tap name and admin port
    lg.configure_kernel()
    r = assert_ping(lg.ip4, count=10)
    assert_ping(lg.ip6, count=10, v6=True)
    assert lg.counter("icmp_echo_replies_sent") == r.transmitted, "counters start from zero"
    assert lg.stop() == 0, lg.describe()
    lgtest.assert_clean_stop(lg)


def test_tap_deleted_underneath(linegate):
    """Someone deletes the kernel end: the port goes down, linegate keeps its
    admin side up and still stops cleanly."""
    lg = linegate()
    assert_ping(lg.ip4, count=3)
    lgtest.run(["ip", "link", "del", lg.tap])
    assert lgtest.wait_until(lambda: lg.counter("link_up") == 0, 5), lg.stats()
    assert lg.alive() and lg.request("GET", "/ready")[2] == "LIVE\n"
    assert lg.stop() == 0, lg.describe()
    assert not (lgtest.DPDK_RUN_DIR / lg.prefix).exists()
    assert "stopped; ports closed and EAL cleaned up" in lg.log_text()


def test_no_huge(linegate):
    """Explicit --no-huge (the path linegate falls back to without hugepages)."""
    lg = linegate(eal=["--no-huge"])
    assert "--no-huge" in lg.log_text()
    assert_ping(lg.ip4, count=20)
    assert_ping(lg.ip6, count=20, v6=True)
    assert lg.stop() == 0, lg.describe()
    lgtest.assert_clean_stop(lg)


def hugepages_usable() -> tuple[int, bool]:
    free = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
    return free, bool(lgtest.hugetlbfs_mounts())


def test_hugepages_or_fallback_matches_machine(linegate):
    """With free hugepages and hugetlbfs linegate uses them (--huge-unlink);
    without, it logs one notice and runs with --no-huge. Either way it serves."""
    free, mounted = hugepages_usable()
    lg = linegate()
    if lg.hide_hugepages:
        free, mounted = 0, False
    log = lg.log_text().splitlines()
    eal_line = next(line for line in log if "EAL arguments:" in line)
    notices = [line for line in log if "running with --no-huge" in line]
    if free == 0 or not mounted:
        assert "--no-huge" in eal_line and len(notices) == 1, "\n".join(log)
    elif free >= 64:  # plenty (a concurrent run could take some in between)
        assert "--no-huge" not in eal_line and "--huge-unlink" in eal_line and notices == [], "\n".join(log)
    assert_ping(lg.ip4, count=3)


def test_without_hugepages_falls_back(linegate):
    """Hugepages hidden (private mount namespace without hugetlbfs): one
    notice, --no-huge, and everything works and cleans up as usual."""
    lg = linegate(hide_hugepages=True)
    log = lg.log_text().splitlines()
    eal_line = next(line for line in log if "EAL arguments:" in line)
    assert "--no-huge" in eal_line and "--huge-unlink" not in eal_line, eal_line
    notices = [line for line in log if "running with --no-huge" in line]
    assert len(notices) == 1 and "no hugetlbfs mount" in notices[0], log
    assert_ping(lg.ip4, count=20)
    assert_ping(lg.ip6, count=20, v6=True)
    assert lg.telemetry("/linegate/info")["/linegate/info"]["state"] == "LIVE"
    assert lg.stop() == 0, lg.describe()
    lgtest.assert_clean_stop(lg)


def test_two_instances_side_by_side(linegate):
    a = linegate()
    b = linegate()
    assert a.prefix != b.prefix and a.tap != b.tap
    a4 = assert_ping(a.ip4, count=50).transmitted
    b4 = assert_ping(b.ip4, count=30).transmitted
    a6 = assert_ping(a.ip6, count=20, v6=True).transmitted
    b6 = assert_ping(b.ip6, count=10, v6=True).transmitted
    b.wait_counter("icmp6_echo_replies_sent", b6)
    # Each counts only its own traffic.
    assert (a.counter("icmp_echo_replies_sent"), b.counter("icmp_echo_replies_sent")) == (a4, b4)
    assert (a.counter("icmp6_echo_replies_sent"), b.counter("icmp6_echo_replies_sent")) == (a6, b6)
    # Telemetry reaches each through its own file prefix.
    assert a.telemetry("/linegate/info")["/linegate/info"]["node_id"] == a.node_id
    assert b.telemetry("/linegate/info")["/linegate/info"]["node_id"] == b.node_id
    # Stopping one leaves the other serving.
    assert a.stop() == 0
    lgtest.assert_clean_stop(a)
    assert_ping(b.ip4, count=10)
    assert (lgtest.DPDK_RUN_DIR / b.prefix).is_dir()


def test_same_file_prefix_is_refused_and_first_unharmed(linegate, linegate_factory):
    first = linegate()
    second = linegate_factory.create()
    second.config["eal"] = [f"--file-prefix={first.prefix}"]
    p = subprocess.run(command(second), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "EAL initialisation failed" in p.stderr
    assert not lgtest.link_exists(second.tap)
    # The running instance keeps its runtime directory, telemetry and traffic.
    assert (lgtest.DPDK_RUN_DIR / first.prefix).is_dir()
    assert first.telemetry("/linegate/info")["/linegate/info"]["state"] == "LIVE"
    assert_ping(first.ip4, count=10)


def test_admin_port_in_use_exits_1_and_cleans_up(linegate_factory):
    lg = linegate_factory.create()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", lg.admin_port))
        s.listen(1)
        p = subprocess.run(command(lg), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "admin:" in p.stderr, p.stderr
    # It got as far as opening the port and starting workers: all undone.
    assert "stopped; ports closed and EAL cleaned up" in p.stderr
    assert not lgtest.link_exists(lg.tap)
    assert not (lgtest.DPDK_RUN_DIR / lg.prefix).exists()
    assert lgtest.hugepage_files(lg.prefix) == []


def test_bad_device_exits_1_and_cleans_up(linegate_factory):
    lg = linegate_factory.create()
    lg.config["ports"][0]["device"] = "net_nosuchdriver0"
    p = subprocess.run(command(lg), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "port p0 (net_nosuchdriver0): cannot probe device" in p.stderr, p.stderr
    assert not (lgtest.DPDK_RUN_DIR / lg.prefix).exists()
    assert lgtest.hugepage_files(lg.prefix) == []


def command(lg) -> list[str]:
    """Writes lg's bootstrap; the command line that runs linegate on it."""
    lg.bootstrap_path.write_text(lgtest.to_yaml(lg.config))
    return lg.command()


def test_tls_record_buffers_that_do_not_fit_exit_1_naming_the_setting(linegate_factory):
    lg = linegate_factory.create()
    lg.config["eal"] += ["-m", "256"]  # 256 MB of EAL memory, hugepages or not
    lg.config["tls"] = {"record_buffers": 65536}  # 65536 × 17 KB = 1.1 GB
    p = subprocess.run(command(lg), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "worker 0: cannot create its TLS record buffers (65536 of 17 KB; tls.record_buffers)" in p.stderr, p.stderr
    assert not (lgtest.DPDK_RUN_DIR / lg.prefix).exists()
    assert lgtest.hugepage_files(lg.prefix) == []
