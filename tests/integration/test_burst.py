"""Robustness: a seeded burst of 20,000 garbage and mutated frames, paced so
the kernel loses none (the dataplane must take every one: no stall), then the
same again unpaced. The dataplane must stay up and keep answering."""
import random
import struct

import pytest

from scapy.layers.inet import ICMP, IP, UDP, IPOption_RR
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                                ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

import lgtest
from lgtest import assert_ping

pytestmark = pytest.mark.usefixtures("linegate_env")

SEED = 20240611
GARBAGE = 10_000
MUTANTS = 10_000
CHUNK = 250  # well under the tap's 1000-frame queue: nothing is lost in the kernel
FAKE_MAC = "02:00:00:00:00:01"
MAX_FRAME = 1514


def templates(lg):
    """Valid frames of every kind the dataplane parses. Sources never use the
    kernel's own addresses, so no mutation can redirect replies meant for it."""
    e = Ether(dst=lg.mac, src=FAKE_MAC)
    src4 = lg.ip4.rsplit(".", 1)[0] + ".70"
    src6 = lg.ip6.rsplit(":", 1)[0] + ":70"
    group = "ff02::1:ff00:2"
    return [bytes(p) for p in [
        e / IP(src=src4, dst=lg.ip4) / ICMP(id=1, seq=1) / Raw(b"abcdefgh" * 4),
        e / IP(src=src4, dst=lg.ip4, options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / ICMP() / Raw(b"x" * 20),
        e / IP(src=src4, dst=lg.ip4) / UDP(sport=1, dport=2) / Raw(b"y" * 10),
        e / IP(src=src4, dst=lg.ip4, flags="MF") / ICMP() / Raw(b"z" * 24),
        Ether(dst="ff:ff:ff:ff:ff:ff", src=FAKE_MAC) / ARP(op=1, hwsrc=FAKE_MAC, psrc=src4, pdst=lg.ip4),
        e / ARP(op=2, hwsrc=FAKE_MAC, psrc=src4, hwdst=lg.mac, pdst=lg.ip4),
        e / Dot1Q(vlan=0) / IP(src=src4, dst=lg.ip4) / ICMP(),
        e / IPv6(src=src6, dst=lg.ip6) / ICMPv6EchoRequest(id=1, seq=1, data=b"q" * 32),
        e / IPv6(src=src6, dst=lg.ip6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / ICMPv6EchoRequest(),
        e / IPv6(src=src6, dst=lg.ip6) / IPv6ExtHdrRouting(addresses=[], segleft=0) / ICMPv6EchoRequest(),
        e / IPv6(src=src6, dst=lg.ip6) / IPv6ExtHdrFragment() / ICMPv6EchoRequest(),
        Ether(dst="33:33:ff:00:00:02", src=FAKE_MAC) / IPv6(src=src6, dst=group, hlim=255)
        / ICMPv6ND_NS(tgt=lg.ip6) / ICMPv6NDOptSrcLLAddr(lladdr=FAKE_MAC),
        Ether(dst="33:33:ff:00:00:02", src=FAKE_MAC) / IPv6(src="::", dst=group, hlim=255) / ICMPv6ND_NS(tgt=lg.ip6),
        e / IPv6(src=src6, dst=lg.ip6, hlim=255) / ICMPv6ND_NA(tgt=src6, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=FAKE_MAC),
    ]]


def garbage(rng, mac: bytes, n: int):
    """Random bytes of random lengths 1..1500; half addressed to the dataplane
    and a quarter with an ethertype it parses, so they get past layer 2."""
    ethertypes = [0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8]
    for _ in range(n):
        b = bytearray(rng.randbytes(rng.randint(1, 1500)))
        if len(b) >= 6 and rng.random() < 0.5:
            b[0:6] = mac
        if len(b) >= 14 and rng.random() < 0.5:
            b[12:14] = struct.pack("!H", rng.choice(ethertypes))
        yield bytes(b)


def mutants(rng, base: list, n: int):
    """Valid frames with bytes overwritten, flipped, truncated or extended."""
    for _ in range(n):
        b = bytearray(rng.choice(base))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(12, len(b)) if rng.random() < 0.9 else rng.randrange(len(b))
            if rng.random() < 0.5:
                b[pos] = rng.randrange(256)
            else:
                b[pos] ^= 1 << rng.randrange(8)
        r = rng.random()
        if r < 0.25:
            del b[rng.randint(14, len(b)):]
        elif r < 0.35:
            b += rng.randbytes(rng.randint(1, 64))
        yield bytes(b[:MAX_FRAME])


@pytest.mark.slow
def test_burst_of_garbage_and_mutants(linegate):
    lg = linegate()
    assert_ping(lg.ip4, count=3)
    rng = random.Random(SEED)
    mac = bytes.fromhex(lg.mac.replace(":", ""))
    frames = list(garbage(rng, mac, GARBAGE)) + list(mutants(rng, templates(lg), MUTANTS))
    rng.shuffle(frames)
    assert len(frames) == GARBAGE + MUTANTS

    before = lg.stats()
    kernel_dropped_before = lg.kernel_tx_dropped()
    accepted = 0
    for i in range(0, len(frames), CHUNK):
        accepted += lgtest.send_frames(lg.tap, frames[i:i + CHUNK])
        # Let the dataplane drain the chunk; a stall shows up as the final check failing.
        target = before["port.p0.rx_frames"] + accepted
        lgtest.wait_until(lambda: lg.counter("rx_frames") >= target, 5)
        assert lg.alive(), lg.describe()
    refused = sum(1 for f in frames if len(f) < 14)  # the kernel refuses runts
    assert accepted == len(frames) - refused

    after = lg.stats()
    lost_in_kernel = lg.kernel_tx_dropped() - kernel_dropped_before
    received = after["port.p0.rx_frames"] - before["port.p0.rx_frames"]
    assert received >= accepted - lost_in_kernel, (received, accepted, lost_in_kernel)
    assert lost_in_kernel == 0
    drops = {k[len("port.p0.drop."):]: after[k] - before[k]
             for k in after if k.startswith("port.p0.drop.") and after[k] != before[k]}
    # The mix reaches deep into every parser.
    assert len(drops) >= 20, drops
    assert sum(drops.values()) >= accepted * 0.9, drops

    # The same frames again at full speed: the kernel may now drop some at the
    # tap's queue; the dataplane must simply keep up as well as it can.
    lgtest.send_frames(lg.tap, frames)
    assert lg.alive(), lg.describe()

    # Still alive and serving. Random frames may legitimately have rewritten
    # the dataplane's view of on-link neighbours; the kernel re-resolving
    # (as after any neighbour change) must be enough to talk again.
    assert lg.alive(), lg.describe()
    assert lg.request("GET", "/ready")[2] == "LIVE\n"
    lgtest.run(["ip", "neigh", "flush", "dev", lg.tap])
    assert_ping(lg.ip4, count=20)
    assert_ping(lg.ip6, count=20, v6=True)
