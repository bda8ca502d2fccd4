// The network layer end to end inside one process: frames go into
// NetWorker::input(), replies come out of a ring-backed ethdev. Checksums of
// what we send are verified with the test's own RFC 1071 code, not the
// dataplane's.
#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <vector>

#include "dataplane/net/net_worker.h"
#include "tests/unit/ring_port.h"

namespace lg::net {
namespace {

using Bytes = std::vector<uint8_t>;

const rte_ether_addr kOurMac{{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
const rte_ether_addr kPeerMac{{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01}};
const rte_ether_addr kGwMac{{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x02}};

uint32_t ip4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a.s_addr;  // network order
}
Ip6 ip6(const char* s) {
  Ip6 a{};
  inet_pton(AF_INET6, s, a.b);
  return a;
}

// RFC 1071, written independently of the code under test.
uint16_t inet_sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += (p[i] << 8) | p[i + 1];
  if (n & 1) acc += p[n - 1] << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
uint16_t cksum(const uint8_t* p, size_t n, uint32_t acc = 0) { return static_cast<uint16_t>(~inet_sum(p, n, acc)); }
uint32_t pseudo6(const Ip6& s, const Ip6& d, uint32_t len, uint8_t nh) {
  uint32_t acc = inet_sum(s.b, 16) + inet_sum(d.b, 16);
  acc += (len >> 16) + (len & 0xffff) + nh;
  return acc;
}
void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = v >> 8;
  b[off + 1] = v & 0xff;
}
uint16_t get16(const Bytes& b, size_t off) { return static_cast<uint16_t>((b[off] << 8) | b[off + 1]); }

Bytes eth(const rte_ether_addr& dst, const rte_ether_addr& src, uint16_t type, const Bytes& payload, int vlan = -1) {
  Bytes b(dst.addr_bytes, dst.addr_bytes + 6);
  b.insert(b.end(), src.addr_bytes, src.addr_bytes + 6);
  if (vlan >= 0) {
    b.push_back(0x81), b.push_back(0x00);
    b.push_back(static_cast<uint8_t>(vlan >> 8)), b.push_back(vlan & 0xff);
  }
  b.push_back(type >> 8), b.push_back(type & 0xff);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes arp(uint16_t op, const rte_ether_addr& sha, uint32_t sip, uint32_t tip) {
  Bytes b = {0, 1, 0x08, 0, 6, 4, 0, static_cast<uint8_t>(op)};
  b.insert(b.end(), sha.addr_bytes, sha.addr_bytes + 6);
  b.insert(b.end(), reinterpret_cast<uint8_t*>(&sip), reinterpret_cast<uint8_t*>(&sip) + 4);
  for (int i = 0; i < 6; ++i) b.push_back(0);
  b.insert(b.end(), reinterpret_cast<uint8_t*>(&tip), reinterpret_cast<uint8_t*>(&tip) + 4);
  return b;
}

Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& payload, uint16_t frag = 0, Bytes options = {}) {
  const size_t hl = 20 + options.size();
  Bytes b(hl + payload.size(), 0);
  b[0] = static_cast<uint8_t>(0x40 | (hl / 4));
  put16(b, 2, static_cast<uint16_t>(hl + payload.size()));
  put16(b, 4, 0x1234);
  put16(b, 6, frag);
  b[8] = 64;
  b[9] = proto;
  std::memcpy(&b[12], &src, 4);
  std::memcpy(&b[16], &dst, 4);
  std::copy(options.begin(), options.end(), b.begin() + 20);
  put16(b, 10, cksum(b.data(), hl));
  std::copy(payload.begin(), payload.end(), b.begin() + static_cast<long>(hl));
  return b;
}

Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, size_t data_len) {
  Bytes b(8 + data_len, 0);
  b[0] = type;
  put16(b, 4, id);
  put16(b, 6, seq);
  for (size_t i = 0; i < data_len; ++i) b[8 + i] = static_cast<uint8_t>(i * 7);
  put16(b, 2, cksum(b.data(), b.size()));
  return b;
}

Bytes ipv6(const Ip6& src, const Ip6& dst, uint8_t nh, const Bytes& payload, uint8_t hops = 64) {
  // Sized once: growing it trips a GCC 12 -Warray-bounds false positive at -O3.
  Bytes b(40 + payload.size(), 0);
  b[0] = 0x60;
  put16(b, 4, static_cast<uint16_t>(payload.size()));
  b[6] = nh;
  b[7] = hops;
  std::memcpy(&b[8], src.b, 16);
  std::memcpy(&b[24], dst.b, 16);
  std::copy(payload.begin(), payload.end(), b.begin() + 40);
  return b;
}

// ICMPv6 message with a correct checksum for src → dst.
Bytes icmp6(const Ip6& src, const Ip6& dst, Bytes msg) {
  msg[2] = msg[3] = 0;
  put16(msg, 2, cksum(msg.data(), msg.size(), pseudo6(src, dst, static_cast<uint32_t>(msg.size()), 58)));
  return msg;
}
Bytes ns_msg(const Ip6& target, const rte_ether_addr* slla) {
  Bytes m(24, 0);
  m[0] = 135;
  std::memcpy(&m[8], target.b, 16);
  if (slla) {
    m.push_back(1), m.push_back(1);
    m.insert(m.end(), slla->addr_bytes, slla->addr_bytes + 6);
  }
  return m;
}
Bytes echo6(uint8_t type, size_t data_len) {
  Bytes m(8 + data_len, 0);
  m[0] = type;
  put16(m, 4, 7);
  put16(m, 6, 9);
  for (size_t i = 0; i < data_len; ++i) m[8 + i] = static_cast<uint8_t>(i);
  return m;
}

struct Frame {
  Bytes b;
  rte_ether_addr dst() const {
    rte_ether_addr a;
    std::memcpy(a.addr_bytes, b.data(), 6);
    return a;
  }
  uint16_t type() const { return get16(b, 12); }
};

class NetTest : public testing::Test {
 protected:
  void SetUp() override { build({}); }
  void TearDown() override { teardown(); }

