// A received segment, decoded once at input.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/tcp/seq.h"
#include "dataplane/tcp/tcp_hdr.h"

namespace lg::tcp {

inline constexpr uint8_t kFin = RTE_TCP_FIN_FLAG, kSyn = RTE_TCP_SYN_FLAG, kRst = RTE_TCP_RST_FLAG,
                         kPsh = RTE_TCP_PSH_FLAG, kAck = RTE_TCP_ACK_FLAG;

struct Segment {
  Seq seq = 0, ack = 0;
  uint32_t len = 0;     // payload bytes
  uint16_t wnd = 0;     // as sent (unscaled)
  uint8_t flags = 0;
  TcpOptions opt;
  rte_mbuf* payload = nullptr;  // the mbuf chain, data starting at the payload; owned until consumed

  bool has(uint8_t f) const { return (flags & f) != 0; }
  // RFC 9293 §3.4: SYN and FIN occupy sequence space.
  uint32_t seq_len() const { return len + (has(kSyn) ? 1 : 0) + (has(kFin) ? 1 : 0); }
};

// Byte-exact trimming of an mbuf chain (free what falls off).
rte_mbuf* chain_trim_front(rte_mbuf* m, uint32_t n);
void chain_trim_back(rte_mbuf* m, uint32_t keep);  // keep the first `keep` bytes (keep > 0)
rte_mbuf* chain_tail(rte_mbuf* m);

}  // namespace lg::tcp
