#include "dataplane/tcp/stack.h"

#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_thash.h>

#include <cstring>

#include "dataplane/net/net_worker.h"
#include "drivers/port.h"

namespace lg::tcp {

TcpStack::TcpStack(const TcpConfig& cfg, unsigned worker, std::span<const net::Iface> ifaces, net::NetWorker& net,
                   TimerWheel& timers, LcoreCounters& counters, rte_mempool* pool, int socket_id, uint64_t tsc_hz)
    : cfg_(cfg),
      worker_(worker),
      ifaces_(ifaces),
      net_(net),
      timers_(timers),
      counters_(counters),
      pool_(pool),
      tsc_hz_(tsc_hz),
      tsc_per_us_(tsc_hz / 1000000 ? tsc_hz / 1000000 : 1) {
  const std::string name = "lg_tcp_" + std::to_string(worker) + "_" + std::to_string(reinterpret_cast<uintptr_t>(this));
  rte_hash_parameters hp{};
  hp.name = name.c_str();
  hp.entries = cfg_.max_connections;
  hp.key_len = sizeof(FlowKey);
  hp.hash_func = rte_jhash;
  hp.socket_id = socket_id;
  hash_ = rte_hash_create(&hp);
  if (hash_ == nullptr) return;
  conns_ = std::make_unique<Conn[]>(cfg_.max_connections);
  free_store_ = std::make_unique<uint32_t[]>(cfg_.max_connections);
  free_ = free_store_.get();
  for (uint32_t i = 0; i < cfg_.max_connections; ++i) {
    conns_[i].index = i;
    free_[nfree_++] = cfg_.max_connections - 1 - i;
  }
  next_port_ = static_cast<uint16_t>(32768 + (worker * 7919) % 28000);
  net_.set_l4(net::L4Hooks{this, &TcpStack::hook_input});
}

void TcpStack::hook_input(void* ctx, const net::Iface& f, rte_mbuf* m, uint8_t family) {
  static_cast<TcpStack*>(ctx)->input(f, m, family);
}

TcpStack::~TcpStack() {
  net_.set_l4(net::L4Hooks{});
  if (hash_ == nullptr) return;
  for (uint32_t i = 0; i < cfg_.max_connections; ++i) {
    Conn& c = conns_[i];
    if (c.state == State::closed) continue;
    timers_.cancel(c.rtx_timer);
    timers_.cancel(c.delack_timer);
    timers_.cancel(c.ka_timer);
    c.sndq.clear();
    c.rcvq.clear();
    for (uint8_t k = 0; k < c.nooo; ++k) rte_pktmbuf_free(c.ooo[k].head);
  }
  rte_hash_free(hash_);
}

Conn* TcpStack::lookup(const FlowKey& key) const {
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &data) < 0) return nullptr;
  return static_cast<Conn*>(data);
}

void TcpStack::init_conn(Conn* c, const FlowKey& key) {
  const uint32_t index = c->index, gen = c->gen;
  c->~Conn();
  new (c) Conn{};
  c->index = index;
  c->gen = gen + 1;
  c->key = key;
  c->stack = this;
  c->rtx_timer.cb = &TcpStack::on_rtx;
  c->rtx_timer.arg = c;
  c->delack_timer.cb = &TcpStack::on_delack;
  c->delack_timer.arg = c;
  c->ka_timer.cb = &TcpStack::on_keepalive;
  c->ka_timer.arg = c;
  RtoParams rto;
  rto.min_rto_us = cfg_.rto_min_ms * 1000;
  c->rtt = RttEstimator(rto);
  c->cc_algo = cfg_.cc;
  c->rcv_buf = cfg_.rcv_buffer;
  c->snd_buf = cfg_.snd_buffer;
  // RFC 7323 §2.2: the smallest shift that lets the buffer be advertised.
  uint8_t ws = 0;
  while (ws < kMaxWscale && (uint64_t{0xffff} << ws) < c->rcv_buf) ++ws;
  c->rcv_wscale = ws;
  c->opened_us = now_us_;
  c->last_rcv_us = now_us_;
  c->connect_timeout_ms = cfg_.connect_timeout_ms;
  c->ka_idle_ms = cfg_.keepalive_ms;
  c->ka_interval_ms = std::max<uint32_t>(cfg_.keepalive_ms / 10, 1000);
  c->ka_max_probes = kMaxKeepaliveProbes;
}

Conn* TcpStack::alloc_conn(const FlowKey& key) {
  if (nfree_ == 0) {
    counters_.drop(key.iface, Drop::tcp_table_full);
    return nullptr;
  }
  Conn* c = &conns_[free_[nfree_ - 1]];
  init_conn(c, key);
  if (rte_hash_add_key_data(hash_, &c->key, c) < 0) {
    counters_.drop(key.iface, Drop::tcp_table_full);
    c->state = State::closed;
    return nullptr;
  }
  --nfree_;
  ++used_;
  c->in_table = true;
  counters_.gauge(key.iface, Gauge::tcp_connections, 1);
  return c;
}

void TcpStack::notify_readable(Conn* c) {
  if (c->ops == nullptr) return;
  if (c->ulp) {
    c->ulp->ops->on_readable(c);
  } else if (c->ops->on_readable) {
    c->ops->on_readable(c->app, c);
  }
}

