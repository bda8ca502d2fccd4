"""ARP, ND, ICMP and ICMPv6 echo against the kernel on the other end of the tap,
and the dataplane's own next-hop resolution (on-link, via the gateway, none)."""
import ipaddress

import pytest

from scapy.layers.inet import ICMP, IP, IPOption_RR
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt,
                                IPv6ExtHdrHopByHop)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import lgtest
from lgtest import assert_ping, ping

pytestmark = pytest.mark.usefixtures("linegate_env")

FAKE_MAC = "02:00:00:00:00:01"
BROADCAST = "ff:ff:ff:ff:ff:ff"


def test_ping_ipv4_200(linegate):
    lg = linegate()
    r = assert_ping(lg.ip4, count=200, interval=0.005)
    assert r.received >= 200, r  # ping's own summary agrees
    # Every request ping sent (200, or a few more while waiting for late replies) was answered once.
    assert lg.wait_counter("icmp_echo_replies_sent", r.transmitted) == r.transmitted
    s = lg.stats()
    assert s["port.p0.drop.icmp_bad_checksum"] == 0
    assert s["port.p0.tx_frames"] >= 200 and s["port.p0.hw.tx_packets"] >= 200
    assert s["port.p0.rx_frames"] >= 200 and s["port.p0.hw.rx_packets"] >= 200


def test_ping_ipv6_200(linegate):
    lg = linegate()
    r = assert_ping(lg.ip6, count=200, interval=0.005, v6=True)
    assert r.received >= 200, r
    assert lg.wait_counter("icmp6_echo_replies_sent", r.transmitted) == r.transmitted
    assert lg.counter("drop.icmp6_bad_checksum") == 0


def test_ping_large_and_with_ip_options(linegate):
    lg = linegate()
    # Largest unfragmented echo over a 1500-byte MTU, both families.
    assert_ping(lg.ip4, count=5, extra=["-s", "1472", "-M", "do"])
    assert_ping(lg.ip6, count=5, v6=True, extra=["-s", "1452", "-M", "do"])
    # Record-route option (IHL 15): the reply is rebuilt without options.
    assert_ping(lg.ip4, count=5, extra=["-R"])


def test_fragmented_echo_is_dropped_as_fragment(linegate):
    lg = linegate()
    before4, before6 = lg.counter("drop.ipv4_fragment"), lg.counter("drop.ipv6_fragment")
    r = ping(lg.ip4, count=2, interval=0.2, expect_reply=False, extra=["-s", "2000"])
    assert r.received == 0, r
    # 2008 bytes of ICMP over a 1500 MTU: two fragments per request.
    assert lg.wait_counter("drop.ipv4_fragment", before4 + 4) == before4 + 4
    r = ping(lg.ip6, count=2, interval=0.2, expect_reply=False, v6=True, extra=["-s", "2000"])
    assert r.received == 0, r
    assert lg.wait_counter("drop.ipv6_fragment", before6 + 4) == before6 + 4


def test_arp_and_nd_resolved_by_kernel(linegate):
    lg = linegate()
    mac = lg.server_info()["ports"][0]["mac"].lower()
    assert_ping(lg.ip4, count=3)
    assert_ping(lg.ip6, count=3, v6=True)
    neigh = {n["dst"]: n for n in lg.kernel_neighbors()}
    for addr in (lg.ip4, lg.ip6):
        assert addr in neigh, f"kernel has no neighbor entry for {addr}: {neigh}"
        assert neigh[addr].get("lladdr", "").lower() == mac, neigh[addr]
        assert not set(neigh[addr].get("state", [])) & {"FAILED", "INCOMPLETE"}, neigh[addr]
    s = lg.stats()
    assert s["port.p0.arp_requests_received"] >= 1
    assert s["port.p0.arp_replies_sent"] >= 1
    assert s["port.p0.nd_solicitations_received"] >= 1
    assert s["port.p0.nd_advertisements_sent"] >= 1
    # Both requests carried the kernel's address and MAC: the dataplane learned it.
    assert s["port.p0.neigh_learned"] >= 2


