// IPv6 input (RFC 8200 §4: extension header chain), ICMPv6 echo (RFC 4443
// §4) and output through on-link prefixes or the configured gateway.
#include <rte_ip.h>

#include "dataplane/net/checksum.h"
#include "dataplane/net/net_worker.h"

namespace lg::net {
namespace {

constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kNoNext = 59, kDestOpts = 60;
constexpr uint8_t kIcmp6 = IPPROTO_ICMPV6;
constexpr unsigned kMaxExtHeaders = 8;

Ip6 addr_of(const uint8_t* p) {
  Ip6 a;
  std::memcpy(a.b, p, 16);
  return a;
}

}  // namespace

void NetWorker::ipv6_input(const Iface& f, rte_mbuf* m) {
  if (rte_pktmbuf_pkt_len(m) < sizeof(rte_ipv6_hdr)) {
    drop(f, m, Drop::ipv6_too_short);
    return;
  }
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ipv6_hdr)) {
    drop(f, m, Drop::eth_headers_not_contiguous);
    return;
  }
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv6_hdr*);
  if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) {
    drop(f, m, Drop::ipv6_bad_version);
    return;
  }
  const uint32_t plen = rte_be_to_cpu_16(ip->payload_len);
  // plen 0 would announce a jumbogram (RFC 2675), which no port here carries.
  if (plen == 0 || sizeof(rte_ipv6_hdr) + plen > rte_pktmbuf_pkt_len(m)) {
    drop(f, m, Drop::ipv6_bad_payload_length);
    return;
  }
  rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - static_cast<uint32_t>(sizeof(rte_ipv6_hdr) + plen));
  const Ip6 src = addr_of(ip->src_addr), dst = addr_of(ip->dst_addr);
  if (!f.has_v6) {
    drop(f, m, Drop::ipv6_not_for_us);
    return;
  }
  if (ipv6_is_multicast(src) || f.is_ours6(src)) {
    drop(f, m, Drop::ipv6_bad_source);
    return;
  }
  const bool multicast = dst == kAllNodes() || dst == f.ip6_snm || dst == f.ll6_snm;
  if (!multicast && !f.is_ours6(dst)) {
    drop(f, m, Drop::ipv6_not_for_us);
    return;
  }

  uint8_t next = ip->proto;
  uint32_t off = sizeof(rte_ipv6_hdr);
  for (unsigned i = 0; i <= kMaxExtHeaders; ++i) {
    switch (next) {
      case kIcmp6:
        icmp6_input(f, m, static_cast<uint16_t>(off), multicast);
        return;
      case IPPROTO_TCP:
        if (l4_.tcp_input != nullptr && !multicast) {
          m->l3_len = off;
          l4_.tcp_input(l4_.ctx, f, m, 6);
          return;
        }
        drop(f, m, multicast ? Drop::ipv6_not_for_us : Drop::ipv6_proto_unsupported);
        return;
      case kFragment:
        drop(f, m, Drop::ipv6_fragment);
        return;
      case kHopByHop:
      case kRouting:
      case kDestOpts: {
        // RFC 8200 §4.3: Hop-by-Hop only directly after the fixed header.
        if ((next == kHopByHop && off != sizeof(rte_ipv6_hdr)) || off + 8 > rte_pktmbuf_data_len(m)) {
          drop(f, m, Drop::ipv6_bad_extension_header);
          return;
        }
        const uint8_t* h = rte_pktmbuf_mtod_offset(m, const uint8_t*, off);
        // RFC 8200 §4.4: a routing header with segments left asks us to
        // forward, which a gateway endpoint does not do.
        if (next == kRouting && h[3] != 0) {
          drop(f, m, Drop::ipv6_bad_extension_header);
          return;
        }
        next = h[0];
        off += (h[1] + 1u) * 8u;
        if (off > rte_pktmbuf_pkt_len(m)) {
          drop(f, m, Drop::ipv6_bad_extension_header);
          return;
        }
        continue;
      }
      case kNoNext:
      default:
        drop(f, m, Drop::ipv6_proto_unsupported);
        return;
    }
  }
  drop(f, m, Drop::ipv6_bad_extension_header);
}

