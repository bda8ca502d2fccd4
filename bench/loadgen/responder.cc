#include "bench/loadgen/responder.h"

#include <rte_cycles.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace lg::bench {

const tcp::AppOps Responder::kHttpOps = {&Responder::on_accept_http, nullptr, &Responder::on_readable,
                                         &Responder::on_writable, &Responder::on_closed};
const tcp::AppOps Responder::kSourceOps = {&Responder::on_accept_source, nullptr, &Responder::on_readable,
                                           &Responder::on_writable, &Responder::on_closed};

Responder::Responder(const ResponderOptions& o, tcp::TcpStack& s, TimerWheel& timers, Live& live, uint64_t tsc_hz,
                     uint32_t max_connections)
    : o_(o), s_(s), timers_(timers), live_(live), hz_(tsc_hz), max_connections_(max_connections) {}

Responder::~Responder() {
  for (uint32_t i = 0; peers_ && i < max_connections_; ++i) timers_.cancel(peers_[i].timer);
}

bool Responder::init(std::string* error) {
  if (!body_.build(s_.pool())) {
    *error = "no mbufs for the response body template";
    return false;
  }
  for (const StatusWeight& w : o_.statuses) weight_total_ += w.weight;
  peers_ = std::make_unique<Peer[]>(max_connections_);
  heads_ = std::make_unique_for_overwrite<char[]>(2 * size_t{kHeadBuffer} * max_connections_);
  parsed_ = std::make_unique<http1::MessageHead>();
  for (uint32_t i = 0; i < max_connections_; ++i) {
    peers_[i].owner = this;
    peers_[i].head = heads_.get() + 2 * size_t{kHeadBuffer} * i;
    peers_[i].stash = peers_[i].head + kHeadBuffer;
    peers_[i].timer.cb = &Responder::on_timer;
    peers_[i].timer.arg = &peers_[i];
  }
  if (o_.listen != 0 && s_.listen(o_.listen, &kHttpOps, this) == nullptr) {
    *error = "cannot listen on port " + std::to_string(o_.listen);
    return false;
  }
  if (o_.source_port != 0 && s_.listen(o_.source_port, &kSourceOps, this) == nullptr) {
    *error = "cannot listen on port " + std::to_string(o_.source_port);
    return false;
  }
  return true;
}

// xorshift64*: sizes, delays and statuses need spread, not secrecy.
uint64_t Responder::pick(const Range& r) {
  if (r.fixed()) return r.lo;
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return r.lo + (rng_ * 0x2545f4914f6cdd1dull) % (r.hi - r.lo + 1);
}

Responder::Peer* Responder::accept(tcp::Conn* c, bool source) {
  if (c->index >= max_connections_) return nullptr;
  Peer& p = peers_[c->index];
  timers_.cancel(p.timer);
  p.body = Body::head;
  p.close_after = p.delayed = false;
  p.status = 200;
  p.body_left = p.owed = 0;
  p.head_len = p.stash_len = 0;
  p.conn = c;
  p.source = source;
  c->app = &p;
  ++r_.connections;
  return &p;
}

bool Responder::on_accept_http(void* ctx, tcp::Conn* c) {
  return static_cast<Responder*>(ctx)->accept(c, false) != nullptr;
}

bool Responder::on_accept_source(void* ctx, tcp::Conn* c) {
  Responder& self = *static_cast<Responder*>(ctx);
  Peer* p = self.accept(c, true);
  if (p == nullptr) return false;
  p->owed = UINT64_MAX;
  self.writable(*p);
  return true;
}

void Responder::on_readable(void* app, tcp::Conn*) {
  Peer& p = *static_cast<Peer*>(app);
  p.owner->readable(p);
}

void Responder::on_writable(void* app, tcp::Conn*) {
  Peer& p = *static_cast<Peer*>(app);
  p.owner->writable(p);
}

void Responder::on_closed(void* app, tcp::Conn*, tcp::CloseReason) {
  Peer& p = *static_cast<Peer*>(app);
  p.owner->timers_.cancel(p.timer);
  p.conn = nullptr;
}

void Responder::on_timer(Timer*, void* arg) {
  Peer& p = *static_cast<Peer*>(arg);
  if (p.conn == nullptr || !p.delayed) return;
  p.delayed = false;
  p.owner->respond(p);
  if (p.conn != nullptr) p.owner->readable(p);  // requests that queued behind the delayed one
}

