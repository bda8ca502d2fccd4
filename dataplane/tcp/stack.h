// The TCP stack of one worker: connection table and pool, listeners, SYN
// cookies, timers, and the socket-like API the proxies use. Everything is
// owned by one lcore. Segment input is in input.cc, output in output.cc,
// timers in timers.cc, the API in api.cc.
#pragma once

#include <rte_hash.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/counters/counters.h"
#include "dataplane/net/iface.h"
#include "dataplane/tcp/conn.h"
#include "dataplane/tcp/segment.h"
#include "dataplane/tcp/tcp_hdr.h"
#include "dataplane/tcp/ulp.h"

namespace lg::net {
class NetWorker;
}

namespace lg::tcp {

// Application callbacks, one static table per kind of application (static
// dispatch, no std::function). Any may be null.
struct AppOps {
  // A passive connection is established; set conn->app. Return false to refuse (RST).
  bool (*on_accept)(void* listener_ctx, Conn* c);
  void (*on_connected)(void* app, Conn* c);
  void (*on_readable)(void* app, Conn* c);  // data or end of stream (tcp_eof)
  void (*on_writable)(void* app, Conn* c);  // send space freed after tcp_write was refused
  // The connection is gone (reset, timeout, refused) or finished; c is
  // invalid after the call returns.
  void (*on_closed)(void* app, Conn* c, CloseReason why);
};

struct Listener {
  uint16_t port = 0;
  const AppOps* ops = nullptr;
  void* ctx = nullptr;
  uint32_t half_open = 0;  // SYN_RECEIVED connections
  bool active = false;
};
inline constexpr unsigned kMaxListeners = 64;

struct TcpConfig {
  uint32_t max_connections = 16384;
  uint32_t max_time_wait = 8192;
  uint32_t time_wait_ms = 60000;
  uint32_t delayed_ack_ms = 40;
  uint32_t syn_backlog = 1024;
  uint32_t connect_timeout_ms = 10000;
  uint32_t user_timeout_ms = 0;
  uint32_t keepalive_ms = 0;
  uint32_t rcv_buffer = 1 << 20;
  uint32_t snd_buffer = 1 << 20;
  CcAlgo cc = CcAlgo::cubic;
  uint32_t rto_min_ms = 200;
  uint64_t syncookie_secret[2] = {0, 0};  // worker-independent so any worker validates
};

// Result of tcp_write and friends.
enum class IoStatus : int8_t { ok = 0, would_block = -1, closed = -2 };

class TcpStack {
 public:
  TcpStack(const TcpConfig& cfg, unsigned worker, std::span<const net::Iface> ifaces, net::NetWorker& net,
           TimerWheel& timers, LcoreCounters& counters, rte_mempool* pool, int socket_id, uint64_t tsc_hz);
  ~TcpStack();
  TcpStack(const TcpStack&) = delete;
  TcpStack& operator=(const TcpStack&) = delete;
  bool ok() const { return hash_ != nullptr; }

  // Called by the worker once per loop pass, before input.
  void set_clock(uint64_t tsc) { now_us_ = tsc / tsc_per_us_; }
  uint64_t now_us() const { return now_us_; }

  // From the network layer: m starts at the IP header, m->l3_len covers it.
  void input(const net::Iface& f, rte_mbuf* m, uint8_t family);

