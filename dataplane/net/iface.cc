#include "dataplane/net/iface.h"

#include <rte_ip.h>

namespace lg::net {

bool ipv6_in_prefix(const Ip6& a, const Ip6& prefix, uint8_t len) {
  unsigned full = len / 8, rem = len % 8;
  if (std::memcmp(a.b, prefix.b, full) != 0) return false;
  if (rem == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rem));
  return (a.b[full] & mask) == (prefix.b[full] & mask);
}

bool Iface::on_link6(const Ip6& a) const {
  return has_v6 && (ipv6_is_link_local(a) || ipv6_in_prefix(a, ip6, prefix6));
}

Ip6 solicited_node(const Ip6& a) {
  Ip6 g{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0}};
  g.b[13] = a.b[13];
  g.b[14] = a.b[14];
  g.b[15] = a.b[15];
  return g;
}

rte_ether_addr ipv6_multicast_mac(const Ip6& group) {
  return rte_ether_addr{{0x33, 0x33, group.b[12], group.b[13], group.b[14], group.b[15]}};
}

Ip6 link_local_from_mac(const rte_ether_addr& mac) {
  const uint8_t* m = mac.addr_bytes;
  return Ip6{{0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe, m[3],
              m[4], m[5]}};
}

Iface make_iface(unsigned index, uint16_t port_id, const rte_ether_addr& mac, const PortConfig& cfg,
                 const drv::Offloads& offloads) {
  Iface f;
  f.index = index;
  f.port_id = port_id;
  f.mac = mac;
  f.mtu = cfg.mtu;
  f.vlan = cfg.vlan;
  f.offloads = offloads;
  if (cfg.ipv4) {
    f.has_v4 = true;
    f.ip4 = rte_cpu_to_be_32(cfg.ipv4->addr);
    uint32_t mask = cfg.ipv4->len == 0 ? 0 : ~uint32_t{0} << (32 - cfg.ipv4->len);
    f.mask4 = rte_cpu_to_be_32(mask);
    f.bcast4 = rte_cpu_to_be_32(cfg.ipv4->addr | ~mask);
  }
  if (cfg.gateway) {
    f.has_gw4 = true;
    f.gw4 = rte_cpu_to_be_32(*cfg.gateway);
  }
  if (cfg.ipv6) {
    f.has_v6 = true;
    std::memcpy(f.ip6.b, cfg.ipv6->addr.data(), 16);
    f.prefix6 = cfg.ipv6->len;
    f.ll6 = link_local_from_mac(mac);
    f.ip6_snm = solicited_node(f.ip6);
    f.ll6_snm = solicited_node(f.ll6);
  }
  if (cfg.gateway6) {
    f.has_gw6 = true;
    std::memcpy(f.gw6.b, cfg.gateway6->data(), 16);
  }
  return f;
}

std::vector<rte_ether_addr> iface_multicast_macs(const PortConfig& cfg, const rte_ether_addr& mac) {
  if (!cfg.ipv6) return {};
  Ip6 global;
  std::memcpy(global.b, cfg.ipv6->addr.data(), 16);
  return {ipv6_multicast_mac(kAllNodes()), ipv6_multicast_mac(solicited_node(global)),
          ipv6_multicast_mac(solicited_node(link_local_from_mac(mac)))};
}

}  // namespace lg::net
