"""The userspace TCP stack against the Linux kernel's TCP on the other side of
a tap: bulk echo (clean and impaired), many connections, active open, a
spoofed SYN flood with SYN cookies, and blind RST/SYN/ACK injection
(RFC 5961)."""
import random
import socket
import threading
import time
from pathlib import Path

import pytest

import lgtest
from tcp_peers import ACK, RST, SYN, Sink, echo_transfer, parse_tcp, pattern_sha256, tcp_frame

MB = 1_000_000
ECHO, DISCARD, SOURCE = 7, 9, 19
APPS = [{"kind": "echo", "port": ECHO}, {"kind": "discard", "port": DISCARD},
        {"kind": "source", "port": SOURCE, "bytes": 1048576}]


def start(factory, tcp=None, apps=APPS, impair=None, **kw):
    lg = factory.create(extra_top={"tcp": {"time_wait_ms": 1000, **(tcp or {})}, "test_apps": apps}, **kw)
    if impair:
        lg.config["ports"][0]["impair"] = impair
    lg.start()
    lg.configure_kernel()
    return lg


def kernel_mac(tap: str) -> str:
    return Path(f"/sys/class/net/{tap}/address").read_text().strip()


def gauge(lg, name: str) -> int:
    return lg.counter(name)


def test_echo_200mb_ipv4_and_ipv6(linegate_factory):
    lg = start(linegate_factory)
    got, equal = echo_transfer(lg.ip4, ECHO, 200 * MB)
    assert (got, equal) == (200 * MB, True)
    got, equal = echo_transfer(lg.ip6, ECHO, 50 * MB)
    assert (got, equal) == (50 * MB, True)
    assert lg.counter("app_streams_completed") == 2


@pytest.mark.slow
@pytest.mark.parametrize("cc", ["cubic", "newreno"])
def test_echo_through_loss_reordering_and_duplication(linegate_factory, cc):
    """2% loss, 1% reordering, 1% duplication on both directions of the port.
    The 200 MB run lowers the RTO floor to 20 ms (tcp.rto_min_ms, as a
    gateway next to its peers would): without RACK/TLP every tail loss waits
    one RTO, and at 200 ms those waits are most of the run. The NewReno run
    keeps Linux's 200 ms default."""
    total = 200 * MB if cc == "cubic" else 20 * MB
    tcp = {"congestion_control": cc, **({"rto_min_ms": 20} if cc == "cubic" else {})}
    lg = start(linegate_factory, tcp=tcp,
               impair={"loss": 0.02, "reorder": 0.01, "duplicate": 0.01, "seed": 11})
    got, equal = echo_transfer(lg.ip4, ECHO, total, timeout=600)
    assert (got, equal) == (total, True)
    s = lg.stats()
    assert s["port.p0.tcp_retransmits"] > 0 and s["port.p0.tcp_fast_retransmits"] > 0, "loss was recovered from"
    assert s["port.p0.tcp_ooo_segments"] > 0, "reordered and lost data was held out of order"
    assert s["port.p0.drop.tx_queue_full"] == 0
    # What the impairment stage did is visible, not silent.
    assert s["port.p0.impair_dropped"] > 0 and s["port.p0.impair_duplicated"] > 0
    assert s["port.p0.impair_reordered"] > 0 and s["port.p0.impair_corrupted"] == 0

def test_source_pattern_and_discard(linegate_factory):
    lg = start(linegate_factory)
    with socket.create_connection((lg.ip4, SOURCE), timeout=30) as s:
        buf = bytearray()
        while (b := s.recv(1 << 16)):
            buf += b
    assert len(buf) == 1048576
    assert buf == bytes(i % 251 for i in range(1048576))
    with socket.create_connection((lg.ip4, DISCARD), timeout=30) as s:
        s.sendall(b"x" * 3 * MB)
        s.shutdown(socket.SHUT_WR)
        assert s.recv(1) == b"", "discard closes after the peer's FIN"
    lg.wait_counter("app_bytes_received", 3 * MB)


