// Connection timers (RFC 9293 §3.8.1, RFC 6298 §5, RFC 9293 §3.8.6.1
// persist, RFC 1122 §4.2.3.6 keepalive, RFC 5482 user timeout), driven by
// the worker's timing wheel.
#include "dataplane/tcp/stack.h"

namespace lg::tcp {
namespace {
constexpr uint8_t kMaxRetransmits = 15;  // like Linux tcp_retries2
}  // namespace

void TcpStack::on_rtx(Timer*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  c->stack->timer_rtx(c);
}
void TcpStack::on_delack(Timer*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  c->stack->timer_delack(c);
}
void TcpStack::on_keepalive(Timer*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  c->stack->timer_keepalive(c);
}

void TcpStack::timer_rtx(Conn* c) {
  switch (c->state) {
    case State::time_wait:
      if (c->linger) {
        if (unread(c) != 0) return;  // read() re-arms once the queue is drained
        c->linger = false;
        const uint32_t gen = c->gen;
        notify_closed(c, CloseReason::normal);
        if (c->gen != gen || !c->in_table) return;
      }
      [[fallthrough]];
    case State::fin_wait_2:  // the bound on FIN-WAIT-2 after tcp_close()
      free_conn(c, CloseReason::normal);
      return;
    case State::syn_sent:
    case State::syn_received: {
      if (now_us_ - c->opened_us >= uint64_t{c->connect_timeout_ms} * 1000) {
        counters_.event(c->key.iface, Event::tcp_connections_timed_out);
        free_conn(c, CloseReason::timeout);
        return;
      }
      c->rtt.backoff();
      c->rtt_timing = false;
      counters_.event(c->key.iface, Event::tcp_retransmits);
      send_segment(c, c->iss, 0, c->state == State::syn_sent ? kSyn : (kSyn | kAck));
      {
        const uint64_t left_us = uint64_t{c->connect_timeout_ms} * 1000 - (now_us_ - c->opened_us);
        timers_.arm_after(c->rtx_timer, std::min<uint64_t>(c->rtt.rto_us(), left_us) * tsc_per_us_);
      }
      return;
    }
    default:
      break;
  }
  if (c->persist) {
    // Probe the zero window with a segment the peer must answer (seq below
    // snd_una), backing off like the RTO; the user timeout bounds it.
    counters_.event(c->key.iface, Event::tcp_window_probes);
    send_segment(c, c->snd_una - 1, 0, kAck);
    c->rtt.backoff();
    if (c->rtx_first_us == 0) c->rtx_first_us = now_us_;
    if (cfg_.user_timeout_ms && now_us_ - c->rtx_first_us >= uint64_t{cfg_.user_timeout_ms} * 1000) {
      counters_.event(c->key.iface, Event::tcp_connections_timed_out);
      abort(c);
      return;
    }
    arm_rto(c);
    return;
  }
  if (c->snd_una == c->snd_max) return;  // nothing outstanding
  if (c->rtx_first_us == 0) c->rtx_first_us = now_us_;
  if (c->rtx_count >= kMaxRetransmits ||
      (cfg_.user_timeout_ms && now_us_ - c->rtx_first_us >= uint64_t{cfg_.user_timeout_ms} * 1000)) {
    counters_.event(c->key.iface, Event::tcp_connections_timed_out);
    const uint32_t gen = c->gen;
    notify_closed(c, CloseReason::timeout);
    if (c->gen == gen && c->in_table) abort(c);
    return;
  }
  counters_.event(c->key.iface, Event::tcp_rto_timeouts);
  // RFC 5681 §3.1 and RFC 6298 §5.5-5.7: collapse the window, back off,
  // and resend from the first unacknowledged byte. ssthresh is reduced on
  // the first expiry only: later ones would halve a window already collapsed.
  if (c->rtx_count == 0)
    cc_on_rto(c->cc_algo, c->cc, c->flight(), now_us_);
  else
    c->cc.cwnd = c->mss;
  ++c->rtx_count;
  c->rtt.backoff();
  c->in_recovery = false;
  c->dupacks = 0;
  c->sb.reset();  // RFC 6675 §5.1: the receiver may have reneged
  c->recover = c->snd_max;  // RFC 6582 §3.2 step 4: no fast retransmit for old duplicates
  c->snd_nxt = c->snd_una;
  c->high_rxt = c->snd_una;
  c->rtt_timing = false;
  if (c->fin_sent && c->snd_una == c->fin_seq) {
    send_segment(c, c->fin_seq, 0, kFin | kAck);
    c->snd_nxt = c->fin_seq + 1;
  } else {
    output(c);
  }
  arm_rto(c);
}

void TcpStack::timer_delack(Conn* c) {
  if (c->ack_delayed) {
    c->ack_delayed = false;
    send_ack(c);
  }
}

void TcpStack::timer_keepalive(Conn* c) {
  if (c->ka_idle_ms == 0 || !synchronized(c->state) || c->state == State::time_wait) return;
  const uint64_t idle_cycles = uint64_t{c->ka_idle_ms} * (tsc_hz_ / 1000);
  const uint64_t idle_us = now_us_ - c->last_rcv_us;
  if (idle_us * tsc_per_us_ < idle_cycles) {
    timers_.arm_after(c->ka_timer, idle_cycles - idle_us * tsc_per_us_);
    return;
  }
  if (c->ka_probes >= c->ka_max_probes) {
    counters_.event(c->key.iface, Event::tcp_connections_timed_out);
    const uint32_t gen = c->gen;
    notify_closed(c, CloseReason::timeout);
    if (c->gen == gen && c->in_table) abort(c);
    return;
  }
  ++c->ka_probes;
  counters_.event(c->key.iface, Event::tcp_keepalive_probes);
  send_segment(c, c->snd_una - 1, 0, kAck);  // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT-1 elicits an ACK
  timers_.arm_after(c->ka_timer, uint64_t{c->ka_interval_ms} * (tsc_hz_ / 1000));
}

bool TcpStack::linger_for_reader(Conn* c) {
  if (unread(c) == 0 || c->ops == nullptr || c->app_closed) return false;
  timers_.cancel(c->delack_timer);
  timers_.cancel(c->ka_timer);
  timers_.cancel(c->rtx_timer);
  c->sndq.clear();
  c->tx_cursor = nullptr;
  c->linger = true;
  set_state(c, State::time_wait);  // answers stray segments as TIME-WAIT does
  return true;
}

void TcpStack::enter_time_wait(Conn* c) {
  if (c->ack_now) send_ack(c);
  timers_.cancel(c->delack_timer);
  timers_.cancel(c->ka_timer);
  c->sndq.clear();
  c->tx_cursor = nullptr;
  if (linger_for_reader(c)) return;
  notify_closed(c, CloseReason::normal);
  if (!c->in_table) return;
  if (cfg_.time_wait_ms == 0) {
    free_conn(c, CloseReason::normal);
    return;
  }
  if (time_wait_ >= cfg_.max_time_wait) {
    counters_.drop(c->key.iface, Drop::tcp_time_wait_overflow);
    free_conn(c, CloseReason::normal);
    return;
  }
  set_state(c, State::time_wait);
  timers_.arm_after(c->rtx_timer, uint64_t{cfg_.time_wait_ms} * (tsc_hz_ / 1000));
}

}  // namespace lg::tcp