def test_arp_reply_fields(linegate):
    lg = linegate()
    requester_ip = lg.ip4.rsplit(".", 1)[0] + ".60"
    req = Ether(dst=BROADCAST, src=FAKE_MAC) / ARP(op=1, hwsrc=FAKE_MAC, psrc=requester_ip, pdst=lg.ip4)
    with lgtest.Sniffer(lg.tap) as sn:
        lgtest.send_frames(lg.tap, [req])
        raw = sn.wait_for(lambda d: d[12:14] == b"\x08\x06" and Ether(d).dst == FAKE_MAC and Ether(d)[ARP].op == 2)
    assert raw is not None, "no ARP reply"
    rep = Ether(raw)
    assert rep.dst == FAKE_MAC and rep.src == lg.mac
    a = rep[ARP]
    assert (a.hwtype, a.ptype, a.hwlen, a.plen) == (1, 0x0800, 6, 4)
    assert (a.hwsrc, a.psrc, a.hwdst, a.pdst) == (lg.mac, lg.ip4, FAKE_MAC, requester_ip)
    assert lg.counter("arp_replies_sent") >= 1


def test_neighbor_advertisement_fields(linegate):
    lg = linegate()
    solicitor = lg.ip6.rsplit(":", 1)[0] + ":60"
    snm = "ff02::1:ff00:2"  # solicited-node group of ...::2
    ns = (Ether(dst="33:33:ff:00:00:02", src=FAKE_MAC) / IPv6(src=solicitor, dst=snm, hlim=255)
          / ICMPv6ND_NS(tgt=lg.ip6) / ICMPv6NDOptSrcLLAddr(lladdr=FAKE_MAC))

    def is_na(d):
        return d[12:14] == b"\x86\xdd" and ICMPv6ND_NA in Ether(d) and Ether(d)[ICMPv6ND_NA].tgt == lg.ip6

    with lgtest.Sniffer(lg.tap) as sn:
        lgtest.send_frames(lg.tap, [ns])
        raw = sn.wait_for(is_na)
    assert raw is not None, "no neighbor advertisement"
    rep = Ether(raw)
    assert rep.dst == FAKE_MAC and rep.src == lg.mac
    ip, na = rep[IPv6], rep[ICMPv6ND_NA]
    assert (ip.src, ip.dst, ip.hlim) == (lg.ip6, solicitor, 255)
    assert (na.tgt, na.R, na.S, na.O) == (lg.ip6, 0, 1, 1)
    assert rep[ICMPv6NDOptDstLLAddr].lladdr == lg.mac
    # The checksum the dataplane wrote is right: scapy recomputes it on rebuild.
    stored = na.cksum
    del na.cksum
    assert IPv6(bytes(ip))[ICMPv6ND_NA].cksum == stored


def test_reply_via_gateway_resolves_next_hop(linegate):
    """The reply to an off-subnet source goes through the bootstrap's gateway,
    which the dataplane has to resolve first (the request waits meanwhile)."""
    lg = linegate(gateway=True, gateway6=True)
    lg.add_off_subnet_addresses()
    # First traffic of its family: the dataplane has not learned the gateway yet
    # (the kernel's ARP request for the dataplane carries the off-subnet source,
    # which the dataplane answers directly and does not learn).
    assert_ping(lg.ip4, count=3, interval=0.2, src=lg.off4)
    s = lg.stats()
    assert s["port.p0.arp_requests_sent"] >= 1, s
    assert s["port.p0.arp_replies_received"] >= 1, s
    assert s["port.p0.neigh_resolved"] >= 1, s
    assert s["port.p0.neigh_queued_sent"] >= 1, s
    resolved, queued = s["port.p0.neigh_resolved"], s["port.p0.neigh_queued_sent"]

    # IPv6: a static kernel entry for the dataplane keeps the kernel from
    # soliciting it (see test_ns_from_off_prefix_source_is_answered), so the
    # only resolution the dataplane does is for gateway6, for the echo reply.
    lg.kernel_static_neighbor(lg.ip6)
    assert_ping(lg.ip6, count=3, interval=0.2, src=lg.off6, v6=True)
    s = lg.stats()
    assert s["port.p0.nd_solicitations_sent"] >= 1, s
    assert s["port.p0.nd_advertisements_received"] >= 1, s
    assert s["port.p0.neigh_resolved"] >= resolved + 1, s
    assert s["port.p0.neigh_queued_sent"] >= queued + 1, s
    assert s["port.p0.drop.no_route"] == 0
    assert s["port.p0.drop.neigh_unresolved"] == 0


