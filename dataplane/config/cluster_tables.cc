// Consistent-hash tables (built here, on the control thread, as Envoy's main
// thread builds them) and the per-worker state arrays that travel with a
// generation of tables.
#include <algorithm>
#include <vector>

#include "dataplane/config/build_parts.h"
#include "dataplane/upstream/hash.h"

namespace lg::config {
namespace pb = linegate::snapshot::v1;

void build_cluster_hashing(const Snapshot& s, RuntimeTables& t) {
  std::vector<upstream::RingEntry> rings;
  std::vector<uint32_t> maglev;
  for (size_t ci = 0; ci < t.clusters.size(); ++ci) {
    ClusterSlot& cs = t.clusters[ci];
    if (cs.hash_kind == HashKind::none || cs.endpoint_count == 0) continue;
    std::vector<uint64_t> keys(cs.endpoint_count);
    std::vector<uint32_t> weights(cs.endpoint_count);
    for (uint32_t i = 0; i < cs.endpoint_count; ++i) {
      keys[i] = t.endpoints[cs.endpoint_first + i].key;
      weights[i] = t.endpoints[cs.endpoint_first + i].weight;
    }
    const pb::ConsistentHash& h = s.clusters(static_cast<int>(ci)).policy().load_balancer().consistent_hash();
    if (cs.hash_kind == HashKind::maglev) {
      std::vector<uint32_t> table =
          upstream::build_maglev(keys, weights, static_cast<uint32_t>(std::min<uint64_t>(h.maglev_table_size(), UINT32_MAX)));
      if (!table.empty()) {
        cs.hash_first = static_cast<uint32_t>(maglev.size());
        cs.hash_count = static_cast<uint32_t>(table.size());
        maglev.insert(maglev.end(), table.begin(), table.end());
        continue;
      }
      cs.hash_kind = HashKind::ring;  // not a usable Maglev size: the ring still hashes consistently
    }
    const uint64_t min_size = h.ring_hash_minimum_ring_size() ? h.ring_hash_minimum_ring_size() : 1024;
    std::vector<upstream::RingEntry> ring = upstream::build_ring(keys, weights, min_size);
    cs.hash_first = static_cast<uint32_t>(rings.size());
    cs.hash_count = static_cast<uint32_t>(ring.size());
    rings.insert(rings.end(), ring.begin(), ring.end());
  }
  t.rings = FlatArray<upstream::RingEntry>(rings.size());
  for (size_t i = 0; i < rings.size(); ++i) t.rings[i] = rings[i];
  t.maglev = FlatArray<uint32_t>(maglev.size());
  for (size_t i = 0; i < maglev.size(); ++i) t.maglev[i] = maglev[i];
}

void build_cluster_index(RuntimeTables& t) {
  uint32_t max_id = 0;
  std::vector<uint32_t> outlier;
  for (size_t ci = 0; ci < t.clusters.size(); ++ci) {
    max_id = std::max(max_id, t.clusters[ci].stats_id + 1);
    if (t.clusters[ci].outlier.enabled) outlier.push_back(static_cast<uint32_t>(ci));
  }
  t.cluster_by_stats_id = FlatArray<uint32_t>(max_id);
  for (uint32_t i = 0; i < max_id; ++i) t.cluster_by_stats_id[i] = kNone;
  for (size_t ci = 0; ci < t.clusters.size(); ++ci) t.cluster_by_stats_id[t.clusters[ci].stats_id] = static_cast<uint32_t>(ci);
  t.outlier_clusters = FlatArray<uint32_t>(outlier.size());
  for (size_t i = 0; i < outlier.size(); ++i) t.outlier_clusters[i] = outlier[i];
}

void allocate_worker_state(RuntimeTables& t, unsigned workers) {
  t.worker_count = workers;
  t.workers = std::make_unique<WorkerState[]>(workers);
  for (unsigned w = 0; w < workers; ++w) {
    WorkerState& ws = t.workers[w];
    ws.clusters = FlatArray<WorkerClusterState>(t.clusters.size());
    ws.hosts = FlatArray<upstream::LbHost>(t.endpoints.size());
    ws.rr = FlatArray<int64_t>(t.endpoints.size());
    ws.outlier = FlatArray<upstream::HostOutlierState>(t.endpoints.size());
    ws.host_stats = FlatArray<HostStats>(t.endpoints.size());
    for (size_t i = 0; i < t.endpoints.size(); ++i) {
      ws.hosts[i].weight = t.endpoints[i].weight;
      ws.hosts[i].available = t.endpoints[i].healthy && t.endpoints[i].family != 0;
    }
    for (size_t c = 0; c < t.clusters.size(); ++c)  // each (cluster, lcore) its own stream and rotation start
      ws.clusters[c].lb = upstream::lb_state_seeded(upstream::xxh64(t.snapshot->clusters(static_cast<int>(c)).name(), w));
  }
}

}  // namespace lg::config
