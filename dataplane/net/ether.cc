// Ethernet II input with an optional single 802.1Q tag (IEEE 802.1Q §9).
#include <rte_ether.h>

#include "dataplane/net/net_worker.h"

namespace lg::net {

void NetWorker::eth_input(const Iface& f, rte_mbuf* m) {
  counters_.event(f.index, Event::rx_frames);
  counters_.event(f.index, Event::rx_bytes, rte_pktmbuf_pkt_len(m));
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr)) {
    drop(f, m, rte_pktmbuf_pkt_len(m) < sizeof(rte_ether_hdr) ? Drop::eth_too_short : Drop::eth_headers_not_contiguous);
    return;
  }
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  // Unicast to someone else: a NIC in promiscuous mode or a bridge flooding.
  if (!rte_is_multicast_ether_addr(&eth->dst_addr) && !rte_is_same_ether_addr(&eth->dst_addr, &f.mac)) {
    drop(f, m, Drop::eth_not_for_us);
    return;
  }
  uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  uint16_t hlen = sizeof(rte_ether_hdr);
  uint16_t vlan = 0;
  if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) {
    if (rte_pktmbuf_data_len(m) < hlen + sizeof(rte_vlan_hdr)) {
      drop(f, m, Drop::eth_too_short);
      return;
    }
    const auto* vh = reinterpret_cast<const rte_vlan_hdr*>(eth + 1);
    vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0x0fff;
    type = rte_be_to_cpu_16(vh->eth_proto);
    hlen += sizeof(rte_vlan_hdr);
    // Stacked tags (QinQ) are not ours to terminate.
    if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) vlan = 0xffff;
  }
  if (vlan != f.vlan) {
    drop(f, m, Drop::vlan_mismatch);
    return;
  }
  rte_pktmbuf_adj(m, hlen);
  m->l2_len = hlen;
  switch (type) {
    case RTE_ETHER_TYPE_ARP:
      arp_input(f, m);
      return;
    case RTE_ETHER_TYPE_IPV4:
      ipv4_input(f, m);
      return;
    case RTE_ETHER_TYPE_IPV6:
      ipv6_input(f, m);
      return;
    default:
      drop(f, m, Drop::eth_unknown_ethertype);
  }
}

}  // namespace lg::net
