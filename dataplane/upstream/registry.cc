#include "dataplane/upstream/registry.h"

namespace lg::upstream {
namespace {

constexpr std::string_view kClusterNames[] = {
#define LG_X(name, help) #name,
    LG_CLUSTER_STATS(LG_X)
#undef LG_X
};
constexpr std::string_view kListenerNames[] = {
#define LG_X(name, help) #name,
    LG_LISTENER_STATS(LG_X)
#undef LG_X
};

bool is_gauge(std::string_view name) { return name.ends_with("_active"); }

uint32_t chunk_count(uint32_t capacity) { return (capacity + UpstreamRegistry::kChunk - 1) / UpstreamRegistry::kChunk; }

}  // namespace

std::string_view cluster_stat_name(ClusterStat s) { return kClusterNames[static_cast<unsigned>(s)]; }
std::string_view listener_stat_name(ListenerStat s) { return kListenerNames[static_cast<unsigned>(s)]; }
bool cluster_stat_is_gauge(ClusterStat s) { return is_gauge(cluster_stat_name(s)); }
bool listener_stat_is_gauge(ListenerStat s) { return is_gauge(listener_stat_name(s)); }

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

std::vector<UpstreamRegistry::Totals> UpstreamRegistry::cluster_totals() const {
  std::lock_guard lock(mu_);
  std::vector<Totals> out;
  for (uint32_t id = 0; id < cluster_names_.size(); ++id) {
    Totals t{cluster_names_[id], std::vector<int64_t>(kClusterStatCount, 0)};
    for (unsigned w = 0; w < workers_; ++w) {
      const ClusterStats& s = cluster_chunks_[w][id / kChunk].load(std::memory_order_acquire)[id % kChunk];
      for (unsigned i = 0; i < kClusterStatCount; ++i) t.values[i] += static_cast<int64_t>(s.read(i));
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<UpstreamRegistry::Totals> UpstreamRegistry::listener_totals() const {
  std::lock_guard lock(mu_);
  std::vector<Totals> out;
  for (uint32_t id = 0; id < listener_names_.size(); ++id) {
    Totals t{listener_names_[id], std::vector<int64_t>(kListenerStatCount, 0)};
    for (unsigned w = 0; w < workers_; ++w) {
      const ListenerStats& s = listener_chunks_[w][id / kChunk].load(std::memory_order_acquire)[id % kChunk];
      for (unsigned i = 0; i < kListenerStatCount; ++i) t.values[i] += static_cast<int64_t>(s.read(i));
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace lg::upstream
