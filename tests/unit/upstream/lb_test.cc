#include "dataplane/upstream/lb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/upstream/hash.h"

namespace lg::upstream {
namespace {

constexpr int kPicks = 100'000;

std::vector<LbHost> hosts_with_weights(std::vector<uint32_t> weights) {
  std::vector<LbHost> h(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) h[i].weight = weights[i];
  return h;
}

// A binomial count over `n` trials with probability `p` is within 6 standard
// deviations of n * p except with probability ~2e-9: a failure is a bug, not
// bad luck with the seed.
void expect_binomial(int count, int n, double p, const std::string& what) {
  const double mean = n * p;
  const double sd = std::sqrt(n * p * (1 - p));
  EXPECT_LE(std::fabs(count - mean), 6 * sd + 1) << what << ": " << count << " vs expected " << mean;
}

template <typename Pick>
std::vector<int> count_picks(size_t n_hosts, int picks, Pick pick) {
  std::vector<int> counts(n_hosts + 1, 0);  // last slot: kNoHost
  for (int i = 0; i < picks; ++i) {
    const uint32_t h = pick();
    ++counts[h == kNoHost ? n_hosts : h];
  }
  return counts;
}

std::vector<uint64_t> random_keys(int n, uint64_t seed) {
  LbState s;
  s.rng = seed;
  std::vector<uint64_t> keys(n);
  for (uint64_t& k : keys) k = lb_random_u64(s);
  return keys;
}

std::vector<uint64_t> host_keys(int n) {
  std::vector<uint64_t> keys;
  for (int i = 0; i < n; ++i) keys.push_back(lb_host_key("10.0." + std::to_string(i / 250) + "." +
                                                         std::to_string(i % 250 + 1) + ":8080"));
  return keys;
}

// ---- xxHash64 --------------------------------------------------------------------

// Published values (xxHash's own test suite; also python-xxhash).
static_assert(xxh64("", 0) == 0xEF46DB3751D8E999ull);
static_assert(xxh64("a", 0) == 0xD24EC4F1A98C6E5Bull);
static_assert(xxh64("abc", 0) == 0x44BC2CF5AD770999ull);

TEST(Xxh64, MatchesReferenceOnEveryLengthPath) {
  // Byte i = (7 * i + 3) & 0xFF, lengths covering each tail path (1-, 4-, 8-byte
  // steps) below and above the 32-byte stripe. Expected values from the
  // reference C implementation (python3-xxhash 3.2 over libxxhash 0.8.1).
  struct Vector {
    size_t len;
    uint64_t seed0;
    uint64_t seed_golden;  // seed 0x9E3779B97F4A7C15
  };
  const Vector vectors[] = {
      {0, 0xef46db3751d8e999, 0xc4349fc93c010000},    {1, 0x1f25c8d0bc1f4bb6, 0x79826bcd749d267a},
      {3, 0x31d2363f52e564c9, 0x78efd77575e26575},    {4, 0x9bb64b7d66ee9fda, 0x6f0a6c97d68bf353},
      {7, 0x9a7b149959ce60d8, 0xd97ede93c9d66a0d},    {8, 0xdab99d95c6f90092, 0xa2f1e28437a78a1b},
      {11, 0x7a52cc9457cf1a1f, 0x8d2b0d24762d2b6e},   {15, 0x1b47cb8243cc8e32, 0xe2ec50a544faec61},
      {31, 0xa2aa5f33cc4a6119, 0x755437271d1d0a84},   {32, 0x23c3c17ef790fd97, 0xbf624b932c090428},
      {33, 0x50a7cfc7ba588784, 0x7aceaf1e9d34ea35},   {63, 0x5e3e54b431c7493c, 0x2c8ddce5c85d0d9d},
      {64, 0x0eb64b3ef6eeb01f, 0x4af341f14e3a6fc9},   {100, 0xa61f8d4c170fe531, 0xf6d8f65c625abb4f},
      {1000, 0x5f235fa033f1a3fb, 0x442acd0a822e86f6},
  };
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>((7 * i + 3) & 0xFF));
  for (const Vector& v : vectors) {
    EXPECT_EQ(xxh64(std::string_view(data).substr(0, v.len), 0), v.seed0) << "len " << v.len;
    EXPECT_EQ(xxh64_bytes(data.data(), v.len, 0x9E3779B97F4A7C15ull), v.seed_golden) << "len " << v.len;
  }
  EXPECT_EQ(xxh64("abc", 1), 0xbea9ca8199328908ull);
  EXPECT_EQ(xxh64("The quick brown fox jumps over the lazy dog"), 0x0b242d361fda71bcull);
}

// ---- randomness ------------------------------------------------------------------

TEST(LbRandom, BelowStaysInRangeAndIsUniform) {
  LbState s;
  EXPECT_EQ(lb_random_below(s, 0), 0u);
  EXPECT_EQ(lb_random_below(s, 1), 0u);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < kPicks; ++i) {
    const uint32_t r = lb_random_below(s, 10);
    ASSERT_LT(r, 10u);
    ++counts[r];
  }
  for (int c : counts) expect_binomial(c, kPicks, 0.1, "bucket");
  EXPECT_LT(lb_random_below64(s, uint64_t{1} << 40), uint64_t{1} << 40);
}

