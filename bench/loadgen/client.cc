#include "bench/loadgen/client.h"

#include "dataplane/tls/tls_worker.h"

#include <arpa/inet.h>
#include <rte_cycles.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lg::bench {

namespace {
constexpr uint64_t kBackoffMs = 10;    // after a failed connect, before the next
constexpr double kFinishSeconds = 2;   // after the window: answers still in flight get this long
constexpr double kCloseSeconds = 1;    // then connections get this long to close
}  // namespace

const tcp::AppOps Client::kOps = {nullptr, &Client::on_connected, &Client::on_readable, &Client::on_writable,
                                  &Client::on_closed};

Client::Client(const ClientOptions& o, tcp::TcpStack& s, TimerWheel& timers, Live& live, uint64_t tsc_hz,
               const ClientTls* tls)
    : o_(o), s_(s), tls_(tls), timers_(timers), live_(live), hz_(tsc_hz) {}

Client::~Client() {
  for (uint32_t i = 0; i < nslots_; ++i) timers_.cancel(slots_[i].timer);
}

bool Client::init(std::string* error) {
  ns_per_cycle_ = 1e9 / static_cast<double>(hz_);
  timeout_cycles_ = hz_ / 1000 * o_.timeout_ms;
  if (o_.rate > 0) cycles_per_request_ = static_cast<double>(hz_) / o_.rate;
  if (!body_.build(s_.pool())) {
    *error = "no mbufs for the request body template";
    return false;
  }
  // Every distinct request, rendered once: methods x hosts x paths, paths fastest.
  if (o_.mode == Mode::http || o_.mode == Mode::http_close) {
    char addr[64];
    inet_ntop(o_.family == 4 ? AF_INET : AF_INET6, o_.addr, addr, sizeof(addr));
    const std::string default_host = o_.family == 4 ? std::string(addr) + ":" + std::to_string(o_.port)
                                                   : "[" + std::string(addr) + "]:" + std::to_string(o_.port);
    const std::vector<std::string> hosts = o_.hosts.empty() ? std::vector<std::string>{default_host} : o_.hosts;
    std::string extra;
    for (const std::string& h : o_.headers) extra += h + "\r\n";
    if (o_.request_bytes > 0) extra += "Content-Length: " + std::to_string(o_.request_bytes) + "\r\n";
    if (o_.mode == Mode::http_close) extra += "Connection: close\r\n";
    for (const std::string& m : o_.methods)
      for (const std::string& h : hosts)
        for (const std::string& p : o_.paths) {
          std::string t = m;
          t += ' ';
          t += p;
          t += " HTTP/1.1\r\nHost: ";
          t += h;
          t += "\r\nUser-Agent: linegate-loadgen\r\n";
          t += extra;
          t += "\r\n";
          if (t.size() > 1900) {
            *error = "a request head is " + std::to_string(t.size()) + " bytes; at most 1900 (one mbuf)";
            return false;
          }
          templates_.push_back(std::move(t));
        }
  }
  heads_ = std::make_unique_for_overwrite<char[]>(size_t{kHeadBuffer} * o_.connections);
  parsed_ = std::make_unique<http1::MessageHead>();
  slots_ = std::make_unique<Slot[]>(o_.connections);
  nslots_ = o_.connections;
  for (uint32_t i = 0; i < o_.connections; ++i) {
    Slot& s = slots_[i];
    s.owner = this;
    s.index = i;
    s.head = heads_.get() + size_t{kHeadBuffer} * i;
    s.timer.cb = &Client::on_timer;
    s.timer.arg = &s;
  }
  return true;
}

void Client::prime(uint64_t now) {
  slots_[0].intended = now;
  connect(slots_[0]);
}

void Client::start(uint64_t now) {
  // The priming connection serves keep-alive and bulk runs; the others open
  // a connection per request.
  if ((o_.mode == Mode::http_close || o_.mode == Mode::tcp_connect) && slots_[0].state == SlotState::ready)
    let_go(slots_[0], LetGo::close);
  t0_ = now;
  warmup_end_ = now + static_cast<uint64_t>(o_.warmup_s * static_cast<double>(hz_));
  measure_end_ = warmup_end_ + static_cast<uint64_t>(o_.duration_s * static_cast<double>(hz_));
  r_.timeline.resize(static_cast<size_t>(std::ceil(o_.duration_s)) + 1);
  enter(o_.warmup_s > 0 ? Phase::warmup : Phase::measure, now);
  for (uint32_t i = 0; i < nslots_; ++i) kick(slots_[i], now);
}

