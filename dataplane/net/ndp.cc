// IPv6 neighbor discovery for a host (RFC 4861): answer solicitations for our
// addresses, learn from solicitations and advertisements, and solicit next
// hops for the neighbor table. No router or redirect handling; no DAD for our
// own addresses (the bootstrap assigns them).
#include <rte_ip.h>

#include "dataplane/net/checksum.h"
#include "dataplane/net/net_worker.h"

namespace lg::net {
namespace {

constexpr uint8_t kOptSourceLla = 1, kOptTargetLla = 2;
constexpr uint8_t kFlagRouter = 0x80, kFlagSolicited = 0x40, kFlagOverride = 0x20;
constexpr uint16_t kNdHeader = 24;  // type, code, checksum, flags/reserved, target

// Message view once RFC 4861 §7.1.1/§7.1.2 validation passes.
struct NdMessage {
  Ip6 src, dst, target;
  uint8_t flags = 0;
  const rte_ether_addr* lla = nullptr;  // source LLA (NS) or target LLA (NA)
};

// Options walk (RFC 4861 §4.6): every option has a non-zero length.
bool parse_nd(const rte_mbuf* m, uint16_t off, uint16_t len, uint8_t want_opt, NdMessage* out) {
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv6_hdr*);
  if (ip->hop_limits != 255 || len < kNdHeader || rte_pktmbuf_data_len(m) < off + len) return false;
  const uint8_t* h = rte_pktmbuf_mtod_offset(m, const uint8_t*, off);
  if (h[1] != 0) return false;  // code
  std::memcpy(out->src.b, ip->src_addr, 16);
  std::memcpy(out->dst.b, ip->dst_addr, 16);
  std::memcpy(out->target.b, h + 8, 16);
  out->flags = h[4];
  if (ipv6_is_multicast(out->target)) return false;
  for (uint16_t o = kNdHeader; o < len;) {
    if (len - o < 2 || h[o + 1] == 0 || o + h[o + 1] * 8u > len) return false;
    if (h[o] == want_opt && h[o + 1] == 1) out->lla = reinterpret_cast<const rte_ether_addr*>(h + o + 2);
    o = static_cast<uint16_t>(o + h[o + 1] * 8u);
  }
  return true;
}

// Fill a fresh ND message into m: IPv6 header + 24-byte body + one LLA option.
void build_nd(rte_mbuf* m, uint8_t type, uint8_t flags, const Ip6& src, const Ip6& dst, const Ip6& target,
              uint8_t opt, const rte_ether_addr& lla) {
  constexpr uint16_t kBody = kNdHeader + 8;
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(rte_pktmbuf_append(m, sizeof(rte_ipv6_hdr) + kBody));
  ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip->payload_len = rte_cpu_to_be_16(kBody);
  ip->proto = IPPROTO_ICMPV6;
  ip->hop_limits = 255;  // RFC 4861 §7.1: proves the sender is on-link
  std::memcpy(ip->src_addr, src.b, 16);
  std::memcpy(ip->dst_addr, dst.b, 16);
  uint8_t* b = reinterpret_cast<uint8_t*>(ip + 1);
  std::memset(b, 0, kBody);
  b[0] = type;
  b[4] = flags;
  std::memcpy(b + 8, target.b, 16);
  b[24] = opt;
  b[25] = 1;
  std::memcpy(b + 26, lla.addr_bytes, 6);
  const uint16_t c = finish_cksum(ipv6_pseudo_sum(src, dst, kBody, IPPROTO_ICMPV6), rte_raw_cksum(b, kBody));
  std::memcpy(b + 2, &c, 2);
  m->l3_len = sizeof(rte_ipv6_hdr);
}

}  // namespace

