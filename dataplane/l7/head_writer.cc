#include "dataplane/l7/head_writer.h"

#include <algorithm>
#include <cstring>

namespace lg::l7 {

MbufWriter& MbufWriter::put(std::string_view s) {
  while (!s.empty() && !failed_) {
    if (tail_ == nullptr || rte_pktmbuf_tailroom(tail_) == 0) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (m == nullptr) {
        failed_ = true;
        break;
      }
      if (head_ == nullptr) {
        head_ = m;
      } else {
        tail_->next = m;
        ++head_->nb_segs;
      }
      tail_ = m;
    }
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(s.size(), rte_pktmbuf_tailroom(tail_)));
    std::memcpy(rte_pktmbuf_mtod_offset(tail_, char*, tail_->data_len), s.data(), n);
    tail_->data_len = static_cast<uint16_t>(tail_->data_len + n);
    head_->pkt_len += n;
    s.remove_prefix(n);
  }
  return *this;
}

MbufWriter& MbufWriter::put_uint(uint64_t v) {
  char b[24];
  char* p = b + sizeof b;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return put(std::string_view(p, static_cast<size_t>(b + sizeof b - p)));
}

rte_mbuf* MbufWriter::finish() {
  if (failed_) return nullptr;
  rte_mbuf* m = head_;
  head_ = tail_ = nullptr;
  return m;
}

}  // namespace lg::l7
