// Keep-alive HTTP/1.1 connections to upstream endpoints, per (endpoint,
// lcore) as Envoy keeps one connection pool per host per worker: a request
// takes an idle connection to the endpoint its balancer picked, or opens a
// new one; when the exchange ends cleanly the connection goes back to that
// endpoint's idle list (most recently used first, so idle timeouts close
// the surplus). Owned by one worker; fixed-size tables, no allocation after
// construction.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/tcp/conn.h"
#include "dataplane/timer/timer_wheel.h"
#include "dataplane/upstream/cluster_manager.h"

namespace lg::upstream {

class HttpPool;

struct PooledConn {
  HttpPool* pool = nullptr;
  tcp::Conn* conn = nullptr;
  HostRef host;
  PooledConn* next = nullptr;    // idle list of its host, or the free list
  PooledConn* prev = nullptr;
  uint32_t host_slot = UINT32_MAX;  // UINT32_MAX: not poolable (host table full)
  uint32_t requests = 0;         // exchanges started on this connection
  bool connected = false;
  bool idle = false;
  bool tls = false;  // TLS originated on it (DestinationRule tls)
  Timer idle_timer;
};

class HttpPool {
 public:
  // An idle connection ends: its idle timeout expired (timed_out), or the
  // upstream closed it or spoke out of turn. It is out of the idle list;
  // the callback closes it and calls release().
  using IdleCallback = void (*)(void* ctx, PooledConn* p, bool timed_out);
  // max_conns bounds open upstream connections of this worker; hosts bounds
  // distinct endpoints with idle lists (a power of two).
  HttpPool(uint32_t max_conns, uint32_t hosts, TimerWheel& timers, uint64_t tsc_hz, IdleCallback cb, void* ctx);
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  // The most recently used idle connection to h's endpoint, taken out of
  // the idle list, or null.
  PooledConn* take_idle(const HostRef& h);
  // A slot for a new connection to h (the caller connects and sets conn),
  // or null when the worker has no slot left.
  PooledConn* alloc(const HostRef& h);
  // Back to its endpoint's idle list for at most idle_timeout_ms. Returns
  // false when it cannot be pooled (the caller closes it).
  bool park(PooledConn* p, uint32_t idle_timeout_ms);
  // Out of the idle list (if there) and back to the free slots.
  void release(PooledConn* p);
  void expire(PooledConn* p, bool timed_out);
  uint32_t idle_count() const { return idle_; }

 private:
  struct HostSlot {
    uint64_t key = 0;  // 0: empty
    PooledConn* idle = nullptr;
  };
  uint32_t host_slot(const HostRef& h, bool insert);
  void unlink(PooledConn* p);

  TimerWheel& timers_;
  uint64_t cycles_per_ms_;
  std::unique_ptr<PooledConn[]> conns_;
  uint32_t max_conns_;
  PooledConn* free_ = nullptr;
  std::unique_ptr<HostSlot[]> hosts_;
  uint32_t host_mask_;
  uint32_t idle_ = 0;
  IdleCallback idle_cb_;
  void* idle_ctx_;
};

}  // namespace lg::upstream
