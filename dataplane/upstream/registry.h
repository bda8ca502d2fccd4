// Stable identities for clusters and listeners across snapshots, and the
// state that must outlive any one snapshot: per-lcore counters and the
// gateway-wide connection counts that enforce maxConnections.
//
// Ids are handed out on the control thread while runtime tables are built
// (by name: "outbound|80||a.svc", "0.0.0.0_443"); a name keeps its id for the
// life of the process, so counters survive config pushes as Envoy's do.
// Storage grows in chunks allocated on the control thread before the tables
// naming them are published; workers only index into it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane/upstream/stats_defs.h"

namespace lg::upstream {

enum class ClusterStat : uint16_t {
#define LG_X(name, help) name,
  LG_CLUSTER_STATS(LG_X)
#undef LG_X
      count
};
enum class ListenerStat : uint16_t {
#define LG_X(name, help) name,
  LG_LISTENER_STATS(LG_X)
#undef LG_X
      count
};
inline constexpr unsigned kClusterStatCount = static_cast<unsigned>(ClusterStat::count);
inline constexpr unsigned kListenerStatCount = static_cast<unsigned>(ListenerStat::count);
// What readers need to render a stat: its name, help text and kind (gauges
// end in "_active"). Indexed by ClusterStat / ListenerStat.
struct StatInfo {
  std::string_view name, help;
  bool gauge;
};
std::span<const StatInfo> cluster_stat_info();
std::span<const StatInfo> listener_stat_info();

// One lcore's counters for one cluster or listener: written by that lcore
// only (relaxed stores), summed by readers.
template <unsigned N>
struct StatBlock {
  std::array<uint64_t, N> v{};
  void add(unsigned i, uint64_t n = 1) { __atomic_store_n(&v[i], v[i] + n, __ATOMIC_RELAXED); }
  uint64_t read(unsigned i) const { return __atomic_load_n(&v[i], __ATOMIC_RELAXED); }
};
using ClusterStats = StatBlock<kClusterStatCount>;
using ListenerStats = StatBlock<kListenerStatCount>;

// Shared by all lcores: the one place a gateway-wide limit is counted.
struct alignas(64) ClusterShared {
  std::atomic<uint32_t> upstream_cx{0};  // open or connecting, all lcores
};

class UpstreamRegistry {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kChunk = 1024;

  // capacity: most distinct names of each kind over the process's life.
  UpstreamRegistry(unsigned workers, uint32_t cluster_capacity, uint32_t listener_capacity);
  UpstreamRegistry(const UpstreamRegistry&) = delete;
  UpstreamRegistry& operator=(const UpstreamRegistry&) = delete;

  // Control thread: the id for a name (allocating storage); kNone when full.
  uint32_t cluster_id(std::string_view name);
  uint32_t listener_id(std::string_view name);
  unsigned workers() const { return workers_; }
  uint32_t cluster_capacity() const { return cluster_capacity_; }

  // Workers (fast path): ids come from published tables, so storage exists.
  ClusterStats& cluster(unsigned worker, uint32_t id) {
    return cluster_chunks_[worker][id / kChunk].load(std::memory_order_acquire)[id % kChunk];
  }
  ListenerStats& listener(unsigned worker, uint32_t id) {
    return listener_chunks_[worker][id / kChunk].load(std::memory_order_acquire)[id % kChunk];
  }
  ClusterShared& shared(uint32_t id) { return shared_chunks_[id / kChunk].load(std::memory_order_acquire)[id % kChunk]; }

  // Readers (admin, telemetry): names in id order with their totals over lcores.
  struct Totals {
    std::string name;
    std::vector<int64_t> values;
  };
  std::vector<Totals> cluster_totals() const;
  std::vector<Totals> listener_totals() const;

 private:
  template <typename T>
  using Chunks = std::unique_ptr<std::atomic<T*>[]>;
  uint32_t assign(std::unordered_map<std::string, uint32_t>& ids, std::vector<std::string>& names,
                  uint32_t capacity, std::string_view name, bool cluster);
  template <typename T>
  std::vector<Totals> totals(const std::vector<std::string>& names, const std::vector<Chunks<T>>& chunks) const;
  template <typename T>
  static void ensure_chunk(Chunks<T>& chunks, std::vector<std::unique_ptr<T[]>>& owned, uint32_t id);

  unsigned workers_;
  uint32_t cluster_capacity_, listener_capacity_;
  mutable std::mutex mu_;  // control-side maps and names (never taken by workers)
  std::unordered_map<std::string, uint32_t> cluster_ids_, listener_ids_;
  std::vector<std::string> cluster_names_, listener_names_;
  std::vector<Chunks<ClusterStats>> cluster_chunks_;    // [worker][chunk]
  std::vector<Chunks<ListenerStats>> listener_chunks_;  // [worker][chunk]
  Chunks<ClusterShared> shared_chunks_;
  std::vector<std::unique_ptr<ClusterStats[]>> owned_cluster_;
  std::vector<std::unique_ptr<ListenerStats[]>> owned_listener_;
  std::vector<std::unique_ptr<ClusterShared[]>> owned_shared_;
};

}  // namespace lg::upstream
