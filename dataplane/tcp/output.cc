// Segment transmission: what the windows allow (RFC 9293 §3.8.6, RFC 5681,
// RFC 6675 §5 during SACK recovery), ACKs owed, and the wire format. Data is
// never copied: a segment is a fresh header mbuf followed by indirect mbufs
// referencing the send queue, which keeps the bytes until they are ACKed.
#include <rte_ip.h>

#include <algorithm>

#include "dataplane/net/checksum.h"
#include "dataplane/net/net_worker.h"
#include "dataplane/tcp/stack.h"

namespace lg::tcp {
namespace {

// DPDK 22.11 sums a chain segment by segment and mishandles a segment that
// starts at an odd offset (the tap PMD's checksum offload and
// rte_raw_cksum_mbuf alike), so a forwarded chain with an odd-length segment
// before the last (a proxy forwarding small writes) is summed here in software
// (net::mbuf_sum) instead. NICs checksum in hardware and are not affected.
bool odd_inner_segment(const rte_mbuf* m) {
  for (const rte_mbuf* s = m; s->next != nullptr; s = s->next)
    if (s->data_len & 1) return true;
  return false;
}

}  // namespace


uint32_t TcpStack::rcv_window(const Conn* c) const {
  const uint32_t used = c->rcvq.bytes + c->ooo_bytes();
  uint32_t free_space = used >= c->rcv_buf ? 0 : c->rcv_buf - used;
  const uint32_t max = uint32_t{0xffff} << c->rcv_wscale;
  return std::min(free_space, max);
}

namespace {

// RFC 9293 §3.8.6.2.2: move the right edge only by a worthwhile amount, and
// never back (shrinking the window is discouraged, §3.8.6).
uint16_t advertise(Conn* c, uint32_t free_space) {
  const Seq edge = c->rcv_nxt + free_space;
  const uint32_t step = std::min<uint32_t>(c->rcv_buf / 2, c->mss);
  if (seq_lt(c->rcv_adv, c->rcv_nxt)) c->rcv_adv = c->rcv_nxt;
  if (seq_gt(edge, c->rcv_adv) && (edge - c->rcv_adv >= step || c->rcv_adv == c->rcv_nxt)) c->rcv_adv = edge;
  const uint32_t wnd = (c->rcv_adv - c->rcv_nxt) >> c->rcv_wscale;
  return static_cast<uint16_t>(std::min<uint32_t>(wnd, 0xffff));
}

}  // namespace

rte_mbuf* TcpStack::clone_range(Conn* c, Seq seq, uint32_t len) {
  // New data starts where the last transmission ended; retransmissions
  // (below the cursor) walk from the head.
  rte_mbuf* s = c->sndq.head;
  Seq s_seq = c->snd_una;
  if (c->tx_cursor != nullptr && seq_geq(c->tx_cursor_seq, c->snd_una) && seq_geq(seq, c->tx_cursor_seq)) {
    s = c->tx_cursor;
    s_seq = c->tx_cursor_seq;
  }
  uint32_t off = seq - s_seq;
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint16_t segs = 0;
  for (; s != nullptr && len > 0; s_seq += s->data_len, s = s->next) {
    if (off >= s->data_len) {
      off -= s->data_len;
      continue;
    }
    const uint32_t take = std::min<uint32_t>(s->data_len - off, len);
    rte_mbuf* mi = rte_pktmbuf_alloc(pool_);
    if (mi == nullptr) {
      if (head) rte_pktmbuf_free(head);
      return nullptr;
    }
    rte_pktmbuf_attach(mi, s);
    mi->data_off = static_cast<uint16_t>(s->data_off + off);
    mi->data_len = static_cast<uint16_t>(take);
    mi->next = nullptr;
    if (tail)
      tail->next = mi;
    else
      head = mi;
    tail = mi;
    ++segs;
    len -= take;
    off = 0;
    c->tx_cursor = s;
    c->tx_cursor_seq = s_seq;
  }
  if (head == nullptr) return nullptr;
  uint32_t total = 0;
  for (rte_mbuf* s = head; s; s = s->next) total += s->data_len;
  head->pkt_len = total;
  head->nb_segs = segs;
  return head;
}

void TcpStack::emit(const FlowKey& key, Seq seq, Seq ack, uint8_t flags, uint16_t wnd, const OptionsOut& o,
                    rte_mbuf* data, uint32_t data_len) {
  const net::Iface& f = ifaces_[key.iface];
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(key.iface, Drop::mbuf_alloc_failed);
    if (data) rte_pktmbuf_free(data);
    return;
  }
  const unsigned ip_len = key.family == 4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  const unsigned tcp_len = sizeof(rte_tcp_hdr) + options_length(o);
  auto* hdr = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(ip_len + tcp_len)));
  auto* th = reinterpret_cast<rte_tcp_hdr*>(hdr + ip_len);
  th->src_port = rte_cpu_to_be_16(key.lport);
  th->dst_port = rte_cpu_to_be_16(key.rport);
  th->sent_seq = rte_cpu_to_be_32(seq);
  th->recv_ack = rte_cpu_to_be_32(ack);
  th->data_off = static_cast<uint8_t>((tcp_len / 4) << 4);
  th->tcp_flags = flags;
  th->rx_win = rte_cpu_to_be_16(wnd);
  th->cksum = 0;
  th->tcp_urp = 0;
  write_options(reinterpret_cast<uint8_t*>(th + 1), o);
  if (data != nullptr && rte_pktmbuf_chain(m, data) != 0) {
    rte_pktmbuf_free(data);  // too many segments: give up this transmission; RTO resends
    rte_pktmbuf_free(m);
    counters_.drop(key.iface, Drop::mbuf_alloc_failed);
    return;
  }
  m->l3_len = ip_len;
  m->l4_len = tcp_len;
  const uint32_t l4_bytes = tcp_len + data_len;
  if (key.family == 4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(hdr);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len + l4_bytes));
    ip->packet_id = 0;
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_TCP;
    ip->hdr_checksum = 0;
    std::memcpy(&ip->src_addr, key.local, 4);
    std::memcpy(&ip->dst_addr, key.remote, 4);
    if (f.offloads.tx_tcp_cksum && !odd_inner_segment(m)) {
      m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
      th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
    } else {
      th->cksum = net::finish_cksum(rte_ipv4_phdr_cksum(ip, 0), net::mbuf_sum(m, ip_len, l4_bytes));
    }
  } else {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(hdr);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(l4_bytes));
    ip->proto = IPPROTO_TCP;
    ip->hop_limits = 64;
    std::memcpy(ip->src_addr, key.local, 16);
    std::memcpy(ip->dst_addr, key.remote, 16);
    net::Ip6 src, dst;
    std::memcpy(src.b, key.local, 16);
    std::memcpy(dst.b, key.remote, 16);
    th->cksum = net::finish_cksum(net::ipv6_pseudo_sum(src, dst, l4_bytes, IPPROTO_TCP),
                                  net::mbuf_sum(m, ip_len, l4_bytes));
  }
  counters_.event(key.iface, Event::tcp_segments_sent);
  if (key.family == 4)
    net_.ipv4_output(f, m);
  else
    net_.ipv6_output(f, m);
}

