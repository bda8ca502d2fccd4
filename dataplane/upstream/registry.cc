#include "dataplane/upstream/registry.h"

namespace lg::upstream {
namespace {

#define LG_X(name, help) StatInfo{#name, help, std::string_view(#name).ends_with("_active")},
constexpr StatInfo kClusterInfo[] = {LG_CLUSTER_STATS(LG_X)};
constexpr StatInfo kListenerInfo[] = {LG_LISTENER_STATS(LG_X)};
#undef LG_X

uint32_t chunk_count(uint32_t capacity) { return (capacity + UpstreamRegistry::kChunk - 1) / UpstreamRegistry::kChunk; }

}  // namespace

std::span<const StatInfo> cluster_stat_info() { return kClusterInfo; }
std::span<const StatInfo> listener_stat_info() { return kListenerInfo; }

UpstreamRegistry::UpstreamRegistry(unsigned workers, uint32_t cluster_capacity, uint32_t listener_capacity)
    : workers_(workers), cluster_capacity_(cluster_capacity), listener_capacity_(listener_capacity) {
  for (unsigned w = 0; w < workers; ++w) {
    cluster_chunks_.emplace_back(new std::atomic<ClusterStats*>[chunk_count(cluster_capacity)]());
    listener_chunks_.emplace_back(new std::atomic<ListenerStats*>[chunk_count(listener_capacity)]());
  }
  shared_chunks_.reset(new std::atomic<ClusterShared*>[chunk_count(cluster_capacity)]());
}

template <typename T>
void UpstreamRegistry::ensure_chunk(Chunks<T>& chunks, std::vector<std::unique_ptr<T[]>>& owned, uint32_t id) {
  std::atomic<T*>& slot = chunks[id / kChunk];
  if (slot.load(std::memory_order_relaxed) != nullptr) return;
  owned.emplace_back(new T[kChunk]());
  slot.store(owned.back().get(), std::memory_order_release);
}

uint32_t UpstreamRegistry::assign(std::unordered_map<std::string, uint32_t>& ids, std::vector<std::string>& names,
                                  uint32_t capacity, std::string_view name, bool cluster) {
  std::lock_guard lock(mu_);
  const auto it = ids.find(std::string(name));
  if (it != ids.end()) return it->second;
  if (names.size() >= capacity) return kNone;
  const auto id = static_cast<uint32_t>(names.size());
  for (unsigned w = 0; w < workers_; ++w) {
    if (cluster)
      ensure_chunk(cluster_chunks_[w], owned_cluster_, id);
    else
      ensure_chunk(listener_chunks_[w], owned_listener_, id);
  }
  if (cluster) ensure_chunk(shared_chunks_, owned_shared_, id);
  names.emplace_back(name);
  ids.emplace(std::string(name), id);
  return id;
}

uint32_t UpstreamRegistry::cluster_id(std::string_view name) {
  return assign(cluster_ids_, cluster_names_, cluster_capacity_, name, true);
}

uint32_t UpstreamRegistry::listener_id(std::string_view name) {
  return assign(listener_ids_, listener_names_, listener_capacity_, name, false);
}

template <typename T>
std::vector<UpstreamRegistry::Totals> UpstreamRegistry::totals(const std::vector<std::string>& names,
                                                               const std::vector<Chunks<T>>& chunks) const {
  std::lock_guard lock(mu_);
  std::vector<Totals> out;
  for (uint32_t id = 0; id < names.size(); ++id) {
    Totals t{names[id], {}};
    for (unsigned w = 0; w < workers_; ++w) {
      const T& s = chunks[w][id / kChunk].load(std::memory_order_acquire)[id % kChunk];
      t.values.resize(s.v.size(), 0);
      for (unsigned i = 0; i < s.v.size(); ++i) t.values[i] += static_cast<int64_t>(s.read(i));
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<UpstreamRegistry::Totals> UpstreamRegistry::cluster_totals() const {
  return totals(cluster_names_, cluster_chunks_);
}

std::vector<UpstreamRegistry::Totals> UpstreamRegistry::listener_totals() const {
  return totals(listener_names_, listener_chunks_);
}

}  // namespace lg::upstream
