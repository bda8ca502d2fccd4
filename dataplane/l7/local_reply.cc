// Answers the gateway gives itself (Envoy's local replies): errors with
// their response flags, redirects, direct responses, fault aborts and CORS
// preflights; and the end of a request, however it was answered.
#include <algorithm>
#include <charconv>

#include "dataplane/l7/head_writer.h"
#include "dataplane/l7/heads.h"
#include "dataplane/l7/http_proxy.h"
#include "dataplane/l7/stream.h"

namespace lg::l7 {
using upstream::ClusterStat;
using upstream::ListenerStat;
namespace pb = linegate::snapshot::v1;

void HttpProxy::count_status(Stream* s, uint16_t status) {
  static constexpr ListenerStat kClass[] = {ListenerStat::downstream_rq_1xx, ListenerStat::downstream_rq_1xx,
                                            ListenerStat::downstream_rq_2xx, ListenerStat::downstream_rq_3xx,
                                            ListenerStat::downstream_rq_4xx, ListenerStat::downstream_rq_5xx};
  lcount(s, kClass[std::min<unsigned>(status / 100, 5)]);
}

void HttpProxy::local_reply(Stream* s, uint16_t status, std::string_view body, std::string_view location, bool close,
                            std::string_view extra_headers) {
  timers_.cancel(s->timer);
  if (s->pending_queued) unqueue_pending(s);
  if (s->up != nullptr) drop_upstream(s, true);
  if (s->head_bytes != 0) {
    // The request was not forwarded: its head is still queued.
    rte_pktmbuf_free(stack_.read(s->down, s->head_bytes));
    s->head_bytes = 0;
  }
  // A body we did not read would be taken for the next request.
  if (!s->req_done || !s->keep_alive || draining_) close = true;
  s->keep_alive = !close;
  MbufWriter w(stack_.pool());
  w.put("HTTP/1.1 ").put_uint(status).put(' ').put(reason_phrase(status)).put("\r\n");
  if (!location.empty()) w.header("location", location);
  w.put("content-length: ").put_uint(body.size()).put("\r\n");
  if (!body.empty()) w.put("content-type: text/plain\r\n");
  w.put(extra_headers);
  w.put("server: linegate\r\n");
  if (close) w.put("connection: close\r\n");
  w.put("\r\n").put(body);
  rte_mbuf* m = w.finish();
  if (m == nullptr || stack_.write(s->down, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    return end_stream(s, true);
  }
  log_local_reply(s, status, body.size());
  count_status(s, status);
  end_request(s);
}

// The counter each response flag is counted in when its request ends.
struct FlagCounter {
  uint16_t flag;
  bool cluster;  // a ClusterStat of the request's cluster, else a ListenerStat
  unsigned stat;
};
constexpr FlagCounter kFlagCounters[] = {
    {kFlagNR, false, static_cast<unsigned>(ListenerStat::no_route)},
    {kFlagNC, false, static_cast<unsigned>(ListenerStat::no_cluster)},
    {kFlagUH, false, static_cast<unsigned>(ListenerStat::no_healthy_upstream)},
    {kFlagUF, false, static_cast<unsigned>(ListenerStat::upstream_connect_fail)},
    {kFlagFI, false, static_cast<unsigned>(ListenerStat::fault_aborts_injected)},
    {kFlagDI, false, static_cast<unsigned>(ListenerStat::fault_delays_injected)},
    {kFlagDC, false, static_cast<unsigned>(ListenerStat::downstream_rq_rx_reset)},
    {kFlagUO, true, static_cast<unsigned>(ClusterStat::upstream_rq_pending_overflow)},
    {kFlagUT, true, static_cast<unsigned>(ClusterStat::upstream_rq_timeout)},
    {kFlagUR, true, static_cast<unsigned>(ClusterStat::upstream_rq_rx_reset)},
    {kFlagUPE, true, static_cast<unsigned>(ClusterStat::upstream_cx_protocol_error)},
};

// A request ends (answered, or its connection gone): out of the active
// gauge, its response flags counted. Safe to call twice.
void HttpProxy::close_request(Stream* s) {
  log_end(s);
  if (!s->in_request) return;
  s->in_request = false;
  lcount(s, ListenerStat::downstream_rq_active, static_cast<uint64_t>(-1));
  for (const FlagCounter& f : kFlagCounters) {
    if ((s->flags & f.flag) == 0) continue;
    if (f.cluster) {
      ccount(s, static_cast<ClusterStat>(f.stat));
    } else {
      lcount(s, static_cast<ListenerStat>(f.stat));
    }
  }
}

// The request is answered: count it, let go of what it held, and either
// wait for the next request or close (after what is queued is sent).
void HttpProxy::end_request(Stream* s) {
  close_request(s);
  free_request_buffers(s);
  unpin(s);
  if (!s->keep_alive) {
    if (draining_) lcount(s, ListenerStat::downstream_cx_drain_close);
    return end_stream(s, false);
  }
  reset_request(s);
  s->phase = Phase::head;
  // The drain began after this response told the client it may send another
  // request: closing now would race that request. Wait for it (it is then
  // answered with Connection: close) or for the connection to stay idle.
  if (draining_) arm(s, kDrainIdleMs);
}

// Envoy's CORS filter. A preflight from an allowed origin is answered here;
// for other requests an allowed origin is remembered for the response.
bool HttpProxy::cors(Stream* s, const http1::MessageHead& h, const Route& route) {
  const pb::CorsPolicy& policy = route.spec->cors();
  const http1::Header* origin = http1::find_header(h, "origin");
  if (origin == nullptr || origin->value.empty()) return false;
  const bool allowed = s->t->http_routes->cors_origin_allowed(route, origin->value, worker_);
  const bool preflight = h.method == http1::Method::options && http1::find_header(h, "access-control-request-method");
  if (!allowed) return false;  // unmatched preflights go upstream (Istio's default)
  if (!preflight) {
    if (origin->value.size() <= sizeof s->origin) {
      std::copy(origin->value.begin(), origin->value.end(), s->origin);
      s->origin_len = static_cast<uint8_t>(origin->value.size());
    }
    return false;
  }
  lcount(s, ListenerStat::cors_preflight);
  char* out = scratch_.get();
  size_t n = 0;
  const auto add = [&](std::string_view v) {
    if (n + v.size() <= kScratchBytes) {
      std::copy(v.begin(), v.end(), out + n);
      n += v.size();
    }
  };
  const auto list = [&](std::string_view name, const auto& items) {
    if (items.empty()) return;
    add(name);
    add(": ");
    for (int i = 0; i < items.size(); ++i) {
      if (i) add(",");
      add(items.Get(i));
    }
    add("\r\n");
  };
  add("access-control-allow-origin: ");
  add(origin->value);
  add("\r\n");
  list("access-control-allow-methods", policy.allow_methods());
  list("access-control-allow-headers", policy.allow_headers());
  if (policy.max_age_s() != 0) {
    char b[24];
    const auto end = std::to_chars(b, b + sizeof b, policy.max_age_s()).ptr;
    add("access-control-max-age: ");
    add({b, static_cast<size_t>(end - b)});
    add("\r\n");
  }
  if (policy.allow_credentials() == pb::CorsPolicy::TRISTATE_TRUE) add("access-control-allow-credentials: true\r\n");
  local_reply(s, 200, {}, {}, false, {out, n});
  return true;
}

}  // namespace lg::l7