void NetWorker::icmp6_input(const Iface& f, rte_mbuf* m, uint16_t off, bool multicast_dst) {
  const uint32_t len = rte_pktmbuf_pkt_len(m) - off;
  if (len < 8) {
    drop(f, m, Drop::icmp6_too_short);
    return;
  }
  if (rte_pktmbuf_data_len(m) < off + 8u) {
    drop(f, m, Drop::eth_headers_not_contiguous);
    return;
  }
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv6_hdr*);
  const Ip6 src = addr_of(ip->src_addr), dst = addr_of(ip->dst_addr);
  // RFC 4443 §2.3: the checksum covers the pseudo-header.
  if (fold(ipv6_pseudo_sum(src, dst, len, kIcmp6) + mbuf_sum(m, off, len)) != 0xffff) {
    drop(f, m, Drop::icmp6_bad_checksum);
    return;
  }
  const uint8_t type = *rte_pktmbuf_mtod_offset(m, const uint8_t*, off);
  switch (type) {
    case kIcmp6NeighborSolicit:
      ns_input(f, m, off, static_cast<uint16_t>(len));
      return;
    case kIcmp6NeighborAdvert:
      na_input(f, m, off, static_cast<uint16_t>(len));
      return;
    case kIcmp6EchoRequest:
      break;
    default:
      drop(f, m, Drop::icmp6_type_unsupported);
      return;
  }
  if (multicast_dst) {
    drop(f, m, Drop::icmp6_echo_multicast);
    return;
  }
  // Reply with a fresh fixed header: extension headers are not echoed.
  rte_pktmbuf_adj(m, off);
  auto* reply_ip = reinterpret_cast<rte_ipv6_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ipv6_hdr)));
  reply_ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
  reply_ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(len));
  reply_ip->proto = kIcmp6;
  reply_ip->hop_limits = 64;
  std::memcpy(reply_ip->src_addr, dst.b, 16);
  std::memcpy(reply_ip->dst_addr, src.b, 16);
  uint8_t* icmp = reinterpret_cast<uint8_t*>(reply_ip + 1);
  icmp[0] = kIcmp6EchoReply;
  icmp[2] = icmp[3] = 0;
  const uint16_t c = finish_cksum(ipv6_pseudo_sum(dst, src, len, kIcmp6), mbuf_sum(m, sizeof(rte_ipv6_hdr), len));
  std::memcpy(icmp + 2, &c, 2);
  m->l3_len = sizeof(rte_ipv6_hdr);
  if (ipv6_output(f, m)) counters_.event(f.index, Event::icmp6_echo_replies_sent);
}

bool NetWorker::ipv6_output(const Iface& f, rte_mbuf* m) {
  const Ip6 dst = addr_of(rte_pktmbuf_mtod(m, const rte_ipv6_hdr*)->dst_addr);
  if (ipv6_is_multicast(dst) || f.on_link6(dst)) {
    ipv6_output_on_link(f, m, dst);
    return true;
  }
  if (!f.has_gw6) {
    drop(f, m, Drop::no_route);
    return false;
  }
  rte_ether_addr mac;
  const NeighVerdict v = neigh_.resolve(f.index, NeighAddr::v6(f.gw6), m, &mac);
  if (v == NeighVerdict::ready) eth_output(f, m, mac, RTE_ETHER_TYPE_IPV6);
  return v != NeighVerdict::dropped;
}

void NetWorker::ipv6_output_on_link(const Iface& f, rte_mbuf* m, const Ip6& dst) {
  if (ipv6_is_multicast(dst)) {
    eth_output(f, m, ipv6_multicast_mac(dst), RTE_ETHER_TYPE_IPV6);
    return;
  }
  rte_ether_addr mac;
  if (neigh_.resolve(f.index, NeighAddr::v6(dst), m, &mac) == NeighVerdict::ready)
    eth_output(f, m, mac, RTE_ETHER_TYPE_IPV6);
}

}  // namespace lg::net
