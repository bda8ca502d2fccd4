#include "dataplane/l4/tcp_proxy.h"

#include <algorithm>
#include <utility>

#include "dataplane/l4/l4_router.h"
#include "dataplane/upstream/hash.h"

namespace lg::l4 {
using config::kNone;
using upstream::ClusterStat;
using upstream::ListenerStat;

enum class Phase : uint8_t { hello, connecting, joined };

struct Session {
  TcpProxy* proxy;
  tcp::Conn* down;
  tcp::Conn* up;
  upstream::HostRef host;
  uint64_t hash_key;
  uint64_t last_active_us;
  uint32_t listener_stats;
  uint32_t cluster_stats;  // the cluster's stable id; kNone until routed
  uint32_t idle_timeout_ms;
  uint32_t tried[4];
  uint32_t hello_need;
  Phase phase;
  uint8_t attempts;
  bool host_held;
  bool up_shut;    // downstream's FIN forwarded to the upstream
  bool down_shut;  // upstream's FIN forwarded to the downstream
  Timer timer;
  Session* next_free;
};

namespace {

Session* session(void* app) { return static_cast<Session*>(app); }

bool on_accept(void* ctx, tcp::Conn* c) { return static_cast<TcpProxy*>(ctx)->accept(c); }
void down_readable(void* app, tcp::Conn*) { session(app)->proxy->downstream_readable(session(app)); }
void down_writable(void* app, tcp::Conn*) { session(app)->proxy->downstream_writable(session(app)); }
void down_closed(void* app, tcp::Conn*, tcp::CloseReason why) { session(app)->proxy->downstream_closed(session(app), why); }
void up_connected(void* app, tcp::Conn*) { session(app)->proxy->upstream_connected(session(app)); }
void up_readable(void* app, tcp::Conn*) { session(app)->proxy->upstream_readable(session(app)); }
void up_writable(void* app, tcp::Conn*) { session(app)->proxy->upstream_writable(session(app)); }
void up_closed(void* app, tcp::Conn*, tcp::CloseReason why) { session(app)->proxy->upstream_closed(session(app), why); }
void on_timer(Timer*, void* arg) { session(arg)->proxy->timer_fired(session(arg)); }

const tcp::AppOps kDownstreamOps = {on_accept, nullptr, down_readable, down_writable, down_closed};
const tcp::AppOps kUpstreamOps = {nullptr, up_connected, up_readable, up_writable, up_closed};

}  // namespace

TcpProxy::TcpProxy(const ProxyConfig& cfg, unsigned worker, tcp::TcpStack& stack, TimerWheel& timers,
                   upstream::ClusterManager& clusters, upstream::UpstreamRegistry& registry, uint64_t tsc_hz,
                   tlsterm::TlsWorker* tls)
    : cfg_(cfg),
      worker_(worker),
      stack_(stack),
      timers_(timers),
      clusters_(clusters),
      registry_(registry),
      tls_(tls),
      cycles_per_ms_(tsc_hz / 1000),
      pool_(new Session[cfg.max_sessions]()),
      hello_buf_(new uint8_t[cfg.hello_max_bytes]) {
  for (uint32_t i = cfg.max_sessions; i-- > 0;) {
    pool_[i].next_free = free_;
    free_ = &pool_[i];
  }
  weyl_ = uint64_t{worker} * 0x632BE59BD9B4E019ull;
}

TcpProxy::~TcpProxy() {
  for (uint32_t i = 0; i < cfg_.max_sessions; ++i) timers_.cancel(pool_[i].timer);
}

void TcpProxy::set_tables(const config::RuntimeTables* t) {
  t_ = t;
  if (t == nullptr || t->generation == generation_) return;
  generation_ = t->generation;
  if (draining_) return;
  // Listeners follow the tables: open new TCP/TLS ports, close removed ones
  // (their established sessions carry on).
  uint16_t want[tcp::kMaxListeners];
  ports_.follow(stack_, {want, t->listener_ports(false, want)}, &kDownstreamOps, this);
}

void TcpProxy::drain() {
  draining_ = true;
  ports_.close_all(stack_);
}

Session* TcpProxy::alloc() {
  Session* s = free_;
  if (s == nullptr) return nullptr;
  free_ = s->next_free;
  ++active_;
  // Fresh fields; the timer (unarmed since release) keeps its identity.
  s->down = s->up = nullptr;
  s->host = {};
  s->hash_key = s->last_active_us = 0;
  s->listener_stats = 0;
  s->cluster_stats = kNone;
  s->idle_timeout_ms = s->hello_need = 0;
  s->phase = Phase::hello;
  s->attempts = 0;
  s->host_held = s->up_shut = s->down_shut = false;
  s->proxy = this;
  s->timer.cb = on_timer;
  s->timer.arg = s;
  return s;
}

void TcpProxy::release(Session* s) {
  --active_;
  timers_.cancel(s->timer);
  s->next_free = free_;
  free_ = s;
}

upstream::ListenerStats& TcpProxy::lstats(const Session* s) { return registry_.listener(worker_, s->listener_stats); }
void TcpProxy::lcount(const Session* s, ListenerStat st, uint64_t n) { lstats(s).add(static_cast<unsigned>(st), n); }
void TcpProxy::ccount(const Session* s, ClusterStat st, uint64_t n) {
  if (s->cluster_stats != kNone) registry_.cluster(worker_, s->cluster_stats).add(static_cast<unsigned>(st), n);
}

void TcpProxy::arm_timer(Session* s, uint32_t ms) { timers_.arm_after(s->timer, uint64_t{ms} * cycles_per_ms_); }
void TcpProxy::touch(Session* s) { s->last_active_us = clusters_.now_us(); }

bool TcpProxy::accept(tcp::Conn* c) {
  const config::ListenerSlot* l = t_ ? t_->find_listener(c->key.lport) : nullptr;
  if (l == nullptr || l->kind == config::ListenerKind::http) return false;  // removed since the SYN
  Session* s = alloc();
  if (s == nullptr) {
    registry_.listener(worker_, l->stats_id).add(static_cast<unsigned>(ListenerStat::downstream_cx_overflow));
    return false;
  }
  s->down = c;
  s->listener_stats = l->stats_id;
  c->app = s;
  lcount(s, ListenerStat::downstream_cx_total);
  lcount(s, ListenerStat::downstream_cx_active);
  s->hash_key = upstream::xxh64_bytes(c->key.remote, c->key.family == 4 ? 4 : 16, 0);
  touch(s);
  if (l->kind == config::ListenerKind::tls_sni) {
    s->phase = Phase::hello;
    s->hello_need = 5;  // a record header first
    arm_timer(s, cfg_.hello_timeout_ms);
    return true;
  }
  route(s, {});
  return true;  // a refused route already reset the connection; the stack sees it gone
}

void TcpProxy::peek_hello(Session* s) {
  const uint32_t have = stack_.readable(s->down);
  if (have < s->hello_need && !stack_.eof(s->down)) return;
  const uint32_t n = stack_.peek(s->down, 0, hello_buf_.get(), std::min(have, cfg_.hello_max_bytes));
  tls::ClientHelloInfo info;
  uint32_t need = 0;
  const tls::HelloStatus st = tls::parse_client_hello({hello_buf_.get(), n}, &info, &need, cfg_.hello_max_bytes);
  switch (st) {
    case tls::HelloStatus::need_more:
      if (stack_.eof(s->down)) {
        lcount(s, ListenerStat::tls_inspector_client_hello_malformed);
        end(s, true, true);
        return;
      }
      s->hello_need = std::max(need, n + 1);
      return;
    case tls::HelloStatus::done:
      lcount(s, info.has_sni ? ListenerStat::tls_inspector_sni_found : ListenerStat::tls_inspector_sni_not_found);
      timers_.cancel(s->timer);
      route(s, info.has_sni ? std::string_view(info.sni, info.sni_len) : std::string_view());
      return;
    case tls::HelloStatus::too_large:
      lcount(s, ListenerStat::tls_inspector_client_hello_too_large);
      end(s, true, true);
      return;
    case tls::HelloStatus::not_tls:
    case tls::HelloStatus::malformed:
      lcount(s, ListenerStat::tls_inspector_client_hello_malformed);
      end(s, true, true);
      return;
  }
}

void TcpProxy::route(Session* s, std::string_view sni) {
  const config::ListenerSlot* l = t_ ? t_->find_listener(s->down->key.lport) : nullptr;
  const uint32_t r = l ? select_route(*t_, *l, s->down->key, sni) : kNone;
  weyl_ += 0x9E3779B97F4A7C15ull;  // golden-ratio steps: any weights split evenly over any run of draws
  const uint32_t ci = r == kNone ? kNone : route_cluster(*t_, t_->l4_routes[r], static_cast<uint32_t>(weyl_ >> 32), sni);
  if (ci == kNone) {
    lcount(s, ListenerStat::downstream_cx_no_route);
    end(s, true, true);
    return;
  }
  const config::ClusterSlot& c = t_->clusters[ci];
  s->cluster_stats = c.stats_id;
  s->idle_timeout_ms = c.idle_timeout_ms;
  s->phase = Phase::connecting;
  connect_upstream(s);
}

void TcpProxy::connect_upstream(Session* s) {
  // The cluster may have moved in newer tables; find it again by its id.
  const uint32_t ci = t_ ? t_->cluster_for_stats_id(s->cluster_stats) : kNone;
  // DestinationRule tls (or auto mTLS) on a TCP route: the gateway
  // originates TLS, and without a context refuses (never plain text).
  if (ci != kNone && config::tls_unavailable(*t_, ci)) return end(s, true, true);
  upstream::HostRef h;
  const upstream::PickStatus st =
      ci == kNone ? upstream::PickStatus::no_cluster
                  : clusters_.pick(ci, s->hash_key, s->attempts, {s->tried, std::min<size_t>(s->attempts, 4)}, &h);
  if (st != upstream::PickStatus::ok) {
    if (st == upstream::PickStatus::no_cluster) lcount(s, ListenerStat::downstream_cx_no_route);
    end(s, true, true);  // overflow and none-healthy are counted by the cluster manager
    return;
  }
  if (s->attempts < 4) s->tried[s->attempts] = h.endpoint;
  ++s->attempts;
  s->host = h;
  s->host_held = true;
  const config::UpstreamTlsCluster* tls = config::origination(*t_, ci, h.endpoint);  // a context, or null
  const config::ClusterSlot& c = t_->clusters[ci];
  tcp::Conn* up = stack_.connect_routed(h.family, h.ip(), h.port, &kUpstreamOps, s);
  if (up != nullptr && tls != nullptr &&
      (tls_ == nullptr || !tls_->attach_client(up, *tls->context, tls->sni, c.stats_id, c.connect_timeout_ms))) {
    stack_.abort(up);
    up = nullptr;
  }
  if (up == nullptr) {
    clusters_.report(h, upstream::Outcome::connect_failure);
    ccount(s, ClusterStat::upstream_cx_connect_fail);
    drop_upstream(s);
    if (s->attempts < cfg_.max_connect_attempts) return connect_upstream(s);
    ccount(s, ClusterStat::upstream_cx_connect_attempts_exceeded);
    end(s, true, true);
    return;
  }
  stack_.set_connect_timeout(up, c.connect_timeout_ms);
  if (c.keepalive_time_ms)
    stack_.set_keepalive(up, c.keepalive_time_ms, c.keepalive_interval_ms, c.keepalive_probes);
  s->up = up;
  s->up_shut = false;
}

void TcpProxy::drop_upstream(Session* s) {
  if (!s->host_held) return;
  clusters_.connection_closed(s->host);
  s->host_held = false;
}

void TcpProxy::upstream_connected(Session* s) {
  clusters_.report(s->host, upstream::Outcome::connect_success);
  s->phase = Phase::joined;
  touch(s);
  arm_timer(s, s->idle_timeout_ms);
  // Whatever the client sent meanwhile (the ClientHello, a request) goes first.
  if (!pump(s, true)) return;
  pump(s, false);
}

void TcpProxy::downstream_readable(Session* s) {
  if (s->phase == Phase::hello) return peek_hello(s);
  if (s->phase == Phase::joined) pump(s, true);
  // connecting: the data waits in the receive queue; its window holds the client back.
}

void TcpProxy::downstream_writable(Session* s) {
  if (s->phase == Phase::joined) pump(s, false);
}

void TcpProxy::upstream_readable(Session* s) { pump(s, false); }
void TcpProxy::upstream_writable(Session* s) { pump(s, true); }

bool TcpProxy::pump(Session* s, bool down_to_up) {
  tcp::Conn* src = down_to_up ? s->down : s->up;
  tcp::Conn* dst = down_to_up ? s->up : s->down;
  if (src == nullptr || dst == nullptr) return true;
  bool& shut = down_to_up ? s->up_shut : s->down_shut;
  uint32_t moved = 0;
  for (;;) {
    const uint32_t n = std::min(stack_.readable(src), stack_.write_space(dst));
    if (n == 0) break;
    rte_mbuf* m = stack_.read(src, n);
    if (m == nullptr) break;
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    if (stack_.write(dst, m) != tcp::IoStatus::ok) {  // dst already shut or closing
      rte_pktmbuf_free(m);
      end(s, true, true);
      return false;
    }
    moved += len;
  }
  if (moved != 0) {
    touch(s);
    lcount(s, down_to_up ? ListenerStat::downstream_cx_rx_bytes_total : ListenerStat::downstream_cx_tx_bytes_total, moved);
    ccount(s, down_to_up ? ClusterStat::upstream_cx_tx_bytes_total : ClusterStat::upstream_cx_rx_bytes_total, moved);
  }
  if (stack_.readable(src) > 0) {
    stack_.want_writable(dst);  // the rest waits in src's window
  } else if (stack_.eof(src) && !shut) {
    shut = true;
    stack_.shutdown(dst);  // half-close carried across
  }
  return true;
}

void TcpProxy::downstream_closed(Session* s, tcp::CloseReason why) {
  // A normal close means everything was read and the FIN came: carry both
  // over while the connection is still ours to read.
  if (why == tcp::CloseReason::normal && s->phase == Phase::joined && !pump(s, true)) return;
  s->down = nullptr;
  if (s->up == nullptr) {
    end(s, false, false);
    return;
  }
  if (why == tcp::CloseReason::normal && s->phase == Phase::joined) {
    // Both directions finished on the downstream side; the upstream finishes
    // its own close handshake (its FIN went out when ours came in).
    if (stack_.readable(s->up) != 0) lcount(s, ListenerStat::upstream_flush_total);
    return;
  }
  end(s, false, true);
}

void TcpProxy::upstream_closed(Session* s, tcp::CloseReason why) {
  if (why == tcp::CloseReason::normal && s->phase == Phase::joined && !pump(s, false)) return;
  s->up = nullptr;
  if (s->phase == Phase::connecting) {
    const bool timeout = why == tcp::CloseReason::timeout;
    clusters_.report(s->host, timeout ? upstream::Outcome::connect_timeout : upstream::Outcome::connect_failure);
    ccount(s, timeout ? ClusterStat::upstream_cx_connect_timeout : ClusterStat::upstream_cx_connect_fail);
    drop_upstream(s);
    if (s->down == nullptr) return end(s, false, false);
    if (s->attempts < cfg_.max_connect_attempts) return connect_upstream(s);
    ccount(s, ClusterStat::upstream_cx_connect_attempts_exceeded);
    end(s, true, false);
    return;
  }
  ccount(s, ClusterStat::upstream_cx_destroy_remote);
  if (why == tcp::CloseReason::reset) clusters_.report(s->host, upstream::Outcome::upstream_reset);
  drop_upstream(s);
  if (s->down == nullptr) return end(s, false, false);
  if (why == tcp::CloseReason::normal) return;  // its FIN went downstream (above); the downstream closes on its own
  end(s, true, false);
}

void TcpProxy::timer_fired(Session* s) {
  if (s->phase == Phase::hello) {
    lcount(s, ListenerStat::tls_inspector_timeout);
    end(s, true, true);
    return;
  }
  const uint64_t idle_us = clusters_.now_us() - s->last_active_us;
  const uint64_t limit_us = uint64_t{s->idle_timeout_ms} * 1000;
  if (idle_us < limit_us) {
    arm_timer(s, static_cast<uint32_t>((limit_us - idle_us + 999) / 1000));
    return;
  }
  lcount(s, ListenerStat::idle_timeout);
  end(s, true, true);
}

void TcpProxy::let_go(tcp::Conn* c, bool reset) {
  // ops is cleared while the stack reports a close: that connection is on
  // its way out already and must not be closed twice.
  if (c->ops == nullptr) return;
  if (reset) {
    stack_.abort(c);
  } else {
    stack_.close(c);
  }
}

void TcpProxy::end(Session* s, bool reset_downstream, bool reset_upstream) {
  if (tcp::Conn* up = std::exchange(s->up, nullptr)) {
    ccount(s, ClusterStat::upstream_cx_destroy_local);
    let_go(up, reset_upstream);
  }
  drop_upstream(s);
  if (tcp::Conn* down = std::exchange(s->down, nullptr)) let_go(down, reset_downstream);
  lcount(s, ListenerStat::downstream_cx_active, static_cast<uint64_t>(-1));
  release(s);
}

}  // namespace lg::l4
