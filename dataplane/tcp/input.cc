// Segment arrival (RFC 9293 §3.10.7) with the RFC 5961 defences against
// blind RST/SYN/ACK injection, RFC 7323 PAWS, and RFC 5681/6582/6675 loss
// detection. The order of checks follows §3.10.7.4.
#include <rte_ip.h>

#include "dataplane/net/checksum.h"
#include "dataplane/net/net_worker.h"
#include "dataplane/tcp/stack.h"

namespace lg::tcp {
namespace {

bool checksum_ok(const rte_mbuf* m, uint8_t family, uint16_t l3, uint32_t tcp_len) {
  const uint64_t flag = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  if (flag == RTE_MBUF_F_RX_L4_CKSUM_GOOD) return true;
  if (flag == RTE_MBUF_F_RX_L4_CKSUM_BAD) return false;
  if (family == 4) {
    const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
    return net::fold(rte_ipv4_phdr_cksum(ip, 0) + net::mbuf_sum(m, l3, tcp_len)) == 0xffff;
  }
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv6_hdr*);
  net::Ip6 src, dst;
  std::memcpy(src.b, ip->src_addr, 16);
  std::memcpy(dst.b, ip->dst_addr, 16);
  return net::fold(net::ipv6_pseudo_sum(src, dst, tcp_len, IPPROTO_TCP) + net::mbuf_sum(m, l3, tcp_len)) == 0xffff;
}

}  // namespace

void TcpStack::input(const net::Iface& f, rte_mbuf* m, uint8_t family) {
  const uint16_t l3 = static_cast<uint16_t>(m->l3_len);
  const uint32_t tcp_len = rte_pktmbuf_pkt_len(m) - l3;
  if (tcp_len < sizeof(rte_tcp_hdr) || rte_pktmbuf_data_len(m) < l3 + sizeof(rte_tcp_hdr)) {
    counters_.drop(f.index, Drop::tcp_bad_header);
    rte_pktmbuf_free(m);
    return;
  }
  const auto* th = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, l3);
  const uint32_t doff = (th->data_off >> 4) * 4u;
  if (doff < sizeof(rte_tcp_hdr) || doff > tcp_len || rte_pktmbuf_data_len(m) < l3 + doff) {
    counters_.drop(f.index, Drop::tcp_bad_header);
    rte_pktmbuf_free(m);
    return;
  }
  if (!checksum_ok(m, family, l3, tcp_len)) {
    counters_.drop(f.index, Drop::tcp_bad_checksum);
    rte_pktmbuf_free(m);
    return;
  }
  Segment seg;
  if (!parse_options(reinterpret_cast<const uint8_t*>(th + 1), doff - sizeof(rte_tcp_hdr), &seg.opt)) {
    counters_.drop(f.index, Drop::tcp_bad_options);
    rte_pktmbuf_free(m);
    return;
  }
  counters_.event(f.index, Event::tcp_segments_received);
  seg.seq = rte_be_to_cpu_32(th->sent_seq);
  seg.ack = rte_be_to_cpu_32(th->recv_ack);
  seg.flags = th->tcp_flags;
  seg.wnd = rte_be_to_cpu_16(th->rx_win);
  seg.len = tcp_len - doff;

  FlowKey key{};
  if (family == 4) {
    const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
    std::memcpy(key.local, &ip->dst_addr, 4);
    std::memcpy(key.remote, &ip->src_addr, 4);
  } else {
    const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv6_hdr*);
    std::memcpy(key.local, ip->dst_addr, 16);
    std::memcpy(key.remote, ip->src_addr, 16);
  }
  key.lport = rte_be_to_cpu_16(th->dst_port);
  key.rport = rte_be_to_cpu_16(th->src_port);
  key.family = family;
  key.iface = static_cast<uint8_t>(f.index);

  // Keep only the payload.
  rte_pktmbuf_adj(m, static_cast<uint16_t>(l3 + doff));
  if (seg.len > 0) {
    seg.payload = m;
  } else {
    rte_pktmbuf_free(m);
  }

  Conn* c = lookup(key);
  if (c != nullptr) {
    // RFC 6191: a new SYN may take over a TIME-WAIT connection when it
    // cannot be confused with the old one.
    if (c->state == State::time_wait && seg.has(kSyn) && !seg.has(kAck) && !seg.has(kRst) &&
        (seq_gt(seg.seq, c->rcv_nxt) ||
         (c->ts_on && seg.opt.has_ts && static_cast<int32_t>(seg.opt.ts_val - c->ts_recent) > 0))) {
      free_conn(c, CloseReason::normal);
      c = nullptr;
    } else {
      conn_input(c, seg);
      if (seg.payload) rte_pktmbuf_free(seg.payload);
      return;
    }
  }
  if (Listener* l = find_listener(key.lport)) {
    listen_input(*l, key, seg);
  } else {
    counters_.drop(key.iface, Drop::tcp_no_listener);
    reset_reply(key, seg);
  }
  if (seg.payload) rte_pktmbuf_free(seg.payload);
}

