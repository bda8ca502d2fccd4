// Internet checksum helpers (RFC 1071) over DPDK's raw one's-complement sums.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/net/iface.h"

namespace lg::net {

// One's-complement sum of [off, off+len) of m folded to 16 bits; handles
// chained segments. A message whose stored checksum is right sums to 0xffff.
inline uint16_t mbuf_sum(const rte_mbuf* m, uint32_t off, uint32_t len) {
  uint16_t s = 0;
  if (rte_raw_cksum_mbuf(m, off, len, &s) != 0) return 0;
  return s;
}

// RFC 8200 §8.1 pseudo-header sum for an upper-layer protocol over IPv6.
inline uint32_t ipv6_pseudo_sum(const Ip6& src, const Ip6& dst, uint32_t upper_len, uint8_t proto) {
  uint32_t s = __rte_raw_cksum(src.b, 16, 0);
  s = __rte_raw_cksum(dst.b, 16, s);
  const uint32_t tail[2] = {rte_cpu_to_be_32(upper_len), rte_cpu_to_be_32(proto)};
  return __rte_raw_cksum(tail, sizeof(tail), s);
}

inline uint16_t fold(uint32_t s) { return __rte_raw_cksum_reduce(s); }

// The value to store in the checksum field: pseudo sum plus message sum
// (computed with the field zeroed), complemented.
inline uint16_t finish_cksum(uint32_t pseudo, uint16_t body_sum) {
  uint16_t c = static_cast<uint16_t>(~fold(pseudo + body_sum));
  return c;
}

}  // namespace lg::net