TEST(LbRandom, SeededStatesDiffer) {
  const LbState a = lb_state_seeded(1), b = lb_state_seeded(2);
  EXPECT_NE(a.rng, b.rng);
  EXPECT_NE(a.cursor, b.cursor);
}

// ---- round robin -----------------------------------------------------------------

TEST(RoundRobin, EqualWeightsRotateExactly) {
  const auto hosts = hosts_with_weights({1, 1, 1, 1});
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s;
  uint32_t prev = kNoHost;
  const auto counts = count_picks(hosts.size(), kPicks, [&] {
    const uint32_t h = pick_round_robin(hosts, s, scratch);
    EXPECT_NE(h, prev);
    EXPECT_EQ(h, prev == kNoHost ? h : (prev + 1) % 4);
    prev = h;
    return h;
  });
  for (int i = 0; i < 4; ++i) EXPECT_EQ(counts[i], kPicks / 4) << "host " << i;
}

TEST(RoundRobin, SkipsUnavailableWithoutRepeating) {
  auto hosts = hosts_with_weights({5, 5, 5, 5});  // equal but not 1
  hosts[1].available = false;
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s = lb_state_seeded(42);
  uint32_t prev = kNoHost;
  const auto counts = count_picks(hosts.size(), 99'999, [&] {
    const uint32_t h = pick_round_robin(hosts, s, scratch);
    EXPECT_NE(h, prev);
    prev = h;
    return h;
  });
  EXPECT_EQ(counts[1], 0);
  for (int i : {0, 2, 3}) EXPECT_EQ(counts[i], 33'333) << "host " << i;
  EXPECT_EQ(counts[4], 0);
}

TEST(RoundRobin, WeightsAreProportionalAndInterleaved) {
  const auto hosts = hosts_with_weights({1, 2, 3, 4});
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s;
  std::vector<uint32_t> seq;
  for (int i = 0; i < kPicks; ++i) seq.push_back(pick_round_robin(hosts, s, scratch));
  // Exactly proportional over every cycle of sum(weights) = 10 picks.
  for (size_t start = 0; start < seq.size(); start += 10) {
    int c[4] = {0, 0, 0, 0};
    for (size_t i = start; i < start + 10; ++i) ++c[seq[i]];
    ASSERT_EQ(c[0], 1);
    ASSERT_EQ(c[1], 2);
    ASSERT_EQ(c[2], 3);
    ASSERT_EQ(c[3], 4);
  }
  // Evenly interleaved: after every pick, each host's count is within 1 of
  // its exact share (a weighted RR that sends the 4 picks of host 3 in a row
  // would be 2.4 off), and no host runs more than twice in a row.
  double count[4] = {0, 0, 0, 0};
  int run = 0;
  for (size_t t = 0; t < seq.size(); ++t) {
    ++count[seq[t]];
    for (int i = 0; i < 4; ++i) ASSERT_LT(std::fabs(count[i] - (t + 1) * (i + 1) / 10.0), 1.0) << "after " << t + 1;
    run = t > 0 && seq[t] == seq[t - 1] ? run + 1 : 1;
    ASSERT_LE(run, 2) << "at " << t;
  }
}

