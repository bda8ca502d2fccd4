#include "dataplane/net/net_worker.h"

#include <rte_ethdev.h>
#include <rte_cycles.h>
#include <rte_prefetch.h>

namespace lg::net {

NetWorker::NetWorker(const NetWorkerConfig& cfg, LcoreCounters& counters, TimerWheel& timers)
    : worker_(cfg.worker),
      ifaces_(cfg.ifaces),
      pool_(cfg.pool),
      inbox_(cfg.inbox),
      counters_(counters),
      neigh_(cfg.neigh, timers, counters, NeighHooks{this, &NetWorker::hook_solicit, &NetWorker::hook_transmit},
             cfg.socket_id, ("lg_neigh_" + std::to_string(cfg.worker)).c_str()) {
  for (rte_ring* r : cfg.peers)
    if (npeers_ < kMaxWorkers) peers_[npeers_++] = r;
  for (const Iface& f : ifaces_) tx_[f.index].port_id = f.port_id;
}

void NetWorker::input(unsigned iface, rte_mbuf** pkts, uint16_t n) {
  const Iface& f = ifaces_[iface];
  constexpr uint16_t kPrefetchAhead = 3;
  for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    eth_input(f, pkts[i]);
  }
}

void NetWorker::flush() {
  for (const Iface& f : ifaces_) {
    TxBuffer& tx = tx_[f.index];
    if (tx.impair != nullptr) {
      const uint64_t now = rte_rdtsc();
      tx.n = tx.impair->apply(tx.pkts, tx.n, 2 * kTxBuffer, now);
      tx.n = tx.impair->drain(tx.pkts, tx.n, 2 * kTxBuffer, now);
    }
    if (tx.n == 0) continue;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < tx.n; ++i) bytes += rte_pktmbuf_pkt_len(tx.pkts[i]);
    uint16_t sent = rte_eth_tx_burst(tx.port_id, static_cast<uint16_t>(worker_), tx.pkts, tx.n);
    if (sent < tx.n) {
      // The ring is full: the NIC is behind. Drop the rest now rather than
      // hold them; TCP will retransmit, ICMP/ARP are best effort.
      for (uint16_t i = sent; i < tx.n; ++i) {
        bytes -= rte_pktmbuf_pkt_len(tx.pkts[i]);
        rte_pktmbuf_free(tx.pkts[i]);
      }
      counters_.drop(f.index, Drop::tx_queue_full, tx.n - sent);
    }
    counters_.event(f.index, Event::tx_frames, sent);
    counters_.event(f.index, Event::tx_bytes, bytes);
    tx.n = 0;
  }
}

void NetWorker::eth_output(const Iface& f, rte_mbuf* m, const rte_ether_addr& dst, uint16_t ethertype) {
  const uint16_t hlen = f.vlan ? sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr) : sizeof(rte_ether_hdr);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, hlen));
  if (eth == nullptr) {
    drop(f, m, Drop::mbuf_alloc_failed);
    return;
  }
  eth->dst_addr = dst;
  eth->src_addr = f.mac;
  if (f.vlan) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* vh = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
    vh->vlan_tci = rte_cpu_to_be_16(f.vlan);
    vh->eth_proto = rte_cpu_to_be_16(ethertype);
  } else {
    eth->ether_type = rte_cpu_to_be_16(ethertype);
  }
  m->l2_len = hlen;
  TxBuffer& tx = tx_[f.index];
  tx.pkts[tx.n++] = m;
  if (tx.n == kTxBuffer) flush();
}

rte_mbuf* NetWorker::alloc(const Iface& f) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) counters_.drop(f.index, Drop::mbuf_alloc_failed);
  return m;
}

void NetWorker::learn(const Iface& f, const NeighAddr& a, const rte_ether_addr& mac, NeighLearn how) {
  if (!neigh_.learn(f.index, a, mac, how) || npeers_ == 0) return;
  NeighMsg msg{};
  msg.port = static_cast<uint16_t>(f.index);
  msg.family = a.family;
  std::memcpy(msg.addr, a.b, 16);
  msg.mac = mac;
  // A full inbox only costs the peer its own resolution later.
  for (unsigned i = 0; i < npeers_; ++i) rte_ring_enqueue_elem(peers_[i], &msg, sizeof(msg));
}

void NetWorker::announce(unsigned iface) {
  const Iface& f = ifaces_[iface];
  arp_announce(f);
  nd_announce(f);
}

unsigned NetWorker::poll_inbox() {
  if (inbox_ == nullptr) return 0;
  NeighMsg msgs[kBurst];
  unsigned n = rte_ring_dequeue_burst_elem(inbox_, msgs, sizeof(NeighMsg), kBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    NeighAddr a;
    a.family = msgs[i].family;
    std::memcpy(a.b, msgs[i].addr, 16);
    if (msgs[i].port < ifaces_.size()) neigh_.learn(msgs[i].port, a, msgs[i].mac, NeighLearn::heard);
  }
  return n;
}

void NetWorker::hook_solicit(void* ctx, unsigned port, const NeighAddr& a, const rte_ether_addr* unicast) {
  auto* self = static_cast<NetWorker*>(ctx);
  const Iface& f = self->ifaces_[port];
  if (a.family == 4)
    self->arp_request(f, a.as_v4(), unicast);
  else
    self->neighbor_solicit(f, a.as_v6(), unicast);
}

void NetWorker::hook_transmit(void* ctx, unsigned port, rte_mbuf* m, const rte_ether_addr& mac, uint8_t family) {
  auto* self = static_cast<NetWorker*>(ctx);
  self->eth_output(self->ifaces_[port], m, mac, family == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
}

}  // namespace lg::net