// RFC 9293 §3.10.7.1: answer a segment that has no connection.
void TcpStack::reset_reply(const FlowKey& key, const Segment& seg) {
  if (seg.has(kRst)) return;
  counters_.event(key.iface, Event::tcp_resets_sent);
  if (seg.has(kAck))
    send_raw(key, seg.ack, 0, kRst, 0, OptionsOut{});
  else
    send_raw(key, 0, seg.seq + seg.seq_len(), kRst | kAck, 0, OptionsOut{});
}

void TcpStack::negotiate(Conn* c, const TcpOptions& opt) {
  const net::Iface& f = iface(c);
  const uint16_t ours = static_cast<uint16_t>(f.mtu - (c->key.family == 4 ? 40 : 60));
  // RFC 9293 §3.7.1: without the option assume 536 (IPv4) or 1220 (IPv6).
  const uint16_t theirs = opt.has_mss ? opt.mss : (c->key.family == 4 ? 536 : 1220);
  c->ws_on = opt.has_wscale;
  c->snd_wscale = opt.has_wscale ? opt.wscale : 0;
  if (!c->ws_on) c->rcv_wscale = 0;
  c->sack_on = opt.sack_permitted;
  c->ts_on = opt.has_ts;
  if (c->ts_on) c->ts_recent = opt.ts_val;
  uint16_t mss = std::min(ours, theirs);
  if (c->ts_on) mss = static_cast<uint16_t>(mss - 12);  // the timestamp option rides in every segment
  c->mss = std::max<uint16_t>(mss, 64);
  cc_init(c->cc_algo, c->cc, c->mss);
}

void TcpStack::listen_input(Listener& l, const FlowKey& key, Segment& seg) {
  if (seg.has(kRst)) return;
  if (seg.has(kAck) && !seg.has(kSyn)) {
    // The third step of a handshake we answered with a cookie.
    if (Conn* c = syncookie_accept(l, key, seg)) {
      bool readable = false;
      if (seg.len > 0 || seg.has(kFin)) process_data(c, seg, &readable);
      output(c);
      const uint32_t gen = c->gen;
      if (!deliver_accept(c, l.ctx)) return;
      if (readable && c->gen == gen) notify_readable(c);
      return;
    }
    counters_.drop(key.iface, Drop::tcp_syncookie_invalid);
    reset_reply(key, seg);
    return;
  }
  if (!seg.has(kSyn)) return;
  if (l.half_open >= cfg_.syn_backlog) {
    // RFC 4987 §3.6: past the backlog, keep no state and let the cookie carry it.
    syncookie_reply(key, seg);
    return;
  }
  Conn* c = alloc_conn(key);
  if (c == nullptr) return;
  c->listener = &l;
  c->ops = l.ops;
  c->passive = true;
  c->irs = seg.seq;
  c->rcv_nxt = seg.seq + 1;
  c->iss = initial_seq(key);
  c->snd_una = c->iss;
  c->snd_nxt = c->iss + 1;
  c->snd_max = c->iss + 1;
  negotiate(c, seg.opt);
  c->snd_wnd = seg.wnd;  // RFC 7323 §2.2: a SYN's window is never scaled
  c->max_snd_wnd = c->snd_wnd;
  c->snd_wl1 = seg.seq;
  c->snd_wl2 = c->iss;
  set_state(c, State::syn_received);
  c->rcv_adv = c->rcv_nxt + std::min<uint32_t>(c->rcv_buf, 0xffff);
  send_segment(c, c->iss, 0, kSyn | kAck);
  arm_rto(c);
}

