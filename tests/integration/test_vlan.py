"""A port with `vlan: 100`: the kernel talks to it through an 802.1Q
sub-interface of the tap; untagged and foreign-tagged frames are dropped as
vlan_mismatch."""
import pytest

from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

import lgtest
from lgtest import assert_ping

pytestmark = pytest.mark.usefixtures("linegate_env")

FAKE_MAC = "02:00:00:00:00:01"


@pytest.fixture(scope="module")
def dut(shared_linegate):
    return shared_linegate(vlan=100, gateway6=True)


def test_ping_through_tagged_path(dut):
    # The kernel's own 802.1Q interface, or (kernels without 8021q) a veth end
    # behind a userspace tagging relay.
    assert dut.kernel_if == f"{dut.tap}.100" or dut.relay is not None
    n4 = assert_ping(dut.ip4, count=100, interval=0.005).transmitted
    n6 = assert_ping(dut.ip6, count=100, interval=0.005, v6=True).transmitted
    dut.wait_counter("icmp6_echo_replies_sent", n6)
    s = dut.stats()
    assert s["port.p0.icmp_echo_replies_sent"] == n4
    assert s["port.p0.icmp6_echo_replies_sent"] == n6
    # The kernel resolved the dataplane on the VLAN interface (ARP and ND tagged both ways).
    neigh = {n["dst"]: n.get("lladdr", "").lower() for n in dut.kernel_neighbors()}
    assert neigh.get(dut.ip4) == dut.mac and neigh.get(dut.ip6) == dut.mac, neigh


def test_full_size_frames(dut):
    """1500-byte IP packets: 1518-byte tagged frames both ways."""
    assert_ping(dut.ip4, count=5, extra=["-s", "1472", "-M", "do"])
    assert_ping(dut.ip6, count=5, v6=True, extra=["-s", "1452", "-M", "do"])


def test_replies_are_tagged(dut):
    """The dataplane's answers carry the port's tag (seen raw on the tap)."""
    requester = dut.ip4.rsplit(".", 1)[0] + ".60"
    req = Ether(dst="ff:ff:ff:ff:ff:ff", src=FAKE_MAC) / Dot1Q(vlan=100) / ARP(
        op=1, hwsrc=FAKE_MAC, psrc=requester, pdst=dut.ip4)
    echo = (Ether(dst=dut.mac, src=FAKE_MAC) / Dot1Q(vlan=100, prio=3)
            / IPv6(src=dut.peer6, dst=dut.ip6) / ICMPv6EchoRequest(id=0x4242, seq=1))
    with lgtest.Sniffer(dut.tap) as sn:
        lgtest.send_frames(dut.tap, [req])
        raw = sn.wait_for(lambda d: Ether(d).dst == FAKE_MAC and ARP in Ether(d) and Ether(d)[ARP].op == 2)
        assert raw is not None, "no ARP reply"
        rep = Ether(raw)
        assert Dot1Q in rep and rep[Dot1Q].vlan == 100, rep.summary()
        assert rep[ARP].psrc == dut.ip4 and rep[ARP].hwsrc == dut.mac

    # IPv6: the dataplane knows FAKE_MAC only for requester (IPv4); the echo
    # reply to peer6 goes to the kernel's MAC. Either way it is tagged.
    with lgtest.Sniffer(dut.tap) as sn:
        lgtest.send_frames(dut.tap, [echo])
        raw = sn.wait_for(lambda d: ICMPv6EchoReply in Ether(d) and Ether(d)[ICMPv6EchoReply].id == 0x4242)
        assert raw is not None, "no echo reply"
        assert Ether(raw)[Dot1Q].vlan == 100


def test_tagged_frame_reaches_the_stack(dut):
    """A hand-made frame tagged 100 is processed like an untagged one on a
    plain port (here: dropped for its bad IPv4 checksum, past the VLAN check)."""
    before = dut.counter("drop.ipv4_bad_checksum")
    frame = Ether(dst=dut.mac, src=FAKE_MAC) / Dot1Q(vlan=100) / IP(src=dut.peer4, dst=dut.ip4, chksum=1) / ICMP()
    assert lgtest.send_frames(dut.tap, [frame] * 3) == 3
    assert dut.wait_counter("drop.ipv4_bad_checksum", before + 3) == before + 3


@pytest.mark.parametrize("build", [
    pytest.param(b, id=i) for i, b in [
    ("untagged_ipv4", lambda d: Ether(dst=d.mac, src=FAKE_MAC) / IP(src=d.peer4, dst=d.ip4) / ICMP()),
    ("untagged_ipv6", lambda d: Ether(dst=d.mac, src=FAKE_MAC) / IPv6(src=d.peer6, dst=d.ip6) / ICMPv6EchoRequest()),
    ("other_vlan", lambda d: Ether(dst=d.mac, src=FAKE_MAC) / Dot1Q(vlan=200) / IP(src=d.peer4, dst=d.ip4) / ICMP()),
    ("priority_tagged", lambda d: Ether(dst=d.mac, src=FAKE_MAC) / Dot1Q(vlan=0) / IP(src=d.peer4, dst=d.ip4) / ICMP()),
    ("double_tagged", lambda d: Ether(dst=d.mac, src=FAKE_MAC) / Dot1Q(vlan=100) / Dot1Q(vlan=100) / IP(src=d.peer4, dst=d.ip4) / ICMP()),
]])
def test_vlan_mismatch(dut, build):
    before_drop = dut.counter("drop.vlan_mismatch")
    before_echo = dut.counter("icmp_echo_replies_sent")
    assert lgtest.send_frames(dut.tap, [build(dut)] * 5) == 5
    # The kernel's own untagged traffic on the parent tap (IPv6 MLD/RS) is
    # vlan_mismatch too, so "at least".
    assert dut.wait_counter("drop.vlan_mismatch", before_drop + 5) >= before_drop + 5
    assert dut.counter("icmp_echo_replies_sent") == before_echo, "a mismatched frame was answered"


def test_still_answers(dut):
    assert_ping(dut.ip4, count=10)
    assert_ping(dut.ip6, count=10, v6=True)