  // Socket-like API (api.cc).
  Listener* listen(uint16_t port, const AppOps* ops, void* ctx);
  // Stops accepting on port (SYNs are answered with RST). Connections still
  // in the handshake complete through the listener's ops, which may refuse.
  void unlisten(uint16_t port);
  bool listening(uint16_t port) { return find_listener(port) != nullptr; }
  // The port to reach addr through: on-link first, then one with a gateway
  // of that family; -1 if none.
  int route(uint8_t family, const uint8_t* addr) const;
  Conn* connect(unsigned iface, uint8_t family, const uint8_t* remote, uint16_t rport, const AppOps* ops, void* app);
  // connect() through the port route() picks; null when no port reaches remote.
  Conn* connect_routed(uint8_t family, const uint8_t* remote, uint16_t rport, const AppOps* ops, void* app);
  // The byte stream the application sees: the connection's own, or its
  // ULP's (TLS plaintext) when one is installed.
  // Zero-copy read: up to max bytes as an mbuf chain (caller owns it); nullptr when nothing is buffered.
  rte_mbuf* read(Conn* c, uint32_t max) { return c->ulp ? c->ulp->ops->read(c, max) : raw_read(c, max); }
  uint32_t readable(const Conn* c) const { return c->ulp ? c->ulp->ops->readable(c) : c->rcvq.bytes; }
  // Copies up to len buffered bytes from offset `from` without consuming them
  // (protocol sniffing: the TLS ClientHello); returns how many were copied.
  uint32_t peek(const Conn* c, uint32_t from, void* buf, uint32_t len) const {
    return c->ulp ? c->ulp->ops->peek(c, from, buf, len) : raw_peek(c, from, buf, len);
  }
  bool eof(const Conn* c) const { return c->ulp ? c->ulp->ops->eof(c) : raw_eof(c); }
  // Takes the whole chain or none of it (would_block: no room; the stack
  // calls on_writable when there is).
  IoStatus write(Conn* c, rte_mbuf* chain) { return c->ulp ? c->ulp->ops->write(c, chain) : raw_write(c, chain); }
  uint32_t write_space(const Conn* c) const { return c->ulp ? c->ulp->ops->write_space(c) : raw_write_space(c); }
  void shutdown(Conn* c) { c->ulp ? c->ulp->ops->shutdown(c) : raw_shutdown(c); }  // FIN after what is queued
  void close(Conn* c) { c->ulp ? c->ulp->ops->close(c) : raw_close(c); }  // shutdown + the application lets go
  void abort(Conn* c) { c->ulp ? c->ulp->ops->abort(c) : raw_abort(c); }  // RST now; no more callbacks

  // Overrides for one connection (set right after connect()/accept).
  void set_connect_timeout(Conn* c, uint32_t ms) { c->connect_timeout_ms = ms; }
  // RFC 1122 §4.2.3.6 keepalive: probes after idle_ms without data, every
  // interval_ms, give up after probes unanswered. idle_ms 0 turns it off.
  void set_keepalive(Conn* c, uint32_t idle_ms, uint32_t interval_ms, uint8_t probes);
  // Ask for on_writable once send space frees (for applications that hold back
  // rather than call write and be refused).
  void want_writable(Conn* c) { c->ulp ? c->ulp->ops->want_writable(c) : raw_want_writable(c); }

  // The connection's own byte stream, for ULPs (and the above without one).
  rte_mbuf* raw_read(Conn* c, uint32_t max);
  uint32_t raw_peek(const Conn* c, uint32_t from, void* buf, uint32_t len) const;
  bool raw_eof(const Conn* c) const { return c->fin_rcvd && c->rcvq.empty(); }
  IoStatus raw_write(Conn* c, rte_mbuf* chain);
  uint32_t raw_write_space(const Conn* c) const;
  void raw_want_writable(Conn* c) { c->want_writable = true; }
  void raw_shutdown(Conn* c);
  void raw_close(Conn* c);
  void raw_abort(Conn* c);
  // Installs a ULP (right after accept or connect); it stays until the
  // connection is freed, when its release() runs.
  void install_ulp(Conn* c, Ulp* u) { c->ulp = u; }
  // After a read: a connection held for its reader (linger_for_reader)
  // closes on the next timer pass once nothing is left unread, the ULP's
  // bytes included.
  void reader_drained(Conn* c);
  // Received bytes the application has not read: the stream's and its ULP's.
  uint32_t unread(const Conn* c) const { return c->rcvq.bytes + (c->ulp ? c->ulp->ops->unread(c) : 0); }

  uint32_t connections() const { return used_; }
  // The connection with this 4-tuple, in any state (diagnostics and tests).
  Conn* find(const FlowKey& key) const { return lookup(key); }

  // Internals shared by input.cc / output.cc / timers.cc.
  const TcpConfig& config() const { return cfg_; }
  LcoreCounters& counters() { return counters_; }
  rte_mempool* pool() const { return pool_; }
  const net::Iface& iface(const Conn* c) const { return ifaces_[c->key.iface]; }