void TcpStack::notify_connected(Conn* c) {
  if (c->ops == nullptr) return;
  if (c->ulp) {
    c->ulp->ops->on_connected(c);  // a TLS client handshakes first
  } else if (c->ops->on_connected) {
    c->ops->on_connected(c->app, c);
  }
}

void TcpStack::notify_writable(Conn* c) {
  if (c->ops == nullptr) return;
  if (c->ulp) {
    c->ulp->ops->on_writable(c);
  } else if (c->ops->on_writable) {
    c->ops->on_writable(c->app, c);
  }
}

void TcpStack::notify_closed(Conn* c, CloseReason why) {
  if (c->ops == nullptr || c->app_closed) return;
  if (c->passive && c->state == State::syn_received) return;
  const AppOps* ops = c->ops;
  c->ops = nullptr;
  if (ops->on_closed) ops->on_closed(c->app, c, why);
}

void TcpStack::set_state(Conn* c, State s) {
  const unsigned port = c->key.iface;
  auto account = [&](State st, int d) {
    switch (st) {
      case State::established:
        counters_.gauge(port, Gauge::tcp_established, d);
        break;
      case State::syn_received:
        if (c->listener != nullptr) {
          c->listener->half_open += d;
          counters_.gauge(port, Gauge::tcp_half_open, d);
        }
        break;
      case State::time_wait:
        time_wait_ += d;
        counters_.gauge(port, Gauge::tcp_time_wait, d);
        break;
      default:
        break;
    }
  };
  account(c->state, -1);
  c->state = s;
  account(s, 1);
}

void TcpStack::free_conn(Conn* c, CloseReason why) {
  if (!c->in_table) return;
  const unsigned port = c->key.iface;
  notify_closed(c, why);
  if (c->ulp != nullptr) {
    c->ulp->ops->release(c);
    c->ulp = nullptr;
  }
  set_state(c, State::closed);
  timers_.cancel(c->rtx_timer);
  timers_.cancel(c->delack_timer);
  timers_.cancel(c->ka_timer);
  c->sndq.clear();
  c->tx_cursor = nullptr;
  c->rcvq.clear();
  for (uint8_t k = 0; k < c->nooo; ++k) rte_pktmbuf_free(c->ooo[k].head);
  c->nooo = 0;
  rte_hash_del_key(hash_, &c->key);
  c->in_table = false;
  free_[nfree_++] = c->index;
  --used_;
  counters_.gauge(port, Gauge::tcp_connections, -1);
  counters_.event(port, Event::tcp_connections_closed);
}

Listener* TcpStack::find_listener(uint16_t port) {
  for (Listener& l : listeners_)
    if (l.active && l.port == port) return &l;
  return nullptr;
}

uint32_t TcpStack::initial_seq(const FlowKey& key) {
  // RFC 6528: a clock (4 µs ticks) plus a keyed hash of the connection id.
  const uint32_t h = rte_jhash(&key, offsetof(FlowKey, pad), static_cast<uint32_t>(cfg_.syncookie_secret[1]));
  return h + static_cast<uint32_t>(now_us_ / 4);
}

FlowKey TcpStack::active_key(unsigned iface, uint8_t family, const uint8_t* remote, uint16_t lport,
                             uint16_t rport) const {
  const net::Iface& f = ifaces_[iface];
  FlowKey k{};
  std::memcpy(k.local, family == 4 ? reinterpret_cast<const uint8_t*>(&f.ip4) : f.ip6.b, family == 4 ? 4 : 16);
  std::memcpy(k.remote, remote, family == 4 ? 4 : 16);
  k.lport = lport;
  k.rport = rport;
  k.family = family;
  k.iface = static_cast<uint8_t>(iface);
  return k;
}

uint16_t TcpStack::pick_local_port(unsigned iface, uint8_t family, const uint8_t* remote, uint16_t rport) {
  const net::Iface& f = ifaces_[iface];
  const auto& key = drv::symmetric_rss_key();
  for (unsigned tries = 0; tries < 28232; ++tries) {
    const uint16_t port = next_port_;
    next_port_ = static_cast<uint16_t>(next_port_ >= 60999 ? 32768 : next_port_ + 1);
    const FlowKey k = active_key(iface, family, remote, port, rport);
    if (lookup(k) != nullptr) continue;
    if (f.offloads.rss && f.queues > 1) {
      // Seastar-style: the reply (remote → us) must hash to our own queue.
      uint32_t tuple[9];
      unsigned n;
      if (family == 4) {
        uint32_t a, b;
        std::memcpy(&a, remote, 4);
        std::memcpy(&b, k.local, 4);
        tuple[0] = rte_be_to_cpu_32(a);
        tuple[1] = rte_be_to_cpu_32(b);
        tuple[2] = (uint32_t{rport} << 16) | port;
        n = 3;
      } else {
        for (unsigned w = 0; w < 4; ++w) {
          uint32_t a, b;
          std::memcpy(&a, remote + 4 * w, 4);
          std::memcpy(&b, k.local + 4 * w, 4);
          tuple[w] = rte_be_to_cpu_32(a);
          tuple[4 + w] = rte_be_to_cpu_32(b);
        }
        tuple[8] = (uint32_t{rport} << 16) | port;
        n = 9;
      }
      const uint32_t hash = rte_softrss(tuple, n, key.data());
      const unsigned reta = f.offloads.reta_size ? f.offloads.reta_size : 128;
      if ((hash % reta) % f.queues != worker_) continue;
    }
    return port;
  }
  return 0;
}

}  // namespace lg::tcp
