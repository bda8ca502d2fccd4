#include "dataplane/upstream/cluster_manager.h"

#include <algorithm>
#include <cstring>

#include "dataplane/counters/counters.h"
#include "dataplane/upstream/lb.h"

namespace lg::upstream {
namespace pb = linegate::snapshot::v1;
using config::kNone;

namespace {

constexpr uint64_t kPollEveryUs = 1000;  // outlier sweeps are due at interval granularity (seconds)

// Snapshots list a cluster's endpoints sorted by (address, port), so two
// generations of one cluster can be matched in one merge walk.
int compare_endpoint(const pb::Endpoint& a, const pb::Endpoint& b) {
  if (const int c = a.address().compare(b.address()); c != 0) return c;
  return a.port() < b.port() ? -1 : (a.port() > b.port() ? 1 : 0);
}

}  // namespace

void ClusterManager::set_tables(const config::RuntimeTables* t, uint64_t now_us) {
  now_us_ = now_us;
  if (t == nullptr || t == t_) return;
  if (t->generation != generation_) adopt(t_, *t);
  t_ = t;
  ws_ = worker_ < t->worker_count ? &t->workers[worker_] : nullptr;
  generation_ = t->generation;
}

void ClusterManager::adopt(const config::RuntimeTables* prev, const config::RuntimeTables& next) {
  if (prev == nullptr || worker_ >= next.worker_count || worker_ >= prev->worker_count) return;
  config::WorkerState& to = next.workers[worker_];
  const config::WorkerState& from = prev->workers[worker_];
  t_ = &next;  // refresh_available() works on the new tables
  ws_ = &to;
  for (size_t ci = 0; ci < next.clusters.size(); ++ci) {
    const config::ClusterSlot& nc = next.clusters[ci];
    const uint32_t pi = prev->cluster_for_stats_id(nc.stats_id);
    if (pi == kNone) continue;
    const config::ClusterSlot& pc = prev->clusters[pi];
    to.clusters[ci] = from.clusters[pi];
    const auto& neps = next.snapshot->clusters(static_cast<int>(ci)).endpoints();
    const auto& peps = prev->snapshot->clusters(static_cast<int>(pi)).endpoints();
    const bool same_hosts = nc.endpoint_count == pc.endpoint_count;
    uint32_t i = 0, j = 0;
    while (i < nc.endpoint_count && j < pc.endpoint_count) {
      const int c = compare_endpoint(neps[static_cast<int>(i)], peps[static_cast<int>(j)]);
      if (c < 0) {
        ++i;
      } else if (c > 0) {
        ++j;
      } else {
        const uint32_t n = nc.endpoint_first + i, p = pc.endpoint_first + j;
        to.hosts[n].active = from.hosts[p].active;
        to.outlier[n] = from.outlier[p];
        to.host_stats[n] = from.host_stats[p];
        if (same_hosts) to.rr[n] = from.rr[p];  // a changed host list restarts the round-robin schedule
        ++i, ++j;
      }
    }
    refresh_available(static_cast<uint32_t>(ci));
  }
}

void ClusterManager::refresh_available(uint32_t ci) {
  const config::ClusterSlot& c = t_->clusters[ci];
  for (uint32_t e = c.endpoint_first; e < c.endpoint_first + c.endpoint_count; ++e) {
    const config::EndpointSlot& ep = t_->endpoints[e];
    ws_->hosts[e].available = ep.healthy && ep.family != 0 && !ws_->outlier[e].ejected;
  }
}

PickStatus ClusterManager::pick(uint32_t ci, uint64_t hash_key, unsigned attempt, std::span<const uint32_t> tried,
                                HostRef* out) {
  const PickStatus st = pick_host(ci, hash_key, attempt, tried, out);
  return st == PickStatus::ok ? reserve(*out) : st;
}

PickStatus ClusterManager::pick_host(uint32_t ci, uint64_t hash_key, unsigned attempt,
                                     std::span<const uint32_t> tried, HostRef* out) {
  if (t_ == nullptr || ws_ == nullptr || ci >= t_->clusters.size()) return PickStatus::no_cluster;
  const config::ClusterSlot& c = t_->clusters[ci];
  ClusterStats& st = stats(c.stats_id);
  std::span<upstream::LbHost> hosts(&ws_->hosts[c.endpoint_first], c.endpoint_count);
  if (c.endpoint_count == 0) {
    st.add(static_cast<unsigned>(ClusterStat::upstream_cx_none_healthy));
    return PickStatus::none_healthy;
  }
  // Envoy's panic mode: below minHealthPercent the balancer ignores outlier
  // ejections (endpoints the registry marks unhealthy stay out).
  bool panic = false;
  if (c.outlier.enabled && c.outlier.min_health_percent != 0) {
    uint32_t up = 0, total = 0;
    for (uint32_t i = 0; i < c.endpoint_count; ++i) {
      const config::EndpointSlot& ep = t_->endpoints[c.endpoint_first + i];
      if (!ep.healthy || ep.family == 0) continue;
      ++total;
      up += hosts[i].available;
    }
    panic = outlier_panic(c.outlier, up, total);
    if (panic) {
      st.add(static_cast<unsigned>(ClusterStat::lb_healthy_panic));
      for (uint32_t i = 0; i < c.endpoint_count; ++i) {
        const config::EndpointSlot& ep = t_->endpoints[c.endpoint_first + i];
        hosts[i].available = ep.healthy && ep.family != 0;
      }
    }
  }
  // Hosts tried earlier in this session sit out this pick when others remain.
  uint32_t masked[4];
  unsigned nmasked = 0;
  for (uint32_t e : tried) {
    if (e < c.endpoint_first || e >= c.endpoint_first + c.endpoint_count || nmasked == 4) continue;
    LbHost& h = ws_->hosts[e];
    if (!h.available) continue;
    h.available = false;
    masked[nmasked++] = e;
  }
  const auto choose = [&]() -> uint32_t {
    config::WorkerClusterState& cs = ws_->clusters[ci];
    const uint64_t key = hash_key ^ (uint64_t{attempt} * 0x9E3779B97F4A7C15ull);
    switch (c.hash_kind) {
      case config::HashKind::ring:
        return ring_lookup({&t_->rings[c.hash_first], c.hash_count}, key, hosts);
      case config::HashKind::maglev:
        return maglev_lookup({&t_->maglev[c.hash_first], c.hash_count}, key, hosts);
      case config::HashKind::none:
        break;
    }
    switch (static_cast<pb::LbPolicy>(c.lb)) {
      case pb::LB_ROUND_ROBIN:
        return pick_round_robin(hosts, cs.lb, {&ws_->rr[c.endpoint_first], c.endpoint_count});
      case pb::LB_RANDOM:
        return pick_random(hosts, cs.lb);
      default:
        return pick_least_request(hosts, cs.lb);
    }
  };
  uint32_t pick = choose();
  for (unsigned i = 0; i < nmasked; ++i) ws_->hosts[masked[i]].available = true;
  if (pick == kNoHost && nmasked != 0) pick = choose();  // only tried hosts are left: try one again
  if (panic) refresh_available(ci);
  if (pick == kNoHost) {
    st.add(static_cast<unsigned>(ClusterStat::upstream_cx_none_healthy));
    return PickStatus::none_healthy;
  }
  const uint32_t e = c.endpoint_first + pick;
  const config::EndpointSlot& ep = t_->endpoints[e];
  *out = HostRef{generation_, ci, e, c.stats_id, ep.addr, ep.port, ep.family};
  return PickStatus::ok;
}

PickStatus ClusterManager::reserve(const HostRef& h) {
  const config::ClusterSlot& c = t_->clusters[h.cluster];
  ClusterStats& st = stats(c.stats_id);
  if (c.max_connections != 0) {
    // Gateway-wide and exact: never more than max_connections at once. Two
    // lcores racing for the last slot may both back off (one early refusal),
    // never both succeed.
    std::atomic<uint32_t>& n = registry_->shared(c.stats_id).upstream_cx;
    if (n.fetch_add(1, std::memory_order_relaxed) >= c.max_connections) {
      n.fetch_sub(1, std::memory_order_relaxed);
      st.add(static_cast<unsigned>(ClusterStat::upstream_cx_overflow));
      return PickStatus::overflow;
    }
  } else {
    registry_->shared(c.stats_id).upstream_cx.fetch_add(1, std::memory_order_relaxed);
  }
  const uint32_t e = h.endpoint;
  ++ws_->hosts[e].active;
  config::HostStats& hs = ws_->host_stats[e];
  counter_add(hs.cx_total);
  counter_add(hs.cx_active);
  st.add(static_cast<unsigned>(ClusterStat::upstream_cx_total));
  st.add(static_cast<unsigned>(ClusterStat::upstream_cx_active));
  return PickStatus::ok;
}

uint32_t ClusterManager::resolve(const HostRef& h, uint32_t* cluster) const {
  if (t_ == nullptr || ws_ == nullptr) return kNone;
  if (h.generation == generation_) {
    *cluster = h.cluster;
    return h.endpoint;
  }
  const uint32_t ci = t_->cluster_for_stats_id(h.stats_id);
  if (ci == kNone) return kNone;
  const config::ClusterSlot& c = t_->clusters[ci];
  for (uint32_t e = c.endpoint_first; e < c.endpoint_first + c.endpoint_count; ++e) {
    const config::EndpointSlot& ep = t_->endpoints[e];
    if (ep.port == h.port && ep.addr == h.addr) {
      *cluster = ci;
      return e;
    }
  }
  return kNone;
}

void ClusterManager::connection_closed(const HostRef& h) {
  registry_->shared(h.stats_id).upstream_cx.fetch_sub(1, std::memory_order_relaxed);
  stats(h.stats_id).add(static_cast<unsigned>(ClusterStat::upstream_cx_active), static_cast<uint64_t>(-1));
  uint32_t ci;
  const uint32_t e = resolve(h, &ci);
  if (e == kNone) return;
  if (ws_->hosts[e].active) --ws_->hosts[e].active;
  counter_add(ws_->host_stats[e].cx_active, static_cast<uint64_t>(-1));
}

void ClusterManager::report(const HostRef& h, Outcome o, uint16_t http_status) {
  uint32_t ci;
  const uint32_t e = resolve(h, &ci);
  if (e == kNone) return;
  if (o == Outcome::connect_failure || o == Outcome::connect_timeout)
    counter_add(ws_->host_stats[e].cx_connect_fail);
  const config::ClusterSlot& c = t_->clusters[ci];
  if (!c.outlier.enabled) return;
  config::WorkerClusterState& cs = ws_->clusters[ci];
  const uint64_t before = cs.outlier.ejections_enforced_total, overflow_before = cs.outlier.ejections_overflow;
  std::span<HostOutlierState> states(&ws_->outlier[c.endpoint_first], c.endpoint_count);
  if (outlier_report(c.outlier, states, e - c.endpoint_first, o, http_status, now_us_, cs.outlier)) {
    ws_->hosts[e].available = false;
    ClusterStats& st = stats(c.stats_id);
    st.add(static_cast<unsigned>(ClusterStat::outlier_detection_ejections_active));
    st.add(static_cast<unsigned>(ClusterStat::outlier_detection_ejections_enforced_total),
           cs.outlier.ejections_enforced_total - before);
    if (cs.next_sweep_us == 0) cs.next_sweep_us = now_us_ + c.outlier.interval_us;
  }
  if (cs.outlier.ejections_overflow != overflow_before)
    stats(c.stats_id).add(static_cast<unsigned>(ClusterStat::outlier_detection_ejections_overflow),
                          cs.outlier.ejections_overflow - overflow_before);
}

void ClusterManager::poll(uint64_t now_us) {
  if (t_ == nullptr || ws_ == nullptr || now_us < next_poll_us_) return;
  next_poll_us_ = now_us + kPollEveryUs;
  for (size_t i = 0; i < t_->outlier_clusters.size(); ++i) {
    const uint32_t ci = t_->outlier_clusters[i];
    config::WorkerClusterState& cs = ws_->clusters[ci];
    const config::ClusterSlot& c = t_->clusters[ci];
    // Envoy's detector runs every interval from cluster creation; ours starts
    // with the first ejection and keeps ticking while any multiplier decays.
    if (cs.next_sweep_us == 0 || now_us < cs.next_sweep_us) continue;
    std::span<HostOutlierState> states(&ws_->outlier[c.endpoint_first], c.endpoint_count);
    const uint32_t returned = outlier_sweep(c.outlier, states, now_us, cs.outlier);
    if (returned != 0) {
      refresh_available(ci);
      stats(c.stats_id).add(static_cast<unsigned>(ClusterStat::outlier_detection_ejections_active),
                            static_cast<uint64_t>(-static_cast<int64_t>(returned)));
    }
    bool pending = false;
    for (const HostOutlierState& s : states) pending |= s.ejected || s.multiplier != 0;
    cs.next_sweep_us = pending ? now_us + c.outlier.interval_us : 0;
  }
}

}  // namespace lg::upstream