  void output(Conn* c);                 // send what window and cwnd allow, and owed ACKs
  void send_ack(Conn* c);
  void send_segment(Conn* c, Seq seq, uint32_t len, uint8_t flags);
  void arm_rto(Conn* c);
  void schedule_ack(Conn* c, bool now);
  void free_conn(Conn* c, CloseReason why);
  void set_state(Conn* c, State s);  // keeps gauges and listener backlogs in step
  void enter_time_wait(Conn* c);
  // Both FINs are done but the application has not read everything yet:
  // hold the connection (as TIME-WAIT) until it has, so no received byte is
  // lost to a close (a proxy reads only what its other side can take). True
  // when held; the application hears on_closed after its last read.
  bool linger_for_reader(Conn* c);
  // Events to the application (through its ULP, if any).
  void notify_connected(Conn* c);
  void notify_readable(Conn* c);
  void notify_writable(Conn* c);
  void notify_closed(Conn* c, CloseReason why);

 private:
  Conn* alloc_conn(const FlowKey& key);
  Conn* lookup(const FlowKey& key) const;
  void init_conn(Conn* c, const FlowKey& key);
  void listen_input(Listener& l, const FlowKey& key, Segment& seg);
  // Each returns false when the connection was freed.
  bool conn_input(Conn* c, Segment& seg);
  bool syn_sent_input(Conn* c, Segment& seg);
  enum class AckResult : uint8_t { proceed, drop, freed };
  AckResult process_ack(Conn* c, const Segment& seg, bool* events_writable);
  void process_data(Conn* c, Segment& seg, bool* readable);
  void process_fin(Conn* c);
  void ooo_insert(Conn* c, Seq seq, rte_mbuf* m, uint32_t len);
  void ooo_pull(Conn* c);
  void negotiate(Conn* c, const TcpOptions& opt);
  void enter_established(Conn* c);
  bool deliver_accept(Conn* c, void* listener_ctx);
  Conn* syncookie_accept(Listener& l, const FlowKey& key, const Segment& seg);
  void syncookie_reply(const FlowKey& key, const Segment& seg);
  void reset_reply(const FlowKey& key, const Segment& seg);
  void challenge_ack(Conn* c);
  bool seq_acceptable(const Conn* c, const Segment& seg) const;
  Listener* find_listener(uint16_t port);
  uint16_t pick_local_port(unsigned iface, uint8_t family, const uint8_t* remote, uint16_t rport);
  // The key of a connection we open from iface's address.
  FlowKey active_key(unsigned iface, uint8_t family, const uint8_t* remote, uint16_t lport, uint16_t rport) const;
  uint32_t ts_now() const { return static_cast<uint32_t>(now_us_ / 1000); }  // RFC 7323 §5.4: 1 ms clock
  uint32_t initial_seq(const FlowKey& key);
  uint32_t rcv_window(const Conn* c) const;
  void timer_rtx(Conn* c);
  void timer_delack(Conn* c);
  void timer_keepalive(Conn* c);
  static void hook_input(void* ctx, const net::Iface& f, rte_mbuf* m, uint8_t family);
  static void on_rtx(Timer* t, void* arg);
  static void on_delack(Timer* t, void* arg);
  static void on_keepalive(Timer* t, void* arg);
  // A segment from a bare flow key (resets, SYN-cookie SYN-ACKs): no connection state.
  void send_raw(const FlowKey& key, Seq seq, Seq ack, uint8_t flags, uint16_t wnd, const OptionsOut& o);
  // IP + TCP headers in a fresh mbuf, data chained behind, checksum, out.
  void emit(const FlowKey& key, Seq seq, Seq ack, uint8_t flags, uint16_t wnd, const OptionsOut& o, rte_mbuf* data,
            uint32_t data_len);
  rte_mbuf* clone_range(Conn* c, Seq seq, uint32_t len);

  TcpConfig cfg_;
  unsigned worker_;
  std::span<const net::Iface> ifaces_;
  net::NetWorker& net_;
  TimerWheel& timers_;
  LcoreCounters& counters_;
  rte_mempool* pool_;
  uint64_t tsc_hz_;
  uint64_t tsc_per_us_;
  uint64_t now_us_ = 0;
  rte_hash* hash_ = nullptr;
  std::unique_ptr<Conn[]> conns_;
  uint32_t* free_ = nullptr;  // free list of pool indices
  std::unique_ptr<uint32_t[]> free_store_;
  uint32_t nfree_ = 0;
  uint32_t used_ = 0;
  uint32_t time_wait_ = 0;
  uint16_t next_port_ = 0;
  Listener listeners_[kMaxListeners];
};

}  // namespace lg::tcp
