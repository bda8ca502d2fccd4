// ARP over Ethernet for IPv4 (RFC 826), replying to requests for our address
// and resolving next hops for the neighbor table.
#include <rte_arp.h>

#include "dataplane/net/net_worker.h"

namespace lg::net {

void NetWorker::arp_input(const Iface& f, rte_mbuf* m) {
  if (rte_pktmbuf_data_len(m) < sizeof(rte_arp_hdr)) {
    drop(f, m, Drop::arp_malformed);
    return;
  }
  auto* arp = rte_pktmbuf_mtod(m, rte_arp_hdr*);
  const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != sizeof(rte_be32_t) || (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
      rte_is_multicast_ether_addr(&arp->arp_data.arp_sha)) {
    drop(f, m, Drop::arp_malformed);
    return;
  }
  const rte_be32_t sip = arp->arp_data.arp_sip;
  const rte_be32_t tip = arp->arp_data.arp_tip;
  const bool for_us = f.has_v4 && tip == f.ip4;

  // RFC 826 "merge": refresh a sender we know; add it when the packet is for us.
  // Only on-link senders are kept: we never send to anyone else directly.
  if (sip != 0 && sip != f.ip4 && f.on_link4(sip)) {
    NeighLearn how = !for_us ? NeighLearn::update_only
                             : (op == RTE_ARP_OP_REPLY ? NeighLearn::confirmed : NeighLearn::heard);
    learn(f, NeighAddr::v4(sip), arp->arp_data.arp_sha, how);
  }

  if (op == RTE_ARP_OP_REPLY) {
    counters_.event(f.index, Event::arp_replies_received);
    rte_pktmbuf_free(m);
    return;
  }
  if (!for_us) {
    drop(f, m, Drop::arp_not_for_us);
    return;
  }
  counters_.event(f.index, Event::arp_requests_received);
  // Turn the request around in place.
  const rte_ether_addr requester = arp->arp_data.arp_sha;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = requester;
  arp->arp_data.arp_tip = sip;
  arp->arp_data.arp_sha = f.mac;
  arp->arp_data.arp_sip = f.ip4;
  rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - sizeof(rte_arp_hdr));
  counters_.event(f.index, Event::arp_replies_sent);
  eth_output(f, m, requester, RTE_ETHER_TYPE_ARP);
}

// RFC 5227 §2.3 ARP Announcement: a request with our address as both
// sender and target, broadcast. Receivers update what they hold (RFC 826).
void NetWorker::arp_announce(const Iface& f) {
  if (f.has_v4 && arp_send_request(f, f.ip4, nullptr)) counters_.event(f.index, Event::address_announcements_sent);
}

void NetWorker::arp_request(const Iface& f, rte_be32_t target, const rte_ether_addr* unicast) {
  if (arp_send_request(f, target, unicast)) counters_.event(f.index, Event::arp_requests_sent);
}

bool NetWorker::arp_send_request(const Iface& f, rte_be32_t target, const rte_ether_addr* unicast) {
  rte_mbuf* m = alloc(f);
  if (m == nullptr) return false;
  auto* arp = reinterpret_cast<rte_arp_hdr*>(rte_pktmbuf_append(m, sizeof(rte_arp_hdr)));
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = sizeof(rte_be32_t);
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = f.mac;
  arp->arp_data.arp_sip = f.ip4;
  arp->arp_data.arp_tha = rte_ether_addr{};
  arp->arp_data.arp_tip = target;
  static const rte_ether_addr kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  eth_output(f, m, unicast ? *unicast : kBroadcast, RTE_ETHER_TYPE_ARP);
  return true;
}

}  // namespace lg::net
