// One worker's network layer: Ethernet (with an optional 802.1Q tag), ARP,
// IPv4 + ICMP echo, IPv6 + ICMPv6 echo and neighbor discovery. Packets come
// in as RX bursts and leave through per-port TX buffers flushed once per loop
// pass. Everything here is owned by one lcore: no locks, no heap, no syscalls.
// The handlers live in one file per protocol (ether.cc, arp.cc, ipv4.cc,
// ipv6.cc, ndp.cc).
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/counters/counters.h"
#include "dataplane/net/iface.h"
#include "dataplane/net/neigh.h"
#include "dataplane/timer/timer_wheel.h"
#include "drivers/impair.h"

namespace lg::net {

inline constexpr uint16_t kBurst = 32;
inline constexpr uint16_t kTxBuffer = 64;
inline constexpr unsigned kMaxWorkers = 64;

// ICMPv6 message types this layer handles (RFC 4443 §2.1, RFC 4861 §4).
inline constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135, kIcmp6NeighborAdvert = 136;

// A neighbor one worker learned, told to the others (they see ARP/ND only
// when RSS happens to send it their way).
struct NeighMsg {
  uint16_t port;
  uint8_t family;
  uint8_t pad;
  uint8_t addr[16];
  rte_ether_addr mac;
  uint16_t pad2;
};
static_assert(sizeof(NeighMsg) % 4 == 0, "rte_ring element size must be a multiple of 4");

// Transport protocols above IP register here (the network layer does not
// depend on them). m starts at the IP header, m->l3_len covers the IP header
// and any extension headers.
struct L4Hooks {
  void* ctx = nullptr;
  void (*tcp_input)(void* ctx, const Iface& f, rte_mbuf* m, uint8_t family) = nullptr;
};

struct NetWorkerConfig {
  unsigned worker = 0;               // index; also the TX/RX queue on every port
  std::span<const Iface> ifaces;
  rte_mempool* pool = nullptr;       // for packets we originate (ARP requests, NS, NA)
  rte_ring* inbox = nullptr;         // NeighMsg from other workers (single consumer: us)
  std::vector<rte_ring*> peers;      // the other workers' inboxes
  NeighParams neigh;
  int socket_id = 0;
};

class NetWorker {
 public:
  NetWorker(const NetWorkerConfig& cfg, LcoreCounters& counters, TimerWheel& timers);
  bool ok() const { return neigh_.ok(); }

  void input(unsigned iface, rte_mbuf** pkts, uint16_t n);  // consumes every mbuf
  void flush();                                             // transmit what is buffered
  unsigned poll_inbox();                                    // apply other workers' neighbor news
  // Tells the link our addresses are at this MAC (a port came up): peers
  // that cached another MAC for them, a previous process's, switch at once.
  void announce(unsigned iface);

  // Send m (at its L3 header, header complete) through route + neighbor.
  // false: no route (m dropped and counted); true: sent or waiting for
  // address resolution.
  bool ipv4_output(const Iface& f, rte_mbuf* m);
  bool ipv6_output(const Iface& f, rte_mbuf* m);

  NeighTable& neighbors() { return neigh_; }
  void set_l4(L4Hooks hooks) { l4_ = hooks; }
  // Test impairment of what this worker transmits on a port (null: none).
  void set_tx_impair(unsigned iface, drv::ImpairStage* stage) { tx_[iface].impair = stage; }

 private:
  void eth_input(const Iface& f, rte_mbuf* m);
  void eth_output(const Iface& f, rte_mbuf* m, const rte_ether_addr& dst, uint16_t ethertype);
  void arp_input(const Iface& f, rte_mbuf* m);
  void arp_request(const Iface& f, rte_be32_t target, const rte_ether_addr* unicast);
  void arp_announce(const Iface& f);
  bool arp_send_request(const Iface& f, rte_be32_t target, const rte_ether_addr* unicast);  // false: no mbuf
  void nd_announce(const Iface& f);
  void ipv4_input(const Iface& f, rte_mbuf* m);
  void icmp_input(const Iface& f, rte_mbuf* m, uint16_t ihl, bool broadcast);
  void ipv6_input(const Iface& f, rte_mbuf* m);
  void icmp6_input(const Iface& f, rte_mbuf* m, uint16_t off, bool multicast_dst);
  void ns_input(const Iface& f, rte_mbuf* m, uint16_t off, uint16_t len);
  void na_input(const Iface& f, rte_mbuf* m, uint16_t off, uint16_t len);
  void neighbor_solicit(const Iface& f, const Ip6& target, const rte_ether_addr* unicast);
  void neighbor_advert(const Iface& f, const Ip6& target, const Ip6& dst, bool solicited,
                       const rte_ether_addr* dst_mac, Event counted = Event::nd_advertisements_sent);
  // To an on-link neighbor, whatever the prefixes say (RFC 4861 replies).
  void ipv6_output_on_link(const Iface& f, rte_mbuf* m, const Ip6& dst);
  void learn(const Iface& f, const NeighAddr& a, const rte_ether_addr& mac, NeighLearn how);

  void drop(const Iface& f, rte_mbuf* m, Drop reason) {
    counters_.drop(f.index, reason);
    rte_pktmbuf_free(m);
  }
  rte_mbuf* alloc(const Iface& f);

  static void hook_solicit(void* ctx, unsigned port, const NeighAddr& a, const rte_ether_addr* unicast);
  static void hook_transmit(void* ctx, unsigned port, rte_mbuf* m, const rte_ether_addr& mac, uint8_t family);

  struct TxBuffer {
    uint16_t port_id = 0;
    uint16_t n = 0;
    drv::ImpairStage* impair = nullptr;
    rte_mbuf* pkts[2 * kTxBuffer];  // room for what the impairment stage duplicates or releases
  };

  unsigned worker_;
  std::span<const Iface> ifaces_;
  rte_mempool* pool_;
  rte_ring* inbox_;
  rte_ring* peers_[kMaxWorkers] = {};
  unsigned npeers_ = 0;
  LcoreCounters& counters_;
  NeighTable neigh_;
  L4Hooks l4_;
  TxBuffer tx_[kMaxPorts];
};

}  // namespace lg::net
