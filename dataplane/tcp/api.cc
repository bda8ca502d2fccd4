// The socket-like interface the proxies and test applications use.
#include "dataplane/tcp/stack.h"

namespace lg::tcp {

Listener* TcpStack::listen(uint16_t port, const AppOps* ops, void* ctx) {
  if (find_listener(port) != nullptr) return nullptr;
  for (Listener& l : listeners_) {
    // A slot whose old port still has handshakes in flight stays out of use:
    // those connections point at it.
    if (l.active || l.half_open != 0) continue;
    l = Listener{port, ops, ctx, 0, true};
    return &l;
  }
  return nullptr;
}

void TcpStack::unlisten(uint16_t port) {
  if (Listener* l = find_listener(port)) l->active = false;
}

uint32_t TcpStack::raw_peek(const Conn* c, uint32_t from, void* buf, uint32_t len) const {
  return c->rcvq.peek(from, buf, len);
}

void TcpStack::set_keepalive(Conn* c, uint32_t idle_ms, uint32_t interval_ms, uint8_t probes) {
  c->ka_idle_ms = idle_ms;
  c->ka_interval_ms = std::max<uint32_t>(interval_ms, 1);
  c->ka_max_probes = probes ? probes : kMaxKeepaliveProbes;
  if (idle_ms == 0) {
    timers_.cancel(c->ka_timer);
  } else if (synchronized(c->state)) {
    timers_.arm_after(c->ka_timer, uint64_t{idle_ms} * (tsc_hz_ / 1000));
  }
}

int TcpStack::route(uint8_t family, const uint8_t* addr) const {
  int gateway = -1;
  for (const net::Iface& f : ifaces_) {
    if (family == 4 && f.has_v4) {
      rte_be32_t a;
      std::memcpy(&a, addr, 4);
      if (f.on_link4(a)) return static_cast<int>(f.index);
      if (f.has_gw4 && gateway < 0) gateway = static_cast<int>(f.index);
    } else if (family == 6 && f.has_v6) {
      net::Ip6 a;
      std::memcpy(a.b, addr, 16);
      if (f.on_link6(a)) return static_cast<int>(f.index);
      if (f.has_gw6 && gateway < 0) gateway = static_cast<int>(f.index);
    }
  }
  return gateway;
}

Conn* TcpStack::connect_routed(uint8_t family, const uint8_t* remote, uint16_t rport, const AppOps* ops, void* app) {
  const int iface = route(family, remote);
  return iface < 0 ? nullptr : connect(static_cast<unsigned>(iface), family, remote, rport, ops, app);
}

Conn* TcpStack::connect(unsigned iface, uint8_t family, const uint8_t* remote, uint16_t rport, const AppOps* ops,
                        void* app) {
  if (iface >= ifaces_.size()) return nullptr;
  const net::Iface& f = ifaces_[iface];
  if ((family == 4 && !f.has_v4) || (family == 6 && !f.has_v6)) return nullptr;
  const uint16_t lport = pick_local_port(iface, family, remote, rport);
  if (lport == 0) {
    counters_.drop(iface, Drop::tcp_table_full);
    return nullptr;
  }
  const FlowKey key = active_key(iface, family, remote, lport, rport);
  Conn* c = alloc_conn(key);
  if (c == nullptr) return nullptr;
  c->ops = ops;
  c->app = app;
  c->iss = initial_seq(key);
  c->snd_una = c->iss;
  c->snd_nxt = c->iss + 1;
  c->snd_max = c->iss;
  c->mss = static_cast<uint16_t>(family == 4 ? 536 : 1220);
  set_state(c, State::syn_sent);
  counters_.event(iface, Event::tcp_connect_attempts);
  send_segment(c, c->iss, 0, kSyn);
  c->rtt_timing = true;  // the SYN times the first RTT (no retransmission yet)
  c->rtt_seq = c->iss;
  c->rtt_start_us = now_us_;
  arm_rto(c);
  return c;
}

rte_mbuf* TcpStack::raw_read(Conn* c, uint32_t max) {
  rte_mbuf* m = c->rcvq.take(max, pool_);
  if (m == nullptr) return nullptr;
  // The last byte of a connection held for its reader: close it on the next
  // timer pass (not here: the caller still holds c).
  if (c->linger) {
    reader_drained(c);
    return m;
  }
  // Tell the peer about the room we made once it is worth a segment.
  const uint32_t free_space = rcv_window(c);
  const Seq edge = c->rcv_nxt + free_space;
  if (synchronized(c->state) && seq_gt(edge, c->rcv_adv) &&
      edge - c->rcv_adv >= std::min<uint32_t>(c->rcv_buf / 2, 2u * c->mss))
    send_ack(c);
  return m;
}

uint32_t TcpStack::raw_write_space(const Conn* c) const {
  return c->sndq.bytes >= c->snd_buf ? 0 : c->snd_buf - c->sndq.bytes;
}

IoStatus TcpStack::raw_write(Conn* c, rte_mbuf* chain) {
  const State st = c->state;
  if (c->fin_queued || !(st == State::established || st == State::close_wait || st == State::syn_sent ||
                         st == State::syn_received))
    return IoStatus::closed;
  if (rte_pktmbuf_pkt_len(chain) > raw_write_space(c)) {
    c->want_writable = true;
    return IoStatus::would_block;
  }
  c->sndq.append(chain);
  output(c);
  return IoStatus::ok;
}

void TcpStack::raw_shutdown(Conn* c) {
  if (c->fin_queued) return;
  c->fin_queued = true;
  output(c);
}

void TcpStack::raw_close(Conn* c) {
  c->app_closed = true;
  c->ops = nullptr;
  // RFC 9293 §3.10.4 / RFC 2525 §2.17: closing with unread data, or before
  // the handshake finished, resets instead of losing data silently.
  if (unread(c) != 0 || c->state == State::syn_sent || c->state == State::syn_received) {
    raw_abort(c);
    return;
  }
  raw_shutdown(c);
  if (c->state == State::fin_wait_2)
    timers_.arm_after(c->rtx_timer, uint64_t{std::max(cfg_.time_wait_ms, 1000u)} * (tsc_hz_ / 1000));
}

void TcpStack::raw_abort(Conn* c) {
  if (!c->in_table) return;
  c->ops = nullptr;
  if (c->state != State::syn_sent && c->state != State::time_wait) {
    counters_.event(c->key.iface, Event::tcp_resets_sent);
    send_raw(c->key, c->snd_nxt, 0, kRst, 0, OptionsOut{});
  }
  free_conn(c, CloseReason::aborted);
}

void TcpStack::reader_drained(Conn* c) {
  if (c->linger && unread(c) == 0) timers_.arm_after(c->rtx_timer, 0);
}

}  // namespace lg::tcp