  struct Opts {
    uint16_t vlan = 0;
    bool gateway = true;
  };

  void build(Opts o) {
    static int n = 0;
    const std::string id = std::to_string(n++);
    pool_ = rte_pktmbuf_pool_create(("net_pool_" + id).c_str(), 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
    port_ = std::make_unique<test::RingPort>("net", pool_);
    ASSERT_TRUE(port_->ok());
    port_id_ = port_->id();

    PortConfig pc;
    pc.name = "p0";
    pc.ipv4 = Ipv4Prefix{ntohl(ip4("10.77.0.2")), 24};
    Ipv6Prefix p6;
    const Ip6 a = ip6("fd77::2");
    std::copy(a.b, a.b + 16, p6.addr.begin());
    p6.len = 64;
    pc.ipv6 = p6;
    if (o.gateway) pc.gateway = ntohl(ip4("10.77.0.1"));
    pc.vlan = o.vlan;
    ifaces_.clear();
    ifaces_.push_back(make_iface(0, port_id_, kOurMac, pc, drv::Offloads{}));

    wheel_ = std::make_unique<TimerWheel>(100, 0);
    counters_ = std::make_unique<LcoreCounters>();
    NetWorkerConfig cfg;
    cfg.ifaces = ifaces_;
    cfg.pool = pool_;
    cfg.neigh = NeighParams::defaults(1'000'000);
    worker_ = std::make_unique<NetWorker>(cfg, *counters_, *wheel_);
    ASSERT_TRUE(worker_->ok());
  }

  void teardown() {
    worker_.reset();
    port_.reset();  // frees what it still holds
    EXPECT_EQ(rte_mempool_avail_count(pool_), 4096u) << "every mbuf is back in the pool";
    rte_mempool_free(pool_);
  }

  void rebuild(Opts o) {
    teardown();
    build(o);
  }

  void inject(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
    worker_->input(0, &m, 1);
    worker_->flush();
  }

  std::vector<Frame> drain() {
    std::vector<Frame> out;
    for (Bytes& b : port_->drain()) out.push_back(Frame{std::move(b)});
    return out;
  }

  uint64_t drops(Drop d) const { return counters_->drops[0][static_cast<unsigned>(d)]; }
  uint64_t events(Event e) const { return counters_->events[0][static_cast<unsigned>(e)]; }

  // Teach the dataplane the peer's MAC the way a kernel would: an ARP request.
  void arp_from_peer() {
    inject(eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"))));
    ASSERT_EQ(drain().size(), 1u);
  }
  void ns_from_peer() {
    const Ip6 peer = ip6("fd77::1"), us = ip6("fd77::2");
    inject(eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, us, 58, icmp6(peer, us, ns_msg(us, &kPeerMac)), 255)));
    ASSERT_EQ(drain().size(), 1u);
  }

