// IPv4 input validation (RFC 791, RFC 1122 §3.2.1), ICMP echo (RFC 792) and
// output through the connected subnet or the configured gateway.
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/net/checksum.h"
#include "dataplane/net/net_worker.h"

namespace lg::net {
namespace {

bool bad_source(const Iface& f, rte_be32_t src) {
  const uint32_t s = rte_be_to_cpu_32(src);
  return s == 0 || (s >> 28) == 0xe || s == 0xffffffff || src == f.bcast4 || src == f.ip4;
}

}  // namespace

void NetWorker::ipv4_input(const Iface& f, rte_mbuf* m) {
  if (rte_pktmbuf_pkt_len(m) < sizeof(rte_ipv4_hdr)) {
    drop(f, m, Drop::ipv4_too_short);
    return;
  }
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ipv4_hdr)) {
    drop(f, m, Drop::eth_headers_not_contiguous);
    return;
  }
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  if ((ip->version_ihl >> 4) != 4) {
    drop(f, m, Drop::ipv4_bad_version);
    return;
  }
  const uint16_t ihl = rte_ipv4_hdr_len(ip);
  if (ihl < sizeof(rte_ipv4_hdr) || ihl > rte_pktmbuf_data_len(m)) {
    drop(f, m, Drop::ipv4_bad_header_length);
    return;
  }
  const uint16_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < ihl || total > rte_pktmbuf_pkt_len(m)) {
    drop(f, m, Drop::ipv4_bad_total_length);
    return;
  }
  const uint64_t csum_flag = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (csum_flag == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
      (csum_flag != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, ihl) != 0xffff)) {
    drop(f, m, Drop::ipv4_bad_checksum);
    return;
  }
  // Ethernet pads short frames: the IP length is the truth.
  rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - total);
  if ((rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
    drop(f, m, Drop::ipv4_fragment);
    return;
  }
  if (bad_source(f, ip->src_addr)) {
    drop(f, m, Drop::ipv4_bad_source);
    return;
  }
  const bool broadcast = ip->dst_addr == f.bcast4 || ip->dst_addr == RTE_BE32(0xffffffff);
  if (!f.has_v4 || (ip->dst_addr != f.ip4 && !broadcast)) {
    drop(f, m, Drop::ipv4_not_for_us);
    return;
  }
  m->l3_len = ihl;
  switch (ip->next_proto_id) {
    case IPPROTO_ICMP:
      icmp_input(f, m, ihl, broadcast);
      return;
    case IPPROTO_TCP:
      if (l4_.tcp_input != nullptr && !broadcast) {
        l4_.tcp_input(l4_.ctx, f, m, 4);
        return;
      }
      drop(f, m, broadcast ? Drop::ipv4_not_for_us : Drop::ipv4_proto_unsupported);
      return;
    default:
      drop(f, m, Drop::ipv4_proto_unsupported);
  }
}

void NetWorker::icmp_input(const Iface& f, rte_mbuf* m, uint16_t ihl, bool broadcast) {
  const uint32_t len = rte_pktmbuf_pkt_len(m) - ihl;
  if (len < sizeof(rte_icmp_hdr)) {
    drop(f, m, Drop::icmp_too_short);
    return;
  }
  if (rte_pktmbuf_data_len(m) < ihl + sizeof(rte_icmp_hdr)) {
    drop(f, m, Drop::eth_headers_not_contiguous);
    return;
  }
  if (mbuf_sum(m, ihl, len) != 0xffff) {
    drop(f, m, Drop::icmp_bad_checksum);
    return;
  }
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, ihl);
  if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
    drop(f, m, Drop::icmp_type_unsupported);
    return;
  }
  if (broadcast) {
    drop(f, m, Drop::icmp_echo_broadcast);
    return;
  }
  // RFC 792: the reply echoes data, identifier and sequence. Options are not
  // echoed (RFC 1122 §3.2.2.6 allows dropping them), so rebuild a plain header.
  const rte_be32_t peer = ip->src_addr;
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = static_cast<uint16_t>(~mbuf_sum(m, ihl, len));
  if (ihl != sizeof(rte_ipv4_hdr)) {
    rte_ipv4_hdr copy = *ip;
    rte_pktmbuf_adj(m, ihl - sizeof(rte_ipv4_hdr));
    ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
    *ip = copy;
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + len));
  }
  ip->dst_addr = peer;
  ip->src_addr = f.ip4;
  ip->time_to_live = 64;
  ip->fragment_offset = 0;
  if (ipv4_output(f, m)) counters_.event(f.index, Event::icmp_echo_replies_sent);
}

bool NetWorker::ipv4_output(const Iface& f, rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  m->l3_len = rte_ipv4_hdr_len(ip);
  ip->hdr_checksum = 0;
  if (f.offloads.tx_ipv4_cksum) {
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
  } else {
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
  const rte_be32_t dst = ip->dst_addr;
  if (dst == f.bcast4 || dst == RTE_BE32(0xffffffff)) {
    static const rte_ether_addr kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    eth_output(f, m, kBroadcast, RTE_ETHER_TYPE_IPV4);
    return true;
  }
  rte_be32_t next_hop;
  if (f.on_link4(dst)) {
    next_hop = dst;
  } else if (f.has_gw4) {
    next_hop = f.gw4;
  } else {
    drop(f, m, Drop::no_route);
    return false;
  }
  rte_ether_addr mac;
  const NeighVerdict v = neigh_.resolve(f.index, NeighAddr::v4(next_hop), m, &mac);
  if (v == NeighVerdict::ready) eth_output(f, m, mac, RTE_ETHER_TYPE_IPV4);
  return v != NeighVerdict::dropped;
}

}  // namespace lg::net