TEST(RoundRobin, WeightedSkipsUnavailable) {
  auto hosts = hosts_with_weights({1, 2, 3, 4});
  hosts[3].available = false;
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s;
  const auto counts = count_picks(hosts.size(), 60'000, [&] { return pick_round_robin(hosts, s, scratch); });
  EXPECT_EQ(counts[0], 10'000);
  EXPECT_EQ(counts[1], 20'000);
  EXPECT_EQ(counts[2], 30'000);
  EXPECT_EQ(counts[3], 0);
}

TEST(RoundRobin, WeightedStaysFairAndBoundedWhileHostsFlap) {
  auto hosts = hosts_with_weights({1, 2, 3, 4, 10});
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s;
  LbState flap;
  flap.rng = 7;
  int64_t worst = 0;
  for (int i = 0; i < kPicks; ++i) {
    if (i % 7 == 0) {
      LbHost& h = hosts[lb_random_below(flap, 5)];
      h.available = !h.available;
    }
    const uint32_t p = pick_round_robin(hosts, s, scratch);
    if (p != kNoHost) {
      ASSERT_TRUE(hosts[p].available);
    }
    for (int64_t c : scratch) worst = std::max(worst, c < 0 ? -c : c);
  }
  // Credits stay within about the weight sum (20): 18 at worst over 2000
  // random flap sequences tried while writing this.
  EXPECT_LE(worst, 2 * 20);
  for (LbHost& h : hosts) h.available = true;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_round_robin(hosts, s, scratch); });
  const int w[] = {1, 2, 3, 4, 10};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(counts[i], kPicks / 20 * w[i], 50) << "host " << i;
}

TEST(RoundRobin, NoneAvailable) {
  auto hosts = hosts_with_weights({1, 1, 1});
  for (LbHost& h : hosts) h.available = false;
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s;
  EXPECT_EQ(pick_round_robin(hosts, s, scratch), kNoHost);
  auto weighted = hosts_with_weights({1, 2, 3});
  for (LbHost& h : weighted) h.available = false;
  EXPECT_EQ(pick_round_robin(weighted, s, scratch), kNoHost);
  EXPECT_EQ(pick_round_robin({}, s, {}), kNoHost);
}

TEST(RoundRobin, ZeroWeightCountsAsOne) {
  const auto hosts = hosts_with_weights({0, 1, 2});
  std::vector<int64_t> scratch(hosts.size(), 0);
  LbState s;
  const auto counts = count_picks(hosts.size(), 4000, [&] { return pick_round_robin(hosts, s, scratch); });
  EXPECT_EQ(counts[0], 1000);
  EXPECT_EQ(counts[1], 1000);
  EXPECT_EQ(counts[2], 2000);
}

TEST(RoundRobin, ShortScratchFallsBackToRotation) {
  const auto hosts = hosts_with_weights({1, 3});
  LbState s;
  const auto counts = count_picks(hosts.size(), 1000, [&] { return pick_round_robin(hosts, s, {}); });
  EXPECT_EQ(counts[0], 500);
  EXPECT_EQ(counts[1], 500);
}

// ---- random ----------------------------------------------------------------------

TEST(Random, EqualWeightsUniform) {
  const auto hosts = hosts_with_weights({1, 1, 1, 1});
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_random(hosts, s); });
  for (int i = 0; i < 4; ++i) expect_binomial(counts[i], kPicks, 0.25, "host " + std::to_string(i));
}