void Client::enter(Phase p, uint64_t now) {
  phase_ = p;
  live_.phase.store(p, std::memory_order_relaxed);
  if (p == Phase::measure) {
    r_.window_start = now;
    r_.busy_at_start = live_.busy_cycles.get();
  } else if (p == Phase::finishing) {
    r_.window_end = now;
    r_.busy_at_end = live_.busy_cycles.get();
    finish_deadline_ = now + static_cast<uint64_t>(kFinishSeconds * static_cast<double>(hz_));
  }
}

// Open loop: request k of slot i is number k*N + i of the whole schedule,
// due at t0 + (k*N + i)/rate. Whether it is due is decided on these numbers
// (the same division schedule() makes), never by comparing rounded times.
uint64_t Client::schedule_index(const Slot& s) const { return s.sent * nslots_ + s.index; }

uint64_t Client::due_index(uint64_t now) const {
  return now < t0_ ? 0 : static_cast<uint64_t>(static_cast<double>(now - t0_) / cycles_per_request_);
}

// A slot that is free to work starts its next request when due: at once in
// closed loop, at its scheduled time in open loop (late if it was busy; the
// lateness counts as latency).
bool Client::kick(Slot& s, uint64_t now) {
  if (!may_send()) return false;
  const bool free_slot = s.state == SlotState::idle || (s.state == SlotState::ready && o_.mode == Mode::http);
  if (!free_slot) return false;
  if (o_.rate <= 0) {
    begin(s, now);
    return true;
  }
  const uint64_t k = schedule_index(s);
  if (k > due_index(now)) return false;  // schedule() wakes it
  begin(s, t0_ + static_cast<uint64_t>(static_cast<double>(k) * cycles_per_request_));
  return true;
}

void Client::begin(Slot& s, uint64_t intended) {
  ++s.sent;
  s.intended = intended;
  if (s.state == SlotState::ready) {
    send_request(s);
  } else {
    connect(s);  // the request goes out when connected
  }
}

void Client::connect(Slot& s) {
  s.state = SlotState::connecting;
  s.conn = s_.connect_routed(o_.family, o_.addr, o_.port, &kOps, &s);
  if (s.conn != nullptr && tls_ != nullptr &&
      !tls_->worker->attach_client(s.conn, *tls_->context, tls_->sni, tls_->stats_id, o_.timeout_ms)) {
    s_.abort(s.conn);  // no TLS channel free
    s.conn = nullptr;
  }
  if (s.conn == nullptr) {
    // No route, or the connection table / local ports are exhausted.
    s.state = SlotState::backoff;
    count_error(&r_.err_connect, rte_rdtsc());
    timers_.arm_after(s.timer, hz_ / 1000 * kBackoffMs);
    return;
  }
  s_.set_connect_timeout(s.conn, o_.timeout_ms);
  ++r_.conn_opened;
  live_.open_conns.add();
}

void Client::send_request(Slot& s) {
  const std::string& t = templates_[next_template_++ % templates_.size()];
  rte_mbuf* m = rte_pktmbuf_alloc(s_.pool());
  if (m == nullptr) {
    fail(s, &r_.err_protocol);  // the generator ran out of mbufs: its own fault, counted, recovered
    return;
  }
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(t.size())), t.data(), t.size());
  uint64_t body_left = o_.request_bytes;
  if (body_left <= 1024 && !body_.append(m, body_left, s_.pool())) body_left = UINT64_MAX;  // no mbufs
  else if (body_left <= 1024) body_left = 0;
  const uint32_t len = rte_pktmbuf_pkt_len(m);
  if (body_left == UINT64_MAX || s_.write(s.conn, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    fail(s, &r_.err_reset);
    return;
  }
  if (phase_ == Phase::measure) r_.bytes_sent += len + body_left;
  s.state = SlotState::waiting;
  s.body = Body::head;
  s.head_len = 0;
  s.response_bytes = 0;
  s.body_left = body_left;  // request body still to send (large bodies)
  if (body_left > 0 && !pump_body(s_, s.conn, body_, &s.body_left)) {
    fail(s, &r_.err_reset);
    return;
  }
  timers_.arm(s.timer, rte_rdtsc() + timeout_cycles_);
}

