#include "dataplane/tcp/conn.h"

#include <algorithm>
#include <cstring>

namespace lg::tcp {

const char* state_name(State s) {
  static const char* const kNames[] = {"CLOSED",     "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                       "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                       "CLOSING",    "LAST-ACK",   "TIME-WAIT"};
  return kNames[static_cast<unsigned>(s)];
}

const char* close_reason_name(CloseReason r) {
  static const char* const kNames[] = {"normal", "reset", "timeout", "refused", "aborted"};
  return kNames[static_cast<unsigned>(r)];
}

void SegQueue::append(rte_mbuf* chain) {
  for (rte_mbuf* m = chain; m != nullptr;) {
    rte_mbuf* next = m->next;
    if (m->data_len == 0) {
      m->next = nullptr;
      rte_pktmbuf_free_seg(m);
    } else {
      m->next = nullptr;
      bytes += m->data_len;
      if (tail != nullptr)
        tail->next = m;
      else
        head = m;
      tail = m;
    }
    m = next;
  }
}

void SegQueue::trim_front(uint32_t n) {
  while (n > 0 && head != nullptr) {
    if (head->data_len <= n) {
      rte_mbuf* m = head;
      n -= m->data_len;
      bytes -= m->data_len;
      head = m->next;
      m->next = nullptr;
      rte_pktmbuf_free_seg(m);
    } else {
      rte_pktmbuf_adj(head, static_cast<uint16_t>(n));  // single segment: adjusts data_off/len
      bytes -= n;
      n = 0;
    }
  }
  if (head == nullptr) tail = nullptr;
}

rte_mbuf* SegQueue::take(uint32_t max, rte_mempool* pool) {
  if (head == nullptr || max == 0) return nullptr;
  rte_mbuf* first = head;
  rte_mbuf* last = nullptr;
  uint32_t got = 0;
  uint16_t segs = 0;
  while (head != nullptr && got + head->data_len <= max) {
    got += head->data_len;
    last = head;
    head = head->next;
    ++segs;
  }
  if (head != nullptr && got < max) {
    // Split the straddling segment: the front part goes out as an indirect
    // copy-free clone, the rest stays queued.
    rte_mbuf* part = rte_pktmbuf_alloc(pool);
    if (part != nullptr) {
      rte_pktmbuf_attach(part, head);
      part->data_len = static_cast<uint16_t>(max - got);
      rte_pktmbuf_adj(head, static_cast<uint16_t>(max - got));
      part->next = nullptr;
      part->pkt_len = part->data_len;
      if (last != nullptr)
        last->next = part;
      else
        first = part;
      last = part;
      got = max;
      ++segs;
    }
  }
  if (last == nullptr) return nullptr;
  last->next = nullptr;
  if (head == nullptr) tail = nullptr;
  bytes -= got;
  first->pkt_len = got;
  first->nb_segs = segs;
  return first;
}

uint32_t SegQueue::peek(uint32_t from, void* buf, uint32_t len) const {
  auto* out = static_cast<uint8_t*>(buf);
  uint32_t copied = 0, skip = from;
  for (const rte_mbuf* m = head; m != nullptr && copied < len; m = m->next) {
    const uint32_t n = m->data_len;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const uint32_t take = std::min(n - skip, len - copied);
    std::memcpy(out + copied, rte_pktmbuf_mtod_offset(m, const uint8_t*, skip), take);
    copied += take;
    skip = 0;
  }
  return copied;
}

void SegQueue::prepend(rte_mbuf* chain) {
  rte_mbuf* last = chain;
  uint32_t n = last->data_len;
  while (last->next != nullptr) {
    last = last->next;
    n += last->data_len;
  }
  last->next = head;
  head = chain;
  if (tail == nullptr) tail = last;
  bytes += n;
}

void SegQueue::clear() {
  for (rte_mbuf* m = head; m != nullptr;) {
    rte_mbuf* next = m->next;
    m->next = nullptr;
    rte_pktmbuf_free_seg(m);
    m = next;
  }
  head = tail = nullptr;
  bytes = 0;
}

}  // namespace lg::tcp

namespace lg::tcp {
// The bound: connection state (not counting buffered data) ≤ 2 KB.
// Measured 984 bytes with GCC 12 on x86-64; docs/architecture.md says so.
static_assert(sizeof(Conn) <= 2048, "TCP connection state must stay within 2 KB");
}  // namespace lg::tcp