bool TcpStack::syn_sent_input(Conn* c, Segment& seg) {
  // RFC 9293 §3.10.7.3.
  if (seg.has(kAck) && (seq_leq(seg.ack, c->iss) || seq_gt(seg.ack, c->snd_max))) {
    if (!seg.has(kRst)) reset_reply(c->key, seg);
    return true;
  }
  if (seg.has(kRst)) {
    if (seg.has(kAck)) {
      counters_.event(c->key.iface, Event::tcp_resets_received);
      free_conn(c, CloseReason::refused);
      return false;
    }
    return true;
  }
  if (!seg.has(kSyn)) return true;
  c->irs = seg.seq;
  c->rcv_nxt = seg.seq + 1;
  c->rcv_adv = c->rcv_nxt;
  negotiate(c, seg.opt);
  c->snd_wnd = seg.wnd;
  c->snd_wl1 = seg.seq;
  c->snd_wl2 = seg.ack;
  if (seg.has(kAck)) {
    c->snd_una = seg.ack;
    c->snd_wnd = seg.wnd;  // RFC 7323 §2.2
    c->max_snd_wnd = c->snd_wnd;
    c->rtx_count = 0;
    c->rtt.clear_backoff();
    if (!c->ts_on) {
      if (c->rtt_timing) c->rtt.sample(now_us_ - c->rtt_start_us);
    } else if (seg.opt.ts_ecr != 0) {
      c->rtt.sample(uint64_t{ts_now() - seg.opt.ts_ecr} * 1000);
    }
    c->rtt_timing = false;
    timers_.cancel(c->rtx_timer);
    timers_.cancel(c->ka_timer);
    enter_established(c);
    counters_.event(c->key.iface, Event::tcp_connections_connected);
    c->ack_now = true;
    const uint32_t gen = c->gen;
    if (seg.len > 0 || seg.has(kFin)) {
      bool readable = false;
      Segment data = seg;
      data.seq = seg.seq + 1;
      data.flags = static_cast<uint8_t>(seg.flags & ~kSyn);
      process_data(c, data, &readable);
      seg.payload = data.payload;
    }
    output(c);
    notify_connected(c);
    return c->gen == gen && c->in_table;
  }
  // Simultaneous open (§3.10.7.3 fourth step).
  set_state(c, State::syn_received);
  c->rcv_adv = c->rcv_nxt + std::min<uint32_t>(c->rcv_buf, 0xffff);
  send_segment(c, c->iss, 0, kSyn | kAck);
  arm_rto(c);
  return true;
}

