#include "dataplane/tcp/segment.h"

namespace lg::tcp {

rte_mbuf* chain_trim_front(rte_mbuf* m, uint32_t n) {
  uint32_t total = rte_pktmbuf_pkt_len(m);
  while (m != nullptr && n >= m->data_len && m->next != nullptr) {
    rte_mbuf* next = m->next;
    n -= m->data_len;
    total -= m->data_len;
    next->nb_segs = static_cast<uint16_t>(m->nb_segs - 1);
    m->next = nullptr;
    rte_pktmbuf_free_seg(m);
    m = next;
  }
  if (n > m->data_len) n = m->data_len;
  m->data_off = static_cast<uint16_t>(m->data_off + n);
  m->data_len = static_cast<uint16_t>(m->data_len - n);
  m->pkt_len = total - n;
  return m;
}

void chain_trim_back(rte_mbuf* m, uint32_t keep) {
  rte_mbuf* head = m;
  uint32_t seen = 0;
  uint16_t segs = 0;
  while (m != nullptr) {
    ++segs;
    if (seen + m->data_len >= keep) {
      m->data_len = static_cast<uint16_t>(keep - seen);
      if (m->next != nullptr) {
        rte_pktmbuf_free(m->next);
        m->next = nullptr;
      }
      break;
    }
    seen += m->data_len;
    m = m->next;
  }
  head->pkt_len = keep;
  head->nb_segs = segs;
}

rte_mbuf* chain_tail(rte_mbuf* m) {
  while (m->next != nullptr) m = m->next;
  return m;
}

}  // namespace lg::tcp
