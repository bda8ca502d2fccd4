#include "dataplane/net/neigh.h"

#include <rte_errno.h>
#include <rte_jhash.h>

namespace lg::net {
namespace {

constexpr uint8_t kMaxQueued = 8;

struct Key {
  uint8_t b[16];
  uint16_t port;
  uint8_t family;
  uint8_t pad;
};
static_assert(sizeof(Key) == 20);

Key make_key(unsigned port, const NeighAddr& a) {
  Key k{};
  std::memcpy(k.b, a.b, 16);
  k.port = static_cast<uint16_t>(port);
  k.family = a.family;
  return k;
}

}  // namespace

struct NeighTable::Entry {
  Timer timer;
  NeighTable* table = nullptr;
  uint64_t last_used = 0;  // TSC of the last send through this entry
  rte_ether_addr mac{};
  NeighAddr addr;
  uint16_t port = 0;
  NeighState state = NeighState::incomplete;
  uint8_t tries = 0;
  uint8_t nqueued = 0;
  rte_mbuf* queue[kMaxQueued] = {};
};

NeighParams NeighParams::defaults(uint64_t tsc_hz) {
  NeighParams p;
  p.retrans_cycles = tsc_hz;           // 1 s
  p.reachable_cycles = 30 * tsc_hz;    // 30 s
  p.gc_cycles = 300 * tsc_hz;          // 5 min
  return p;
}

NeighTable::NeighTable(const NeighParams& params, TimerWheel& timers, LcoreCounters& counters,
                       NeighHooks hooks, int socket_id, const char* name)
    : params_(params), timers_(timers), counters_(counters), hooks_(hooks) {
  if (params_.max_queued > kMaxQueued) params_.max_queued = kMaxQueued;
  rte_hash_parameters hp{};
  hp.name = name;
  hp.entries = params_.capacity;
  hp.key_len = sizeof(Key);
  hp.hash_func = rte_jhash;
  hp.socket_id = socket_id;
  hash_ = rte_hash_create(&hp);
  if (hash_ == nullptr) return;
  const int32_t slots = rte_hash_max_key_id(hash_) + 1;
  entries_ = std::make_unique<Entry[]>(static_cast<size_t>(slots));
  for (int32_t i = 0; i < slots; ++i) {
    entries_[i].table = this;
    entries_[i].timer.cb = &NeighTable::on_timer;
    entries_[i].timer.arg = &entries_[i];
  }
}

NeighTable::~NeighTable() {
  if (hash_ == nullptr) return;
  const int32_t slots = rte_hash_max_key_id(hash_) + 1;
  for (int32_t i = 0; i < slots; ++i) {
    timers_.cancel(entries_[i].timer);
    for (uint8_t q = 0; q < entries_[i].nqueued; ++q) rte_pktmbuf_free(entries_[i].queue[q]);
  }
  rte_hash_free(hash_);
}

NeighTable::Entry* NeighTable::find(unsigned port, const NeighAddr& addr) const {
  const Key k = make_key(port, addr);
  const int32_t pos = rte_hash_lookup(hash_, &k);
  return pos < 0 ? nullptr : &entries_[pos];
}

NeighTable::Entry* NeighTable::create(unsigned port, const NeighAddr& addr) {
  const Key k = make_key(port, addr);
  const int32_t pos = rte_hash_add_key(hash_, &k);
  if (pos < 0) return nullptr;
  Entry& e = entries_[pos];
  e.addr = addr;
  e.port = static_cast<uint16_t>(port);
  e.tries = 0;
  e.nqueued = 0;
  e.last_used = timers_.now_cycles();
  ++used_;
  return &e;
}

void NeighTable::remove(Entry& e) {
  timers_.cancel(e.timer);
  const Key k = make_key(e.port, e.addr);
  rte_hash_del_key(hash_, &k);
  --used_;
}

void NeighTable::flush_queue(Entry& e) {
  for (uint8_t q = 0; q < e.nqueued; ++q) hooks_.transmit(hooks_.ctx, e.port, e.queue[q], e.mac, e.addr.family);
  counters_.event(e.port, Event::neigh_queued_sent, e.nqueued);
  e.nqueued = 0;
}

void NeighTable::drop_queue(Entry& e, Drop reason) {
  for (uint8_t q = 0; q < e.nqueued; ++q) rte_pktmbuf_free(e.queue[q]);
  counters_.drop(e.port, reason, e.nqueued);
  e.nqueued = 0;
}

NeighVerdict NeighTable::resolve(unsigned port, const NeighAddr& addr, rte_mbuf* m, rte_ether_addr* mac) {
  Entry* e = find(port, addr);
  if (e == nullptr) {
    e = create(port, addr);
    if (e == nullptr) {
      counters_.drop(port, Drop::neigh_table_full);
      rte_pktmbuf_free(m);
      return NeighVerdict::dropped;
    }
    e->state = NeighState::incomplete;
    e->queue[e->nqueued++] = m;
    e->tries = 1;
    hooks_.solicit(hooks_.ctx, port, addr, nullptr);
    timers_.arm_after(e->timer, params_.retrans_cycles);
    return NeighVerdict::queued;
  }
  switch (e->state) {
    case NeighState::incomplete:
      if (e->nqueued >= params_.max_queued) {
        counters_.drop(port, Drop::neigh_queue_full);
        rte_pktmbuf_free(m);
        return NeighVerdict::dropped;
      }
      e->queue[e->nqueued++] = m;
      return NeighVerdict::queued;
    case NeighState::stale:
      // RFC 4861 §7.3.3: keep sending to the cached address while confirming it.
      e->state = NeighState::probe;
      e->tries = 1;
      hooks_.solicit(hooks_.ctx, port, addr, &e->mac);
      timers_.arm_after(e->timer, params_.retrans_cycles);
      [[fallthrough]];
    case NeighState::reachable:
    case NeighState::probe:
      e->last_used = timers_.now_cycles();
      *mac = e->mac;
      return NeighVerdict::ready;
  }
  return NeighVerdict::dropped;  // unreachable
}

bool NeighTable::learn(unsigned port, const NeighAddr& addr, const rte_ether_addr& mac, NeighLearn how) {
  Entry* e = find(port, addr);
  bool changed = false;
  if (e == nullptr) {
    if (how == NeighLearn::update_only) return false;
    e = create(port, addr);
    if (e == nullptr) {
      counters_.drop(port, Drop::neigh_table_full);
      return false;
    }
    e->state = NeighState::reachable;
    e->mac = mac;
    changed = true;
  } else {
    changed = !rte_is_same_ether_addr(&e->mac, &mac) || e->state == NeighState::incomplete;
    e->mac = mac;
    if (e->state == NeighState::incomplete) {
      counters_.event(port, Event::neigh_resolved);
      e->state = NeighState::reachable;
      flush_queue(*e);
    } else if (how == NeighLearn::update_only) {
      // RFC 4861 §7.2.5: an unconfirmed new address is only STALE.
      if (changed) e->state = NeighState::stale;
      if (e->state == NeighState::stale) {
        timers_.arm_after(e->timer, params_.gc_cycles);
        if (changed) counters_.event(port, Event::neigh_learned);
        return changed;
      }
    } else {
      e->state = NeighState::reachable;
    }
  }
  e->tries = 0;
  timers_.arm_after(e->timer, params_.reachable_cycles);
  if (changed) counters_.event(port, Event::neigh_learned);
  return changed;
}

bool NeighTable::lookup(unsigned port, const NeighAddr& addr, NeighState* state, rte_ether_addr* mac) const {
  const Entry* e = find(port, addr);
  if (e == nullptr) return false;
  if (state) *state = e->state;
  if (mac) *mac = e->mac;
  return true;
}

void NeighTable::on_timer(Timer* t, void* arg) {
  (void)t;
  Entry* e = static_cast<Entry*>(arg);
  e->table->expire(*e);
}

void NeighTable::expire(Entry& e) {
  const uint64_t now = timers_.now_cycles();
  switch (e.state) {
    case NeighState::incomplete:
      if (e.tries < params_.max_solicits) {
        ++e.tries;
        hooks_.solicit(hooks_.ctx, e.port, e.addr, nullptr);
        timers_.arm_after(e.timer, params_.retrans_cycles);
        return;
      }
      drop_queue(e, Drop::neigh_unresolved);
      remove(e);
      return;
    case NeighState::reachable:
      e.state = NeighState::stale;
      timers_.arm(e.timer, e.last_used + params_.gc_cycles);
      return;
    case NeighState::stale:
      if (now - e.last_used < params_.gc_cycles) {
        timers_.arm(e.timer, e.last_used + params_.gc_cycles);
        return;
      }
      counters_.event(e.port, Event::neigh_expired);
      remove(e);
      return;
    case NeighState::probe:
      if (e.tries < params_.max_solicits) {
        ++e.tries;
        hooks_.solicit(hooks_.ctx, e.port, e.addr, &e.mac);
        timers_.arm_after(e.timer, params_.retrans_cycles);
        return;
      }
      counters_.event(e.port, Event::neigh_expired);
      remove(e);
      return;
  }
}

}  // namespace lg::net