bool TcpStack::seq_acceptable(const Conn* c, const Segment& seg) const {
  // RFC 9293 §3.10.7.4, the four cases.
  const uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
  const uint32_t len = seg.seq_len();
  if (len == 0) {
    if (wnd == 0) return seg.seq == c->rcv_nxt;
    return seq_in(seg.seq, c->rcv_nxt, c->rcv_nxt + wnd);
  }
  if (wnd == 0) return false;
  return seq_in(seg.seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
         seq_in(seg.seq + len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

void TcpStack::challenge_ack(Conn* c) {
  counters_.event(c->key.iface, Event::tcp_challenge_acks);
  send_ack(c);
}

void TcpStack::enter_established(Conn* c) {
  set_state(c, State::established);
  c->listener = nullptr;
  c->rcv_adv = c->rcv_nxt + rcv_window(c);
  if (c->ka_idle_ms) timers_.arm_after(c->ka_timer, uint64_t{c->ka_idle_ms} * (tsc_hz_ / 1000));
}

bool TcpStack::conn_input(Conn* c, Segment& seg) {
  c->last_rcv_us = now_us_;
  c->ka_probes = 0;
  if (c->state == State::syn_sent) return syn_sent_input(c, seg);

  if (c->state == State::syn_received && seg.has(kSyn) && !seg.has(kAck) && seg.seq == c->irs) {
    send_segment(c, c->iss, 0, kSyn | kAck);  // our SYN-ACK was lost
    return true;
  }

  if (c->state == State::time_wait && seg.has(kFin) && !seg.has(kRst) && seg.seq + seg.seq_len() == c->rcv_nxt) {
    send_ack(c);
    timers_.arm_after(c->rtx_timer, uint64_t{cfg_.time_wait_ms} * (tsc_hz_ / 1000));
    return true;
  }
  // RFC 7323 §5.3 R1: PAWS.
  if (c->ts_on && seg.opt.has_ts && !seg.has(kRst) && static_cast<int32_t>(seg.opt.ts_val - c->ts_recent) < 0) {
    counters_.drop(c->key.iface, Drop::tcp_paws);
    send_ack(c);
    return true;
  }

  if (!seq_acceptable(c, seg)) {
    if (seg.has(kRst)) {
      counters_.drop(c->key.iface, Drop::tcp_rst_out_of_window);
    } else {
      counters_.drop(c->key.iface, Drop::tcp_out_of_window);
      send_ack(c);
    }
    return true;
  }

  // RFC 5961 §3.2: only a RST exactly at rcv_nxt resets; others in the
  // window get a challenge ACK that a genuine peer answers with a right RST.
  if (seg.has(kRst)) {
    if (seg.seq != c->rcv_nxt) {
      counters_.drop(c->key.iface, Drop::tcp_rst_in_window);
      challenge_ack(c);
      return true;
    }
    counters_.event(c->key.iface, Event::tcp_resets_received);
    free_conn(c, c->state == State::syn_received ? CloseReason::refused : CloseReason::reset);
    return false;
  }

  // Trim to the window (§3.10.7.4 "segments that are not exactly rcv_nxt").
  if (seq_lt(seg.seq, c->rcv_nxt)) {
    uint32_t skip = c->rcv_nxt - seg.seq;
    if (seg.has(kSyn)) {
      seg.flags = static_cast<uint8_t>(seg.flags & ~kSyn);
      --skip;
      ++seg.seq;
    }
    const uint32_t cut = std::min(skip, seg.len);
    if (cut == seg.len) {
      if (seg.payload) rte_pktmbuf_free(seg.payload);
      seg.payload = nullptr;
      seg.len = 0;
    } else if (cut > 0) {
      seg.payload = chain_trim_front(seg.payload, cut);
      seg.len -= cut;
    }
    seg.seq += cut;
  }
  const uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
  if (seg.len > 0 && seq_gt(seg.seq + seg.len, c->rcv_nxt + wnd)) {
    const uint32_t keep = (c->rcv_nxt + wnd) - seg.seq;
    seg.flags = static_cast<uint8_t>(seg.flags & ~kFin);
    if (keep == 0) {
      rte_pktmbuf_free(seg.payload);
      seg.payload = nullptr;
      seg.len = 0;
    } else {
      chain_trim_back(seg.payload, keep);
      seg.len = keep;
    }
  }

  // RFC 5961 §4.2: a SYN on a synchronized connection gets a challenge ACK.
  if (seg.has(kSyn)) {
    counters_.drop(c->key.iface, Drop::tcp_syn_in_window);
    challenge_ack(c);
    return true;
  }
  if (!seg.has(kAck)) return true;

  // RFC 7323 §4.3: remember the timestamp of the segment that covers last_ack_sent.
  if (c->ts_on && seg.opt.has_ts && seq_leq(seg.seq, c->last_ack_sent) &&
      seq_lt(c->last_ack_sent, seg.seq + std::max<uint32_t>(seg.seq_len(), 1)))
    c->ts_recent = seg.opt.ts_val;

  const uint32_t gen = c->gen;
  bool accepted = false, connected = false;
  void* listener_ctx = c->listener ? c->listener->ctx : nullptr;
  if (c->state == State::syn_received) {
    if (!(seq_gt(seg.ack, c->snd_una) && seq_leq(seg.ack, c->snd_max))) {
      reset_reply(c->key, seg);
      return true;
    }
    c->snd_wnd = static_cast<uint32_t>(seg.wnd) << c->snd_wscale;
    c->max_snd_wnd = std::max(c->max_snd_wnd, c->snd_wnd);
    c->snd_wl1 = seg.seq;
    c->snd_wl2 = seg.ack;
    enter_established(c);
    if (c->passive) {
      counters_.event(c->key.iface, Event::tcp_connections_accepted);
      accepted = true;
    } else {
      counters_.event(c->key.iface, Event::tcp_connections_connected);
      connected = true;
    }
  }

  bool writable = false;
  switch (process_ack(c, seg, &writable)) {
    case AckResult::proceed:
      break;
    case AckResult::drop:  // RFC 5961 §5.2: the whole segment goes, data included
      return true;
    case AckResult::freed:
      return false;
  }

  bool readable = false;
  if (seg.len > 0 || seg.has(kFin)) process_data(c, seg, &readable);
  if (c->state == State::time_wait) {
    // A connection held for its reader still tells it there is data.
    if (c->linger) notify_readable(c);
    return c->gen == gen && c->in_table;
  }
  output(c);

  // Application callbacks last: they may write, close or abort.
  if (accepted && !deliver_accept(c, listener_ctx)) return false;
  if (connected && c->ops) {
    notify_connected(c);
    if (c->gen != gen || !c->in_table) return false;
  }
  if (readable && c->ops) {
    notify_readable(c);
    if (c->gen != gen || !c->in_table) return false;
  }
  if (writable && c->ops) {
    notify_writable(c);
    if (c->gen != gen || !c->in_table) return false;
  }
  return true;
}

// The application takes a new passive connection, or refuses it (RST).
bool TcpStack::deliver_accept(Conn* c, void* listener_ctx) {
  const uint32_t gen = c->gen;
  const AppOps* ops = c->ops;
  if (ops == nullptr || ops->on_accept == nullptr || !ops->on_accept(listener_ctx, c)) {
    if (c->gen == gen && c->in_table) abort(c);
    return false;
  }
  return c->gen == gen && c->in_table;
}

TcpStack::AckResult TcpStack::process_ack(Conn* c, const Segment& seg, bool* writable) {
  const Seq ack = seg.ack;
  // RFC 5961 §5.2: ACKs for data never sent or too far in the past.
  if (seq_gt(ack, c->snd_max)) {
    counters_.drop(c->key.iface, Drop::tcp_ack_invalid);
    challenge_ack(c);
    return AckResult::drop;
  }
  if (seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
    counters_.drop(c->key.iface, Drop::tcp_ack_invalid);
    send_ack(c);
    return AckResult::drop;
  }

  const uint32_t old_wnd = c->snd_wnd;
  // §3.10.7.4: update the send window only from a newer segment.
  if (seq_lt(c->snd_wl1, seg.seq) || (c->snd_wl1 == seg.seq && seq_leq(c->snd_wl2, ack))) {
    c->snd_wnd = static_cast<uint32_t>(seg.wnd) << c->snd_wscale;
    c->max_snd_wnd = std::max(c->max_snd_wnd, c->snd_wnd);
    c->snd_wl1 = seg.seq;
    c->snd_wl2 = ack;
    if (c->snd_wnd > 0 && c->persist) {
      c->persist = false;
      timers_.cancel(c->rtx_timer);
    }
  }

  if (c->sack_on && seg.opt.nsack) c->sb.on_ack(seq_gt(ack, c->snd_una) ? ack : c->snd_una, c->snd_max,
                                                seg.opt.sack, seg.opt.nsack);

  if (seq_gt(ack, c->snd_una)) {
    uint32_t acked = ack - c->snd_una;
    uint32_t data = acked;
    if (c->snd_una == c->iss) --data;                           // our SYN
    if (c->fin_sent && seq_gt(ack, c->fin_seq)) --data;         // our FIN
    data = std::min(data, c->sndq.bytes);
    // RTT (RFC 7323 §4 with timestamps; RFC 6298 §3 Karn otherwise).
    if (c->ts_on && seg.opt.has_ts && seg.opt.ts_ecr != 0) {
      c->rtt.sample(uint64_t{ts_now() - seg.opt.ts_ecr} * 1000);
    } else if (c->rtt_timing && seq_gt(ack, c->rtt_seq)) {
      c->rtt.sample(now_us_ - c->rtt_start_us);
      c->rtt_timing = false;
    }
    c->sndq.trim_front(data);
    c->snd_una = ack;
    if (seq_lt(c->snd_nxt, c->snd_una)) c->snd_nxt = c->snd_una;
    if (seq_lt(c->high_rxt, c->snd_una)) c->high_rxt = c->snd_una;
    c->rtx_count = 0;
    c->rtx_first_us = 0;
    c->rtt.clear_backoff();
    if (c->in_recovery) {
      if (seq_geq(ack, c->recover)) {
        c->in_recovery = false;
        cc_on_recovery_exit(c->cc_algo, c->cc);
      } else if (!c->sack_on) {
        // RFC 6582 §3.2 step 5: partial ACK, retransmit the next hole and deflate.
        send_segment(c, c->snd_una, std::min<uint32_t>(c->seg_max(), c->snd_max - c->snd_una), kAck);
        counters_.event(c->key.iface, Event::tcp_retransmits);
        c->cc.cwnd = c->cc.cwnd > acked ? c->cc.cwnd - acked + c->mss : c->mss;
      }
    } else {
      cc_on_ack(c->cc_algo, c->cc, acked, now_us_, c->rtt.srtt_us(), c->rtt.srtt_us());
    }
    c->dupacks = 0;
    if (c->snd_una == c->snd_max) {
      if (!c->persist) timers_.cancel(c->rtx_timer);
      c->sb.reset();
    } else {
      arm_rto(c);  // RFC 6298 §5.3
    }
    if (c->want_writable && raw_write_space(c) > 0) {
      c->want_writable = false;
      *writable = true;
    }
    const bool fin_acked = c->fin_sent && c->snd_una == c->snd_max;
    if (fin_acked) {
      switch (c->state) {
        case State::fin_wait_1:
          set_state(c, State::fin_wait_2);
          // No FIN may ever come from a peer that vanished: bound FIN-WAIT-2
          // for connections the application already let go.
          if (c->app_closed) timers_.arm_after(c->rtx_timer, uint64_t{std::max(cfg_.time_wait_ms, 1000u)} * (tsc_hz_ / 1000));
          break;
        case State::closing:
          enter_time_wait(c);
          break;
        case State::last_ack:
          if (linger_for_reader(c)) break;
          free_conn(c, CloseReason::normal);
          return AckResult::freed;
        default:
          break;
      }
    }
    return AckResult::proceed;
  }

  // ack == snd_una: a duplicate? (RFC 5681 §2 definition)
  if (seg.len == 0 && !seg.has(kSyn) && !seg.has(kFin) && c->snd_wnd == old_wnd && c->snd_una != c->snd_max) {
    ++c->dupacks;
    if (!c->in_recovery &&
        (c->dupacks >= 3 || (c->sack_on && c->sb.is_lost(c->snd_una, c->mss)))) {
      // RFC 5681 §3.2 / RFC 6675 §5: enter loss recovery.
      c->in_recovery = true;
      c->recover = c->snd_max;
      c->high_rxt = c->snd_una;
      cc_on_congestion(c->cc_algo, c->cc, c->flight(), now_us_);
      counters_.event(c->key.iface, Event::tcp_fast_retransmits);
      const uint32_t len = std::min<uint32_t>(c->seg_max(), c->snd_max - c->snd_una);
      send_segment(c, c->snd_una, len, kAck);
      counters_.event(c->key.iface, Event::tcp_retransmits);
      c->high_rxt = c->snd_una + len;
      if (!c->sack_on) c->cc.cwnd = c->cc.ssthresh + 3u * c->mss;  // RFC 6582 §3.2 step 1
      c->rtt_timing = false;
      arm_rto(c);
    } else if (c->in_recovery && !c->sack_on) {
      c->cc.cwnd += c->mss;  // RFC 5681 §3.2 step 4: inflate for each segment that left
    }
  }
  return AckResult::proceed;
}

void TcpStack::process_data(Conn* c, Segment& seg, bool* readable) {
  const bool fin = seg.has(kFin);
  const bool receiving = c->state == State::established || c->state == State::fin_wait_1 ||
                         c->state == State::fin_wait_2;
  if (!receiving) {
    // Data after the peer's FIN is a protocol error we ignore; a repeated
    // FIN in TIME-WAIT is answered and restarts 2MSL (§3.10.7.4 eighth check).
    if (c->state == State::time_wait && fin) {
      send_ack(c);
      timers_.arm_after(c->rtx_timer, uint64_t{cfg_.time_wait_ms} * (tsc_hz_ / 1000));
    } else if (fin || seg.len > 0) {
      c->ack_now = true;
    }
    return;
  }
  if (seg.len > 0) {
    if (seg.seq == c->rcv_nxt) {
      const bool filled_hole = c->nooo > 0;
      c->rcvq.append(seg.payload);
      seg.payload = nullptr;
      c->rcv_nxt += seg.len;
      ooo_pull(c);
      if (c->sack_on) c->rsb.on_rcv_nxt(c->rcv_nxt);
      *readable = true;
      ++c->unacked_segs;
      // RFC 5681 §4.2: ACK every second full segment, and at once when a hole fills.
      schedule_ack(c, filled_hole || c->unacked_segs >= 2 || cfg_.delayed_ack_ms == 0);
    } else {
      counters_.event(c->key.iface, Event::tcp_ooo_segments);
      ooo_insert(c, seg.seq, seg.payload, seg.len);
      seg.payload = nullptr;
      c->ack_now = true;  // RFC 5681 §4.2: a duplicate ACK at once, with SACK
    }
  }
  if (fin) {
    const Seq at = seg.seq + seg.len;
    if (at == c->rcv_nxt) {
      process_fin(c);
      *readable = true;
    } else if (seq_gt(at, c->rcv_nxt)) {
      c->fin_pending = true;
      c->rcv_fin_seq = at;
    }
  } else if (c->fin_pending && c->rcv_fin_seq == c->rcv_nxt) {
    c->fin_pending = false;
    process_fin(c);
    *readable = true;
  }
}

void TcpStack::process_fin(Conn* c) {
  ++c->rcv_nxt;
  c->fin_rcvd = true;
  c->ack_now = true;
  switch (c->state) {
    case State::established:
      set_state(c, State::close_wait);
      break;
    case State::fin_wait_1:
      if (c->fin_sent && c->snd_una == c->snd_max)
        enter_time_wait(c);
      else
        set_state(c, State::closing);
      break;
    case State::fin_wait_2:
      enter_time_wait(c);
      break;
    default:
      break;
  }
}

void TcpStack::ooo_insert(Conn* c, Seq seq, rte_mbuf* m, uint32_t len) {
  Seq end = seq + len;
  // Cut away what existing ranges already hold; keep the ranges sorted.
  for (uint8_t i = 0; i < c->nooo && m != nullptr; ++i) {
    OooRange& r = c->ooo[i];
    const Seq r_end = r.start + r.len;
    if (seq_geq(seq, r.start) && seq_leq(end, r_end)) {  // fully held already
      rte_pktmbuf_free(m);
      return;
    }
    if (seq_lt(seq, r.start) && seq_gt(end, r.start)) {
      // Reaches into r: keep only our part before it (what lies beyond r
      // stays a hole the sender's SACK view will fill).
      len = r.start - seq;
      chain_trim_back(m, len);
      end = seq + len;
    } else if (seq_geq(seq, r.start) && seq_lt(seq, r_end)) {  // overlaps r's tail: drop our head part
      const uint32_t cut = r_end - seq;
      m = chain_trim_front(m, cut);
      seq += cut;
      len -= cut;
    }
  }
  if (m == nullptr || len == 0) {
    if (m) rte_pktmbuf_free(m);
    return;
  }
  // Extend a range we touch, or insert a new one in order.
  uint8_t pos = 0;
  while (pos < c->nooo && seq_lt(c->ooo[pos].start, seq)) ++pos;
  if (pos > 0 && c->ooo[pos - 1].start + c->ooo[pos - 1].len == seq) {
    OooRange& r = c->ooo[pos - 1];
    r.tail->next = m;
    r.tail = chain_tail(m);
    r.len += len;
  } else if (pos < c->nooo && end == c->ooo[pos].start) {
    OooRange& r = c->ooo[pos];
    chain_tail(m)->next = r.head;
    r.head = m;
    r.start = seq;
    r.len += len;
  } else {
    if (c->nooo == kMaxOoo) {
      counters_.drop(c->key.iface, Drop::tcp_ooo_full);
      rte_pktmbuf_free(m);
      return;
    }
    for (uint8_t k = c->nooo; k > pos; --k) c->ooo[k] = c->ooo[k - 1];
    c->ooo[pos] = OooRange{seq, len, m, chain_tail(m)};
    ++c->nooo;
  }
  // Merge neighbours that now touch.
  for (uint8_t i = 0; i + 1 < c->nooo;) {
    OooRange& a = c->ooo[i];
    OooRange& b = c->ooo[i + 1];
    if (a.start + a.len == b.start) {
      a.tail->next = b.head;
      a.tail = b.tail;
      a.len += b.len;
      for (uint8_t k = i + 1; k + 1 < c->nooo; ++k) c->ooo[k] = c->ooo[k + 1];
      --c->nooo;
    } else {
      ++i;
    }
  }
  if (c->sack_on) c->rsb.on_ooo_data(seq, seq + len);
}

void TcpStack::ooo_pull(Conn* c) {
  while (c->nooo > 0 && seq_leq(c->ooo[0].start, c->rcv_nxt)) {
    OooRange r = c->ooo[0];
    for (uint8_t k = 0; k + 1 < c->nooo; ++k) c->ooo[k] = c->ooo[k + 1];
    --c->nooo;
    const Seq r_end = r.start + r.len;
    if (seq_leq(r_end, c->rcv_nxt)) {
      rte_pktmbuf_free(r.head);
      continue;
    }
    rte_mbuf* m = r.head;
    const uint32_t skip = c->rcv_nxt - r.start;
    if (skip > 0) {
      m->pkt_len = r.len;  // chain_trim_front keeps pkt_len consistent from here
      m = chain_trim_front(m, skip);
    }
    c->rcvq.append(m);
    c->rcv_nxt = r_end;
  }
}

}  // namespace lg::tcp