void TcpStack::send_raw(const FlowKey& key, Seq seq, Seq ack, uint8_t flags, uint16_t wnd, const OptionsOut& o) {
  emit(key, seq, ack, flags, wnd, o, nullptr, 0);
}

void TcpStack::send_segment(Conn* c, Seq seq, uint32_t len, uint8_t flags) {
  OptionsOut o;
  SackBlock blocks[4];
  const net::Iface& f = iface(c);
  if (flags & kSyn) {
    const bool active = !c->passive;
    o.mss = true;
    o.mss_value = static_cast<uint16_t>(f.mtu - (c->key.family == 4 ? 40 : 60));
    o.wscale = active || c->ws_on;
    o.wscale_value = c->rcv_wscale;
    o.sack_permitted = active || c->sack_on;
    o.ts = active || c->ts_on;
    o.ts_val = ts_now();
    o.ts_ecr = (flags & kAck) ? c->ts_recent : 0;
  } else {
    o.ts = c->ts_on;
    o.ts_val = ts_now();
    o.ts_ecr = c->ts_recent;
    if (c->sack_on && (flags & kAck)) {
      o.nsack = static_cast<uint8_t>(c->rsb.fill(blocks, c->ts_on ? 3 : 4));
      o.sack = blocks;
    }
  }
  rte_mbuf* data = nullptr;
  if (len > 0) {
    data = clone_range(c, seq, len);
    if (data == nullptr) {
      counters_.drop(c->key.iface, Drop::mbuf_alloc_failed);
      return;
    }
  }
  const uint16_t wnd = (flags & kSyn) ? static_cast<uint16_t>(std::min<uint32_t>(c->rcv_buf, 0xffff))
                                      : advertise(c, rcv_window(c));
  const Seq ack = (flags & kAck) ? c->rcv_nxt : 0;
  emit(c->key, seq, ack, flags, wnd, o, data, len);
  if (flags & kAck) {
    c->last_ack_sent = c->rcv_nxt;
    c->ack_now = false;
    c->unacked_segs = 0;
    if (c->ack_delayed) {
      c->ack_delayed = false;
      timers_.cancel(c->delack_timer);
    }
  }
  const Seq end = seq + len + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
  if (seq_lt(seq, c->snd_max)) {
    // A retransmission: Karn's rule (RFC 6298 §3) forbids timing it.
    if (c->rtt_timing && seq_leq(seq, c->rtt_seq)) c->rtt_timing = false;
  } else if (!c->ts_on && !c->rtt_timing && len > 0) {
    c->rtt_timing = true;
    c->rtt_seq = seq;
    c->rtt_start_us = now_us_;
  }
  if (seq_gt(end, c->snd_max)) c->snd_max = end;
}