def test_thousand_concurrent_connections_and_empty_table_after_time_wait(linegate_factory):
    lg = start(linegate_factory)
    socks = []
    try:
        for _ in range(1000):
            socks.append(socket.create_connection((lg.ip4, ECHO), timeout=10))
        # The client is connected once it sent the last ACK; the dataplane once that ACK arrived.
        assert lgtest.wait_until(lambda: gauge(lg, "tcp_established") == 1000, 5), gauge(lg, "tcp_established")
        for i, s in enumerate(socks):
            s.sendall(f"conn {i}\n".encode() * 20)
        for i, s in enumerate(socks):
            want, got = f"conn {i}\n".encode() * 20, b""
            while len(got) < len(want) and (b := s.recv(4096)):
                got += b
            assert got == want, i
        # The dataplane closes first here, so its side goes through TIME_WAIT.
        lg_closes = socks[:500]
        for s in lg_closes:
            s.shutdown(socket.SHUT_WR)
        for s in lg_closes:
            assert s.recv(1) == b""
    finally:
        for s in socks:
            s.close()
    lg.wait_counter("tcp_connections_closed", 1000, timeout=20)
    assert gauge(lg, "tcp_connections") == 0, "table empty once TIME_WAIT expired"
    assert gauge(lg, "tcp_time_wait") == 0
    assert lg.counter("tcp_connections_accepted") == 1000


def test_closed_port_is_refused_with_rst(linegate_factory):
    lg = start(linegate_factory)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((lg.ip4, 4444), timeout=5)
    assert lg.counter("drop.tcp_no_listener") >= 1
    assert lg.counter("tcp_resets_sent") >= 1


def test_active_open_transfers_200mb_to_a_kernel_server(linegate_factory):
    port = lgtest.free_tcp_port()
    lg = linegate_factory.create(extra_top={"tcp": {"time_wait_ms": 1000}})
    # The client app needs the server's address before linegate starts.
    a, b = lg.peer4.split(".")[1:3]
    server = f"10.{a}.{b}.1"
    lg.config["test_apps"] = [{"kind": "client", "connect": f"{server}:{port}", "bytes": 200 * MB}]
    lg.start()
    lg.configure_kernel()
    sink = Sink(server, port)
    results = sink.wait(300)
    assert not sink.errors, sink.errors
    assert results == [(200 * MB, pattern_sha256(200 * MB))]
    lg.wait_counter("app_streams_completed", 1, timeout=30)
    assert lg.counter("tcp_connections_connected") == 1


@pytest.mark.slow
def test_syn_flood_gets_cookies_and_legitimate_connections_complete(linegate_factory):
    lg = start(linegate_factory, tcp={"syn_backlog": 256})
    tap_mac = kernel_mac(lg.tap)
    stop = threading.Event()
    outcomes = []

    def legit():
        while not stop.is_set():
            try:
                with socket.create_connection((lg.ip4, ECHO), timeout=10) as s:
                    s.sendall(b"ping")
                    outcomes.append(s.recv(4) == b"ping")
            except OSError as e:
                outcomes.append(e)
            time.sleep(0.01)

    workers = [threading.Thread(target=legit) for _ in range(4)]
    for w in workers:
        w.start()
    rng = random.Random(5)
    sock = lgtest.packet_socket(lg.tap)
    try:
        for i in range(100_000):
            # Spoofed off-link sources: the SYN-ACKs go to the gateway (the kernel), which drops them.
            src = f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            sock.send(tcp_frame(lg.mac, tap_mac, src, lg.ip4, rng.randrange(1024, 65535), ECHO,
                                rng.getrandbits(32), 0, SYN))
    finally:
        sock.close()
        time.sleep(1)
        stop.set()
        for w in workers:
            w.join(30)
    assert outcomes and all(o is True for o in outcomes), [o for o in outcomes if o is not True][:5]
    s = lg.stats()
    # Not every spoofed SYN reaches the dataplane (the kernel's tap queue drops
    # some when the machine is busy); every one that did and found the backlog
    # full was answered with a cookie, not with state.
    syns_seen = s["port.p0.tcp_segments_received"]
    assert syns_seen > 50_000, syns_seen
    legit_segments = 8 * len(outcomes)  # a short echo exchange is at most 8 segments our way
    assert s["port.p0.tcp_syncookies_sent"] >= syns_seen - 256 - legit_segments, s
    assert s["port.p0.tcp_half_open"] <= 256
    # A fresh connection after the flood still works.
    got, equal = echo_transfer(lg.ip4, ECHO, 1 * MB)
    assert (got, equal) == (MB, True)


