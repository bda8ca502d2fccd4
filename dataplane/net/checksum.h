// Internet checksum helpers (RFC 1071) over DPDK's raw one's-complement sums.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>

#include "dataplane/net/iface.h"

namespace lg::net {

// One's-complement sum of [off, off+len) of m folded to 16 bits; handles
// chained segments. A message whose stored checksum is right sums to 0xffff.
// Not rte_raw_cksum_mbuf: DPDK 22.11 truncates a segment's 32-bit partial sum
// to 16 bits before byte-swapping it after an odd offset, so chains with an
// odd-length segment (a proxy forwarding small writes) got wrong checksums.
inline uint16_t mbuf_sum(const rte_mbuf* m, uint32_t off, uint32_t len) {
  while (m != nullptr && off >= m->data_len) {
    off -= m->data_len;
    m = m->next;
  }
  uint32_t sum = 0, done = 0;
  for (; m != nullptr && len != 0; m = m->next, off = 0) {
    const uint32_t n = std::min<uint32_t>(m->data_len - off, len);
    uint16_t part = __rte_raw_cksum_reduce(__rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const uint8_t*, off), n, 0));
    if (done & 1) part = rte_bswap16(part);  // RFC 1071 §2(B): byte order independence
    sum += part;
    done += n;
    len -= n;
  }
  return __rte_raw_cksum_reduce(sum);
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
