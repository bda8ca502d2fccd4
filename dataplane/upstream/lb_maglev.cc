// MAGLEV: table build (control thread) and lookup (fast path); see lb.h.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/upstream/lb.h"

namespace lg::upstream {

namespace {

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint32_t d = 3; uint64_t{d} * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}

uint64_t key_hash(uint64_t key, uint64_t seed) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(key >> (8 * i));
  return xxh64(std::string_view(bytes, sizeof bytes), seed);
}

// splitmix64's finalizer: a bijective 64-bit mix for the retry probes.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Permutation {
  uint64_t pos;     // next candidate slot: offset + skip * j mod M
  uint64_t skip;
  uint64_t weight;
  uint64_t placed;  // entries this host owns so far
};

}  // namespace

std::vector<uint32_t> build_maglev(std::span<const uint64_t> host_keys, std::span<const uint32_t> weights,
                                   uint32_t table_size) {
  const size_t n = host_keys.size();
  if (n == 0 || table_size < n || table_size > kMaglevMaxTableSize || !is_prime(table_size)) return {};
  if (!weights.empty() && weights.size() != n) return {};

  const uint64_t m = table_size;
  std::vector<Permutation> perm(n);
  uint64_t max_weight = 1;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t w = weights.empty() ? 1 : std::max<uint32_t>(weights[i], 1);
    // §3.4: offset in [0, M), skip in [1, M): M prime makes every skip
    // generate a full permutation of the slots.
    perm[i] = {key_hash(host_keys[i], 0) % m, key_hash(host_keys[i], 1) % (m - 1) + 1, w, 0};
    max_weight = std::max(max_weight, w);
  }

  // §3.4 Pseudocode 1, one slot per host per round, with Envoy's weighting
  // (MaglevTable::constructImplementationInternal): a host fills its next
  // slot in round r when r * weight >= placed * max_weight, so the heaviest
  // host takes one slot every round and a host of half its weight every
  // other round.
  std::vector<uint32_t> table(table_size, kNoHost);
  uint64_t filled = 0;
  for (uint64_t round = 1; filled < m; ++round) {
    for (size_t i = 0; i < n && filled < m; ++i) {
      Permutation& p = perm[i];
      if (round * p.weight < p.placed * max_weight) continue;
      while (table[p.pos] != kNoHost) p.pos = p.pos + p.skip >= m ? p.pos + p.skip - m : p.pos + p.skip;
      table[p.pos] = static_cast<uint32_t>(i);
      p.pos = p.pos + p.skip >= m ? p.pos + p.skip - m : p.pos + p.skip;
      ++p.placed;
      ++filled;
    }
  }
  return table;
}

uint32_t maglev_lookup(std::span<const uint32_t> table, uint64_t hash, std::span<const LbHost> hosts) {
  const uint64_t m = table.size();
  if (m == 0) return kNoHost;
  uint64_t i = hash % m;
  if (lb_detail::usable(hosts, table[i])) return table[i];

  if (!lb_detail::any_available(hosts)) return kNoHost;
  for (int n = 1; n <= kMaglevRehashAttempts; ++n) {
    i = mix64(hash + static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ull) % m;
    if (lb_detail::usable(hosts, table[i])) return table[i];
  }
  for (uint64_t step = 1; step < m; ++step) {
    if (++i == m) i = 0;
    if (lb_detail::usable(hosts, table[i])) return table[i];
  }
  return kNoHost;
}

}  // namespace lg::upstream
