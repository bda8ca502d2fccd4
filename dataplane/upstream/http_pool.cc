#include "dataplane/upstream/http_pool.h"

#include "dataplane/upstream/hash.h"

namespace lg::upstream {

namespace {

// The pool key of an endpoint: its cluster (stable id) and address:port, so
// a config push that keeps the endpoint keeps its idle connections.
uint64_t host_key(const HostRef& h) {
  uint8_t k[22];
  __builtin_memcpy(k, h.addr.data(), 16);
  __builtin_memcpy(k + 16, &h.port, 2);
  __builtin_memcpy(k + 18, &h.stats_id, 4);
  const uint64_t x = xxh64_bytes(k, sizeof k, 0);
  return x == 0 ? 1 : x;
}

void on_idle_timer(Timer*, void* arg);

}  // namespace

HttpPool::HttpPool(uint32_t max_conns, uint32_t hosts, TimerWheel& timers, uint64_t tsc_hz, IdleCallback cb,
                   void* ctx)
    : timers_(timers),
      cycles_per_ms_(tsc_hz / 1000),
      conns_(new PooledConn[max_conns]()),
      max_conns_(max_conns),
      hosts_(new HostSlot[hosts]()),
      host_mask_(hosts - 1),
      idle_cb_(cb),
      idle_ctx_(ctx) {
  for (uint32_t i = max_conns; i-- > 0;) {
    conns_[i].next = free_;
    free_ = &conns_[i];
    conns_[i].pool = this;
    conns_[i].idle_timer.cb = on_idle_timer;
    conns_[i].idle_timer.arg = &conns_[i];
  }
}

HttpPool::~HttpPool() {
  for (uint32_t i = 0; i < max_conns_; ++i) timers_.cancel(conns_[i].idle_timer);
}

uint32_t HttpPool::host_slot(const HostRef& h, bool insert) {
  // Open addressing, never deleted: endpoints seen by a worker are few and
  // stable; a full table only means new endpoints are not pooled.
  const uint64_t key = host_key(h);
  for (uint32_t i = 0, at = static_cast<uint32_t>(key) & host_mask_; i <= host_mask_; ++i, at = (at + 1) & host_mask_) {
    if (hosts_[at].key == key) return at;
    if (hosts_[at].key == 0) {
      if (!insert) return UINT32_MAX;
      hosts_[at].key = key;
      return at;
    }
  }
  return UINT32_MAX;
}

PooledConn* HttpPool::take_idle(const HostRef& h) {
  const uint32_t slot = host_slot(h, false);
  if (slot == UINT32_MAX) return nullptr;
  PooledConn* p = hosts_[slot].idle;
  if (p == nullptr) return nullptr;
  unlink(p);
  p->host = h;  // the current tables' indices for the same endpoint
  return p;
}

PooledConn* HttpPool::alloc(const HostRef& h) {
  PooledConn* p = free_;
  if (p == nullptr) return nullptr;
  free_ = p->next;
  p->conn = nullptr;
  p->host = h;
  p->next = p->prev = nullptr;
  p->host_slot = host_slot(h, true);
  p->requests = 0;
  p->connected = p->idle = false;
  return p;
}

bool HttpPool::park(PooledConn* p, uint32_t idle_timeout_ms) {
  if (p->host_slot == UINT32_MAX) return false;
  HostSlot& hs = hosts_[p->host_slot];
  p->idle = true;
  p->prev = nullptr;
  p->next = hs.idle;
  if (hs.idle) hs.idle->prev = p;
  hs.idle = p;
  ++idle_;
  timers_.arm_after(p->idle_timer, uint64_t{idle_timeout_ms} * cycles_per_ms_);
  return true;
}

void HttpPool::unlink(PooledConn* p) {
  if (!p->idle) return;
  timers_.cancel(p->idle_timer);
  HostSlot& hs = hosts_[p->host_slot];
  if (p->prev) {
    p->prev->next = p->next;
  } else {
    hs.idle = p->next;
  }
  if (p->next) p->next->prev = p->prev;
  p->next = p->prev = nullptr;
  p->idle = false;
  --idle_;
}

void HttpPool::release(PooledConn* p) {
  unlink(p);
  p->conn = nullptr;
  p->next = free_;
  free_ = p;
}

void HttpPool::expire(PooledConn* p, bool timed_out) {
  unlink(p);
  idle_cb_(idle_ctx_, p, timed_out);
}

namespace {

void on_idle_timer(Timer*, void* arg) {
  PooledConn* p = static_cast<PooledConn*>(arg);
  p->pool->expire(p, true);
}

}  // namespace

}  // namespace lg::upstream