  rte_mempool* pool_ = nullptr;
  std::unique_ptr<test::RingPort> port_;
  uint16_t port_id_ = 0;
  std::vector<Iface> ifaces_;
  std::unique_ptr<TimerWheel> wheel_;
  std::unique_ptr<LcoreCounters> counters_;
  std::unique_ptr<NetWorker> worker_;
};

TEST_F(NetTest, ArpRequestForUsIsAnswered) {
  inject(eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"))));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& r = out[0].b;
  EXPECT_EQ(out[0].type(), 0x0806);
  EXPECT_TRUE(rte_is_same_ether_addr(&kPeerMac, reinterpret_cast<const rte_ether_addr*>(r.data())));
  EXPECT_EQ(get16(r, 14 + 6), 2) << "opcode reply";
  EXPECT_EQ(0, std::memcmp(&r[14 + 8], kOurMac.addr_bytes, 6)) << "sender hardware address is ours";
  uint32_t sip, tip;
  std::memcpy(&sip, &r[14 + 14], 4);
  std::memcpy(&tip, &r[14 + 24], 4);
  EXPECT_EQ(sip, ip4("10.77.0.2"));
  EXPECT_EQ(tip, ip4("10.77.0.1"));
  EXPECT_EQ(0, std::memcmp(&r[14 + 18], kPeerMac.addr_bytes, 6));
  EXPECT_EQ(events(Event::arp_replies_sent), 1u);
  NeighState st;
  EXPECT_TRUE(worker_->neighbors().lookup(0, NeighAddr::v4(ip4("10.77.0.1")), &st, nullptr));
}

TEST_F(NetTest, BroadcastArpRequestIsAnsweredAndPaddedFrameTrimmed) {
  Bytes a = arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"));
  a.resize(46, 0);  // minimum Ethernet payload
  inject(eth(rte_ether_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, kPeerMac, 0x0806, a));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].b.size(), 14u + 28u);
}

TEST_F(NetTest, EchoRequestIsAnsweredWithValidChecksums) {
  arp_from_peer();
  const Bytes req = icmp_echo(8, 0xbeef, 42, 56);
  inject(eth(kOurMac, kPeerMac, 0x0800, ipv4(ip4("10.77.0.1"), ip4("10.77.0.2"), 1, req)));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& r = out[0].b;
  EXPECT_TRUE(rte_is_same_ether_addr(&kPeerMac, reinterpret_cast<const rte_ether_addr*>(r.data())));
  ASSERT_EQ(r.size(), 14u + 20u + req.size());
  EXPECT_EQ(inet_sum(&r[14], 20), 0xffff) << "IPv4 header checksum";
  EXPECT_EQ(r[14 + 8], 64) << "TTL";
  uint32_t src, dst;
  std::memcpy(&src, &r[14 + 12], 4);
  std::memcpy(&dst, &r[14 + 16], 4);
  EXPECT_EQ(src, ip4("10.77.0.2"));
  EXPECT_EQ(dst, ip4("10.77.0.1"));
  EXPECT_EQ(r[34], 0) << "echo reply";
  EXPECT_EQ(inet_sum(&r[34], req.size()), 0xffff) << "ICMP checksum";
  EXPECT_EQ(0, std::memcmp(&r[34 + 4], &req[4], req.size() - 4)) << "id, seq and data echoed";
}

TEST_F(NetTest, EchoWithIpOptionsIsAnsweredWithoutThem) {
  arp_from_peer();
  const Bytes req = icmp_echo(8, 1, 1, 16);
  inject(eth(kOurMac, kPeerMac, 0x0800, ipv4(ip4("10.77.0.1"), ip4("10.77.0.2"), 1, req, 0, {1, 1, 1, 0})));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& r = out[0].b;
  EXPECT_EQ(r[14], 0x45);
  EXPECT_EQ(get16(r, 16), 20 + req.size());
  EXPECT_EQ(inet_sum(&r[14], 20), 0xffff);
  EXPECT_EQ(inet_sum(&r[34], req.size()), 0xffff);
}