void TcpStack::send_ack(Conn* c) { send_segment(c, c->snd_nxt, 0, kAck); }

void TcpStack::schedule_ack(Conn* c, bool now) {
  if (now || cfg_.delayed_ack_ms == 0) {
    c->ack_now = true;
    return;
  }
  if (!c->ack_delayed) {
    c->ack_delayed = true;
    timers_.arm_after(c->delack_timer, uint64_t{cfg_.delayed_ack_ms} * (tsc_hz_ / 1000));
  }
}

void TcpStack::arm_rto(Conn* c) { timers_.arm_after(c->rtx_timer, c->rtt.rto_us() * tsc_per_us_); }

void TcpStack::output(Conn* c) {
  if (!c->in_table) return;
  const State st = c->state;
  const bool data_states = st == State::established || st == State::close_wait || st == State::fin_wait_1 ||
                           st == State::closing || st == State::last_ack;
  if (!data_states) {
    if (c->ack_now && st != State::syn_sent) send_ack(c);
    return;
  }
  const Seq data_end = c->snd_una + c->sndq.bytes;
  bool sent = false;

  if (c->in_recovery && c->sack_on) {
    // RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send NextSeg().
    uint32_t pipe = c->sb.pipe(c->snd_una, c->snd_max, c->high_rxt, c->mss);
    const uint32_t seg_max = c->seg_max();
    while (c->cc.cwnd >= pipe + c->mss) {
      NextSeg ns;
      const bool have = c->sb.next_seg(c->snd_una, c->snd_max, c->high_rxt, c->mss, &ns) && seq_lt(ns.seq, data_end);
      const bool can_send_new = seq_lt(c->snd_nxt, data_end) && seq_lt(c->snd_nxt, c->snd_una + c->snd_wnd);
      // Rule (1) first; rule (2), new data, before rule (3).
      if (have && (ns.rule == NextSegRule::lost || !can_send_new)) {
        const uint32_t len = std::min({ns.len, uint32_t{data_end - ns.seq}, seg_max});
        send_segment(c, ns.seq, len, kAck);
        counters_.event(c->key.iface, Event::tcp_retransmits);
        c->high_rxt = ns.seq + len;
        pipe += len;
        sent = true;
        continue;
      }
      if (can_send_new) {
        const uint32_t len =
            std::min({seg_max, uint32_t{data_end - c->snd_nxt}, uint32_t{c->snd_una + c->snd_wnd - c->snd_nxt}});
        send_segment(c, c->snd_nxt, len, kAck);
        c->snd_nxt += len;
        pipe += len;
        sent = true;
        continue;
      }
      break;
    }
  } else {
    const uint32_t wnd = std::min(c->cc.cwnd, c->snd_wnd);
    const uint32_t seg_max = c->seg_max();
    while (seq_lt(c->snd_nxt, data_end)) {
      const uint32_t unsent = data_end - c->snd_nxt;
      const uint32_t inflight = c->snd_nxt - c->snd_una;
      const uint32_t avail = wnd > inflight ? wnd - inflight : 0;
      const uint32_t len = std::min({seg_max, unsent, avail});
      // RFC 9293 §3.8.6.2.1 sender SWS avoidance (Nagle off): full segments,
      // the tail of what is queued, or half the largest window seen.
      if (len == 0 || (len < seg_max && len < unsent && len < c->max_snd_wnd / 2)) break;
      const bool retransmit = seq_lt(c->snd_nxt, c->snd_max);
      send_segment(c, c->snd_nxt, len, static_cast<uint8_t>(kAck | (len == unsent ? kPsh : 0)));
      if (retransmit) counters_.event(c->key.iface, Event::tcp_retransmits);
      c->snd_nxt += len;
      sent = true;
    }
  }

  // FIN once everything queued has gone (again after an RTO rewound snd_nxt).
  if (c->fin_queued && c->snd_nxt == data_end && (!c->fin_sent || c->snd_nxt == c->fin_seq)) {
    if (!c->fin_sent) {
      c->fin_seq = c->snd_nxt;
      c->fin_sent = true;
      if (c->state == State::established) set_state(c, State::fin_wait_1);
      if (c->state == State::close_wait) set_state(c, State::last_ack);
    }
    send_segment(c, c->fin_seq, 0, kFin | kAck);
    c->snd_nxt = c->fin_seq + 1;
    sent = true;
  }

  if (sent && !c->rtx_timer.armed()) arm_rto(c);
  // Zero window with data waiting and nothing in flight: probe (RFC 9293 §3.8.6.1).
  if (!sent && c->snd_wnd == 0 && seq_lt(c->snd_nxt, data_end) && c->snd_una == c->snd_max && !c->persist) {
    c->persist = true;
    arm_rto(c);
  }
  if (c->ack_now) send_ack(c);
}

}  // namespace lg::tcp
