// What the network layer knows about one port: its addresses, next hops and
// offloads. Built once at start-up from the bootstrap and read-only afterwards,
// so every worker reads it without synchronisation.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/bootstrap/bootstrap.h"
#include "drivers/port.h"

namespace lg::net {

struct Ip6 {
  uint8_t b[16];
  bool operator==(const Ip6& o) const { return std::memcmp(b, o.b, 16) == 0; }
};

struct Iface {
  unsigned index = 0;  // position in the bootstrap; counters are kept by it
  uint16_t port_id = 0;
  rte_ether_addr mac{};
  uint16_t mtu = 1500;
  uint16_t vlan = 0;  // 0: untagged
  drv::Offloads offloads;
  uint16_t queues = 1;  // RX/TX queue pairs (one per worker)

  bool has_v4 = false;
  rte_be32_t ip4 = 0, mask4 = 0, bcast4 = 0;  // network order
  bool has_gw4 = false;
  rte_be32_t gw4 = 0;

  bool has_v6 = false;
  Ip6 ip6{}, ll6{};        // global (configured) and link-local (EUI-64 of the MAC)
  Ip6 ip6_snm{}, ll6_snm{}; // their solicited-node multicast groups
  uint8_t prefix6 = 0;
  bool has_gw6 = false;
  Ip6 gw6{};

  bool on_link4(rte_be32_t a) const { return has_v4 && (a & mask4) == (ip4 & mask4); }
  bool is_ours6(const Ip6& a) const { return has_v6 && (a == ip6 || a == ll6); }
  bool on_link6(const Ip6& a) const;
};

Iface make_iface(unsigned index, uint16_t port_id, const rte_ether_addr& mac, const PortConfig& cfg,
                 const drv::Offloads& offloads);

// Multicast MACs the port must accept: IPv6 all-nodes and our solicited-node groups.
std::vector<rte_ether_addr> iface_multicast_macs(const PortConfig& cfg, const rte_ether_addr& mac);

// RFC 4291 §2.7.1: ff02::1:ffXX:XXXX from the low 24 bits of the address.
Ip6 solicited_node(const Ip6& a);
// RFC 2464 §7: 33:33 followed by the low 32 bits of the group.
rte_ether_addr ipv6_multicast_mac(const Ip6& group);
// RFC 4291 §2.5.1 / RFC 2464 §4: fe80::/64 with the modified EUI-64 of the MAC.
Ip6 link_local_from_mac(const rte_ether_addr& mac);

bool ipv6_in_prefix(const Ip6& a, const Ip6& prefix, uint8_t len);
inline bool ipv6_is_multicast(const Ip6& a) { return a.b[0] == 0xff; }
inline bool ipv6_is_unspecified(const Ip6& a) {
  static const Ip6 zero{};
  return a == zero;
}
inline bool ipv6_is_link_local(const Ip6& a) { return a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80; }
inline const Ip6& kAllNodes() {
  static const Ip6 a{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
  return a;
}

}  // namespace lg::net