def test_no_gateway_means_no_route(linegate):
    lg = linegate(gateway=False, gateway6=False)
    lg.add_off_subnet_addresses()
    r = ping(lg.ip4, count=3, interval=0.05, expect_reply=False, src=lg.off4)
    assert r.received == 0, r
    assert lg.wait_counter("drop.no_route", 3) == 3
    lg.kernel_static_neighbor(lg.ip6)  # as above: only the echo replies are unroutable
    r = ping(lg.ip6, count=3, interval=0.05, expect_reply=False, src=lg.off6, v6=True)
    assert r.received == 0, r
    assert lg.wait_counter("drop.no_route", 6) == 6
    # On-link peers are still answered.
    assert_ping(lg.ip4, count=3)
    assert_ping(lg.ip6, count=3, v6=True)
    assert lg.counter("drop.no_route") == 6


def test_unroutable_replies_are_not_counted_as_sent(linegate):
    lg = linegate(gateway=False, gateway6=False)
    lg.add_off_subnet_addresses()
    lg.kernel_static_neighbor(lg.ip6)
    ping(lg.ip4, count=3, interval=0.05, expect_reply=False, src=lg.off4)
    ping(lg.ip6, count=3, interval=0.05, expect_reply=False, src=lg.off6, v6=True)
    assert lg.wait_counter("drop.no_route", 6) == 6
    assert (lg.counter("icmp_echo_replies_sent"), lg.counter("icmp6_echo_replies_sent")) == (0, 0)


def test_ns_from_off_prefix_source_is_answered(linegate):
    lg = linegate(gateway=False, gateway6=False)
    solicitor = lg.off6  # on the same link (hop limit 255), outside the port's /64
    ns = (Ether(dst="33:33:ff:00:00:02", src=FAKE_MAC) / IPv6(src=solicitor, dst="ff02::1:ff00:2", hlim=255)
          / ICMPv6ND_NS(tgt=lg.ip6) / ICMPv6NDOptSrcLLAddr(lladdr=FAKE_MAC))
    with lgtest.Sniffer(lg.tap) as sn:
        lgtest.send_frames(lg.tap, [ns])
        raw = sn.wait_for(lambda d: d[12:14] == b"\x86\xdd" and ICMPv6ND_NA in Ether(d)
                          and Ether(d)[ICMPv6ND_NA].tgt == lg.ip6, timeout=2)
    assert lg.counter("nd_solicitations_received") >= 1
    assert raw is not None, f"no advertisement; drop.no_route={lg.counter('drop.no_route')}"
    assert Ether(raw).dst == FAKE_MAC


def test_two_workers_share_neighbors(linegate):
    """With two workers the tap has two queues; whichever worker gets the echo
    request must know the MAC the other learned."""
    lg = linegate(workers=2)
    assert lg.server_info()["workers"] == 2
    r4 = assert_ping(lg.ip4, count=100, interval=0.005)
    r6 = assert_ping(lg.ip6, count=100, interval=0.005, v6=True)
    lg.wait_counter("icmp6_echo_replies_sent", r6.transmitted)
    s = lg.stats()
    assert "worker.1.loop_iterations" in s
    assert s["port.p0.icmp_echo_replies_sent"] == r4.transmitted
    assert s["port.p0.icmp6_echo_replies_sent"] == r6.transmitted


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_single_family_port(linegate, family):
    lg = linegate(ipv4=family == "ipv4", ipv6=family == "ipv6", gateway=False)
    if family == "ipv4":
        assert_ping(lg.ip4, count=5)
    else:
        assert_ping(lg.ip6, count=5, v6=True)


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_ping_payload_sizes(linegate, family):
    """Odd and even lengths, empty to MTU-sized (checksums over odd lengths)."""
    lg = linegate()
    v6 = family == "ipv6"
    top = 1452 if v6 else 1472
    for size in (0, 1, 7, 33, 255, 1000, top - 1, top):
        assert_ping(lg.ip6 if v6 else lg.ip4, count=2, v6=v6, extra=["-s", str(size), "-M", "do"])


