// Bodies without copying: one set of pattern-filled segments made at start-up;
// each message's body is a chain of indirect mbufs attached to them (the TCP
// send queue holds references until ACKed, so the template is never written
// again). Small bodies are copied into the head's mbuf instead: below a
// segment, a memcpy is cheaper than an attach.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

#include "dataplane/tcp/stack.h"

namespace lg::bench {

class Payload {
 public:
  Payload() = default;
  ~Payload();
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;

  // The template segments; false when the pool runs dry.
  bool build(rte_mempool* pool);

  // Appends n body bytes to the message starting at head (copied into head's
  // last segment when small, attached otherwise). false: no mbufs (the
  // message is left as it was, no leak).
  bool append(rte_mbuf* head, uint64_t n, rte_mempool* pool) const;

  // A body part on its own (head == nullptr case of append); nullptr when
  // the pool is dry.
  rte_mbuf* make(uint64_t n, rte_mempool* pool) const;

 private:
  static constexpr size_t kSegments = 32;  // filler repeats every 32 segments: bodies of any size
  std::vector<rte_mbuf*> segs_;
  uint16_t seg_bytes_ = 0;
};

// Writes up to *left more body bytes to c, as many as its send space takes
// now (asking for on_writable when it cannot take the rest). Returns false
// when the connection refuses data (closed); *left says what is still owed.
bool pump_body(tcp::TcpStack& s, tcp::Conn* c, const Payload& body, uint64_t* left);

}  // namespace lg::bench