TEST(Random, WeightsProportional) {
  const auto hosts = hosts_with_weights({1, 2, 3, 4});
  LbState s = lb_state_seeded(3);
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_random(hosts, s); });
  for (int i = 0; i < 4; ++i) expect_binomial(counts[i], kPicks, (i + 1) / 10.0, "host " + std::to_string(i));
}

TEST(Random, WeightSumsBeyond32Bits) {
  const auto hosts = hosts_with_weights({UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX / 3});
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_random(hosts, s); });
  for (int i = 0; i < 3; ++i) expect_binomial(counts[i], kPicks, 0.3, "host " + std::to_string(i));
  expect_binomial(counts[3], kPicks, 0.1, "host 3");
}

TEST(Random, UnavailableNeverPicked) {
  auto hosts = hosts_with_weights({1, 2, 3, 4});
  hosts[3].available = false;
  hosts[0].available = false;
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_random(hosts, s); });
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[3], 0);
  expect_binomial(counts[1], kPicks, 0.4, "host 1");
  for (LbHost& h : hosts) h.available = false;
  EXPECT_EQ(pick_random(hosts, s), kNoHost);
  EXPECT_EQ(pick_random({}, s), kNoHost);
}

// ---- least request ---------------------------------------------------------------

TEST(LeastRequest, EqualLoadIsUniform) {
  const auto hosts = hosts_with_weights({1, 1, 1, 1});
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_least_request(hosts, s); });
  for (int i = 0; i < 4; ++i) expect_binomial(counts[i], kPicks, 0.25, "host " + std::to_string(i));
}

TEST(LeastRequest, LoadedHostGetsNothing) {
  auto hosts = hosts_with_weights({1, 1, 1, 1});
  hosts[2].active = 1000;
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_least_request(hosts, s); });
  EXPECT_EQ(counts[2], 0);
  for (int i : {0, 1, 3}) expect_binomial(counts[i], kPicks, 1.0 / 3, "host " + std::to_string(i));
}

TEST(LeastRequest, PicksByRankOfLoad) {
  // Two distinct candidates out of 4: the host with k hosts less loaded than
  // it wins only against the (3 - k) more loaded ones: P = (3 - k) / 6.
  auto hosts = hosts_with_weights({1, 1, 1, 1});
  const uint32_t active[] = {10, 0, 20, 5};  // ranks 2, 0, 3, 1
  for (int i = 0; i < 4; ++i) hosts[i].active = active[i];
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_least_request(hosts, s); });
  expect_binomial(counts[1], kPicks, 3.0 / 6, "least loaded");
  expect_binomial(counts[3], kPicks, 2.0 / 6, "second");
  expect_binomial(counts[0], kPicks, 1.0 / 6, "third");
  EXPECT_EQ(counts[2], 0);
}

TEST(LeastRequest, WeightsProportionalWhenIdle) {
  const auto hosts = hosts_with_weights({1, 2, 3, 4});
  LbState s;
  const auto counts = count_picks(hosts.size(), kPicks, [&] { return pick_least_request(hosts, s); });
  for (int i = 0; i < 4; ++i) expect_binomial(counts[i], kPicks, (i + 1) / 10.0, "host " + std::to_string(i));
}

TEST(LeastRequest, ComparesActivePerWeight) {
  auto hosts = hosts_with_weights({1, 4});
  hosts[0].active = 1;  // 1 per unit of weight
  hosts[1].active = 3;  // 0.75 per unit: less loaded despite more active
  LbState s;
  auto counts = count_picks(hosts.size(), 1000, [&] { return pick_least_request(hosts, s); });
  EXPECT_EQ(counts[1], 1000);
  // Equal ratio (2/1 == 4/2): a tie, so the first drawn wins, drawn by weight.
  hosts = hosts_with_weights({1, 2});
  hosts[0].active = 2;
  hosts[1].active = 4;
  counts = count_picks(hosts.size(), kPicks, [&] { return pick_least_request(hosts, s); });
  expect_binomial(counts[0], kPicks, 1.0 / 3, "tie, weight 1");
}

