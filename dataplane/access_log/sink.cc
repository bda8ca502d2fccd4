#include "dataplane/access_log/sink.h"

#include <rte_errno.h>

#include <cstdio>

namespace lg::access_log {

std::unique_ptr<Sink> Sink::create(unsigned workers, uint32_t records_per_worker, std::string* error) {
  std::unique_ptr<Sink> s(new Sink());
  // Ring sizes are powers of two; every record fits in either ring.
  const uint32_t ring_size = rte_align32pow2(records_per_worker + 1);
  for (unsigned w = 0; w < workers; ++w) {
    auto lane = std::make_unique<Lane>();
    char name[RTE_RING_NAMESIZE];
    std::snprintf(name, sizeof name, "lg_alog_free_%u", w);
    lane->free = rte_ring_create(name, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    std::snprintf(name, sizeof name, "lg_alog_full_%u", w);
    lane->full = rte_ring_create(name, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (lane->free == nullptr || lane->full == nullptr) {
      *error = std::string("access log rings: ") + rte_strerror(rte_errno);
      rte_ring_free(lane->free);
      rte_ring_free(lane->full);
      return nullptr;
    }
    lane->records.reset(new Record[records_per_worker]);
    for (uint32_t i = 0; i < records_per_worker; ++i) rte_ring_sp_enqueue(lane->free, &lane->records[i]);
    s->lanes_.push_back(std::move(lane));
  }
  return s;
}

Sink::~Sink() {
  for (auto& l : lanes_) {
    rte_ring_free(l->free);
    rte_ring_free(l->full);
  }
}

Record* Sink::take(unsigned w) {
  Lane& l = *lanes_[w];
  void* p = nullptr;
  if (rte_ring_sc_dequeue(l.free, &p) != 0) {
    l.dropped.store(l.dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return nullptr;
  }
  Record* r = static_cast<Record*>(p);
  r->reset();
  return r;
}

void Sink::submit(unsigned w, Record* r) {
  // Both rings hold every record: the enqueue cannot fail.
  rte_ring_sp_enqueue(lanes_[w]->full, r);
}

unsigned Sink::collect(unsigned w, Record** out, unsigned n) {
  return rte_ring_sc_dequeue_burst(lanes_[w]->full, reinterpret_cast<void**>(out), n, nullptr);
}

void Sink::recycle(unsigned w, Record* const* rs, unsigned n) {
  rte_ring_sp_enqueue_bulk(lanes_[w]->free, reinterpret_cast<void* const*>(rs), n, nullptr);
}

uint64_t Sink::dropped() const {
  uint64_t n = 0;
  for (const auto& l : lanes_) n += l->dropped.load(std::memory_order_relaxed);
  return n;
}

}  // namespace lg::access_log