void Client::on_connected(void* app, tcp::Conn* c) {
  Slot& s = *static_cast<Slot*>(app);
  Client& self = *s.owner;
  (void)c;
  const uint64_t now = rte_rdtsc();
  switch (self.o_.mode) {
    case Mode::tcp_connect: {
      // The handshake is the work: done, and closed at once.
      self.let_go(s, LetGo::close);
      self.finish_request(s, now);
      return;
    }
    case Mode::tcp_bulk:
      s.state = SlotState::waiting;
      return;
    case Mode::http:
    case Mode::http_close:
      s.state = SlotState::ready;
      if (s.sent > 0 && self.may_send()) {
        self.send_request(s);  // the request this connection was opened for
      }
      return;
  }
}

void Client::on_writable(void* app, tcp::Conn*) {
  Slot& s = *static_cast<Slot*>(app);
  if (s.state == SlotState::waiting && s.body_left > 0 && !pump_body(s.owner->s_, s.conn, s.owner->body_, &s.body_left))
    s.owner->fail(s, &s.owner->r_.err_reset);
}

void Client::on_bytes(uint64_t n, uint64_t now) {
  live_.bytes.add(n);
  if (phase_ != Phase::measure) return;
  r_.bytes_received += n;
  const size_t sec = static_cast<size_t>((now - r_.window_start) / hz_);
  if (sec < r_.timeline.size()) r_.timeline[sec].bytes += n;
}

void Client::on_readable(void* app, tcp::Conn* c) {
  Slot& s = *static_cast<Slot*>(app);
  Client& self = *s.owner;
  const uint64_t now = rte_rdtsc();
  while (rte_mbuf* m = self.s_.read(c, UINT32_MAX)) {
    self.on_bytes(rte_pktmbuf_pkt_len(m), now);
    bool ok = true;
    if (self.o_.mode != Mode::tcp_bulk) {
      for (rte_mbuf* seg = m; seg != nullptr && ok && s.conn == c; seg = seg->next)
        ok = self.consume(s, rte_pktmbuf_mtod(seg, const char*), seg->data_len, now);
    }
    rte_pktmbuf_free(m);
    if (!ok || s.conn != c) return;  // the slot dropped this connection
  }
  if (!self.s_.eof(c)) return;
  // The server closed. An answer delimited by the close is complete now; one
  // cut short is an error; an idle keep-alive connection just reconnects.
  if (s.state == SlotState::waiting && s.body == Body::until_close) {
    self.finish_request(s, now);
    return;
  }
  if (s.state == SlotState::waiting && self.o_.mode != Mode::tcp_bulk) {
    self.fail(s, &self.r_.err_reset);
    return;
  }
  self.let_go(s, LetGo::close);
  self.kick(s, now);
}

// Response bytes in order. The head is parsed straight from the segment when
// it is all there (the usual case), else gathered in the slot's buffer.
bool Client::consume(Slot& s, const char* p, uint32_t n, uint64_t now) {
  while (n > 0) {
    if (s.state != SlotState::waiting) {
      fail(s, &r_.err_protocol);  // bytes nobody asked for
      return false;
    }
    uint32_t used = 0;
    switch (s.body) {
      case Body::head:
        if (!parse_head(s, p, n, &used)) {
          fail(s, &r_.err_protocol);
          return false;
        }
        break;
      case Body::length:
        used = static_cast<uint32_t>(std::min<uint64_t>(n, s.body_left));
        s.body_left -= used;
        if (s.body_left == 0) s.body = Body::head;  // complete (below)
        break;
      case Body::until_close:
        used = n;
        break;
      case Body::chunked: {
        if (s.chunked.data_remaining() > 0) {
          used = static_cast<uint32_t>(std::min<uint64_t>(n, s.chunked.data_remaining()));
          s.chunked.skip_data(used);
          break;
        }
        size_t took = 0;
        const auto st = s.chunked.feed(p, n, &took);
        used = static_cast<uint32_t>(took);
        if (st == http1::ChunkedDecoder::Status::error) {
          fail(s, &r_.err_protocol);
          return false;
        }
        if (st == http1::ChunkedDecoder::Status::done) s.body = Body::head;
        break;
      }
    }
    p += used;
    n -= used;
    if (s.body == Body::head && s.status != 0 && s.head_len == 0) {
      tcp::Conn* c = s.conn;
      finish_request(s, now);
      if (s.conn != c) return true;  // closed after the answer (Connection: close); the rest is not ours
      if (n > 0) {
        fail(s, &r_.err_protocol);  // more than one answer to one request
        return false;
      }
    }
  }
  return true;
}

