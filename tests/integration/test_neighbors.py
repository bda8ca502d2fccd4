"""The dataplane's neighbor table under pressure: next hops that never answer
(bounded queue, exactly max_solicits tries, then the waiting packets are
dropped) and more next hops than the table holds."""
import ipaddress
import socket
import struct
import time

import pytest

from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

import lgtest
from lgtest import assert_ping

pytestmark = pytest.mark.usefixtures("linegate_env")

FAKE_MAC = "02:00:00:00:00:01"
MAX_QUEUED = 4  # NeighParams::max_queued
MAX_SOLICITS = 3  # NeighParams::max_solicits, 1 s apart
CAPACITY = 4096  # NeighParams::capacity


def test_unanswered_next_hop(linegate):
    lg = linegate()
    phantom4 = lg.ip4.rsplit(".", 1)[0] + ".77"  # on-link, nobody answers for it
    phantom6 = lg.ip6.rsplit(":", 1)[0] + ":77"
    sent = MAX_QUEUED + 2
    e = Ether(dst=lg.mac, src=FAKE_MAC)
    frames = [e / IP(src=phantom4, dst=lg.ip4) / ICMP(id=9, seq=i) for i in range(sent)]
    frames += [e / IPv6(src=phantom6, dst=lg.ip6) / ICMPv6EchoRequest(id=9, seq=i) for i in range(sent)]
    before = lg.stats()
    t0 = time.monotonic()
    assert lgtest.send_frames(lg.tap, frames) == 2 * sent

    # Each family: MAX_QUEUED replies wait, the rest are refused at once.
    assert lg.wait_counter("drop.neigh_queue_full", before["port.p0.drop.neigh_queue_full"] + 4) \
        == before["port.p0.drop.neigh_queue_full"] + 2 * (sent - MAX_QUEUED)
    # After MAX_SOLICITS seconds the waiting ones are dropped.
    want = before["port.p0.drop.neigh_unresolved"] + 2 * MAX_QUEUED
    assert lg.wait_counter("drop.neigh_unresolved", want, timeout=15) == want
    elapsed = time.monotonic() - t0
    assert elapsed >= MAX_SOLICITS - 1, f"gave up after {elapsed:.1f}s"
    time.sleep(1.5)  # a give-up is final: no further tries
    s = lg.stats()
    assert s["port.p0.arp_requests_sent"] - before["port.p0.arp_requests_sent"] == MAX_SOLICITS
    assert s["port.p0.nd_solicitations_sent"] - before["port.p0.nd_solicitations_sent"] == MAX_SOLICITS
    assert s["port.p0.neigh_queued_sent"] == before["port.p0.neigh_queued_sent"]
    # The kernel is unaffected.
    assert_ping(lg.ip4, count=3)
    assert_ping(lg.ip6, count=3, v6=True)


def echo6_frame(dst_mac: bytes, src: bytes, dst: bytes, ident: int) -> bytes:
    """Ethernet + IPv6 + ICMPv6 echo request, built by hand (thousands needed)."""
    icmp = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"neigh"
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    c = lgtest.inet_checksum(pseudo + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    ip = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64) + src + dst
    return dst_mac + bytes.fromhex("020000000001") + b"\x86\xdd" + ip + icmp


def delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in after
            if isinstance(after[k], int) and k in before and after[k] != before[k] and k.startswith("port.")}