def test_blind_rst_syn_and_ack_injection_does_not_kill_a_live_connection(linegate_factory):
    """RFC 5961: only a RST at exactly rcv_nxt resets; others in the window get
    a challenge ACK; SYNs get a challenge ACK; ACKs for unsent data are dropped."""
    lg = start(linegate_factory)
    tap_mac = kernel_mac(lg.tap)
    s = socket.create_connection((lg.ip4, ECHO), timeout=10)
    with lgtest.Sniffer(lg.tap) as sniff:
        s.sendall(b"hello")
        assert s.recv(5) == b"hello"
        cport = s.getsockname()[1]
        seen = sniff.wait_for(lambda f: (t := parse_tcp(f)) is not None and t[0] == lg.ip4 and t[3] == cport
                              and t[6] & ACK, timeout=5)
    assert seen is not None, "no segment from the dataplane seen"
    _, _, _, _, lg_seq, rcv_nxt, _ = parse_tcp(seen)  # rcv_nxt: what the dataplane expects from us

    def inject(seq, ack, flags, n=1):
        sock = lgtest.packet_socket(lg.tap)
        try:
            for i in range(n):
                sock.send(tcp_frame(lg.mac, tap_mac, lg.peer4, lg.ip4, cport, ECHO, seq + i, ack, flags))
        finally:
            sock.close()

    before = lg.stats()
    inject(rcv_nxt + 1000, 0, RST)                       # in the window, not exact
    inject(rcv_nxt + (1 << 31), 0, RST, n=200)          # far outside
    inject(rcv_nxt + 100, lg_seq, RST | ACK)             # in window with an ACK
    inject(rcv_nxt, lg_seq, SYN)                         # SYN on a synchronized connection
    inject(rcv_nxt, lg_seq + (1 << 30), ACK, n=50)      # ACKs for data never sent
    lgtest.wait_until(lambda: lg.counter("tcp_challenge_acks") >= before["port.p0.tcp_challenge_acks"] + 3, 5)
    after = lg.stats()
    assert after["port.p0.drop.tcp_rst_in_window"] - before["port.p0.drop.tcp_rst_in_window"] == 2
    assert after["port.p0.drop.tcp_rst_out_of_window"] - before["port.p0.drop.tcp_rst_out_of_window"] == 200
    assert after["port.p0.drop.tcp_syn_in_window"] - before["port.p0.drop.tcp_syn_in_window"] == 1
    assert after["port.p0.drop.tcp_ack_invalid"] - before["port.p0.drop.tcp_ack_invalid"] == 50
    assert after["port.p0.tcp_resets_received"] == before["port.p0.tcp_resets_received"]
    # Still alive both ways.
    s.sendall(b"still here")
    got = b""
    while len(got) < 10 and (b := s.recv(64)):
        got += b
    assert got == b"still here"
    # And a RST at exactly rcv_nxt does reset it (the connection is real).
    inject(rcv_nxt + 10, 0, RST)
    lg.wait_counter("tcp_resets_received", before["port.p0.tcp_resets_received"] + 1)
    s.close()


def test_keepalive_ends_a_connection_whose_peer_went_silent(linegate_factory):
    """RFC 1122 §4.2.3.6: probes after keepalive_ms of silence; with no answer
    the connection ends and is counted as timed out."""
    lg = start(linegate_factory, tcp={"keepalive_ms": 300})
    s = socket.create_connection((lg.ip4, ECHO), timeout=10)
    s.sendall(b"x")
    assert s.recv(1) == b"x"
    lg.wait_counter("tcp_keepalive_probes", 1, timeout=10)  # answered: the kernel ACKs probes
    assert lg.counter("tcp_established") == 1
    # The peer vanishes: its address goes away, so probes are no longer answered.
    lgtest.run(["ip", "addr", "del", f"{lg.peer4}/{lg.plen4}", "dev", lg.kernel_if])
    lg.wait_counter("tcp_connections_timed_out", 1, timeout=30)
    assert lg.counter("tcp_established") == 0
    assert lg.counter("app_streams_failed") == 1
    s.close()