TEST_F(NetTest, ReplyToUnknownNeighborWaitsForArp) {
  inject(eth(kOurMac, kPeerMac, 0x0800, ipv4(ip4("10.77.0.1"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8))));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u) << "an ARP request, the reply is held";
  EXPECT_EQ(out[0].type(), 0x0806);
  EXPECT_EQ(events(Event::arp_requests_sent), 1u);
  inject(eth(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"))));
  out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 0x0800);
  EXPECT_EQ(events(Event::neigh_queued_sent), 1u);
}

TEST_F(NetTest, OffLinkReplyGoesThroughGateway) {
  inject(eth(kOurMac, kGwMac, 0x0800, ipv4(ip4("10.78.0.1"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8))));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  uint32_t tip;
  std::memcpy(&tip, &out[0].b[14 + 24], 4);
  EXPECT_EQ(tip, ip4("10.77.0.1")) << "resolves the gateway, not the off-link source";
  inject(eth(kOurMac, kGwMac, 0x0806, arp(2, kGwMac, ip4("10.77.0.1"), ip4("10.77.0.2"))));
  out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(rte_is_same_ether_addr(&kGwMac, reinterpret_cast<const rte_ether_addr*>(out[0].b.data())));
}

TEST_F(NetTest, OffLinkWithoutGatewayIsNoRoute) {
  rebuild({.vlan = 0, .gateway = false});
  inject(eth(kOurMac, kGwMac, 0x0800, ipv4(ip4("10.78.0.1"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8))));
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(drops(Drop::no_route), 1u);
}

struct BadFrame {
  const char* name;
  Bytes frame;
  Drop reason;
};

Bytes good_ip(uint8_t proto = 1, Bytes payload = icmp_echo(8, 1, 1, 8)) {
  return ipv4(ip4("10.77.0.1"), ip4("10.77.0.2"), proto, payload);
}

