// RING_HASH: ring build (control thread) and lookup (fast path); see lb.h for
// how points are counted and hashed.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "dataplane/upstream/lb.h"

namespace lg::upstream {

namespace {

// Points per host: weight / gcd * 2^k (see lb.h), or, when that cannot fit
// max_size, proportional to max_size by cumulative rounding (Envoy's
// target_hashes accumulation, in integers), at least one each.
std::vector<uint64_t> point_counts(std::span<const uint64_t> weights, uint64_t min_size, uint64_t max_size) {
  uint64_t g = 0;
  for (uint64_t w : weights) g = std::gcd(g, w);
  uint64_t total = 0;
  for (uint64_t w : weights) total += w / g;

  std::vector<uint64_t> counts(weights.size());
  uint64_t scale = 1;
  while (total * scale < min_size) scale *= 2;
  if (total * scale <= max_size) {
    for (size_t i = 0; i < weights.size(); ++i) counts[i] = weights[i] / g * scale;
    return counts;
  }
  __extension__ using u128 = unsigned __int128;
  uint64_t prefix = 0;
  uint64_t placed = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    prefix += weights[i] / g;
    const uint64_t target = static_cast<uint64_t>(static_cast<u128>(max_size) * prefix / total);
    counts[i] = std::max<uint64_t>(target - std::min(target, placed), 1);
    placed += counts[i];
  }
  return counts;
}

// "<16 hex digits of key>_<n>", hashed as Envoy hashes "<address>_<n>".
uint64_t point_hash(uint64_t key, uint64_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[16 + 1 + 20];
  for (int i = 0; i < 16; ++i) buf[i] = kHex[(key >> (60 - 4 * i)) & 0xF];
  buf[16] = '_';
  const auto end = std::to_chars(buf + 17, buf + sizeof buf, n).ptr;
  return xxh64(std::string_view(buf, static_cast<size_t>(end - buf)), 0);
}

}  // namespace

std::vector<RingEntry> build_ring(std::span<const uint64_t> host_keys, std::span<const uint32_t> weights,
                                  uint64_t min_ring_size, uint64_t max_ring_size) {
  if (host_keys.empty() || (!weights.empty() && weights.size() != host_keys.size())) return {};
  const uint64_t max_size = std::clamp<uint64_t>(max_ring_size, 1, kRingMaxSize);
  const uint64_t min_size = std::clamp<uint64_t>(min_ring_size, 1, max_size);

  std::vector<uint64_t> w(host_keys.size(), 1);
  for (size_t i = 0; i < weights.size(); ++i) w[i] = std::max<uint32_t>(weights[i], 1);
  const std::vector<uint64_t> counts = point_counts(w, min_size, max_size);

  std::vector<RingEntry> ring;
  ring.reserve(std::accumulate(counts.begin(), counts.end(), uint64_t{0}));
  for (size_t i = 0; i < host_keys.size(); ++i)
    for (uint64_t n = 0; n < counts[i]; ++n) ring.push_back({point_hash(host_keys[i], n), static_cast<uint32_t>(i)});
  std::sort(ring.begin(), ring.end(), [](const RingEntry& a, const RingEntry& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.host < b.host;
  });
  return ring;
}

uint32_t ring_lookup(std::span<const RingEntry> ring, uint64_t hash, std::span<const LbHost> hosts) {
  if (ring.empty()) return kNoHost;
  size_t i = static_cast<size_t>(
      std::lower_bound(ring.begin(), ring.end(), hash, [](const RingEntry& e, uint64_t h) { return e.hash < h; }) -
      ring.begin());
  if (i == ring.size()) i = 0;
  if (lb_detail::usable(hosts, ring[i].host)) return ring[i].host;

  if (!lb_detail::any_available(hosts)) return kNoHost;
  for (size_t step = 1; step < ring.size(); ++step) {
    if (++i == ring.size()) i = 0;
    if (lb_detail::usable(hosts, ring[i].host)) return ring[i].host;
  }
  return kNoHost;
}

}  // namespace lg::upstream