def _echo_reply_to(sniffer, layer, ident):
    raw = sniffer.wait_for(lambda d: Ether(d).dst == FAKE_MAC and layer in Ether(d) and Ether(d)[layer].id == ident)
    assert raw is not None, f"no {layer.__name__} with id {ident:#x}"
    return Ether(raw)


def _checksums_ok(pkt):
    """Rebuilding with the checksum fields cleared gives the stored values."""
    clean = pkt.copy()
    for layer in (IP, ICMP, ICMPv6EchoReply):
        if layer in clean:
            field = "cksum" if layer is ICMPv6EchoReply else "chksum"
            setattr(clean[layer], field, None)
    rebuilt = Ether(bytes(clean))
    for layer in (IP, ICMP, ICMPv6EchoReply):
        if layer in pkt:
            field = "cksum" if layer is ICMPv6EchoReply else "chksum"
            assert getattr(rebuilt[layer], field) == getattr(pkt[layer], field), f"{layer.__name__} checksum"


def test_echo_reply_contents(linegate):
    """Replies built from unusual requests: Ethernet padding, IPv4 options,
    IPv6 extension headers, odd payloads. Lengths, addresses, identifiers,
    data and checksums must all be right."""
    lg = linegate()
    assert_ping(lg.ip4, count=1)
    assert_ping(lg.ip6, count=1, v6=True)
    # The dataplane learns FAKE_MAC for these sources from their ARP/NS first.
    src4 = lg.ip4.rsplit(".", 1)[0] + ".61"
    src6 = lg.ip6.rsplit(":", 1)[0] + ":61"
    learn = [Ether(dst=BROADCAST, src=FAKE_MAC) / ARP(op=1, hwsrc=FAKE_MAC, psrc=src4, pdst=lg.ip4),
             Ether(dst="33:33:ff:00:00:02", src=FAKE_MAC) / IPv6(src=src6, dst="ff02::1:ff00:2", hlim=255)
             / ICMPv6ND_NS(tgt=lg.ip6) / ICMPv6NDOptSrcLLAddr(lladdr=FAKE_MAC)]
    e = Ether(dst=lg.mac, src=FAKE_MAC)
    cases = [
        # 28-byte IPv4 packet padded to the 60-byte Ethernet minimum.
        (e / IP(src=src4, dst=lg.ip4, len=28) / ICMP(id=0x101, seq=1) / Raw(b"\0" * 18), ICMP, 0x101, b""),
        (e / IP(src=src4, dst=lg.ip4) / ICMP(id=0x102, seq=2) / Raw(b"odd"), ICMP, 0x102, b"odd"),
        (e / IP(src=src4, dst=lg.ip4, options=[IPOption_RR(routers=["0.0.0.0"] * 2)]) / ICMP(id=0x103) / Raw(b"opts!"),
         ICMP, 0x103, b"opts!"),
        (e / IPv6(src=src6, dst=lg.ip6) / ICMPv6EchoRequest(id=0x201, data=b"x" * 33), ICMPv6EchoReply, 0x201, b"x" * 33),
        (e / IPv6(src=src6, dst=lg.ip6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
         / ICMPv6EchoRequest(id=0x202, data=b"ext"), ICMPv6EchoReply, 0x202, b"ext"),
    ]
    padded_v6 = bytes(e / IPv6(src=src6, dst=lg.ip6) / ICMPv6EchoRequest(id=0x203, data=b"p")) + b"\0" * 20
    with lgtest.Sniffer(lg.tap) as sn:
        lgtest.send_frames(lg.tap, learn)  # processed in order, before the echoes
        for frame, layer, ident, data in cases:
            lgtest.send_frames(lg.tap, [frame])
            rep = _echo_reply_to(sn, layer, ident)
            _checksums_ok(rep)
            if layer is ICMP:
                assert (rep[IP].src, rep[IP].dst, rep[IP].ihl) == (lg.ip4, src4, 5)
                assert rep[IP].len == 20 + 8 + len(data), rep.summary()
                assert rep[ICMP].type == 0 and bytes(rep[ICMP].payload)[:len(data)] == data
                assert len(bytes(rep[ICMP].payload)) == len(data), "padding echoed back"
            else:
                assert (rep[IPv6].src, rep[IPv6].dst, rep[IPv6].nh) == (lg.ip6, src6, 58)
                assert rep[IPv6].plen == 8 + len(data)
                assert rep[ICMPv6EchoReply].data == data
        lgtest.send_frames(lg.tap, [padded_v6])
        rep = _echo_reply_to(sn, ICMPv6EchoReply, 0x203)
        assert rep[IPv6].plen == 9 and rep[ICMPv6EchoReply].data == b"p"
        _checksums_ok(rep)

        # Link-local to link-local: the dataplane's EUI-64 address answers too.
        ll6, peer_ll = link_local(lg.mac), "fe80::61"
        low = ipaddress.IPv6Address(ll6).packed[13:]
        group = str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low))
        ns = (Ether(dst="33:33:ff:" + lg.mac[-8:], src=FAKE_MAC) / IPv6(src=peer_ll, dst=group, hlim=255)
              / ICMPv6ND_NS(tgt=ll6) / ICMPv6NDOptSrcLLAddr(lladdr=FAKE_MAC))
        echo = e / IPv6(src=peer_ll, dst=ll6) / ICMPv6EchoRequest(id=0x204, data=b"ll")
        lgtest.send_frames(lg.tap, [ns, echo])
        rep = _echo_reply_to(sn, ICMPv6EchoReply, 0x204)
        assert (rep[IPv6].src, rep[IPv6].dst) == (ll6, peer_ll)
        _checksums_ok(rep)