std::vector<BadFrame> bad_frames() {
  std::vector<BadFrame> v;
  auto e4 = [](Bytes ip) { return eth(kOurMac, kPeerMac, 0x0800, ip); };
  v.push_back({"runt", Bytes(10, 0), Drop::eth_too_short});
  v.push_back({"other unicast MAC", eth(kGwMac, kPeerMac, 0x0800, good_ip()), Drop::eth_not_for_us});
  v.push_back({"unknown ethertype", eth(kOurMac, kPeerMac, 0x88cc, Bytes(46, 0)), Drop::eth_unknown_ethertype});
  v.push_back({"tagged on untagged port", eth(kOurMac, kPeerMac, 0x0800, good_ip(), 5), Drop::vlan_mismatch});
  Bytes a = arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"));
  a[4] = 8;
  v.push_back({"arp hlen 8", eth(kOurMac, kPeerMac, 0x0806, a), Drop::arp_malformed});
  v.push_back({"arp short", eth(kOurMac, kPeerMac, 0x0806, Bytes(20, 0)), Drop::arp_malformed});
  v.push_back({"arp for other", eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.9"))),
               Drop::arp_not_for_us});
  v.push_back({"ipv4 short", e4(Bytes(12, 0x45)), Drop::ipv4_too_short});
  Bytes ip = good_ip();
  ip[0] = 0x55;
  v.push_back({"ipv4 version 5", e4(ip), Drop::ipv4_bad_version});
  ip = good_ip();
  ip[0] = 0x44;
  v.push_back({"ihl 4", e4(ip), Drop::ipv4_bad_header_length});
  ip = good_ip();
  ip[0] = 0x4f;
  v.push_back({"ihl beyond packet", e4(ip), Drop::ipv4_bad_header_length});
  ip = good_ip();
  put16(ip, 2, 500);
  put16(ip, 10, 0);
  put16(ip, 10, cksum(ip.data(), 20));
  v.push_back({"total length > frame", e4(ip), Drop::ipv4_bad_total_length});
  ip = good_ip();
  ip[10] ^= 0xff;
  v.push_back({"bad header checksum", e4(ip), Drop::ipv4_bad_checksum});
  v.push_back({"more fragments", e4(ipv4(ip4("10.77.0.1"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8), 0x2000)),
               Drop::ipv4_fragment});
  v.push_back({"fragment offset", e4(ipv4(ip4("10.77.0.1"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8), 0x0010)),
               Drop::ipv4_fragment});
  v.push_back({"source is us", e4(ipv4(ip4("10.77.0.2"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8))),
               Drop::ipv4_bad_source});
  v.push_back({"multicast source", e4(ipv4(ip4("224.0.0.1"), ip4("10.77.0.2"), 1, icmp_echo(8, 1, 1, 8))),
               Drop::ipv4_bad_source});
  v.push_back({"not for us", e4(ipv4(ip4("10.77.0.1"), ip4("10.77.0.9"), 1, icmp_echo(8, 1, 1, 8))),
               Drop::ipv4_not_for_us});
  v.push_back({"udp", e4(good_ip(17, Bytes(8, 0))), Drop::ipv4_proto_unsupported});
  v.push_back({"icmp short", e4(good_ip(1, Bytes(4, 0))), Drop::icmp_too_short});
  Bytes ic = icmp_echo(8, 1, 1, 8);
  ic[9] ^= 1;
  v.push_back({"icmp bad checksum", e4(good_ip(1, ic)), Drop::icmp_bad_checksum});
  v.push_back({"icmp timestamp", e4(good_ip(1, icmp_echo(13, 1, 1, 12))), Drop::icmp_type_unsupported});
  v.push_back({"broadcast echo", e4(ipv4(ip4("10.77.0.1"), ip4("10.77.0.255"), 1, icmp_echo(8, 1, 1, 8))),
               Drop::icmp_echo_broadcast});

  const Ip6 peer = ip6("fd77::1"), us = ip6("fd77::2");
  auto e6 = [](Bytes ip) { return eth(kOurMac, kPeerMac, 0x86dd, ip); };
  v.push_back({"ipv6 short", e6(Bytes(30, 0x60)), Drop::ipv6_too_short});
  Bytes i6 = ipv6(peer, us, 58, icmp6(peer, us, echo6(128, 8)));
  i6[0] = 0x40;
  v.push_back({"ipv6 version 4", e6(i6), Drop::ipv6_bad_version});
  i6 = ipv6(peer, us, 58, icmp6(peer, us, echo6(128, 8)));
  put16(i6, 4, 400);
  v.push_back({"payload length > frame", e6(i6), Drop::ipv6_bad_payload_length});
  i6 = ipv6(peer, us, 58, icmp6(peer, us, echo6(128, 8)));
  put16(i6, 4, 0);
  v.push_back({"jumbo payload length 0", e6(i6), Drop::ipv6_bad_payload_length});
  v.push_back({"multicast source6", e6(ipv6(ip6("ff02::1"), us, 58, icmp6(ip6("ff02::1"), us, echo6(128, 8)))),
               Drop::ipv6_bad_source});
  v.push_back({"ipv6 not for us", e6(ipv6(peer, ip6("fd77::9"), 58, icmp6(peer, ip6("fd77::9"), echo6(128, 8)))),
               Drop::ipv6_not_for_us});
  Bytes frag = {58, 0, 0, 1, 0, 0, 0, 1};
  Bytes fp = icmp6(peer, us, echo6(128, 8));
  frag.insert(frag.end(), fp.begin(), fp.end());
  v.push_back({"fragment header", e6(ipv6(peer, us, 44, frag)), Drop::ipv6_fragment});
  Bytes late_hbh = {0, 0, 0, 0, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0};  // dest opts then hop-by-hop
  late_hbh[0] = 0;                                                     // dest-opts next = HBH
  v.push_back({"hop-by-hop not first", e6(ipv6(peer, us, 60, late_hbh)), Drop::ipv6_bad_extension_header});
  Bytes rh = {58, 0, 0, 1, 0, 0, 0, 0};  // routing type 0, segments left 1
  v.push_back({"routing header with segments left", e6(ipv6(peer, us, 43, rh)), Drop::ipv6_bad_extension_header});
  Bytes trunc = {58, 200, 0, 0, 0, 0, 0, 0};
  v.push_back({"extension header beyond packet", e6(ipv6(peer, us, 60, trunc)), Drop::ipv6_bad_extension_header});
  v.push_back({"udp6", e6(ipv6(peer, us, 17, Bytes(8, 0))), Drop::ipv6_proto_unsupported});
  v.push_back({"icmp6 short", e6(ipv6(peer, us, 58, Bytes(4, 0))), Drop::icmp6_too_short});
  Bytes bad6 = icmp6(peer, us, echo6(128, 8));
  bad6[10] ^= 1;
  v.push_back({"icmp6 bad checksum", e6(ipv6(peer, us, 58, bad6)), Drop::icmp6_bad_checksum});
  v.push_back({"router solicitation", e6(ipv6(peer, us, 58, icmp6(peer, us, Bytes{133, 0, 0, 0, 0, 0, 0, 0}))),
               Drop::icmp6_type_unsupported});
  v.push_back({"echo to all-nodes",
               e6(ipv6(peer, kAllNodes(), 58, icmp6(peer, kAllNodes(), echo6(128, 8)))), Drop::icmp6_echo_multicast});
  v.push_back({"ns hop limit 64", e6(ipv6(peer, us, 58, icmp6(peer, us, ns_msg(us, &kPeerMac)), 64)),
               Drop::ndp_invalid});
  Bytes zero_opt = ns_msg(us, nullptr);
  zero_opt.push_back(1), zero_opt.push_back(0);
  zero_opt.resize(zero_opt.size() + 6, 0);
  v.push_back({"ns zero-length option", e6(ipv6(peer, us, 58, icmp6(peer, us, zero_opt), 255)), Drop::ndp_invalid});
  v.push_back({"ns multicast target", e6(ipv6(peer, us, 58, icmp6(peer, us, ns_msg(kAllNodes(), nullptr)), 255)),
               Drop::ndp_invalid});
  v.push_back({"ns for another target", e6(ipv6(peer, us, 58, icmp6(peer, us, ns_msg(ip6("fd77::9"), nullptr)), 255)),
               Drop::ndp_target_not_ours});
  Bytes dad = ns_msg(us, &kPeerMac);  // DAD must not carry a source LLA
  v.push_back({"dad with source lla", e6(ipv6(Ip6{}, solicited_node(us), 58, icmp6(Ip6{}, solicited_node(us), dad), 255)),
               Drop::ndp_invalid});
  return v;
}

