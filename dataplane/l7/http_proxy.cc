#include "dataplane/l7/http_proxy.h"

#include <algorithm>
#include <utility>

#include "dataplane/config/tls_servers.h"
#include "dataplane/l7/head_writer.h"
#include "dataplane/l7/heads.h"
#include "dataplane/l7/stream.h"
#include "dataplane/upstream/hash.h"

namespace lg::l7 {
using config::kNone;
using upstream::ClusterStat;
using upstream::ListenerStat;

namespace {

Stream* stream(void* app) { return static_cast<Stream*>(app); }

bool on_accept(void* ctx, tcp::Conn* c) { return static_cast<HttpProxy*>(ctx)->accept(c); }
void down_readable(void* app, tcp::Conn*) { stream(app)->proxy->down_readable(stream(app)); }
void down_writable(void* app, tcp::Conn*) { stream(app)->proxy->down_writable(stream(app)); }
void down_closed(void* app, tcp::Conn*, tcp::CloseReason why) { stream(app)->proxy->down_closed(stream(app), why); }
void up_connected(void* app, tcp::Conn*) { stream(app)->proxy->up_connected(stream(app)); }
void up_readable(void* app, tcp::Conn*) { stream(app)->proxy->up_readable(stream(app)); }
void up_writable(void* app, tcp::Conn*) { stream(app)->proxy->up_writable(stream(app)); }
void up_closed(void* app, tcp::Conn*, tcp::CloseReason why) { stream(app)->proxy->up_closed(stream(app), why); }
void on_timer(Timer*, void* arg) { stream(arg)->proxy->timer_fired(stream(arg)); }

// An idle pooled connection: any data or close from the upstream ends it.
upstream::PooledConn* pooled(void* app) { return static_cast<upstream::PooledConn*>(app); }
void idle_readable(void* app, tcp::Conn*) { pooled(app)->pool->expire(pooled(app), false); }
void idle_closed(void* app, tcp::Conn*, tcp::CloseReason) { pooled(app)->pool->expire(pooled(app), false); }
void on_idle_end(void* ctx, upstream::PooledConn* p, bool timed_out) {
  static_cast<HttpProxy*>(ctx)->idle_ended(p, timed_out);
}

const tcp::AppOps kDownstreamOps = {on_accept, nullptr, down_readable, down_writable, down_closed};
const tcp::AppOps kUpstreamOps = {nullptr, up_connected, up_readable, up_writable, up_closed};

constexpr uint32_t kMaxFraming = 512;      // chunk-size lines are peeked this much at a time
constexpr uint32_t kLocalReplyRoom = 4096; // send space a local answer needs before we read the next request

}  // namespace

const tcp::AppOps kIdleOps = {nullptr, nullptr, idle_readable, nullptr, idle_closed};

HttpProxy::HttpProxy(const HttpProxyConfig& cfg, unsigned worker, tcp::TcpStack& stack, TimerWheel& timers,
                     upstream::ClusterManager& clusters, upstream::UpstreamRegistry& registry,
                     config::TablePublisher* publisher, uint64_t tsc_hz, tlsterm::TlsWorker* tls)
    : cfg_(cfg),
      worker_(worker),
      stack_(stack),
      timers_(timers),
      clusters_(clusters),
      registry_(registry),
      publisher_(publisher),
      tls_(tls),
      cycles_per_ms_(tsc_hz / 1000),
      streams_(new Stream[cfg.max_streams]()),
      pool_(cfg.max_upstream_conns, 4096, timers, tsc_hz, on_idle_end, this),
      mirrors_(new Mirror[cfg.max_mirrors]()),
      pending_slots_(registry.cluster_capacity()),
      head_(new http1::MessageHead()),
      buf_(new char[cfg.limits.max_head_bytes + 1]),
      scratch_(new char[kScratchBytes]),
      rng_(0x9E3779B97F4A7C15ull * (worker + 1) ^ tsc_hz) {
  for (uint32_t i = cfg.max_streams; i-- > 0;) {
    Stream& s = streams_[i];
    s.proxy = this;
    s.timer.cb = on_timer;
    s.timer.arg = &s;
    s.next = free_;
    free_ = &s;
  }
  for (uint32_t i = cfg.max_mirrors; i-- > 0;) {
    mirrors_[i].proxy = this;
    mirrors_[i].next_free = free_mirrors_;
    free_mirrors_ = &mirrors_[i];
  }
  pending_head_.reset(new Stream*[pending_slots_]());
  pending_tail_.reset(new Stream*[pending_slots_]());
  pending_count_.reset(new uint32_t[pending_slots_]());
  weyl_ = uint64_t{worker} * 0x632BE59BD9B4E019ull;
}

HttpProxy::~HttpProxy() {
  for (uint32_t i = 0; i < cfg_.max_streams; ++i) timers_.cancel(streams_[i].timer);
}

uint64_t HttpProxy::rand64() {
  // xorshift64*: fault draws, request ids, cookies (not secrets).
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545F4914F6CDD1Dull;
}

void HttpProxy::set_tables(const config::RuntimeTables* t) {
  t_ = t;
  if (t == nullptr || t->generation == generation_) return;
  generation_ = t->generation;
  if (draining_) return;
  uint16_t want[tcp::kMaxListeners];
  ports_.follow(stack_, {want, t->listener_ports(true, want)}, &kDownstreamOps, this);
}

void HttpProxy::drain() {
  if (draining_) return;
  draining_ = true;
  ports_.close_all(stack_);
  // Connections close after their next response (Connection: close). One
  // idle between requests closes once it stayed idle kDrainIdleMs: closing
  // it at once would race a request the client is sending right now.
  for (uint32_t i = 0; i < cfg_.max_streams; ++i) {
    Stream* s = &streams_[i];
    if (s->down != nullptr && s->phase == Phase::head && !s->timer.armed()) arm(s, kDrainIdleMs);
  }
}

// ------------------------------------------------------------------ pins

bool HttpProxy::pin(Stream* s) {
  const uint64_t g = t_->generation;
  Pin* free_pin = nullptr;
  for (Pin& p : pins_) {
    if (p.count != 0 && p.generation == g) {
      ++p.count;
      s->t = t_;
      return true;
    }
    if (p.count == 0 && free_pin == nullptr) free_pin = &p;
  }
  if (free_pin == nullptr) return false;  // requests in flight on eight generations at once
  *free_pin = {g, 1};
  s->t = t_;
  publish_pins();
  return true;
}

void HttpProxy::unpin(Stream* s) {
  if (s->t == nullptr) return;
  const uint64_t g = s->t->generation;
  s->t = nullptr;
  for (Pin& p : pins_)
    if (p.count != 0 && p.generation == g) {
      if (--p.count == 0) publish_pins();
      return;
    }
}

void HttpProxy::publish_pins() {
  uint64_t oldest = UINT64_MAX;
  for (const Pin& p : pins_)
    if (p.count != 0) oldest = std::min(oldest, p.generation);
  if (oldest != published_pin_ && publisher_ != nullptr) publisher_->pinned(worker_, oldest);
  published_pin_ = oldest;
}

// --------------------------------------------------------------- streams

Stream* HttpProxy::alloc() {
  Stream* s = free_;
  if (s == nullptr) return nullptr;
  free_ = s->next;
  s->next = nullptr;
  s->down = nullptr;
  s->up = nullptr;
  s->t = nullptr;
  s->phase = Phase::head;
  s->keep_alive = true;
  s->in_request = false;
  s->up_head = s->body = nullptr;
  s->log = nullptr;
  ++active_;
  return s;
}

void HttpProxy::release(Stream* s) {
  timers_.cancel(s->timer);
  s->down = nullptr;
  ++s->serial;
  s->next = free_;
  free_ = s;
  --active_;
}

void HttpProxy::free_request_buffers(Stream* s) {
  rte_pktmbuf_free(std::exchange(s->up_head, nullptr));
  rte_pktmbuf_free(std::exchange(s->body, nullptr));
}

void HttpProxy::reset_request(Stream* s) {
  s->route = nullptr;
  s->dest = 0;
  s->cluster_stats = kNone;
  s->timeout_at_us = 0;
  s->retries = 0;
  s->flags = 0;
  s->delay_done = s->replayable = s->upgrade = false;
  s->req_done = s->resp_started = s->resp_done = s->head_sent = s->pending_queued = false;
  s->up_keep_alive = true;
  s->req_body = s->resp_body = http1::BodyKind::none;
  s->req_left = s->resp_left = 0;
  s->req_chunks.reset();
  s->resp_chunks.reset();
  s->origin_len = s->cookie_len = 0;
  s->head_bytes = 0;
  s->rx_body = s->tx_body = 0;
}

upstream::ListenerStats& HttpProxy::lstats(const Stream* s) { return registry_.listener(worker_, s->listener_stats); }
void HttpProxy::lcount(const Stream* s, ListenerStat st, uint64_t n) { lstats(s).add(static_cast<unsigned>(st), n); }
void HttpProxy::ccount(const Stream* s, ClusterStat st, uint64_t n) {
  if (s->cluster_stats != kNone) registry_.cluster(worker_, s->cluster_stats).add(static_cast<unsigned>(st), n);
}
void HttpProxy::arm(Stream* s, uint64_t ms) { timers_.arm_after(s->timer, ms * cycles_per_ms_); }

bool HttpProxy::accept(tcp::Conn* c) {
  const config::ListenerSlot* l = t_ ? t_->find_listener(c->key.lport) : nullptr;
  if (l == nullptr || l->kind != config::ListenerKind::http || draining_) return false;
  // HTTPS: the connection's TLS channel goes under it first; this proxy
  // then reads and writes plaintext through the same calls.
  if (l->terminates_tls && (tls_ == nullptr || !tls_->attach(c, t_, *l))) {
    registry_.listener(worker_, l->stats_id).add(static_cast<unsigned>(ListenerStat::downstream_cx_overflow));
    return false;
  }
  Stream* s = alloc();
  if (s == nullptr) {
    registry_.listener(worker_, l->stats_id).add(static_cast<unsigned>(ListenerStat::downstream_cx_overflow));
    return false;
  }
  s->down = c;
  s->listener_stats = l->stats_id;
  s->conn_id = (++connections_ << 8) | (worker_ & 0xff);
  c->app = s;
  reset_request(s);
  lcount(s, ListenerStat::downstream_cx_total);
  lcount(s, ListenerStat::downstream_cx_active);
  return true;
}

void HttpProxy::end_stream(Stream* s, bool reset) {
  if (s->up != nullptr) drop_upstream(s, true);
  if (s->pending_queued) unqueue_pending(s);
  free_request_buffers(s);
  close_request(s);
  unpin(s);
  if (tcp::Conn* down = std::exchange(s->down, nullptr)) {
    if (down->ops != nullptr) {
      if (reset) {
        stack_.abort(down);
      } else {
        stack_.close(down);
      }
    }
  }
  lcount(s, ListenerStat::downstream_cx_active, static_cast<uint64_t>(-1));
  release(s);
}

void HttpProxy::down_closed(Stream* s, tcp::CloseReason) {
  // The client went away. A request in flight is abandoned (Envoy: DC).
  if (s->phase != Phase::head) s->flags |= kFlagDC;
  end_stream(s, false);
}

void HttpProxy::down_writable(Stream* s) {
  if (s->phase == Phase::upstream && s->up != nullptr) {
    const uint32_t serial = s->serial;
    if (s->resp_started) pump_response_body(s);
    if (s->serial != serial) return;
  }
  if (s->phase == Phase::tunnel) return tunnel(s);
  if (s->phase == Phase::head) down_readable(s);
}

void HttpProxy::down_readable(Stream* s) {
  switch (s->phase) {
    case Phase::head: {
      // One request at a time; pipelined ones wait here, responses in order.
      const uint32_t serial = s->serial;
      while (s->serial == serial && s->phase == Phase::head && s->down != nullptr) {
        if (stack_.readable(s->down) == 0) {
          if (stack_.eof(s->down)) end_stream(s, false);
          return;
        }
        if (stack_.write_space(s->down) < kLocalReplyRoom) {
          stack_.want_writable(s->down);
          return;
        }
        if (!read_request(s)) return;
      }
      return;
    }
    case Phase::upstream:
      // A client that half-closes after its request still gets the response.
      if (!s->req_done && s->up != nullptr && s->head_sent) pump_request_body(s);
      return;
    case Phase::tunnel:
      return tunnel(s);
    case Phase::delayed:
    case Phase::pending:
    case Phase::closing:
      return;
  }
}

// Returns true when the loop may look for another request.
bool HttpProxy::read_request(Stream* s) {
  const uint32_t have = stack_.readable(s->down);
  const uint32_t n = stack_.peek(s->down, 0, buf_.get(), std::min(have, cfg_.limits.max_head_bytes + 1));
  http1::MessageHead& h = *head_;
  http1::ParseError err;
  switch (http1::parse_request(buf_.get(), n, &h, &err, cfg_.limits)) {
    case http1::ParseStatus::need_more:
      if (stack_.eof(s->down)) end_stream(s, false);  // a partial request and the client is done
      return false;
    case http1::ParseStatus::error:
      lcount(s, ListenerStat::downstream_rq_total);
      lcount(s, ListenerStat::downstream_cx_protocol_error);
      s->head_bytes = n;
      s->keep_alive = false;
      log_request(s, nullptr);
      if (s->log != nullptr) s->log->details = access_log::Details::codec_error;
      local_reply(s, err.status, {}, {}, true);
      return false;
    case http1::ParseStatus::done:
      break;
  }
  s->head_bytes = h.head_bytes;
  if (!s->in_request) {  // a request back from a fault delay is counted once
    s->in_request = true;
    lcount(s, ListenerStat::downstream_rq_total);
    lcount(s, ListenerStat::downstream_rq_active);
  }
  log_request(s, &h);
  process_request(s, h);
  return true;
}

uint32_t HttpProxy::plaintext_server(const config::ListenerSlot& l, const http1::MessageHead& h) {
  if (t_->tls_servers == nullptr) return kNone;
  std::string_view host = h.authority.empty() ? h.host : h.authority;
  if (const size_t colon = host.rfind(':'); colon != std::string_view::npos && !host.ends_with(']'))
    host = host.substr(0, colon);  // the port; "[v6]" keeps its colons
  const size_t n = std::min(host.size(), kScratchBytes);
  std::transform(host.begin(), host.begin() + static_cast<ptrdiff_t>(n), scratch_.get(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return t_->tls_servers->select(l, {scratch_.get(), n});
}

void HttpProxy::process_request(Stream* s, const http1::MessageHead& h) {
  timers_.cancel(s->timer);  // a drain's idle wait ends with a request
  s->method = h.method;
  s->keep_alive = h.keep_alive && !draining_;
  s->upgrade = h.upgrade;
  s->req_body = h.body;
  s->req_left = h.content_length;
  s->req_done = h.body == http1::BodyKind::none || (h.body == http1::BodyKind::length && h.content_length == 0);
  const config::ListenerSlot* l = t_ ? t_->find_listener(s->down->key.lport) : nullptr;
  // An HTTPS server routes with its own table, the one its SNI selected; a
  // plain-text request on a PERMISSIVE/DISABLE mesh port, with the table of
  // the server its Host names.
  const uint32_t tls_server = tlsterm::TlsWorker::server_of(s->down);
  uint32_t server = tls_server;
  if (l != nullptr && server == kNone && l->accepts_plaintext) server = plaintext_server(*l, h);
  uint32_t table = l != nullptr ? l->route_table : kNone;
  if (l != nullptr && server != kNone)
    table = server < l->server_count ? t_->server_route_tables[l->server_first + server] : kNone;
  if (l == nullptr || table == kNone || t_->http_routes == nullptr) {
    s->flags |= kFlagNR;
    return local_reply(s, 404, {});
  }
  if (!pin(s)) return local_reply(s, 503, {});
  const config::RuntimeTables& t = *t_;
  const Routes& routes = *t.http_routes;
  RequestView rv;
  rv.method = h.method_text;
  rv.path = h.path;
  rv.query = h.query;
  rv.authority = h.authority.empty() ? h.host : h.authority;
  rv.scheme = tls_server != kNone ? "https" : "http";
  rv.port = l->port;
  rv.headers = {h.headers, h.header_count};
  uint32_t vh = kNone;
  const uint32_t r = routes.match(table, rv, worker_, &vh);
  if (vh != kNone && tls_server == kNone && routes.require_tls(table, vh)) {
    lcount(s, ListenerStat::rq_https_redirect);
    const size_t n = https_location(rv, scratch_.get(), kScratchBytes);
    return local_reply(s, 301, {}, {scratch_.get(), n});
  }
  if (r == kNoRoute) {
    s->flags |= kFlagNR;
    return local_reply(s, 404, {});
  }
  const Route& route = routes.route(r);
  s->route = &route;
  if (cfg_.max_body_bytes != 0 && h.body == http1::BodyKind::length && h.content_length > cfg_.max_body_bytes) {
    s->keep_alive = false;
    if (s->log != nullptr) s->log->details = access_log::Details::payload_too_large;
    return local_reply(s, 413, "Payload Too Large", {}, true);
  }
  if (route.has_cors && cors(s, h, route)) return;  // preflight answered
  // Fault injection (Envoy's fault filter: delay, then abort).
  if (!s->delay_done && route.delay_ppm != 0 && rand64() % 1000000 < route.delay_ppm) {
    s->flags |= kFlagDI;
    s->phase = Phase::delayed;
    unpin(s);  // routed again, with the tables of then, when the delay ends
    arm(s, route.delay_ms);
    return;
  }
  if (route.abort_ppm != 0 && rand64() % 1000000 < route.abort_ppm) {
    s->flags |= kFlagFI;
    return local_reply(s, route.abort_status, "fault filter abort");
  }
  switch (route.action) {
    case RouteAction::redirect: {
      lcount(s, ListenerStat::rq_redirect);
      const size_t n = routes.redirect_location(route, rv, scratch_.get(), kScratchBytes);
      if (n == SIZE_MAX) return local_reply(s, 500, {});
      return local_reply(s, static_cast<uint16_t>(route.spec->redirect().code()), {}, {scratch_.get(), n});
    }
    case RouteAction::direct_response: {
      lcount(s, ListenerStat::rq_direct_response);
      const auto& dr = route.spec->direct_response();
      return local_reply(s, static_cast<uint16_t>(dr.status()), dr.body());
    }
    case RouteAction::forward:
      return forward(s, h, rv);
  }
}

void HttpProxy::forward(Stream* s, const http1::MessageHead& h, const RequestView& rv) {
  const Route& route = *s->route;
  const Routes& routes = *s->t->http_routes;
  const std::span<const Destination> dests = routes.destinations(route);
  if (dests.empty() || route.total_weight == 0) {
    s->flags |= kFlagNC;
    return local_reply(s, 503, {});
  }
  // A low-discrepancy draw: any weights split evenly over any run of requests.
  weyl_ += 0x9E3779B97F4A7C15ull;
  const uint32_t draw = static_cast<uint32_t>(((weyl_ >> 32) * route.total_weight) >> 32);
  uint32_t d = 0;
  while (d + 1 < dests.size() && draw >= dests[d].cumulative_weight) ++d;
  s->dest = d;
  const uint32_t ci = dests[d].cluster;
  if (ci == UINT32_MAX) {
    s->flags |= kFlagNC;
    return local_reply(s, 503, {});
  }
  s->cluster_stats = s->t->clusters[ci].stats_id;
  s->hash_key = hash_key(s, h, destination_cluster(*s));
  if (route.timeout_ms != 0) s->timeout_at_us = clusters_.now_us() + route.timeout_ms * 1000;

  // The head as the upstream sees it, then the client's head is consumed.
  std::string_view path = h.path;
  if (route.has_rewrite) {
    const size_t n = routes.rewrite_path(route, rv, scratch_.get(), kScratchBytes, worker_);
    if (n == SIZE_MAX) return local_reply(s, 500, {});
    path = {scratch_.get(), n};
  }
  MbufWriter w(stack_.pool());
  const uint64_t id_hi = rand64(), id_lo = rand64();
  if (!write_request_head(w, *s, h, rv, dests[d], path, id_hi, id_lo, false)) return local_reply(s, 503, {}, {}, true);
  log_request_id(s, id_hi, id_lo);
  s->up_head = w.finish();
  if (h.body == http1::BodyKind::chunked && !chunked_prefix_valid(s)) {
    // Framing already received is broken: refuse before anything is forwarded.
    lcount(s, ListenerStat::downstream_cx_protocol_error);
    s->keep_alive = false;
    return local_reply(s, 400, {}, {}, true);
  }
  rte_pktmbuf_free(stack_.read(s->down, s->head_bytes));
  s->head_bytes = 0;
  if (!s->req_done) buffer_small_body(s);
  s->replayable = s->req_done;
  if (h.expect_continue && !s->req_done) {
    // Envoy answers 100-continue itself and strips Expect upstream.
    MbufWriter c(stack_.pool());
    c.put("HTTP/1.1 100 Continue\r\n\r\n");
    if (rte_mbuf* m = c.finish(); m != nullptr && stack_.write(s->down, m) != tcp::IoStatus::ok) rte_pktmbuf_free(m);
  }
  if (route.has_mirror && s->replayable) send_mirror(s, h, rv, path);
  s->phase = Phase::upstream;
  if (s->timeout_at_us != 0) arm(s, route.timeout_ms);
  acquire_upstream(s);
}

uint64_t HttpProxy::hash_key(Stream* s, const http1::MessageHead& h, const linegate::snapshot::v1::Cluster& c) {
  namespace pb = linegate::snapshot::v1;
  const pb::LoadBalancer& lb = c.policy().load_balancer();
  if (!lb.has_consistent_hash()) return rand64();
  const pb::ConsistentHash& ch = lb.consistent_hash();
  switch (ch.key_case()) {
    case pb::ConsistentHash::kHttpHeaderName:
      if (const http1::Header* v = http1::find_header(h, ch.http_header_name())) return upstream::xxh64(v->value);
      return rand64();
    case pb::ConsistentHash::kHttpQueryParameterName: {
      std::string_view v;
      if (query_param(h.query, ch.http_query_parameter_name(), &v)) return upstream::xxh64(v);
      return rand64();
    }
    case pb::ConsistentHash::kHttpCookie: {
      std::string_view v;
      if (cookie_value(h, ch.http_cookie().name(), &v)) return upstream::xxh64(v);
      if (ch.http_cookie().ttl_ms() == 0) return rand64();
      // Envoy issues the cookie when a ttl is set; the request hashes on the value it will carry.
      static constexpr char kHex[] = "0123456789abcdef";
      uint64_t r = rand64();
      for (unsigned i = 0; i < 16; ++i, r >>= 4) s->cookie[i] = kHex[r & 15];
      s->cookie_len = 16;
      return upstream::xxh64({s->cookie, s->cookie_len});
    }
    case pb::ConsistentHash::kUseSourceIp:
      return upstream::xxh64_bytes(s->down->key.remote, s->down->key.family == 4 ? 4 : 16, 0);
    default:
      return rand64();
  }
}

// ------------------------------------------------------------- upstream

bool HttpProxy::acquire_upstream(Stream* s) {
  const uint32_t ci = t_ ? t_->cluster_for_stats_id(s->cluster_stats) : kNone;
  if (ci == kNone) {
    s->flags |= kFlagNC;
    local_reply(s, 503, {});
    return false;
  }
  if (config::tls_unavailable(*t_, ci)) {
    s->flags |= kFlagNC;  // as Envoy answers while a cluster waits for its secret
    local_reply(s, 503, "upstream TLS context unavailable");
    return false;
  }
  const unsigned attempt = s->retries;
  upstream::HostRef h;
  upstream::PickStatus st =
      clusters_.pick_host(ci, s->hash_key, attempt, {s->tried, std::min<size_t>(attempt, 4)}, &h);
  if (st == upstream::PickStatus::none_healthy) {
    s->flags |= kFlagUH;
    local_reply(s, 503, "no healthy upstream");
    return false;
  }
  if (st != upstream::PickStatus::ok) {
    local_reply(s, 503, {});
    return false;
  }
  const config::UpstreamTlsCluster* tls = config::origination(*t_, ci, h.endpoint);  // a context, or null
  if (attempt < 4) s->tried[attempt] = h.endpoint;
  while (upstream::PooledConn* p = pool_.take_idle(h)) {
    // A DestinationRule that turned TLS on or off since: not that one.
    if (p->tls != (tls != nullptr)) {
      discard_idle(p);
      continue;
    }
    bind_upstream(s, p);
    send_request(s);
    return true;
  }
  st = clusters_.reserve(h);
  if (st == upstream::PickStatus::overflow) {
    const auto& http = t_->snapshot->clusters(static_cast<int>(ci)).policy().connection_pool().http();
    const uint32_t max_pending = http.http1_max_pending_requests();
    if (s->cluster_stats < pending_slots_ && (max_pending == 0 || pending_count_[s->cluster_stats] < max_pending)) {
      queue_pending(s);
      return true;
    }
    s->flags |= kFlagUO;
    local_reply(s, 503, "upstream connect error or disconnect/reset before headers. reset reason: overflow");
    return false;
  }
  upstream::PooledConn* p = pool_.alloc(h);
  tcp::Conn* c = p ? stack_.connect_routed(h.family, h.ip(), h.port, &kUpstreamOps, s) : nullptr;
  const config::ClusterSlot& cs = t_->clusters[ci];
  if (c != nullptr && tls != nullptr &&
      (tls_ == nullptr || !tls_->attach_client(c, *tls->context, tls->sni, h.stats_id, cs.connect_timeout_ms))) {
    stack_.abort(c);  // no TLS channel free on this lcore
    c = nullptr;
  }
  if (c == nullptr) {
    clusters_.connection_closed(h);
    if (p) pool_.release(p);
    clusters_.report(h, upstream::Outcome::connect_failure);
    ccount(s, ClusterStat::upstream_cx_connect_fail);
    connect_failed(s);
    return false;
  }
  stack_.set_connect_timeout(c, cs.connect_timeout_ms);
  if (cs.keepalive_time_ms) stack_.set_keepalive(c, cs.keepalive_time_ms, cs.keepalive_interval_ms, cs.keepalive_probes);
  p->conn = c;
  p->tls = tls != nullptr;
  s->up = p;
  return true;
}

void HttpProxy::bind_upstream(Stream* s, upstream::PooledConn* p) {
  p->conn->ops = &kUpstreamOps;
  p->conn->app = s;
  s->up = p;
}

void HttpProxy::up_connected(Stream* s) {
  s->up->connected = true;
  clusters_.report(s->up->host, upstream::Outcome::connect_success_l7);
  send_request(s);
}

void HttpProxy::connect_failed(Stream* s) {
  if (retry(s, RetryReason::connect_failure)) return;
  s->flags |= kFlagUF;
  local_reply(s, 503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
}

void HttpProxy::send_request(Stream* s) {
  upstream::PooledConn* p = s->up;
  ++p->requests;
  ccount(s, ClusterStat::upstream_rq_total);
  rte_mbuf* m = s->replayable ? rte_pktmbuf_clone(s->up_head, stack_.pool()) : std::exchange(s->up_head, nullptr);
  if (m != nullptr && s->body != nullptr) {
    rte_mbuf* b = rte_pktmbuf_clone(s->body, stack_.pool());
    if (b == nullptr || rte_pktmbuf_chain(m, b) != 0) {
      rte_pktmbuf_free(b);
      rte_pktmbuf_free(m);
      m = nullptr;
    }
  }
  if (m == nullptr || stack_.write(p->conn, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    return upstream_failed(s);
  }
  s->head_sent = true;
  log_sent(s);
  // perTryTimeout bounds each try (within the route timeout).
  const Route& r = *s->route;
  if (r.per_try_timeout_ms != 0 && r.retry_attempts != 0) {
    uint64_t ms = r.per_try_timeout_ms;
    if (s->timeout_at_us != 0) {
      const uint64_t now = clusters_.now_us();
      ms = std::min<uint64_t>(ms, s->timeout_at_us > now ? (s->timeout_at_us - now + 999) / 1000 : 0);
    }
    arm(s, ms);
  }
  if (!s->req_done) pump_request_body(s);
}

bool HttpProxy::move(tcp::Conn* from, tcp::Conn* to, uint32_t n) {
  rte_mbuf* m = stack_.read(from, n);
  if (m == nullptr) return false;
  if (stack_.write(to, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

// A complete Content-Length body small enough is taken off the receive queue
// and held, so a retry or a mirror can send it again.
bool HttpProxy::buffer_small_body(Stream* s) {
  if (s->req_body != http1::BodyKind::length || s->req_left > cfg_.buffer_body_bytes ||
      stack_.readable(s->down) < s->req_left)
    return false;
  s->body = stack_.read(s->down, static_cast<uint32_t>(s->req_left));
  if (s->body == nullptr) return false;
  s->rx_body += s->req_left;
  s->req_left = 0;
  s->req_done = true;
  return true;
}

// Checks the chunk framing of the body bytes already received (up to the
// peek buffer), without consuming them: a request that is visibly broken is
// answered 400 before its head reaches an upstream.
bool HttpProxy::chunked_prefix_valid(Stream* s) {
  const uint32_t have = stack_.readable(s->down);
  if (have <= s->head_bytes) return true;
  const uint32_t n = stack_.peek(s->down, s->head_bytes, buf_.get(), std::min(have - s->head_bytes, cfg_.limits.max_head_bytes));
  http1::ChunkedDecoder dec;
  size_t at = 0;
  while (at < n) {
    if (dec.data_remaining() != 0) {
      const uint64_t k = std::min<uint64_t>(dec.data_remaining(), n - at);
      dec.skip_data(k);
      at += k;
      continue;
    }
    size_t used = 0;
    const auto st = dec.feed(buf_.get() + at, n - at, &used);
    if (st == http1::ChunkedDecoder::Status::error) return false;
    at += used;
    if (st == http1::ChunkedDecoder::Status::done || st == http1::ChunkedDecoder::Status::need_more) break;
  }
  return true;
}

// Moves body bytes src → dst as far as both sides allow: Content-Length
// bodies counted down in `left`, chunked framing checked as it passes (and
// forwarded as received), until-close bodies whatever arrives (their end is
// src's end of stream, which the caller sees).
HttpProxy::Pump HttpProxy::pump_body(tcp::Conn* src, tcp::Conn* dst, http1::BodyKind kind, uint64_t& left,
                                     http1::ChunkedDecoder& chunks, uint64_t& moved) {
  for (;;) {
    const uint32_t have = stack_.readable(src);
    const uint32_t space = stack_.write_space(dst);
    if (have == 0 || space == 0) return Pump::blocked;
    if (kind != http1::BodyKind::chunked || chunks.data_remaining() != 0) {
      const uint64_t body = kind == http1::BodyKind::length    ? left
                            : kind == http1::BodyKind::chunked ? chunks.data_remaining()
                                                               : have;
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>({body, have, space}));
      if (!move(src, dst, n)) return Pump::io_error;
      moved += n;
      if (kind == http1::BodyKind::chunked) chunks.skip_data(n);
      if (kind == http1::BodyKind::length && (left -= n) == 0) return Pump::done;
      continue;
    }
    const uint32_t k = std::min({have, space, kMaxFraming});
    const uint32_t got = stack_.peek(src, 0, buf_.get(), k);
    size_t used = 0;
    const auto st = chunks.feed(buf_.get(), got, &used);
    if (st == http1::ChunkedDecoder::Status::error) return Pump::framing_error;
    if (used != 0 && !move(src, dst, static_cast<uint32_t>(used))) return Pump::io_error;
    if (st == http1::ChunkedDecoder::Status::done) return Pump::done;
    if (st == http1::ChunkedDecoder::Status::need_more && used == got && got == have) return Pump::blocked;
  }
}

void HttpProxy::pump_request_body(Stream* s) {
  if (s->req_done) return;
  switch (pump_body(s->down, s->up->conn, s->req_body, s->req_left, s->req_chunks, s->rx_body)) {
    case Pump::done:
      s->req_done = true;
      return;
    case Pump::io_error:
      return upstream_failed(s);
    case Pump::framing_error:
      lcount(s, ListenerStat::downstream_cx_protocol_error);
      drop_upstream(s, true);
      s->keep_alive = false;
      if (!s->resp_started) return local_reply(s, 400, {}, {}, true);
      return end_stream(s, true);
    case Pump::blocked:
      break;
  }
  if (stack_.readable(s->down) != 0) {
    stack_.want_writable(s->up->conn);
  } else if (stack_.eof(s->down)) {
    s->flags |= kFlagDC;  // the client ended in the middle of its body
    end_stream(s, true);
  }
}

void HttpProxy::up_writable(Stream* s) {
  if (s->phase == Phase::tunnel) return tunnel(s);
  if (s->phase == Phase::upstream && s->head_sent && !s->req_done) pump_request_body(s);
}

void HttpProxy::drop_upstream(Stream* s, bool reset) {
  upstream::PooledConn* p = std::exchange(s->up, nullptr);
  if (p == nullptr) return;
  const upstream::HostRef host = p->host;
  if (p->conn != nullptr && p->conn->ops != nullptr) {
    ccount(s, ClusterStat::upstream_cx_destroy_local);
    if (reset) {
      stack_.abort(p->conn);
    } else {
      stack_.close(p->conn);
    }
  }
  pool_.release(p);
  clusters_.connection_closed(host);
  serve_pending(host.stats_id, nullptr);
}

void HttpProxy::discard_idle(upstream::PooledConn* p) {
  const upstream::HostRef host = p->host;
  stack_.close(p->conn);
  registry_.cluster(worker_, host.stats_id).add(static_cast<unsigned>(ClusterStat::upstream_cx_destroy_local));
  pool_.release(p);
  clusters_.connection_closed(host);
}

void HttpProxy::idle_ended(upstream::PooledConn* p, bool timed_out) {
  const upstream::HostRef host = p->host;
  // ops is cleared while the stack reports a close: nothing left to close.
  if (p->conn->ops != nullptr) stack_.close(p->conn);
  registry_.cluster(worker_, host.stats_id)
      .add(static_cast<unsigned>(timed_out ? ClusterStat::upstream_cx_idle_timeout : ClusterStat::upstream_cx_destroy_remote));
  pool_.release(p);
  clusters_.connection_closed(host);
  serve_pending(host.stats_id, nullptr);
}

// ---------------------------------------------------------------- pending

void HttpProxy::queue_pending(Stream* s) {
  const uint32_t id = s->cluster_stats;
  ccount(s, ClusterStat::upstream_rq_pending_total);
  s->phase = Phase::pending;
  s->pending_queued = true;
  s->next = nullptr;
  if (pending_tail_[id]) {
    pending_tail_[id]->next = s;
  } else {
    pending_head_[id] = s;
  }
  pending_tail_[id] = s;
  ++pending_count_[id];
}

void HttpProxy::unqueue_pending(Stream* s) {
  const uint32_t id = s->cluster_stats;
  Stream* prev = nullptr;
  for (Stream* q = pending_head_[id]; q != nullptr; prev = q, q = q->next) {
    if (q != s) continue;
    if (prev) {
      prev->next = q->next;
    } else {
      pending_head_[id] = q->next;
    }
    if (pending_tail_[id] == q) pending_tail_[id] = prev;
    --pending_count_[id];
    break;
  }
  s->next = nullptr;
  s->pending_queued = false;
}

// A connection of cluster `id` became idle (p) or closed (p null): the
// oldest waiting request takes it, or the freed slot.
bool HttpProxy::serve_pending(uint32_t id, upstream::PooledConn* p) {
  if (id >= pending_slots_ || pending_head_[id] == nullptr) return false;
  Stream* s = pending_head_[id];
  unqueue_pending(s);
  s->phase = Phase::upstream;
  if (p != nullptr) {
    bind_upstream(s, p);
    send_request(s);
  } else {
    acquire_upstream(s);
  }
  return true;
}

}  // namespace lg::l7