void NetWorker::ns_input(const Iface& f, rte_mbuf* m, uint16_t off, uint16_t len) {
  NdMessage nd;
  if (!parse_nd(m, off, len, kOptSourceLla, &nd)) {
    drop(f, m, Drop::ndp_invalid);
    return;
  }
  const bool dad = ipv6_is_unspecified(nd.src);
  // §7.1.1: a DAD probe goes to a solicited-node group and carries no source LLA.
  if (dad && (nd.lla != nullptr || !(nd.dst == f.ip6_snm || nd.dst == f.ll6_snm))) {
    drop(f, m, Drop::ndp_invalid);
    return;
  }
  if (!f.is_ours6(nd.target)) {
    drop(f, m, Drop::ndp_target_not_ours);
    return;
  }
  counters_.event(f.index, Event::nd_solicitations_received);
  if (!dad && nd.lla != nullptr) learn(f, NeighAddr::v6(nd.src), *nd.lla, NeighLearn::heard);
  // §7.2.4: answer to the solicitor at the link-layer address it gave (it
  // is on this link, whatever its prefix), or to all-nodes during DAD.
  const rte_ether_addr solicitor = nd.lla ? *nd.lla : rte_ether_addr{};
  const bool have_lla = nd.lla != nullptr;
  rte_pktmbuf_free(m);
  neighbor_advert(f, nd.target, dad ? kAllNodes() : nd.src, !dad, have_lla && !dad ? &solicitor : nullptr);
}

void NetWorker::na_input(const Iface& f, rte_mbuf* m, uint16_t off, uint16_t len) {
  NdMessage nd;
  // §7.1.2: an advertisement to a multicast group is never "solicited".
  if (!parse_nd(m, off, len, kOptTargetLla, &nd) ||
      (ipv6_is_multicast(nd.dst) && (nd.flags & kFlagSolicited))) {
    drop(f, m, Drop::ndp_invalid);
    return;
  }
  counters_.event(f.index, Event::nd_advertisements_received);
  if (nd.lla != nullptr && !f.is_ours6(nd.target)) {
    // §7.2.5: solicited confirms reachability; otherwise only an override
    // may change what we hold.
    NeighLearn how = (nd.flags & kFlagSolicited) ? NeighLearn::confirmed : NeighLearn::update_only;
    if (how == NeighLearn::confirmed || (nd.flags & kFlagOverride)) learn(f, NeighAddr::v6(nd.target), *nd.lla, how);
  }
  rte_pktmbuf_free(m);
}

void NetWorker::neighbor_advert(const Iface& f, const Ip6& target, const Ip6& dst, bool solicited,
                                const rte_ether_addr* dst_mac, Event counted) {
  rte_mbuf* m = alloc(f);
  if (m == nullptr) return;
  const uint8_t flags = static_cast<uint8_t>(kFlagOverride | (solicited ? kFlagSolicited : 0));
  build_nd(m, kIcmp6NeighborAdvert, flags & ~kFlagRouter, target, dst, target, kOptTargetLla, f.mac);
  counters_.event(f.index, counted);
  if (dst_mac != nullptr)
    eth_output(f, m, *dst_mac, RTE_ETHER_TYPE_IPV6);
  else
    ipv6_output_on_link(f, m, dst);
}

// §7.2.6: unsolicited advertisements with the override flag, to all-nodes,
// for each of our addresses.
void NetWorker::nd_announce(const Iface& f) {
  if (!f.has_v6) return;
  neighbor_advert(f, f.ip6, kAllNodes(), false, nullptr, Event::address_announcements_sent);
  neighbor_advert(f, f.ll6, kAllNodes(), false, nullptr, Event::address_announcements_sent);
}

void NetWorker::neighbor_solicit(const Iface& f, const Ip6& target, const rte_ether_addr* unicast) {
  rte_mbuf* m = alloc(f);
  if (m == nullptr) return;
  // §7.2.2: the source is an address of ours the target can answer on-link.
  const Ip6& src = ipv6_is_link_local(target) ? f.ll6 : f.ip6;
  const Ip6 dst = unicast ? target : solicited_node(target);
  build_nd(m, kIcmp6NeighborSolicit, 0, src, dst, target, kOptSourceLla, f.mac);
  counters_.event(f.index, Event::nd_solicitations_sent);
  eth_output(f, m, unicast ? *unicast : ipv6_multicast_mac(dst), RTE_ETHER_TYPE_IPV6);
}

}  // namespace lg::net