TEST_F(NetTest, MalformedFramesAreCountedByReasonAndNothingIsSent) {
  for (const BadFrame& bf : bad_frames()) {
    const uint64_t before = drops(bf.reason);
    inject(bf.frame);
    EXPECT_EQ(drops(bf.reason), before + 1) << bf.name << ": expected drop." << drop_name(bf.reason);
    EXPECT_TRUE(drain().empty()) << bf.name;
  }
}

TEST_F(NetTest, NeighborSolicitationIsAdvertisedBack) {
  const Ip6 peer = ip6("fd77::1"), us = ip6("fd77::2");
  inject(eth(ipv6_multicast_mac(solicited_node(us)), kPeerMac, 0x86dd,
             ipv6(peer, solicited_node(us), 58, icmp6(peer, solicited_node(us), ns_msg(us, &kPeerMac)), 255)));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& r = out[0].b;
  EXPECT_TRUE(rte_is_same_ether_addr(&kPeerMac, reinterpret_cast<const rte_ether_addr*>(r.data())));
  EXPECT_EQ(r[14 + 7], 255) << "hop limit";
  EXPECT_EQ(0, std::memcmp(&r[14 + 8], us.b, 16)) << "source is the target";
  EXPECT_EQ(0, std::memcmp(&r[14 + 24], peer.b, 16));
  const size_t icmp_off = 54, len = r.size() - icmp_off;
  EXPECT_EQ(r[icmp_off], 136);
  EXPECT_EQ(r[icmp_off + 4], 0x60) << "solicited + override";
  EXPECT_EQ(0, std::memcmp(&r[icmp_off + 8], us.b, 16));
  EXPECT_EQ(r[icmp_off + 24], 2) << "target link-layer address option";
  EXPECT_EQ(0, std::memcmp(&r[icmp_off + 26], kOurMac.addr_bytes, 6));
  EXPECT_EQ(inet_sum(&r[icmp_off], len, pseudo6(us, peer, static_cast<uint32_t>(len), 58)), 0xffff);
  EXPECT_TRUE(worker_->neighbors().lookup(0, NeighAddr::v6(peer), nullptr, nullptr));
}

