// The response half of an exchange: response heads parsed and rewritten,
// bodies moved upstream → downstream, retries, timeouts, upgrades, and the
// end of an exchange (the upstream connection back to its pool).
#include <algorithm>
#include <utility>

#include "dataplane/l7/head_writer.h"
#include "dataplane/l7/heads.h"
#include "dataplane/l7/http_proxy.h"
#include "dataplane/l7/stream.h"

namespace lg::l7 {
using config::kNone;
using upstream::ClusterStat;
using upstream::ListenerStat;

void HttpProxy::up_readable(Stream* s) {
  if (s->phase == Phase::tunnel) return tunnel(s);
  if (s->phase != Phase::upstream || s->up == nullptr) return;
  const uint32_t serial = s->serial;
  if (!s->resp_started) {
    read_response(s);
    if (s->serial != serial || s->phase != Phase::upstream || !s->resp_started) return next_request(s, serial);
  }
  pump_response_body(s);
  next_request(s, serial);
}

// After an exchange ended outside the downstream's own events: a pipelined
// request may be waiting in the receive queue already.
void HttpProxy::next_request(Stream* s, uint32_t serial) {
  if (s->serial == serial && s->phase == Phase::head && s->down != nullptr && stack_.readable(s->down) != 0)
    down_readable(s);
}

void HttpProxy::read_response(Stream* s) {
  tcp::Conn* up = s->up->conn;
  for (;;) {
    const uint32_t have = stack_.readable(up);
    if (have == 0) {
      if (stack_.eof(up)) upstream_failed(s);
      return;
    }
    const uint32_t n = stack_.peek(up, 0, buf_.get(), std::min(have, cfg_.limits.max_head_bytes + 1));
    http1::MessageHead& h = *head_;
    http1::ParseError err;
    const http1::ParseStatus st = http1::parse_response(buf_.get(), n, s->method, &h, &err, cfg_.limits);
    if (st == http1::ParseStatus::need_more) {
      if (stack_.eof(up)) upstream_failed(s);
      return;
    }
    if (st == http1::ParseStatus::error) {
      s->flags |= kFlagUPE;
      drop_upstream(s, true);
      return local_reply(s, 502, "upstream connect error or disconnect/reset before headers. reset reason: protocol error",
                         {}, true);
    }
    if (h.status >= 100 && h.status < 200 && h.status != 101) {
      // Interim responses: the client got its 100 Continue from us.
      rte_pktmbuf_free(stack_.read(up, h.head_bytes));
      continue;
    }
    return forward_response(s, h);
  }
}

void HttpProxy::forward_response(Stream* s, const http1::MessageHead& h) {
  tcp::Conn* up = s->up->conn;
  clusters_.report(s->up->host, upstream::Outcome::http_status, h.status);
  static constexpr ClusterStat kClass[] = {ClusterStat::upstream_rq_1xx, ClusterStat::upstream_rq_1xx,
                                           ClusterStat::upstream_rq_2xx, ClusterStat::upstream_rq_3xx,
                                           ClusterStat::upstream_rq_4xx, ClusterStat::upstream_rq_5xx};
  ccount(s, kClass[std::min<unsigned>(h.status / 100, 5)]);
  if (retry(s, RetryReason::status, h.status)) return;
  timers_.cancel(s->timer);
  s->up_keep_alive = h.keep_alive;
  s->resp_body = h.body;
  s->resp_left = h.content_length;
  const bool upgraded = h.status == 101 && s->upgrade;
  // A response that ends with the connection can only end ours too.
  if (h.body == http1::BodyKind::until_close || !s->req_done) s->keep_alive = false;
  if (draining_ && s->keep_alive) {
    s->keep_alive = false;
    lcount(s, ListenerStat::downstream_cx_drain_close);
  }
  MbufWriter w(stack_.pool());
  write_response_head(w, *s, h, upgraded);
  rte_mbuf* m = w.finish();
  rte_pktmbuf_free(stack_.read(up, h.head_bytes));
  if (m == nullptr || stack_.write(s->down, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    return end_stream(s, true);
  }
  s->resp_started = true;
  log_response(s, h);
  count_status(s, h.status);
  if (upgraded) {
    s->phase = Phase::tunnel;
    s->req_done = s->resp_done = false;  // now: FIN forwarded upstream / downstream
    return tunnel(s);
  }
  s->resp_done = h.body == http1::BodyKind::none || (h.body == http1::BodyKind::length && h.content_length == 0);
  if (s->resp_done) finish_exchange(s);
}

void HttpProxy::pump_response_body(Stream* s) {
  if (s->resp_done) return;
  tcp::Conn* up = s->up->conn;
  switch (pump_body(up, s->down, s->resp_body, s->resp_left, s->resp_chunks, s->tx_body)) {
    case Pump::done:
      s->resp_done = true;
      return finish_exchange(s);
    case Pump::io_error:
      return end_stream(s, true);
    case Pump::framing_error:
      // Headers are gone already: all we can do is cut both connections.
      s->flags |= kFlagUPE;
      return end_stream(s, true);
    case Pump::blocked:
      break;
  }
  if (stack_.readable(up) != 0) {
    stack_.want_writable(s->down);
  } else if (stack_.eof(up)) {
    if (s->resp_body == http1::BodyKind::until_close) {
      s->resp_done = true;
      s->up_keep_alive = false;
      return finish_exchange(s);
    }
    s->flags |= kFlagUR;  // cut short: the client must see it cut short too
    end_stream(s, true);
  }
}

void HttpProxy::finish_exchange(Stream* s) {
  timers_.cancel(s->timer);
  if (upstream::PooledConn* p = s->up) {
    const auto& http = destination_cluster(*s).policy().connection_pool().http();
    const uint32_t max_requests = http.max_requests_per_connection();
    const bool at_max = max_requests != 0 && p->requests >= max_requests;
    if (at_max) ccount(s, ClusterStat::upstream_cx_max_requests);
    const bool reuse = s->up_keep_alive && s->req_done && !at_max && p->conn->ops != nullptr &&
                       !stack_.eof(p->conn) && stack_.readable(p->conn) == 0;
    if (!reuse) {
      drop_upstream(s, false);
    } else {
      s->up = nullptr;
      if (!serve_pending(p->host.stats_id, p)) {
        // Envoy's default idle timeout is one hour.
        const uint64_t idle_ms = http.idle_timeout_ms() != 0 ? http.idle_timeout_ms() : 3600 * 1000;
        p->conn->ops = &kIdleOps;
        p->conn->app = p;
        if (!pool_.park(p, static_cast<uint32_t>(std::min<uint64_t>(idle_ms, UINT32_MAX)))) {
          s->up = p;
          drop_upstream(s, false);
        }
      }
    }
  }
  end_request(s);
}

// ----------------------------------------------------------------- retries

namespace {

// Envoy's retry_on conditions (router filter) for one failed try.
bool retry_wanted(const Route& r, HttpProxy::RetryReason why, uint16_t status) {
  switch (why) {
    case HttpProxy::RetryReason::status:
      if ((r.retry_on & kRetry5xx) && status >= 500) return true;
      if ((r.retry_on & kRetryGatewayError) && (status == 502 || status == 503 || status == 504)) return true;
      if ((r.retry_on & kRetryRetriable4xx) && status == 409) return true;
      if (r.retry_on & kRetryRetriableStatusCodes)
        for (uint32_t code : r.spec->route().retries().retriable_status_codes())
          if (code == status) return true;
      return false;
    case HttpProxy::RetryReason::connect_failure:
      return (r.retry_on & (kRetryConnectFailure | kRetry5xx | kRetryGatewayError | kRetryReset)) != 0;
    case HttpProxy::RetryReason::no_response:
      return (r.retry_on & (kRetryReset | kRetry5xx | kRetryGatewayError)) != 0;
  }
  return false;
}

}  // namespace

// Sends the request again (to another endpoint where the balancer allows)
// when the route's retry policy covers this failure and retries are left.
bool HttpProxy::retry(Stream* s, RetryReason why, uint16_t status) {
  const Route& r = *s->route;
  if (s->retries >= r.retry_attempts || !retry_wanted(r, why, status)) return false;
  // After a connect failure nothing was sent: any request can go again.
  if (why != RetryReason::connect_failure && !s->replayable) return false;
  if (s->up != nullptr) drop_upstream(s, false);  // the rest of that response is not wanted
  ++s->retries;
  ccount(s, ClusterStat::upstream_rq_retry);
  s->head_sent = false;
  acquire_upstream(s);
  return true;
}

// The upstream connection broke before a full response.
void HttpProxy::upstream_failed(Stream* s) {
  if (s->resp_started) {
    s->flags |= kFlagUR;
    return end_stream(s, true);
  }
  if (s->up != nullptr) clusters_.report(s->up->host, upstream::Outcome::upstream_reset);
  drop_upstream(s, true);
  if (retry(s, RetryReason::no_response)) return;
  s->flags |= kFlagUR;
  local_reply(s, 503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
}

void HttpProxy::up_closed(Stream* s, tcp::CloseReason why) {
  // c->ops is cleared while the stack reports the close; the connection is
  // still readable for the duration of this call.
  upstream::PooledConn* p = s->up;
  if (p == nullptr) return;
  if (!p->connected) {
    // The connect failed (refused, unreachable, timeout).
    const bool timeout = why == tcp::CloseReason::timeout;
    clusters_.report(p->host, timeout ? upstream::Outcome::connect_timeout : upstream::Outcome::connect_failure);
    ccount(s, timeout ? ClusterStat::upstream_cx_connect_timeout : ClusterStat::upstream_cx_connect_fail);
    drop_upstream(s, false);
    if (s->phase == Phase::upstream) connect_failed(s);
    return;
  }
  ccount(s, ClusterStat::upstream_cx_destroy_remote);
  const uint32_t serial = s->serial;
  if (why == tcp::CloseReason::normal) {
    if (s->phase == Phase::tunnel) {
      tunnel(s);
    } else {
      up_readable(s);  // what is left, then the end of stream
    }
    if (s->serial != serial || s->up != p) return;
  }
  if (s->phase == Phase::tunnel) {
    drop_upstream(s, false);
    return end_stream(s, why != tcp::CloseReason::normal);
  }
  upstream_failed(s);
  next_request(s, serial);
}

void HttpProxy::timer_fired(Stream* s) {
  const uint32_t serial = s->serial;
  handle_timer(s);
  next_request(s, serial);
}

void HttpProxy::handle_timer(Stream* s) {
  switch (s->phase) {
    case Phase::delayed:
      s->delay_done = true;
      s->phase = Phase::head;
      read_request(s);
      return;
    case Phase::pending:
    case Phase::upstream: {
      const uint64_t now = clusters_.now_us();
      const bool route_timeout = s->timeout_at_us != 0 && now + 500 >= s->timeout_at_us;
      if (!route_timeout && s->phase == Phase::upstream) {
        // perTryTimeout
        ccount(s, ClusterStat::upstream_rq_per_try_timeout);
        if (s->up != nullptr) clusters_.report(s->up->host, upstream::Outcome::upstream_reset);
        drop_upstream(s, true);
        if (s->timeout_at_us != 0) arm(s, (s->timeout_at_us - now + 999) / 1000);
        if (retry(s, RetryReason::no_response)) return;
      }
      if (s->resp_started) return end_stream(s, true);
      s->flags |= kFlagUT;
      if (s->pending_queued) unqueue_pending(s);
      drop_upstream(s, true);
      return local_reply(s, 504, "upstream request timeout");
    }
    case Phase::head:
      // Draining, and still no request on this connection.
      if (draining_ && s->down != nullptr && stack_.readable(s->down) == 0) {
        lcount(s, ListenerStat::downstream_cx_drain_close);
        end_stream(s, false);
      }
      return;
    case Phase::tunnel:
    case Phase::closing:
      return;
  }
}

// ------------------------------------------------------------------ tunnel

// After a 101: bytes both ways until either side ends (websocket).
void HttpProxy::tunnel(Stream* s) {
  if (s->up == nullptr || s->down == nullptr) return;
  tcp::Conn* a = s->down;
  tcp::Conn* b = s->up->conn;
  for (int dir = 0; dir < 2; ++dir) {
    tcp::Conn* src = dir == 0 ? a : b;
    tcp::Conn* dst = dir == 0 ? b : a;
    bool& shut = dir == 0 ? s->req_done : s->resp_done;
    if (dst->ops == nullptr) continue;
    uint64_t& moved = dir == 0 ? s->rx_body : s->tx_body;
    for (;;) {
      const uint32_t n = std::min(stack_.readable(src), stack_.write_space(dst));
      if (n == 0 || !move(src, dst, n)) break;
      moved += n;
    }
    if (stack_.readable(src) != 0) {
      stack_.want_writable(dst);
    } else if (stack_.eof(src) && !shut) {
      shut = true;
      stack_.shutdown(dst);  // half-close carried across
    }
  }
  if (stack_.eof(a) && stack_.eof(b) && stack_.readable(a) == 0 && stack_.readable(b) == 0) {
    drop_upstream(s, false);
    end_stream(s, false);
  }
}

}  // namespace lg::l7
