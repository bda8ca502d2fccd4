#include "bench/loadgen/payload.h"

#include <algorithm>
#include <cstring>

namespace lg::bench {

namespace {
// A readable pattern: a body seen in a capture or a log is recognisable.
constexpr char kPattern[] = "linegate-loadgen payload 0123456789abcdefghijklmnopqrstuvwxyz\n";
constexpr size_t kPatternLen = sizeof(kPattern) - 1;
constexpr uint64_t kCopyBelow = 1024;  // copy up to this many bytes into the head segment
}  // namespace

Payload::~Payload() {
  for (rte_mbuf* m : segs_) rte_pktmbuf_free(m);
}

bool Payload::build(rte_mempool* pool) {
  seg_bytes_ = static_cast<uint16_t>(std::min<uint32_t>(rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM, 8192));
  uint64_t offset = 0;
  while (segs_.size() < kSegments) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return false;
    auto* p = rte_pktmbuf_mtod(m, char*);
    for (uint16_t i = 0; i < seg_bytes_; ++i) p[i] = kPattern[(offset + i) % kPatternLen];
    m->data_len = seg_bytes_;
    m->pkt_len = seg_bytes_;
    segs_.push_back(m);
    offset += seg_bytes_;
  }
  return true;
}

rte_mbuf* Payload::make(uint64_t n, rte_mempool* pool) const {
  rte_mbuf* first = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t nb = 0;
  for (size_t i = 0; n > 0; ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr || nb == RTE_MBUF_MAX_NB_SEGS) {
      rte_pktmbuf_free(m);
      rte_pktmbuf_free(first);
      return nullptr;
    }
    rte_pktmbuf_attach(m, segs_[i % kSegments]);
    const auto len = static_cast<uint16_t>(std::min<uint64_t>(n, seg_bytes_));
    m->data_len = len;
    m->pkt_len = len;
    if (first == nullptr) {
      first = m;
    } else {
      tail->next = m;
      first->pkt_len += len;
    }
    tail = m;
    ++nb;
    n -= len;
  }
  if (first != nullptr) first->nb_segs = static_cast<uint16_t>(nb);
  return first;
}

bool Payload::append(rte_mbuf* head, uint64_t n, rte_mempool* pool) const {
  if (n == 0) return true;
  rte_mbuf* last = rte_pktmbuf_lastseg(head);
  if (n <= kCopyBelow && n <= rte_pktmbuf_tailroom(last)) {
    // The same bytes an attached body would carry.
    std::memcpy(rte_pktmbuf_mtod_offset(last, char*, last->data_len), rte_pktmbuf_mtod(segs_[0], const char*), n);
    last->data_len = static_cast<uint16_t>(last->data_len + n);
    head->pkt_len += static_cast<uint32_t>(n);
    return true;
  }
  rte_mbuf* body = make(n, pool);
  if (body == nullptr) return false;
  if (rte_pktmbuf_chain(head, body) != 0) {
    rte_pktmbuf_free(body);
    return false;
  }
  return true;
}

bool pump_body(tcp::TcpStack& s, tcp::Conn* c, const Payload& body, uint64_t* left) {
  // Pieces of at most 64 KiB: the send queue takes whole chains only, and a
  // smaller piece fits sooner.
  constexpr uint64_t kPiece = 64 * 1024;
  while (*left > 0) {
    const uint64_t n = std::min<uint64_t>({*left, kPiece, s.write_space(c)});
    if (n == 0) {
      s.want_writable(c);
      return true;
    }
    rte_mbuf* m = body.make(n, s.pool());
    if (m == nullptr) {
      s.want_writable(c);  // mbufs come back as ACKs arrive
      return true;
    }
    const tcp::IoStatus st = s.write(c, m);
    if (st != tcp::IoStatus::ok) {
      rte_pktmbuf_free(m);
      return st != tcp::IoStatus::closed;
    }
    *left -= n;
  }
  return true;
}

}  // namespace lg::bench