TEST_F(NetTest, LinkLocalAddressIsAnsweredToo) {
  const Ip6 ll = link_local_from_mac(kOurMac), peer = ip6("fe80::1");
  inject(eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, ll, 58, icmp6(peer, ll, ns_msg(ll, &kPeerMac)), 255)));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].b[54], 136);
}

TEST_F(NetTest, DuplicateAddressDetectionIsAnsweredToAllNodes) {
  const Ip6 us = ip6("fd77::2"), snm = solicited_node(us);
  inject(eth(ipv6_multicast_mac(snm), kPeerMac, 0x86dd, ipv6(Ip6{}, snm, 58, icmp6(Ip6{}, snm, ns_msg(us, nullptr)), 255)));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  const rte_ether_addr all_nodes_mac{{0x33, 0x33, 0, 0, 0, 1}};
  EXPECT_TRUE(rte_is_same_ether_addr(&all_nodes_mac, reinterpret_cast<const rte_ether_addr*>(out[0].b.data())));
  EXPECT_EQ(out[0].b[54 + 4], 0x20) << "override only: not solicited";
}

TEST_F(NetTest, Echo6IsAnsweredAndExtensionHeadersAreNotEchoed) {
  ns_from_peer();
  const Ip6 peer = ip6("fd77::1"), us = ip6("fd77::2");
  const Bytes msg = icmp6(peer, us, echo6(128, 32));
  Bytes hbh = {58, 0, 1, 4, 0, 0, 0, 0};  // hop-by-hop with a PadN
  hbh.insert(hbh.end(), msg.begin(), msg.end());
  inject(eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, us, 0, hbh)));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& r = out[0].b;
  EXPECT_EQ(r[14 + 6], 58) << "no extension header in the reply";
  EXPECT_EQ(get16(r, 14 + 4), msg.size());
  EXPECT_EQ(r[54], 129);
  EXPECT_EQ(inet_sum(&r[54], msg.size(), pseudo6(us, peer, static_cast<uint32_t>(msg.size()), 58)), 0xffff);
  EXPECT_EQ(0, std::memcmp(&r[54 + 4], &msg[4], msg.size() - 4));
  EXPECT_EQ(events(Event::icmp6_echo_replies_sent), 1u);
}

TEST_F(NetTest, SolicitedAdvertisementResolvesAndFlushes) {
  const Ip6 peer = ip6("fd77::1"), us = ip6("fd77::2");
  inject(eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, us, 58, icmp6(peer, us, echo6(128, 8)))));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u) << "a neighbor solicitation; the echo reply waits";
  EXPECT_EQ(out[0].b[54], 135);
  EXPECT_EQ(out[0].b[0], 0x33) << "to the solicited-node group";
  Bytes na(24, 0);
  na[0] = 136;
  na[4] = 0x60;
  std::memcpy(&na[8], peer.b, 16);
  na.push_back(2), na.push_back(1);
  na.insert(na.end(), kPeerMac.addr_bytes, kPeerMac.addr_bytes + 6);
  inject(eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, us, 58, icmp6(peer, us, na), 255)));
  out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].b[54], 129);
  EXPECT_EQ(events(Event::neigh_resolved), 1u);
}