// Takes head bytes; *used says how many of p were head. On completion sets
// the body state and s.status (nonzero) with head_len reset to 0.
bool Client::parse_head(Slot& s, const char* p, uint32_t n, uint32_t* used) {
  http1::MessageHead& h = *parsed_;
  http1::ParseError err;
  const char* buf = p;
  size_t len = n;
  const uint32_t before = s.head_len;
  http1::ParseStatus st;
  if (before == 0) {
    st = http1::parse_response(p, n, http1::Method::get, &h, &err);
  } else {
    const uint32_t take = std::min<uint32_t>(n, kHeadBuffer - before);
    std::memcpy(s.head + before, p, take);
    s.head_len += take;
    buf = s.head;
    len = s.head_len;
    st = http1::parse_response(buf, len, http1::Method::get, &h, &err);
  }
  if (st == http1::ParseStatus::error) return false;
  if (st == http1::ParseStatus::need_more) {
    if (before == 0) {
      if (n > kHeadBuffer) return false;
      std::memcpy(s.head, p, n);
      s.head_len = n;
    } else if (s.head_len == kHeadBuffer) {
      return false;  // a head larger than the buffer
    }
    *used = n;
    s.status = 0;
    return true;
  }
  *used = h.head_bytes - before;
  s.head_len = 0;
  if (h.status < 200 && h.status != 101) {  // interim answer: the real one follows
    s.status = 0;
    return true;
  }
  s.status = h.status;
  s.close_after = !h.keep_alive;
  switch (h.body) {
    case http1::BodyKind::none:
      s.body = Body::head;
      break;
    case http1::BodyKind::length:
      s.body_left = h.content_length;
      s.body = h.content_length == 0 ? Body::head : Body::length;
      break;
    case http1::BodyKind::chunked:
      s.chunked.reset();
      s.body = Body::chunked;
      break;
    case http1::BodyKind::until_close:
      s.body = Body::until_close;
      s.close_after = true;
      break;
  }
  return true;
}

void Client::finish_request(Slot& s, uint64_t now) {
  timers_.cancel(s.timer);
  ++r_.requests_total;
  live_.requests.add();
  const uint64_t ns = static_cast<uint64_t>(static_cast<double>(now - s.intended) * ns_per_cycle_);
  live_.latency_ns.add(ns);
  const unsigned cls = s.status / 100 <= 5 ? s.status / 100 : 0;
  if (phase_ == Phase::measure && now < measure_end_) {
    ++r_.requests;
    r_.latency.record(ns);
    if (o_.mode == Mode::http || o_.mode == Mode::http_close) ++r_.status[cls];
    const size_t sec = static_cast<size_t>((now - r_.window_start) / hz_);
    if (sec < r_.timeline.size()) {
      ++r_.timeline[sec].requests;
      if (cls >= 4) ++r_.timeline[sec].errors;
    }
  }
  if (cls >= 4) live_.errors.add();
  s.status = 0;
  if (o_.mode == Mode::tcp_connect) {
    kick(s, now);
    return;
  }
  s.state = SlotState::ready;
  if (o_.mode == Mode::http_close || s.close_after) let_go(s, LetGo::close);
  kick(s, now);
}

void Client::count_error(uint64_t* counter, uint64_t now) {
  live_.errors.add();
  if (phase_ != Phase::measure) return;
  ++*counter;
  const size_t sec = static_cast<size_t>((now - r_.window_start) / hz_);
  if (sec < r_.timeline.size()) ++r_.timeline[sec].errors;
}

