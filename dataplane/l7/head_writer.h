// Serializes HTTP/1.1 heads (and small local bodies) into mbuf chains for
// the TCP stack: bytes are appended to the last segment, new segments
// chained from the worker's pool when it fills. Heads are rewritten on the
// way through a proxy anyway (hop-by-hop headers, x-forwarded-*), so one
// copy of the head is the cost; bodies are never copied.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <string_view>

namespace lg::l7 {

class MbufWriter {
 public:
  explicit MbufWriter(rte_mempool* pool) : pool_(pool) {}
  ~MbufWriter() { rte_pktmbuf_free(head_); }
  MbufWriter(const MbufWriter&) = delete;
  MbufWriter& operator=(const MbufWriter&) = delete;

  MbufWriter& put(std::string_view s);
  MbufWriter& put(char c) { return put(std::string_view(&c, 1)); }
  MbufWriter& put_uint(uint64_t v);
  MbufWriter& header(std::string_view name, std::string_view value) {
    return put(name).put(": ").put(value).put("\r\n");
  }
  // The chain (the caller owns it), or null when the pool ran dry.
  rte_mbuf* finish();
  bool failed() const { return failed_; }

 private:
  rte_mempool* pool_;
  rte_mbuf* head_ = nullptr;
  rte_mbuf* tail_ = nullptr;
  bool failed_ = false;
};

}  // namespace lg::l7