// A port came up (a new process on the link): peers holding another MAC for
// our addresses learn ours from an ARP Announcement (RFC 5227 §2.3) and
// unsolicited, overriding advertisements (RFC 4861 §7.2.6).
TEST_F(NetTest, AnnouncementTellsTheLinkOurAddresses) {
  worker_->announce(0);
  worker_->flush();
  auto out = drain();
  ASSERT_EQ(out.size(), 3u);
  const Bytes& a = out[0].b;
  const rte_ether_addr broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  EXPECT_TRUE(rte_is_same_ether_addr(&broadcast, reinterpret_cast<const rte_ether_addr*>(a.data())));
  EXPECT_EQ(out[0].type(), 0x0806);
  EXPECT_EQ(get16(a, 14 + 6), 1) << "a request";
  EXPECT_EQ(0, std::memcmp(&a[14 + 8], kOurMac.addr_bytes, 6));
  uint32_t sip, tip;
  std::memcpy(&sip, &a[14 + 14], 4);
  std::memcpy(&tip, &a[14 + 24], 4);
  EXPECT_EQ(sip, ip4("10.77.0.2"));
  EXPECT_EQ(tip, ip4("10.77.0.2")) << "sender and target are both our address";
  const Ip6 all_nodes = ip6("ff02::1");
  const rte_ether_addr all_nodes_mac{{0x33, 0x33, 0, 0, 0, 1}};
  const Ip6 targets[] = {ip6("fd77::2"), link_local_from_mac(kOurMac)};
  for (int i = 0; i < 2; ++i) {
    const Bytes& r = out[1 + i].b;
    EXPECT_TRUE(rte_is_same_ether_addr(&all_nodes_mac, reinterpret_cast<const rte_ether_addr*>(r.data())));
    EXPECT_EQ(0, std::memcmp(&r[14 + 24], all_nodes.b, 16));
    const size_t icmp_off = 54, len = r.size() - icmp_off;
    EXPECT_EQ(r[icmp_off], 136);
    EXPECT_EQ(r[icmp_off + 4], 0x20) << "override, not solicited";
    EXPECT_EQ(0, std::memcmp(&r[icmp_off + 8], targets[i].b, 16));
    EXPECT_EQ(0, std::memcmp(&r[icmp_off + 26], kOurMac.addr_bytes, 6));
    EXPECT_EQ(inet_sum(&r[icmp_off], len, pseudo6(targets[i], all_nodes, static_cast<uint32_t>(len), 58)), 0xffff);
  }
}

// The other side of it: a known neighbor announcing a new MAC is followed.
TEST_F(NetTest, ArpAnnouncementMovesAKnownNeighborToItsNewMac) {
  arp_from_peer();
  const rte_ether_addr moved{{0x02, 0, 0, 0, 0x77, 0x99}};
  const rte_ether_addr broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  inject(eth(broadcast, moved, 0x0806, arp(1, moved, ip4("10.77.0.1"), ip4("10.77.0.1"))));
  EXPECT_TRUE(drain().empty()) << "an announcement is not answered";
  rte_ether_addr mac;
  ASSERT_TRUE(worker_->neighbors().lookup(0, NeighAddr::v4(ip4("10.77.0.1")), nullptr, &mac));
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &moved));
}

TEST_F(NetTest, VlanPortAnswersTaggedAndRejectsOthers) {
  rebuild({.vlan = 100, .gateway = true});
  inject(eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2")), 100));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(get16(out[0].b, 12), 0x8100);
  EXPECT_EQ(get16(out[0].b, 14) & 0x0fff, 100);
  EXPECT_EQ(get16(out[0].b, 16), 0x0806);
  inject(eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"))));
  inject(eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2")), 101));
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(drops(Drop::vlan_mismatch), 2u);
}

TEST_F(NetTest, RandomAndMutatedFramesNeverCrashOrLeak) {
  std::mt19937 rng(20261122);
  const Ip6 peer = ip6("fd77::1"), us = ip6("fd77::2");
  const std::vector<Bytes> seeds = {
      eth(kOurMac, kPeerMac, 0x0800, good_ip()),
      eth(kOurMac, kPeerMac, 0x0806, arp(1, kPeerMac, ip4("10.77.0.1"), ip4("10.77.0.2"))),
      eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, us, 58, icmp6(peer, us, echo6(128, 16)))),
      eth(kOurMac, kPeerMac, 0x86dd, ipv6(peer, us, 58, icmp6(peer, us, ns_msg(us, &kPeerMac)), 255)),
  };
  for (int i = 0; i < 20000; ++i) {
    Bytes f;
    if (i % 2 == 0) {
      f.resize(1 + rng() % 1514);
      for (auto& b : f) b = static_cast<uint8_t>(rng());
      if (i % 4 == 0) std::memcpy(f.data(), kOurMac.addr_bytes, std::min<size_t>(6, f.size()));
    } else {
      f = seeds[rng() % seeds.size()];
      const int flips = 1 + rng() % 4;
      for (int k = 0; k < flips; ++k) f[14 + rng() % (f.size() - 14)] = static_cast<uint8_t>(rng());
      if (rng() % 8 == 0) f.resize(1 + rng() % f.size());
    }
    inject(f);
    drain();
    if (i % 1000 == 0) wheel_->advance(static_cast<uint64_t>(i) * 10'000);
  }
  // Still answers afterwards.
  arp_from_peer();
}

}  // namespace
}  // namespace lg::net