def test_more_next_hops_than_the_table_holds(linegate):
    lg = linegate()
    assert_ping(lg.ip6, count=3, v6=True)  # the kernel's entry exists first
    n = CAPACITY + 1000
    base = int(ipaddress.IPv6Address(lg.ip6)) & ~0xFFFF
    dst = ipaddress.IPv6Address(lg.ip6).packed
    mac = bytes.fromhex(lg.mac.replace(":", ""))
    frames = [echo6_frame(mac, ipaddress.IPv6Address(base + 0x1000 + i).packed, dst, i) for i in range(n)]
    # Sanity: scapy agrees the hand-built checksum is right.
    sample = Ether(frames[0])
    stored = sample[ICMPv6EchoRequest].cksum
    del sample[ICMPv6EchoRequest].cksum
    assert Ether(bytes(sample))[ICMPv6EchoRequest].cksum == stored

    # All of them must arrive well within MAX_SOLICITS seconds (before the first
    # entries give up and free their slots): queue them in the kernel at once
    # instead of pacing, with a tap queue long enough to hold them all.
    lgtest.run(["ip", "link", "set", "dev", lg.tap, "txqueuelen", str(2 * n)])
    before = lg.stats()
    dropped0 = lg.kernel_tx_dropped()
    assert lgtest.send_frames(lg.tap, frames) == n
    assert lg.kernel_tx_dropped() == dropped0, "the kernel dropped frames at the tap"
    lg.wait_counter("rx_frames", before["port.p0.rx_frames"] + n)
    full0, unresolved0 = before["port.p0.drop.neigh_table_full"], before["port.p0.drop.neigh_unresolved"]
    full = lg.wait_counter("drop.neigh_table_full", full0 + n - CAPACITY) - full0
    assert full >= n - CAPACITY, (full, delta(before, lg.stats()))
    # The existing entry keeps working while the table is full.
    assert_ping(lg.ip6, count=3, v6=True)
    # Every entry that was made gives up after MAX_SOLICITS seconds and frees
    # its slot: each frame ends up either refused (table full) or unresolved.
    last = {}

    def all_accounted():
        s = lg.stats()
        last.update(full=s["port.p0.drop.neigh_table_full"] - full0,
                    unresolved=s["port.p0.drop.neigh_unresolved"] - unresolved0)
        return last["full"] + last["unresolved"] >= n

    lgtest.wait_until(all_accounted, 20, interval=0.2)
    assert last["full"] + last["unresolved"] == n, last
    assert last["unresolved"] <= CAPACITY, last
    assert lg.alive(), lg.describe()
    # Room again: a new next hop is solicited.
    ns0 = lg.counter("nd_solicitations_sent")
    fresh = echo6_frame(mac, ipaddress.IPv6Address(base + 0x9999).packed, dst, 1)
    assert lgtest.send_frames(lg.tap, [fresh]) == 1
    assert lg.wait_counter("nd_solicitations_sent", ns0 + 1) >= ns0 + 1
    assert_ping(lg.ip4, count=3)


def test_link_coming_up_announces_our_addresses(linegate):
    """When a port's link comes up, linegate announces its addresses: an ARP
    Announcement (RFC 5227 §2.3) and unsolicited overriding advertisements
    (RFC 4861 §7.2.6), so peers that cached a previous process's MAC for
    them follow at once instead of after their reachable time."""
    lg = linegate()
    assert lgtest.wait_until(lambda: "port p0: link up" in lg.log_text(), 5), lg.log_text()
    mac = bytes.fromhex(lg.mac.replace(":", ""))
    ip4 = socket.inet_aton(lg.ip4)
    ip6 = socket.inet_pton(socket.AF_INET6, lg.ip6)

    def arp_announcement(f: bytes) -> bool:
        return (f[:6] == b"\xff" * 6 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01"
                and f[22:28] == mac and f[28:32] == ip4 and f[38:42] == ip4)

    def unsolicited_advert(f: bytes) -> bool:
        return (f[:6] == bytes.fromhex("333300000001") and f[12:14] == b"\x86\xdd" and f[20] == 58
                and f[54] == 136 and f[58] == 0x20 and f[62:78] == ip6)

    before = lg.stats()["port.p0.address_announcements_sent"]
    with lgtest.Sniffer(lg.tap) as s:
        # Carrier, not the interface: the sniffer stays bound through it.
        lgtest.run(["ip", "link", "set", lg.tap, "carrier", "off"])
        assert lgtest.wait_until(lambda: "port p0: link down" in lg.log_text(), 5), lg.log_text()
        lgtest.run(["ip", "link", "set", lg.tap, "carrier", "on"])
        assert s.wait_for(arp_announcement, timeout=5), "no ARP announcement"
        assert s.wait_for(unsolicited_advert, timeout=5), "no unsolicited neighbor advertisement"
    assert lg.wait_counter("address_announcements_sent", before + 3) == before + 3
    assert_ping(lg.ip4, count=3)