void Responder::writable(Peer& p) {
  if (p.owed == 0) return;
  const uint64_t before = p.owed;
  if (!pump_body(s_, p.conn, body_, &p.owed)) {
    drop(p);
    return;
  }
  r_.bytes_sent += before - p.owed;
  if (p.owed == 0 && !p.source) {
    if (p.close_after) {
      s_.close(p.conn);
      p.conn = nullptr;
      return;
    }
    readable(p);  // pipelined requests waited for this body
  }
}

// Requests in order, one answer at a time: while an answer waits for its
// delay or its body is still going out, what follows it stays in the TCP
// receive queue (or, for the rest of a chain already read, in the stash).
void Responder::readable(Peer& p) {
  tcp::Conn* c = p.conn;
  if (c == nullptr) return;
  if (p.stash_len > 0 && !p.blocked()) {
    uint32_t off = 0, used = 0;
    while (off < p.stash_len && !p.blocked() && p.conn == c) {
      if (!consume(p, p.stash + off, p.stash_len - off, &used)) return;
      off += used;
    }
    if (p.conn != c) return;
    std::memmove(p.stash, p.stash + off, p.stash_len - off);
    p.stash_len -= off;
  }
  while (p.conn == c && !p.blocked() && p.stash_len == 0) {
    rte_mbuf* m = s_.read(c, UINT32_MAX);
    if (m == nullptr) break;
    bool ok = true;
    for (rte_mbuf* seg = m; seg != nullptr && ok; seg = seg->next)
      ok = p.source || feed(p, rte_pktmbuf_mtod(seg, const char*), seg->data_len);
    rte_pktmbuf_free(m);
    if (!ok) return;
  }
  if (p.conn == c && s_.eof(c) && !p.blocked() && p.stash_len == 0) {
    s_.close(c);
    p.conn = nullptr;
  }
}

bool Responder::feed(Peer& p, const char* data, uint32_t n) {
  tcp::Conn* c = p.conn;
  while (n > 0) {
    if (p.conn != c) return false;
    if (p.blocked() || p.stash_len > 0) {
      if (n > kHeadBuffer - p.stash_len) {
        bad_request(p);  // a deep pipeline behind a delayed answer: more than the stash holds
        return false;
      }
      std::memcpy(p.stash + p.stash_len, data, n);
      p.stash_len += n;
      return true;
    }
    uint32_t used = 0;
    if (!consume(p, data, n, &used)) return false;
    data += used;
    n -= used;
  }
  return p.conn == c;
}

bool Responder::consume(Peer& p, const char* data, uint32_t n, uint32_t* used) {
  *used = 0;
  switch (p.body) {
    case Body::head:
      if (!parse_head(p, data, n, used)) {
        bad_request(p);
        return false;
      }
      if (p.body == Body::head && p.status != 0) request_done(p);
      return true;
    case Body::length:
      *used = static_cast<uint32_t>(std::min<uint64_t>(n, p.body_left));
      p.body_left -= *used;
      if (p.body_left == 0) request_done(p);
      return true;
    case Body::chunked: {
      if (p.chunked.data_remaining() > 0) {
        *used = static_cast<uint32_t>(std::min<uint64_t>(n, p.chunked.data_remaining()));
        p.chunked.skip_data(*used);
        return true;
      }
      size_t took = 0;
      const auto st = p.chunked.feed(data, n, &took);
      *used = static_cast<uint32_t>(took);
      if (st == http1::ChunkedDecoder::Status::error) {
        bad_request(p);
        return false;
      }
      if (st == http1::ChunkedDecoder::Status::done) request_done(p);
      return true;
    }
  }
  return false;
}

