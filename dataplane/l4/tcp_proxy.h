// The L4 gateway of one worker (Envoy's tcp_proxy with the tls_inspector in
// front): accepts on the TCP and TLS-passthrough listeners of the current
// tables, routes each connection (for TLS by the ClientHello's SNI, read
// without terminating TLS), connects to an endpoint the cluster's balancer
// picks, and joins the two userspace TCP connections without copying: mbuf
// chains read from one connection's receive queue go onto the other's send
// queue. Each side reads only as much as the other can take, so a slow
// reader closes the sender's window (back-pressure both ways). Half-closes
// are forwarded; a reset on one side resets the other.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/config/upstream_tls.h"
#include "dataplane/tcp/port_set.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "dataplane/tls/tls_worker.h"
#include "dataplane/upstream/cluster_manager.h"
#include "tls/client_hello.h"

namespace lg::l4 {

struct ProxyConfig {
  uint32_t max_sessions = 8192;          // per worker
  uint32_t hello_timeout_ms = 15000;     // Envoy's listener_filters_timeout
  uint32_t hello_max_bytes = tls::kMaxClientHello;
  uint8_t max_connect_attempts = 3;      // connect failure → next endpoint, this many in all
};

struct Session;

class TcpProxy {
 public:
  TcpProxy(const ProxyConfig& cfg, unsigned worker, tcp::TcpStack& stack, TimerWheel& timers,
           upstream::ClusterManager& clusters, upstream::UpstreamRegistry& registry, uint64_t tsc_hz,
           tlsterm::TlsWorker* tls = nullptr);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Once per pass with the tables the worker read: at a new generation the
  // TCP listeners follow the tables' TCP/TLS listeners.
  void set_tables(const config::RuntimeTables* t);
  // Stop accepting (draining); sessions carry on until they end.
  void drain();
  uint32_t active_sessions() const { return active_; }

  // AppOps entry points (tcp_proxy.cc).
  bool accept(tcp::Conn* c);
  void downstream_readable(Session* s);
  void downstream_writable(Session* s);
  void downstream_closed(Session* s, tcp::CloseReason why);
  void upstream_connected(Session* s);
  void upstream_readable(Session* s);
  void upstream_writable(Session* s);
  void upstream_closed(Session* s, tcp::CloseReason why);
  void timer_fired(Session* s);

 private:
  Session* alloc();
  void release(Session* s);
  // After the route is known (at accept for TCP, after the ClientHello for TLS).
  void route(Session* s, std::string_view sni);
  void connect_upstream(Session* s);
  void peek_hello(Session* s);
  // Moves what dst can take from src; forwards src's FIN when drained.
  // Returns false when the session ended.
  bool pump(Session* s, bool downstream_to_upstream);
  void end(Session* s, bool reset_downstream, bool reset_upstream);
  void let_go(tcp::Conn* c, bool reset);  // close (FIN after what is queued) or reset
  void drop_upstream(Session* s);
  void arm_timer(Session* s, uint32_t ms);
  void touch(Session* s);
  upstream::ListenerStats& lstats(const Session* s);
  void lcount(const Session* s, upstream::ListenerStat st, uint64_t n = 1);
  void ccount(const Session* s, upstream::ClusterStat st, uint64_t n = 1);

  ProxyConfig cfg_;
  unsigned worker_;
  tcp::TcpStack& stack_;
  TimerWheel& timers_;
  upstream::ClusterManager& clusters_;
  upstream::UpstreamRegistry& registry_;
  tlsterm::TlsWorker* tls_;  // TLS toward upstreams whose DestinationRule asks (null: none)
  uint64_t cycles_per_ms_;
  const config::RuntimeTables* t_ = nullptr;
  uint64_t generation_ = 0;
  std::unique_ptr<Session[]> pool_;
  Session* free_ = nullptr;
  uint64_t weyl_ = 0;  // low-discrepancy draws for weighted routes
  std::unique_ptr<uint8_t[]> hello_buf_;
  tcp::PortSet ports_;  // the listeners this proxy opened
  uint32_t active_ = 0;
  bool draining_ = false;
};

}  // namespace lg::l4
