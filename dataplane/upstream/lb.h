// Load balancers of the upstream layer: which endpoint of a cluster gets the
// next connection. Envoy's policies (source/extensions/load_balancing_policies):
// ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH and MAGLEV.
//
// Planes:
//  - pick_* and *_lookup run on the fast path, per lcore: no allocation, no
//    locks, no exceptions. The caller owns all state (LbState, scratch) per
//    (cluster, lcore), so nothing is shared between lcores.
//  - build_ring / build_maglev run on the control thread when the host set of
//    a cluster changes; they allocate, and the tables they return are
//    published read-only in the snapshot.
//
// Hosts are addressed by their index in the cluster's host list; a table and
// the LbHost span passed with it must use the same order. An index a table
// holds that is outside the span is treated as unavailable.
//
// Costs: round robin with equal weights, and both hash lookups while their
// first choice is available, are O(1) (hash lookups: O(log ring) for the ring).
// Weighted round robin, random and least request scan the host list (O(N)):
// this API passes availability per pick and keeps no per-snapshot summary, so
// a total of available weight has to be recomputed. Fine for the tens to
// hundreds of endpoints of a service; a cluster of thousands would want an
// alias table or an EDF heap built per snapshot.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/upstream/hash.h"

namespace lg::upstream {

inline constexpr uint32_t kNoHost = UINT32_MAX;

// What a balancer sees of one endpoint of a cluster, on one lcore.
struct LbHost {
  uint32_t weight = 1;    // >= 1 (0 treated as 1)
  uint32_t active = 0;    // connections/requests this lcore has in flight to it (least request)
  bool available = true;  // may be picked now (healthy, not ejected, not draining — or panic mode said "all")
};

// Small per-(cluster, lcore) state. Fixed size; no pointers.
struct LbState {
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  uint64_t cursor = 0;  // round robin's next index (equal weights)
};

// ---- randomness ---------------------------------------------------------------

// splitmix64 (Steele, Lea, Flood, OOPSLA'14): a Weyl sequence through a
// 64-bit finalizer. Full period, passes BigCrush, one add and two multiplies.
inline uint64_t lb_random_u64(LbState& s) {
  uint64_t z = (s.rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, n) by Lemire's multiply-shift (ACM TOMACS 2019) without its
// rejection step: the bias is < n / 2^32, far below anything a balancer sees.
// n == 0 returns 0.
inline uint32_t lb_random_below(LbState& s, uint32_t n) {
  const uint64_t x = lb_random_u64(s) >> 32;
  return static_cast<uint32_t>((x * n) >> 32);
}

// The same over 64 bits (sums of weights can exceed 2^32); bias < n / 2^64.
inline uint64_t lb_random_below64(LbState& s, uint64_t n) {
  __extension__ using u128 = unsigned __int128;
  return static_cast<uint64_t>((static_cast<u128>(lb_random_u64(s)) * n) >> 64);
}

// Gives each lcore its own sequence and its own round-robin start (Envoy
// likewise starts each worker's rotation at a random offset), so lcores don't
// all send their first connection to host 0. Any seed works, e.g. a hash of
// (cluster, lcore id).
inline LbState lb_state_seeded(uint64_t seed) {
  LbState s;
  s.rng = seed;
  s.cursor = lb_random_u64(s);
  return s;
}

// ---- per-pick policies ----------------------------------------------------------

// ROUND_ROBIN. Equal weights: a plain rotation over available hosts from
// s.cursor (unavailable ones skipped), O(1) while most hosts are available.
// Unequal weights: smooth weighted round robin (nginx's upstream RR; Envoy
// uses an EDF scheduler with the same long-run result): each available host's
// credit grows by its weight per pick, the largest credit wins and pays
// the total. Picks are exactly proportional over every cycle of sum(weights)
// picks and spread evenly inside it: after any number of picks each host's
// count is within 1 of its exact share (1:2:3:4 → d c b d a c d b c d, repeated).
//
// `scratch` has hosts.size() entries owned by the caller (per cluster per
// lcore; zero-initialised; the caller zeroes it again when the host list or a
// weight changes). Credits live there; with equal weights scratch[0] only marks
// "weights were found equal" so the scan is not repeated. A scratch smaller
// than the host list makes the pick ignore weights. Returns the host index or
// kNoHost if none is available.
uint32_t pick_round_robin(std::span<const LbHost> hosts, LbState& s, std::span<int64_t> scratch);

// RANDOM: weighted random among available hosts (probability weight / sum of
// available weights). Envoy's RANDOM ignores weights; the weighted draw is
// what a user setting weights expects.
uint32_t pick_random(std::span<const LbHost> hosts, LbState& s);

// LEAST_REQUEST: power of two choices (Mitzenmacher; Envoy's default
// choice_count 2). Two distinct available hosts are drawn, each with
// probability proportional to weight; the one with fewer active per unit of
// weight wins (compared exactly as a.active * b.weight < b.active * a.weight,
// which with equal weights is plain active). Ties → the first drawn. One
// available host → it. Unlike Envoy, which draws with replacement, the two
// candidates are distinct, so the most loaded host is never picked while
// another is strictly less loaded.
uint32_t pick_least_request(std::span<const LbHost> hosts, LbState& s);

// ---- consistent hashing (tables built on the control thread) -------------------

// A host's identity for consistent hashing: XXH64 of "address:port" with seed
// 0, so a host keeps its place when others come and go.
inline uint64_t lb_host_key(std::string_view address_port) { return xxh64(address_port, 0); }

// Envoy's limits for ring_hash_lb_config (minimum_ring_size default 1024,
// maximum_ring_size default and cap 8M) and maglev_lb_config.table_size
// (default 65537, cap 5000011).
inline constexpr uint64_t kRingMinSizeDefault = 1024;
inline constexpr uint64_t kRingMaxSize = 8u << 20;
inline constexpr uint32_t kMaglevTableSizeDefault = 65537;
inline constexpr uint32_t kMaglevMaxTableSize = 5000011;

// In build_ring and build_maglev, `weights` is either empty (all 1) or has one
// entry per host key (0 treated as 1); any other size builds an empty table.

// Ring hash (Karger et al., STOC'97; Envoy ring_hash_lb.cc). Host i owns
// points whose hashes are XXH64("<key>_<n>", seed 0) for n = 0, 1, ..., where
// <key> is host_keys[i] as 16 lowercase hex digits (Envoy hashes
// "<address>_<n>"; the host key stands in for the address).
//
// Point counts (differs from Envoy on purpose): weights are divided by their
// gcd, then every host gets weight * 2^k points for the smallest k >= 0 with
// sum(weights) * 2^k >= min_ring_size. Envoy scales by the exact factor
// min_ring_size / smallest normalised weight, so every host's point count
// changes whenever a host joins or leaves and keys move between hosts that
// stayed. With a power-of-two factor the counts change only when the weight
// sum crosses a power of two (and then every host keeps the first half of its
// points), so a joining host takes keys only for itself. Ring size is in
// [min_ring_size, 2 * min_ring_size) unless the weight sum alone is larger.
// When that exceeds max_ring_size (clamped to kRingMaxSize; min is clamped to
// max), the counts are scaled down to max_ring_size proportionally, as Envoy
// does, at least one point per host. Stored sorted by hash (ties by host).
struct RingEntry {
  uint64_t hash;
  uint32_t host;
};
std::vector<RingEntry> build_ring(std::span<const uint64_t> host_keys, std::span<const uint32_t> weights,
                                  uint64_t min_ring_size, uint64_t max_ring_size = kRingMaxSize);

// The first point with hash >= `hash`, wrapping past the end (Envoy's
// RingHashLoadBalancer::Ring::chooseHost). If its host is unavailable, the
// following points are tried in ring order, at most once around the ring, so
// only keys of unavailable hosts move and they spread over the other hosts in
// proportion to their points. kNoHost for an empty ring or no available host
// (checked on the host list before walking, so an all-down cluster costs
// O(hosts), not O(ring)).
uint32_t ring_lookup(std::span<const RingEntry> ring, uint64_t hash, std::span<const LbHost> hosts);

// Maglev (Eisenbud et al., NSDI'16 §3.4; weights as Envoy's maglev_lb.cc).
// Host i's permutation: offset = XXH64(key, seed 0) % M, skip = XXH64(key,
// seed 1) % (M - 1) + 1, the key hashed as its 8 little-endian bytes (Envoy
// hashes the address string with seeds 0 and 1). Entries are filled in rounds
// as in the paper; with Envoy's weighting a host takes a slot in round r only
// while r * weight >= slots taken * max weight, so with equal weights each host
// takes one per round and every host ends with M * weight / sum(weights)
// entries to within a slot or two (equal weights: floor or ceil of M / N).
// table_size must be prime and <= kMaglevMaxTableSize; an empty vector if not,
// if there are no hosts, or if table_size < number of hosts.
std::vector<uint32_t> build_maglev(std::span<const uint64_t> host_keys, std::span<const uint32_t> weights,
                                   uint32_t table_size);

// How many rehashed lookups maglev_lookup tries after the first entry's host is
// unavailable, before walking the table. Each retry lands on a host drawn in
// proportion to table share, so keys of a down host spread like Maglev itself
// spreads them; the walk only bounds the worst case.
inline constexpr int kMaglevRehashAttempts = 4;

// table[hash % size]; if that host is unavailable, table[h_n % size] for up to
// kMaglevRehashAttempts rehashes h_n = mix64(hash + n * golden ratio), then the
// entries after the last probe in order, once around; kNoHost if the table is
// empty or no host is available (checked on the host list before walking).
// Keys whose first entry's host is available never move.
uint32_t maglev_lookup(std::span<const uint32_t> table, uint64_t hash, std::span<const LbHost> hosts);

// ---- helpers shared by the balancers ----------------------------------------------

namespace lb_detail {

inline uint32_t weight_of(const LbHost& h) { return h.weight == 0 ? 1 : h.weight; }

inline bool usable(std::span<const LbHost> hosts, uint32_t i) { return i < hosts.size() && hosts[i].available; }

inline bool any_available(std::span<const LbHost> hosts) {
  for (const LbHost& h : hosts)
    if (h.available) return true;
  return false;
}

// Index of the available host whose cumulative weight interval contains r
// (r < sum of available weights), skipping host `skip`. kNoHost past the end.
inline uint32_t weighted_index(std::span<const LbHost> hosts, uint64_t r, uint32_t skip = kNoHost) {
  for (uint32_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].available || i == skip) continue;
    const uint32_t w = weight_of(hosts[i]);
    if (r < w) return i;
    r -= w;
  }
  return kNoHost;
}

}  // namespace lb_detail

}  // namespace lg::upstream