TEST(LeastRequest, AvailabilityEdges) {
  auto hosts = hosts_with_weights({1, 1, 1, 1});
  hosts[0].available = hosts[1].available = hosts[3].available = false;
  hosts[2].active = 1'000'000;
  LbState s;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(pick_least_request(hosts, s), 2u);
  hosts[3].available = true;
  const auto counts = count_picks(hosts.size(), 10'000, [&] { return pick_least_request(hosts, s); });
  EXPECT_EQ(counts[3], 10'000);
  for (LbHost& h : hosts) h.available = false;
  EXPECT_EQ(pick_least_request(hosts, s), kNoHost);
  EXPECT_EQ(pick_least_request({}, s), kNoHost);
}

// ---- ring hash -------------------------------------------------------------------

// Fraction of the 64-bit hash space each host owns: the arc ending at each of
// its points (lookups go to the first point >= hash, wrapping).
std::vector<double> arc_shares(const std::vector<RingEntry>& ring, size_t n_hosts) {
  std::vector<double> share(n_hosts, 0);
  for (size_t i = 0; i < ring.size(); ++i) {
    const uint64_t prev = i == 0 ? ring.back().hash : ring[i - 1].hash;
    share[ring[i].host] += static_cast<double>(ring[i].hash - prev) / 18446744073709551616.0;  // wraps for i == 0
  }
  return share;
}

TEST(RingHash, BuildsSortedRingWithPowerOfTwoPointsPerWeight) {
  const auto keys = host_keys(10);
  const auto ring = build_ring(keys, {}, 1024);
  ASSERT_EQ(ring.size(), 1280u);  // 10 * 128: the smallest power of two reaching 1024
  EXPECT_TRUE(std::is_sorted(ring.begin(), ring.end(),
                             [](const RingEntry& a, const RingEntry& b) { return a.hash < b.hash; }));
  std::vector<int> points(10, 0);
  for (const RingEntry& e : ring) ++points[e.host];
  for (int p : points) EXPECT_EQ(p, 128);

  const uint32_t w[] = {1, 2, 3, 4};
  const auto weighted = build_ring(std::span(keys).first(4), w, 1024);
  ASSERT_EQ(weighted.size(), 1280u);
  std::vector<int> wp(4, 0);
  for (const RingEntry& e : weighted) ++wp[e.host];
  EXPECT_EQ(wp, (std::vector<int>{128, 256, 384, 512}));

  // Only proportions matter: the gcd is divided out.
  const uint32_t w100[] = {100, 200, 300, 400};
  const auto same = build_ring(std::span(keys).first(4), w100, 1024);
  ASSERT_EQ(same.size(), weighted.size());
  for (size_t i = 0; i < same.size(); ++i) {
    ASSERT_EQ(same[i].hash, weighted[i].hash);
    ASSERT_EQ(same[i].host, weighted[i].host);
  }
}

TEST(RingHash, SizeLimits) {
  const auto keys = host_keys(2);
  // Weight sum above the maximum: proportional down to max, at least 1 each.
  const uint32_t w[] = {1'000'001, 3'000'000};  // coprime: no gcd to divide out
  auto ring = build_ring(keys, w, 1024, 4096);
  ASSERT_EQ(ring.size(), 4096u);
  EXPECT_EQ(std::count_if(ring.begin(), ring.end(), [](const RingEntry& e) { return e.host == 0; }), 1024);
  // min above max: max wins.
  ring = build_ring(keys, {}, 1024, 500);
  EXPECT_LE(ring.size(), 500u);
  EXPECT_GE(ring.size(), 498u);
  const uint32_t w3[] = {1, 1'000'000};
  ring = build_ring(keys, w3, 16, 1000);
  EXPECT_EQ(std::count_if(ring.begin(), ring.end(), [](const RingEntry& e) { return e.host == 0; }), 1);
  // Mismatched weights, no hosts: nothing.
  const uint32_t w1[] = {1};
  EXPECT_TRUE(build_ring(keys, w1, 1024).empty());
  EXPECT_TRUE(build_ring({}, {}, 1024).empty());
}

TEST(RingHash, EvenAcrossHostsAndTighterWithSize) {
  // A host with m points owns a sum of m spacings: relative sd ~ 1/sqrt(m).
  // Bound each share at 4.5 sd (all 10 hosts inside except with p ~ 1e-4).
  const auto keys = host_keys(10);
  for (uint64_t min_size : {uint64_t{1024}, uint64_t{16384}, uint64_t{262144}}) {
    const auto ring = build_ring(keys, {}, min_size);
    const double m = static_cast<double>(ring.size()) / 10;
    const double bound = 4.5 / std::sqrt(m);
    const auto share = arc_shares(ring, 10);
    for (int i = 0; i < 10; ++i)
      EXPECT_NEAR(share[i] / 0.1, 1.0, bound) << "host " << i << " ring " << ring.size();
  }
  // The same seen through lookups of random keys on the smallest ring.
  const auto ring = build_ring(keys, {}, 1024);
  const auto hosts = hosts_with_weights(std::vector<uint32_t>(10, 1));
  std::vector<int> counts(10, 0);
  for (uint64_t k : random_keys(kPicks, 11)) ++counts[ring_lookup(ring, k, hosts)];
  for (int c : counts) EXPECT_NEAR(c / (kPicks * 0.1), 1.0, 4.5 / std::sqrt(128.0) + 0.03);
}

TEST(RingHash, WeightsRespected) {
  const auto keys = host_keys(4);
  const uint32_t w[] = {1, 2, 3, 4};
  const auto ring = build_ring(keys, w, 16384);  // 2048 points per unit of weight
  const auto share = arc_shares(ring, 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(share[i] / ((i + 1) / 10.0), 1.0, 4.5 / std::sqrt(2048.0 * (i + 1))) << "host " << i;
}

TEST(RingHash, AddingAHostMovesKeysOnlyToIt) {
  auto keys = host_keys(11);
  const auto hosts = hosts_with_weights(std::vector<uint32_t>(11, 1));
  const auto before = build_ring(std::span(keys).first(10), {}, 1024);
  const auto after = build_ring(keys, {}, 1024);
  int moved = 0, moved_elsewhere = 0;
  for (uint64_t k : random_keys(kPicks, 12)) {
    const uint32_t a = ring_lookup(before, k, hosts), b = ring_lookup(after, k, hosts);
    if (a == b) continue;
    ++moved;
    if (b != 10) ++moved_elsewhere;
  }
  EXPECT_EQ(moved_elsewhere, 0);
  // The new host owns ~1/11 of the ring (128 points: relative sd ~9%).
  EXPECT_NEAR(moved / (kPicks / 11.0), 1.0, 0.4) << moved;
}

TEST(RingHash, UnavailableHostOnlyItsKeysMove) {
  const auto keys = host_keys(10);
  const auto ring = build_ring(keys, {}, 1024);
  auto hosts = hosts_with_weights(std::vector<uint32_t>(10, 1));
  const auto sample = random_keys(kPicks, 13);
  std::vector<uint32_t> first;
  for (uint64_t k : sample) first.push_back(ring_lookup(ring, k, hosts));
  hosts[3].available = false;
  int moved_other = 0;
  std::vector<int> took(10, 0);
  for (size_t i = 0; i < sample.size(); ++i) {
    const uint32_t h = ring_lookup(ring, sample[i], hosts);
    ASSERT_NE(h, 3u);
    if (first[i] != 3 && h != first[i]) ++moved_other;
    if (first[i] == 3) ++took[h];
  }
  EXPECT_EQ(moved_other, 0);
  // The down host's keys go to the next point's host: spread, not dumped on one.
  const int orphans = static_cast<int>(std::count(first.begin(), first.end(), 3u));
  for (int i = 0; i < 10; ++i)
    if (i != 3) {
      EXPECT_LT(took[i], orphans / 3) << "host " << i;
    }
}

TEST(RingHash, LookupEdges) {
  const auto keys = host_keys(3);
  const auto ring = build_ring(keys, {}, 16);  // 3 * 8 points
  auto hosts = hosts_with_weights({1, 1, 1});
  EXPECT_EQ(ring_lookup(ring, ring[5].hash, hosts), ring[5].host);           // exact point
  EXPECT_EQ(ring_lookup(ring, ring[5].hash + 1, hosts), ring[6].host);       // next point
  EXPECT_EQ(ring_lookup(ring, ring.back().hash + 1, hosts), ring[0].host);   // wraps
  EXPECT_EQ(ring_lookup(ring, 0, hosts), ring[0].host);
  hosts[ring[0].host].available = false;
  size_t next = 1;
  while (ring[next].host == ring[0].host) ++next;
  EXPECT_EQ(ring_lookup(ring, ring.back().hash + 1, hosts), ring[next].host);  // wraps, then walks
  for (LbHost& h : hosts) h.available = false;
  EXPECT_EQ(ring_lookup(ring, 12345, hosts), kNoHost);
  EXPECT_EQ(ring_lookup({}, 12345, hosts), kNoHost);
  // A ring built for more hosts than passed: the missing ones are unavailable.
  const auto two = hosts_with_weights({1, 1});
  for (uint64_t k : random_keys(1000, 14)) ASSERT_LT(ring_lookup(ring, k, two), 2u);
}

// ---- Maglev ----------------------------------------------------------------------

std::vector<int> table_counts(const std::vector<uint32_t>& table, size_t n_hosts) {
  std::vector<int> c(n_hosts, 0);
  for (uint32_t h : table) ++c.at(h);
  return c;
}

TEST(Maglev, RejectsBadSizes) {
  const auto keys = host_keys(10);
  EXPECT_TRUE(build_maglev(keys, {}, 65536).empty());  // not prime
  EXPECT_TRUE(build_maglev(keys, {}, 7).empty());      // prime, fewer slots than hosts
  EXPECT_TRUE(build_maglev(keys, {}, 1).empty());
  EXPECT_TRUE(build_maglev({}, {}, 65537).empty());
  EXPECT_TRUE(build_maglev(keys, {}, 5000087).empty());  // prime above Envoy's cap
  const uint32_t w[] = {1, 2};
  EXPECT_TRUE(build_maglev(keys, w, 65537).empty());
  const auto small = build_maglev(keys, {}, 11);
  ASSERT_EQ(small.size(), 11u);
  for (int c : table_counts(small, 10)) EXPECT_GE(c, 1);
}

TEST(Maglev, EqualSharesWithinOneEntry) {
  for (int n : {10, 100}) {
    const auto table = build_maglev(host_keys(n), {}, kMaglevTableSizeDefault);
    ASSERT_EQ(table.size(), kMaglevTableSizeDefault);
    const int lo = static_cast<int>(kMaglevTableSizeDefault) / n;
    for (int c : table_counts(table, n)) {
      EXPECT_GE(c, lo) << "n " << n;
      EXPECT_LE(c, lo + 1) << "n " << n;
    }
  }
}

TEST(Maglev, WeightsRespected) {
  const uint32_t w[] = {1, 2, 3, 4};
  const auto table = build_maglev(host_keys(4), w, kMaglevTableSizeDefault);
  const auto c = table_counts(table, 4);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(c[i], kMaglevTableSizeDefault * (i + 1) / 10.0, 4) << "host " << i;
  const uint32_t skewed[] = {1, 1000};
  const auto t2 = table_counts(build_maglev(host_keys(2), skewed, kMaglevTableSizeDefault), 2);
  EXPECT_NEAR(t2[0], kMaglevTableSizeDefault / 1001.0, 2);
}

// Acceptance criterion of issue 5: adding one endpoint to N moves at most
// 1/N + 5% of keys.
TEST(Maglev, AddingAHostMovesAtMostOneNthPlusFivePercent) {
  const auto sample = random_keys(kPicks, 21);
  for (int n : {10, 100}) {
    const auto keys = host_keys(n + 1);
    const auto hosts = hosts_with_weights(std::vector<uint32_t>(n + 1, 1));
    const auto before = build_maglev(std::span(keys).first(n), {}, kMaglevTableSizeDefault);
    const auto after = build_maglev(keys, {}, kMaglevTableSizeDefault);
    int moved = 0, to_new = 0;
    for (uint64_t k : sample) {
      const uint32_t a = maglev_lookup(before, k, hosts), b = maglev_lookup(after, k, hosts);
      if (a != b) ++moved;
      if (b == static_cast<uint32_t>(n)) ++to_new;
    }
    const double fraction = static_cast<double>(moved) / kPicks;
    EXPECT_LE(fraction, 1.0 / n + 0.05) << "n " << n;
    expect_binomial(to_new, kPicks, 1.0 / (n + 1), "keys on the new host, n " + std::to_string(n));
    // Removing it again is the same comparison the other way round.
  }
}

TEST(Maglev, RemovingAHostMovesLittleElse) {
  const auto sample = random_keys(kPicks, 22);
  for (int n : {10, 100}) {
    const auto keys = host_keys(n);
    const auto hosts = hosts_with_weights(std::vector<uint32_t>(n, 1));
    const auto before = build_maglev(keys, {}, kMaglevTableSizeDefault);
    std::vector<uint64_t> fewer(keys.begin(), keys.end() - 1);  // drop the last host
    const auto after = build_maglev(fewer, {}, kMaglevTableSizeDefault);
    int moved_other = 0;
    for (uint64_t k : sample) {
      const uint32_t a = maglev_lookup(before, k, hosts), b = maglev_lookup(after, k, hosts);
      if (a != static_cast<uint32_t>(n - 1) && a != b) ++moved_other;
    }
    EXPECT_LE(static_cast<double>(moved_other) / kPicks, 0.02) << "n " << n;
  }
}

TEST(Maglev, UnavailableHostOnlyItsKeysMove) {
  const auto table = build_maglev(host_keys(10), {}, kMaglevTableSizeDefault);
  auto hosts = hosts_with_weights(std::vector<uint32_t>(10, 1));
  const auto sample = random_keys(kPicks, 23);
  std::vector<uint32_t> first;
  for (uint64_t k : sample) first.push_back(maglev_lookup(table, k, hosts));
  hosts[6].available = false;
  int moved_other = 0, orphans = 0;
  std::vector<int> took(10, 0);
  for (size_t i = 0; i < sample.size(); ++i) {
    const uint32_t h = maglev_lookup(table, sample[i], hosts);
    ASSERT_NE(h, 6u);
    if (first[i] != 6 && h != first[i]) ++moved_other;
    if (first[i] == 6) {
      ++orphans;
      ++took[h];
    }
  }
  EXPECT_EQ(moved_other, 0);
  // Rehashed probes spread the orphans like the table does: ~1/9 each.
  for (int i = 0; i < 10; ++i)
    if (i != 6) {
      expect_binomial(took[i], orphans, 1.0 / 9, "orphans to host " + std::to_string(i));
    }
}

TEST(Maglev, FallbackWalksToTheLastAvailableHost) {
  const auto table = build_maglev(host_keys(10), {}, kMaglevTableSizeDefault);
  auto hosts = hosts_with_weights(std::vector<uint32_t>(10, 1));
  for (LbHost& h : hosts) h.available = false;
  EXPECT_EQ(maglev_lookup(table, 99, hosts), kNoHost);
  hosts[8].available = true;
  for (uint64_t k : random_keys(10'000, 24)) ASSERT_EQ(maglev_lookup(table, k, hosts), 8u);
  EXPECT_EQ(maglev_lookup({}, 99, hosts), kNoHost);
  // A table built for more hosts than passed: the missing ones are unavailable.
  const auto two = hosts_with_weights({1, 1});
  for (uint64_t k : random_keys(1000, 25)) ASSERT_LT(maglev_lookup(table, k, two), 2u);
}

}  // namespace
}  // namespace lg::upstream