def link_local(mac: str) -> str:
    """fe80::/64 with the modified EUI-64 of mac (RFC 4291 2.5.1)."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + b"\0" * 6 + iid))


def test_two_ports(linegate):
    """Two ports on one worker: each answers on its own tap only, and counts
    under its own name."""
    lg = linegate(nports=2)
    p0, p1 = lg.ports
    info = lg.server_info()
    assert [p["name"] for p in info["ports"]] == ["p0", "p1"]
    assert p0.mac != p1.mac
    n0 = assert_ping(p0.ip4, count=20).transmitted
    n1 = assert_ping(p1.ip4, count=10).transmitted
    m0 = assert_ping(p0.ip6, count=8, v6=True).transmitted
    m1 = assert_ping(p1.ip6, count=6, v6=True).transmitted
    lg.wait_counter("icmp6_echo_replies_sent", m1, port="p1")
    assert (lg.counter("icmp_echo_replies_sent", "p0"), lg.counter("icmp_echo_replies_sent", "p1")) == (n0, n1)
    assert (lg.counter("icmp6_echo_replies_sent", "p0"), lg.counter("icmp6_echo_replies_sent", "p1")) == (m0, m1)
    for port in lg.ports:
        neigh = {n["dst"]: n.get("lladdr", "").lower() for n in port.kernel_neighbors()}
        assert neigh.get(port.ip4) == port.mac and neigh.get(port.ip6) == port.mac, neigh
    # A port does not answer ARP for the other port's address.
    before = lg.counter("drop.arp_not_for_us", "p0")
    req = Ether(dst=BROADCAST, src=FAKE_MAC) / ARP(op=1, hwsrc=FAKE_MAC, psrc=p0.ip4.rsplit(".", 1)[0] + ".62",
                                                   pdst=p1.ip4)
    assert lgtest.send_frames(p0.tap, [req] * 2) == 2
    assert lg.wait_counter("drop.arp_not_for_us", before + 2, port="p0") == before + 2
    # Prometheus and telemetry label both.
    drops1 = lgtest.prom_drops(lg.prometheus(), port="p1")
    assert set(drops1) == set(lgtest.drop_reasons())
    assert lg.telemetry("/linegate/ports")["/linegate/ports"] == ["p0", "p1"]
    p1_stats = lg.telemetry("/linegate/port_stats,p1")["/linegate/port_stats"]
    assert p1_stats["icmp_echo_replies_sent"] == n1
    assert lg.stop() == 0, lg.describe()
    lgtest.assert_clean_stop(lg)