// The slot lets go of its connection (FIN, RST, or nothing when the stack
// already freed it) and is free for the next request.
void Client::let_go(Slot& s, LetGo how) {
  timers_.cancel(s.timer);
  if (s.conn != nullptr) {
    if (how == LetGo::close) s_.close(s.conn);
    if (how == LetGo::abort) s_.abort(s.conn);
    s.conn = nullptr;
    ++r_.conn_closed;
    live_.open_conns.set(live_.open_conns.get() - 1);
  }
  s.state = SlotState::idle;
  s.body = Body::head;
  s.head_len = 0;
  s.status = 0;
}

void Client::fail(Slot& s, uint64_t* counter) {
  const uint64_t now = rte_rdtsc();
  count_error(counter, now);
  let_go(s, LetGo::abort);
  kick(s, now);
}

void Client::on_closed(void* app, tcp::Conn*, tcp::CloseReason why) {
  Slot& s = *static_cast<Slot*>(app);
  s.owner->lost(s, why);
}

void Client::lost(Slot& s, tcp::CloseReason why) {
  const uint64_t now = rte_rdtsc();
  const bool connecting = s.state == SlotState::connecting;
  const bool waiting = s.state == SlotState::waiting;
  let_go(s, LetGo::gone);
  if (connecting) {
    ++r_.conn_failed;
    count_error(&r_.err_connect, now);
    if (may_send()) {
      s.state = SlotState::backoff;  // do not spin on a refusing server
      timers_.arm(s.timer, now + hz_ / 1000 * kBackoffMs);
    }
    return;
  }
  if (waiting || why != tcp::CloseReason::normal) count_error(why == tcp::CloseReason::timeout ? &r_.err_timeout : &r_.err_reset, now);
  kick(s, now);
}

void Client::on_timer(Timer*, void* arg) {
  Slot& s = *static_cast<Slot*>(arg);
  Client& self = *s.owner;
  if (s.state == SlotState::backoff) {
    s.state = SlotState::idle;
    self.kick(s, rte_rdtsc());
    return;
  }
  if (s.state == SlotState::waiting) self.fail(s, &self.r_.err_timeout);
}

// Open loop: wake every slot whose turn came since the last pass. Slots that
// are busy pick their turn up when their answer completes (kick()).
unsigned Client::schedule(uint64_t now) {
  if (o_.rate <= 0 || now < t0_) return 0;
  const uint64_t due = due_index(now);
  if (due < next_due_) return 0;
  unsigned started = 0;
  if (due - next_due_ >= nslots_) {
    for (uint32_t i = 0; i < nslots_; ++i) started += kick(slots_[i], now);
  } else {
    for (uint64_t j = next_due_; j <= due; ++j) started += kick(slots_[j % nslots_], now);
  }
  next_due_ = due + 1;
  return started;
}

unsigned Client::poll(uint64_t now) {
  switch (phase_) {
    case Phase::warmup:
      if (now >= warmup_end_) enter(Phase::measure, now);
      break;
    case Phase::measure:
      if (now >= measure_end_) enter(Phase::finishing, now);
      break;
    case Phase::finishing:
      return finish(now);
    default:
      return 0;
  }
  return schedule(now);
}

// After the window: let answers in flight land (not counted), then close
// every connection with a FIN and wait for the stack to let go of them.
unsigned Client::finish(uint64_t now) {
  bool in_flight = false;
  for (uint32_t i = 0; i < nslots_; ++i) {
    Slot& s = slots_[i];
    if (s.state == SlotState::waiting && o_.mode != Mode::tcp_bulk && now < finish_deadline_) {
      in_flight = true;
      continue;
    }
    // Half-done work is cut (RST); idle keep-alive connections get a FIN.
    let_go(s, s.state == SlotState::ready ? LetGo::close : LetGo::abort);
  }
  if (in_flight) return 0;
  if (s_.connections() == 0 || now >= finish_deadline_ + static_cast<uint64_t>(kCloseSeconds * static_cast<double>(hz_))) {
    phase_ = Phase::done;
    live_.phase.store(Phase::done, std::memory_order_relaxed);
  }
  return 0;
}

}  // namespace lg::bench