bool Responder::parse_head(Peer& p, const char* data, uint32_t n, uint32_t* used) {
  http1::MessageHead& h = *parsed_;
  http1::ParseError err;
  const uint32_t before = p.head_len;
  http1::ParseStatus st;
  if (before == 0) {
    st = http1::parse_request(data, n, &h, &err);
  } else {
    const uint32_t take = std::min<uint32_t>(n, kHeadBuffer - before);
    std::memcpy(p.head + before, data, take);
    p.head_len += take;
    st = http1::parse_request(p.head, p.head_len, &h, &err);
  }
  p.status = 0;
  if (st == http1::ParseStatus::error) return false;
  if (st == http1::ParseStatus::need_more) {
    if (before == 0) {
      if (n > kHeadBuffer) return false;
      std::memcpy(p.head, data, n);
      p.head_len = n;
    } else if (p.head_len == kHeadBuffer) {
      return false;
    }
    *used = n;
    return true;
  }
  *used = h.head_bytes - before;
  p.head_len = 0;
  p.close_after = !h.keep_alive;
  // The answer is chosen now; it goes out when the body has been read.
  uint64_t pick_status = 0;
  if (o_.statuses.size() > 1) pick_status = pick(Range{0, weight_total_ - 1});
  p.status = o_.statuses[0].code;
  for (const StatusWeight& w : o_.statuses) {
    if (pick_status < w.weight) {
      p.status = w.code;
      break;
    }
    pick_status -= w.weight;
  }
  switch (h.body) {
    case http1::BodyKind::length:
      p.body_left = h.content_length;
      p.body = h.content_length == 0 ? Body::head : Body::length;
      break;
    case http1::BodyKind::chunked:
      p.chunked.reset();
      p.body = Body::chunked;
      break;
    default:
      p.body = Body::head;
      break;
  }
  return true;
}

void Responder::request_done(Peer& p) {
  p.body = Body::head;
  ++r_.requests;
  live_.responder_requests.add();
  const uint64_t delay_us = pick(o_.delay_us);
  if (delay_us == 0) {
    respond(p);
    return;
  }
  p.delayed = true;
  timers_.arm(p.timer, rte_rdtsc() + hz_ / 1000000 * delay_us);
}

namespace {

const char* reason(uint16_t status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

}  // namespace

void Responder::respond(Peer& p) {
  const bool no_body = p.status == 204 || p.status == 304 || p.status < 200;
  const uint64_t size = no_body ? 0 : pick(o_.response_bytes);
  rte_mbuf* m = rte_pktmbuf_alloc(s_.pool());
  if (m == nullptr) {
    drop(p);  // out of mbufs: the client sees a reset and counts it
    return;
  }
  // The head by hand: snprintf showed in the generator's profile.
  char* const h = rte_pktmbuf_mtod(m, char*);
  char* w = h;
  auto put = [&w](std::string_view v) {
    std::memcpy(w, v.data(), v.size());
    w += v.size();
  };
  put("HTTP/1.1 ");
  w = std::to_chars(w, w + 3, p.status).ptr;
  put(" ");
  put(reason(p.status));
  put("\r\nServer: linegate-loadgen\r\n");
  if (!no_body) {
    put("Content-Length: ");
    w = std::to_chars(w, w + 20, size).ptr;
    put("\r\n");
  }
  if (p.close_after) put("Connection: close\r\n");
  put("\r\n");
  const auto len = static_cast<uint32_t>(w - h);
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = static_cast<uint32_t>(len);
  // Small bodies travel in the head's segment; larger ones are pumped.
  uint64_t rest = size;
  if (size <= 1024 && body_.append(m, size, s_.pool())) rest = 0;
  const uint32_t first = rte_pktmbuf_pkt_len(m);
  if (s_.write(p.conn, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    drop(p);
    return;
  }
  r_.bytes_sent += first;
  p.owed = rest;
  if (rest > 0) {
    writable(p);
    return;
  }
  if (p.close_after) {
    s_.close(p.conn);
    p.conn = nullptr;
  }
}

void Responder::bad_request(Peer& p) {
  ++r_.bad_requests;
  static constexpr char k400[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  if (rte_mbuf* m = rte_pktmbuf_alloc(s_.pool())) {
    std::memcpy(rte_pktmbuf_append(m, sizeof(k400) - 1), k400, sizeof(k400) - 1);
    if (s_.write(p.conn, m) != tcp::IoStatus::ok) rte_pktmbuf_free(m);
  }
  s_.close(p.conn);
  p.conn = nullptr;
}

void Responder::drop(Peer& p) {
  timers_.cancel(p.timer);
  if (p.conn != nullptr) s_.abort(p.conn);
  p.conn = nullptr;
}

}  // namespace lg::bench
