#include "drivers/impair.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "dataplane/runtime/eal.h"

namespace lg::drv {
namespace {

constexpr unsigned kPoolSize = 8191;
constexpr uint64_t kTscHz = 1'000'000'000;     // fake TSC: 1 cycle = 1 ns
constexpr uint64_t kOneMs = kTscHz / 1000;
constexpr uint16_t kEthLen = 14;
constexpr uint16_t kSeqOffset = kEthLen;       // the sequence number right after the Ethernet header

uint8_t pattern(uint32_t seq, uint32_t i) { return static_cast<uint8_t>(seq * 31 + i * 7 + 3); }

// The bytes make_packet() writes for seq: a pattern, with seq itself after the
// Ethernet header when the packet is long enough.
std::vector<uint8_t> expected_bytes(uint32_t seq, uint16_t len) {
  std::vector<uint8_t> b(len);
  for (uint32_t i = 0; i < len; ++i) b[i] = pattern(seq, i);
  if (len >= kSeqOffset + sizeof seq) std::memcpy(b.data() + kSeqOffset, &seq, sizeof seq);
  return b;
}

std::vector<uint8_t> bytes_of(const rte_mbuf* m) {
  std::vector<uint8_t> b(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(b.size()), b.data());
  if (p != b.data()) std::memcpy(b.data(), p, b.size());
  return b;
}

uint32_t seq_of(const rte_mbuf* m) {
  uint32_t seq;
  std::memcpy(&seq, rte_pktmbuf_mtod_offset(m, const uint8_t*, kSeqOffset), sizeof seq);
  return seq;
}

size_t differing_bytes(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, size_t* first = nullptr) {
  size_t n = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) {
      if (n++ == 0 && first != nullptr) *first = i;
    }
  return n + std::max(a.size(), b.size()) - std::min(a.size(), b.size());
}

class ImpairTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pool_ = rte_pktmbuf_pool_create("impair_test", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_mempool_free(pool_);
    pool_ = nullptr;
  }
  // Every test must hand every mbuf back, held ones included. Against the
  // count at the start, so one failed test does not fail the rest.
  void SetUp() override { avail_at_start_ = rte_mempool_avail_count(pool_); }
  void TearDown() override { EXPECT_EQ(rte_mempool_avail_count(pool_), avail_at_start_) << "mbuf leak"; }

  static rte_mbuf* make_packet(uint32_t seq, uint16_t len = 64) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    if (m == nullptr) return nullptr;
    auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
    EXPECT_NE(d, nullptr);
    const std::vector<uint8_t> b = expected_bytes(seq, len);
    std::memcpy(d, b.data(), len);
    return m;
  }

  // Fills pkts[0..n) with packets first_seq, first_seq+1, ...
  static void fill(rte_mbuf** pkts, uint16_t n, uint32_t first_seq, uint16_t len = 64) {
    for (uint16_t i = 0; i < n; ++i) pkts[i] = make_packet(first_seq + i, len);
  }

  // Records the sequence numbers of pkts[0..n) and frees them.
  static void consume(rte_mbuf** pkts, uint16_t n, std::vector<uint32_t>* seqs) {
    for (uint16_t i = 0; i < n; ++i) {
      if (seqs != nullptr) seqs->push_back(seq_of(pkts[i]));
      rte_pktmbuf_free(pkts[i]);
    }
  }

  // Streams `count` packets through the stage as a worker would (apply, then
  // drain, each loop pass), then drains once more after 1 ms; returns the
  // sequence numbers in output order.
  static std::vector<uint32_t> pump(ImpairStage& stage, uint32_t count, uint16_t burst, uint16_t cap,
                                    uint64_t now = 1, uint64_t step = 1000) {
    std::vector<uint32_t> out;
    std::vector<rte_mbuf*> pkts(cap);
    for (uint32_t seq = 0; seq < count; seq += burst, now += step) {
      const auto n = static_cast<uint16_t>(std::min<uint32_t>(burst, count - seq));
      fill(pkts.data(), n, seq);
      uint16_t k = stage.apply(pkts.data(), n, cap, now);
      k = stage.drain(pkts.data(), k, cap, now);
      consume(pkts.data(), k, &out);
    }
    const uint16_t k = stage.drain(pkts.data(), 0, cap, now + kOneMs);
    consume(pkts.data(), k, &out);
    return out;
  }

  static rte_mempool* pool_;
  unsigned avail_at_start_ = 0;
};

rte_mempool* ImpairTest::pool_ = nullptr;

// How many packets left after one with a higher sequence number.
size_t out_of_order(const std::vector<uint32_t>& seqs) {
  size_t late = 0;
  uint32_t highest = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (i > 0 && seqs[i] < highest) ++late;
    highest = std::max(highest, seqs[i]);
  }
  return late;
}

std::vector<uint32_t> iota_seqs(uint32_t n) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  return v;
}

TEST(ImpairConfigTest, EnabledWhenAnyImpairmentIsSet) {
  EXPECT_FALSE(ImpairConfig{}.enabled());
  ImpairConfig c;
  c.seed = 99;
  EXPECT_FALSE(c.enabled()) << "a seed alone impairs nothing";
  for (double ImpairConfig::*f : {&ImpairConfig::loss, &ImpairConfig::reorder, &ImpairConfig::duplicate,
                                  &ImpairConfig::corrupt}) {
    ImpairConfig one;
    one.*f = 0.01;
    EXPECT_TRUE(one.enabled());
  }
  ImpairConfig d;
  d.delay_us = 1;
  EXPECT_TRUE(d.enabled());
}

void expect_no_impairment(const ImpairStats& s) {
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.duplicated, 0u);
  EXPECT_EQ(s.reordered, 0u);
  EXPECT_EQ(s.corrupted, 0u);
  EXPECT_EQ(s.delayed, 0u);
  EXPECT_EQ(s.overflow, 0u);
}

TEST_F(ImpairTest, DisabledStagePassesEverythingUnchangedInOrder) {
  ImpairStage stage(ImpairConfig{}, kTscHz, pool_, 0);
  rte_mbuf* pkts[64];
  rte_mbuf* before[32];
  fill(pkts, 32, 100);
  std::copy(pkts, pkts + 32, before);
  ASSERT_EQ(stage.apply(pkts, 32, 64, 5), 32);
  EXPECT_TRUE(std::equal(before, before + 32, pkts)) << "same mbufs, same order";
  EXPECT_EQ(stage.drain(pkts, 32, 64, 5 + 10 * kOneMs), 32);
  for (uint16_t i = 0; i < 32; ++i) EXPECT_EQ(bytes_of(pkts[i]), expected_bytes(100 + i, 64));
  expect_no_impairment(stage.stats());
  consume(pkts, 32, nullptr);
}

TEST_F(ImpairTest, OutOfRangeFractionsDoNotEnableTheStage) {
  // validate() rejects these; a stage built anyway must not misbehave.
  ImpairConfig c;
  c.loss = std::nan("");
  c.corrupt = -1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  EXPECT_EQ(pump(stage, 1000, 32, 32), iota_seqs(1000));
  expect_no_impairment(stage.stats());
}

TEST_F(ImpairTest, LossDropsTheConfiguredFraction) {
  ImpairConfig c;
  c.loss = 0.1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  constexpr uint32_t kCount = 100'000;
  const std::vector<uint32_t> out = pump(stage, kCount, 32, 32);
  const uint64_t dropped = kCount - out.size();
  EXPECT_GE(dropped, 9'000u);
  EXPECT_LE(dropped, 11'000u);
  EXPECT_EQ(stage.stats().dropped, dropped);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end())) << "loss alone keeps order";
  EXPECT_EQ(std::adjacent_find(out.begin(), out.end()), out.end()) << "and makes no duplicates";
}

TEST_F(ImpairTest, LossPatternIsDeterministicPerSeedAndStream) {
  ImpairConfig c;
  c.loss = 0.1;
  c.seed = 7;
  auto run = [&](const ImpairConfig& cfg, uint64_t stream) {
    ImpairStage stage(cfg, kTscHz, pool_, stream);
    return pump(stage, 20'000, 32, 32);
  };
  const std::vector<uint32_t> a = run(c, 0);
  EXPECT_EQ(run(c, 0), a) << "same seed and stream: identical drops";
  EXPECT_NE(run(c, 1), a) << "another queue: another pattern";
  ImpairConfig other_seed = c;
  other_seed.seed = 8;
  EXPECT_NE(run(other_seed, 0), a);
}

TEST_F(ImpairTest, LossOfOneDropsEverything) {
  ImpairConfig c;
  c.loss = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  EXPECT_TRUE(pump(stage, 5000, 32, 32).empty());
  EXPECT_EQ(stage.stats().dropped, 5000u);
}

TEST_F(ImpairTest, DuplicatesAreIdenticalDeepCopiesRightAfterTheOriginal) {
  ImpairConfig c;
  c.duplicate = 0.05;
  ImpairStage stage(c, kTscHz, pool_, 3);
  constexpr uint32_t kCount = 20'000;
  constexpr uint16_t kBurst = 32, kCap = 64;
  rte_mbuf* pkts[kCap];
  std::vector<uint32_t> seqs;
  size_t copies = 0;
  for (uint32_t seq = 0; seq < kCount; seq += kBurst) {
    fill(pkts, kBurst, seq);
    const uint16_t k = stage.apply(pkts, kBurst, kCap, 1);
    ASSERT_LE(k, kCap);
    for (uint16_t i = 0; i < k; ++i) {
      EXPECT_EQ(bytes_of(pkts[i]), expected_bytes(seq_of(pkts[i]), 64));
      if (i > 0 && seq_of(pkts[i]) == seq_of(pkts[i - 1])) {
        ++copies;
        EXPECT_NE(pkts[i], pkts[i - 1]);
        EXPECT_NE(rte_pktmbuf_mtod(pkts[i], void*), rte_pktmbuf_mtod(pkts[i - 1], void*)) << "a deep copy";
        EXPECT_EQ(rte_mbuf_refcnt_read(pkts[i]), 1);
        EXPECT_TRUE(RTE_MBUF_DIRECT(pkts[i]));
      }
    }
    consume(pkts, k, &seqs);
  }
  EXPECT_EQ(copies, stage.stats().duplicated);
  EXPECT_GE(copies, kCount * 4 / 100);
  EXPECT_LE(copies, kCount * 6 / 100);
  // Every packet once or twice, in order.
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  std::vector<uint32_t> unique = seqs;
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  EXPECT_EQ(unique, iota_seqs(kCount));
  EXPECT_EQ(seqs.size(), kCount + copies);
}

TEST_F(ImpairTest, DuplicatesBeyondCapAreNotMade) {
  ImpairConfig c;
  c.duplicate = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[40];
  fill(pkts, 32, 0);
  ASSERT_EQ(stage.apply(pkts, 32, 32, 1), 32) << "no room: no copies";
  for (uint16_t i = 0; i < 32; ++i) EXPECT_EQ(seq_of(pkts[i]), i);
  consume(pkts, 32, nullptr);

  fill(pkts, 32, 0);
  ASSERT_EQ(stage.apply(pkts, 32, 35, 1), 35) << "room for three copies";
  const std::vector<uint32_t> want = {0, 0, 1, 1, 2, 2};
  std::vector<uint32_t> got;
  for (uint16_t i = 0; i < 6; ++i) got.push_back(seq_of(pkts[i]));
  EXPECT_EQ(got, want);
  for (uint16_t i = 6; i < 35; ++i) EXPECT_EQ(seq_of(pkts[i]), i - 3u);
  consume(pkts, 35, nullptr);
  EXPECT_EQ(stage.stats().duplicated, 3u);
}

TEST_F(ImpairTest, CorruptionFlipsExactlyOneByteAfterTheEthernetHeader) {
  ImpairConfig c;
  c.corrupt = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  std::vector<size_t> hits_per_offset(200, 0);
  uint32_t seq = 0;
  for (int round = 0; round < 40; ++round) {
    rte_mbuf* pkts[32];
    uint16_t lens[32];
    for (uint16_t i = 0; i < 32; ++i) {
      lens[i] = static_cast<uint16_t>(15 + (seq * 37) % 186);  // 15..200 bytes
      pkts[i] = make_packet(seq + i, lens[i]);
    }
    ASSERT_EQ(stage.apply(pkts, 32, 32, 1), 32);
    for (uint16_t i = 0; i < 32; ++i) {
      size_t at = 0;
      EXPECT_EQ(differing_bytes(bytes_of(pkts[i]), expected_bytes(seq + i, lens[i]), &at), 1u);
      EXPECT_GE(at, kEthLen);
      ++hits_per_offset[at];
    }
    consume(pkts, 32, nullptr);
    seq += 32;
  }
  EXPECT_EQ(stage.stats().corrupted, seq);
  EXPECT_EQ(std::accumulate(hits_per_offset.begin(), hits_per_offset.begin() + kEthLen, size_t{0}), 0u);
  EXPECT_GT(std::count_if(hits_per_offset.begin(), hits_per_offset.end(), [](size_t h) { return h > 0; }), 100)
      << "offsets spread over the packet";
}

TEST_F(ImpairTest, CorruptionSkipsHeaderOnlyFrames) {
  ImpairConfig c;
  c.corrupt = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[1] = {make_packet(0, kEthLen)};
  ASSERT_EQ(stage.apply(pkts, 1, 1, 1), 1);
  EXPECT_EQ(bytes_of(pkts[0]), expected_bytes(0, kEthLen));
  EXPECT_EQ(stage.stats().corrupted, 0u);
  consume(pkts, 1, nullptr);
}

TEST_F(ImpairTest, CorruptionReachesEverySegmentOfAChain) {
  ImpairConfig c;
  c.corrupt = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  size_t in_tail = 0;
  for (uint32_t seq = 0; seq < 200; ++seq) {
    rte_mbuf* head = make_packet(seq, 20);  // 6 bytes past the header here ...
    rte_mbuf* tail = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(tail, nullptr);
    auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(tail, 100));  // ... 100 in the next segment
    for (uint32_t i = 0; i < 100; ++i) d[i] = pattern(seq, 20 + i);
    ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
    std::vector<uint8_t> want = expected_bytes(seq, 120);
    rte_mbuf* pkts[1] = {head};
    ASSERT_EQ(stage.apply(pkts, 1, 1, 1), 1);
    size_t at = 0;
    EXPECT_EQ(differing_bytes(bytes_of(pkts[0]), want, &at), 1u);
    EXPECT_GE(at, kEthLen);
    in_tail += at >= 20;
    consume(pkts, 1, nullptr);
  }
  EXPECT_GT(in_tail, 100u);
  EXPECT_LT(in_tail, 200u);
}

TEST_F(ImpairTest, CorruptionOfSharedDataCorruptsAPrivateCopy) {
  ImpairConfig c;
  c.corrupt = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* original = make_packet(5, 64);
  rte_mbuf* clone = rte_pktmbuf_clone(original, pool_);  // shares original's data
  ASSERT_NE(clone, nullptr);
  rte_mbuf* pkts[1] = {clone};
  ASSERT_EQ(stage.apply(pkts, 1, 1, 1), 1);
  EXPECT_NE(pkts[0], clone);
  EXPECT_EQ(differing_bytes(bytes_of(pkts[0]), expected_bytes(5, 64)), 1u);
  EXPECT_EQ(bytes_of(original), expected_bytes(5, 64)) << "the other holder sees the frame untouched";
  EXPECT_EQ(rte_mbuf_refcnt_read(original), 1) << "the clone was released";
  consume(pkts, 1, nullptr);
  rte_pktmbuf_free(original);
}

TEST_F(ImpairTest, CorruptionMakesChecksumsCheckAgain) {
  ImpairConfig c;
  c.corrupt = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[3] = {make_packet(0), make_packet(1), make_packet(2)};
  pkts[0]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  pkts[1]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  pkts[2]->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
  ASSERT_EQ(stage.apply(pkts, 3, 3, 1), 3);
  EXPECT_EQ(pkts[0]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
  EXPECT_EQ(pkts[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
  EXPECT_EQ(pkts[1]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_BAD) << "bad stays bad";
  EXPECT_EQ(pkts[1]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
  EXPECT_EQ(pkts[2]->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0u)
      << "the NIC must not fill checksums over corrupted bytes";
  consume(pkts, 3, nullptr);
}

TEST_F(ImpairTest, DuplicateAndOriginalAreCorruptedIndependently) {
  ImpairConfig c;
  c.duplicate = 1;
  c.corrupt = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  size_t pairs_differing = 0;
  for (uint32_t seq = 0; seq < 100; ++seq) {
    rte_mbuf* pkts[2] = {make_packet(seq, 1000)};
    ASSERT_EQ(stage.apply(pkts, 1, 2, 1), 2);
    const std::vector<uint8_t> want = expected_bytes(seq, 1000);
    EXPECT_EQ(differing_bytes(bytes_of(pkts[0]), want), 1u);
    EXPECT_EQ(differing_bytes(bytes_of(pkts[1]), want), 1u);
    pairs_differing += bytes_of(pkts[0]) != bytes_of(pkts[1]);
    consume(pkts, 2, nullptr);
  }
  EXPECT_GT(pairs_differing, 95u) << "each copy takes its own hit";
}

TEST_F(ImpairTest, ReorderSwapsWithALaterPacketAndLosesNothing) {
  ImpairConfig c;
  c.reorder = 0.05;
  ImpairStage stage(c, kTscHz, pool_, 0);
  constexpr uint32_t kCount = 20'000;
  std::vector<uint32_t> out = pump(stage, kCount, 32, 64);
  const size_t late = out_of_order(out);
  EXPECT_EQ(late, stage.stats().reordered);
  EXPECT_GE(late, kCount * 4 / 100);
  EXPECT_LE(late, kCount * 6 / 100);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, iota_seqs(kCount)) << "every packet exactly once";
}

TEST_F(ImpairTest, ReorderedPacketFollowsTheNextBurst) {
  ImpairConfig c;
  c.reorder = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[4] = {make_packet(0)};
  ASSERT_EQ(stage.apply(pkts, 1, 4, 10), 0) << "held back";
  EXPECT_EQ(stage.drain(pkts, 0, 4, 10 + kOneMs / 2), 0) << "still waiting for a later packet";
  pkts[0] = make_packet(1);
  ASSERT_EQ(stage.apply(pkts, 1, 4, 20), 2);
  EXPECT_EQ(seq_of(pkts[0]), 1u);
  EXPECT_EQ(seq_of(pkts[1]), 0u);
  EXPECT_EQ(stage.stats().reordered, 1u);
  consume(pkts, 2, nullptr);
}

TEST_F(ImpairTest, HeldPacketIsReleasedAfterOneMillisecondWithoutTraffic) {
  ImpairConfig c;
  c.reorder = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[4] = {make_packet(0)};
  const uint64_t t0 = 5000;
  ASSERT_EQ(stage.apply(pkts, 1, 4, t0), 0);
  EXPECT_EQ(stage.drain(pkts, 0, 4, t0 + kOneMs - 1), 0);
  ASSERT_EQ(stage.drain(pkts, 0, 4, t0 + kOneMs), 1);
  EXPECT_EQ(seq_of(pkts[0]), 0u);
  EXPECT_EQ(stage.stats().reordered, 0u) << "nothing overtook it";
  consume(pkts, 1, nullptr);
}

TEST_F(ImpairTest, HeldPacketOvertakenWithoutRoomIsStillCountedWhenReleased) {
  ImpairConfig c;
  c.reorder = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[1] = {make_packet(0)};
  ASSERT_EQ(stage.apply(pkts, 1, 1, 0), 0);
  pkts[0] = make_packet(1);
  ASSERT_EQ(stage.apply(pkts, 1, 1, 1), 1) << "cap 1: no room to release the held packet too";
  EXPECT_EQ(seq_of(pkts[0]), 1u);
  consume(pkts, 1, nullptr);
  EXPECT_EQ(stage.drain(pkts, 0, 1, 1), 0);
  ASSERT_EQ(stage.drain(pkts, 0, 1, kOneMs), 1);
  EXPECT_EQ(seq_of(pkts[0]), 0u);
  EXPECT_EQ(stage.stats().reordered, 1u);
  consume(pkts, 1, nullptr);
}

TEST_F(ImpairTest, DelayHoldsEveryPacketForTheFixedTimeInOrder) {
  ImpairConfig c;
  c.delay_us = 100;
  ImpairStage stage(c, kTscHz, pool_, 0);
  constexpr uint64_t kDelay = 100 * kTscHz / 1'000'000;
  rte_mbuf* pkts[32];
  fill(pkts, 10, 0);
  ASSERT_EQ(stage.apply(pkts, 10, 32, 1000), 0);
  fill(pkts, 10, 10);
  ASSERT_EQ(stage.apply(pkts, 10, 32, 51'000), 0);
  EXPECT_EQ(stage.stats().delayed, 20u);

  EXPECT_EQ(stage.drain(pkts, 0, 32, 1000 + kDelay - 1), 0) << "not a cycle early";
  std::vector<uint32_t> out;
  uint16_t k = stage.drain(pkts, 0, 32, 1000 + kDelay);
  EXPECT_EQ(k, 10);
  consume(pkts, k, &out);
  EXPECT_EQ(stage.drain(pkts, 0, 32, 51'000 + kDelay - 1), 0);
  // A small cap releases part now, the rest next pass, still in order.
  k = stage.drain(pkts, 0, 4, 51'000 + kDelay);
  EXPECT_EQ(k, 4);
  consume(pkts, k, &out);
  k = stage.drain(pkts, 0, 32, 51'000 + kDelay);
  EXPECT_EQ(k, 6);
  consume(pkts, k, &out);
  EXPECT_EQ(out, iota_seqs(20));
}

TEST_F(ImpairTest, DelayRoundsUpToWholeCycles) {
  // 3 us at 1.5 GHz + 1 Hz is 4500.0000015 cycles: released at 4501, not at 4500.
  ImpairConfig c;
  c.delay_us = 3;
  ImpairStage stage(c, 1'500'000'001, pool_, 0);
  rte_mbuf* pkts[1] = {make_packet(0)};
  ASSERT_EQ(stage.apply(pkts, 1, 1, 10), 0);
  EXPECT_EQ(stage.drain(pkts, 0, 1, 10 + 4500), 0);
  ASSERT_EQ(stage.drain(pkts, 0, 1, 10 + 4501), 1);
  consume(pkts, 1, nullptr);
}

TEST_F(ImpairTest, DrainAppendsAfterThePacketsAlreadyThere) {
  ImpairConfig c;
  c.delay_us = 1;
  ImpairStage stage(c, kTscHz, pool_, 0);
  rte_mbuf* pkts[8];
  fill(pkts, 3, 0);
  ASSERT_EQ(stage.apply(pkts, 3, 8, 0), 0);
  fill(pkts, 2, 100);  // e.g. the worker's own packets already in the array
  ASSERT_EQ(stage.drain(pkts, 2, 8, 1000), 5);
  std::vector<uint32_t> out;
  consume(pkts, 5, &out);
  EXPECT_EQ(out, (std::vector<uint32_t>{100, 101, 0, 1, 2}));
}

TEST_F(ImpairTest, FullDelayRingLetsPacketsThroughAndCountsOverflow) {
  ImpairConfig c;
  c.delay_us = 10;
  ImpairStage stage(c, kTscHz, pool_, 0);
  constexpr uint32_t kExtra = 40;
  constexpr uint32_t kTotal = ImpairStage::kDelayCapacity + kExtra;
  rte_mbuf* pkts[256];
  std::vector<uint32_t> undelayed;
  for (uint32_t seq = 0; seq < kTotal; seq += 32) {
    const auto n = static_cast<uint16_t>(std::min<uint32_t>(32, kTotal - seq));
    fill(pkts, n, seq);
    const uint16_t k = stage.apply(pkts, n, 256, 100);
    consume(pkts, k, &undelayed);
  }
  EXPECT_EQ(undelayed, [] {
    std::vector<uint32_t> v(kExtra);
    std::iota(v.begin(), v.end(), ImpairStage::kDelayCapacity);
    return v;
  }());
  EXPECT_EQ(stage.stats().delayed, ImpairStage::kDelayCapacity);
  EXPECT_EQ(stage.stats().overflow, kExtra);
  std::vector<uint32_t> later;
  for (uint16_t k; (k = stage.drain(pkts, 0, 256, 100 + 10'000)) > 0;) consume(pkts, k, &later);
  EXPECT_EQ(later, iota_seqs(ImpairStage::kDelayCapacity));
}

TEST_F(ImpairTest, DestructorAndFlushAllFreeHeldPackets) {
  ImpairConfig c;
  c.delay_us = 500;
  c.reorder = 1;  // every other packet held: an odd count leaves the last one in the reorder slot
  rte_mbuf* pkts[64];
  {
    ImpairStage stage(c, kTscHz, pool_, 0);
    fill(pkts, 64, 0);
    EXPECT_EQ(stage.apply(pkts, 64, 64, 0), 0);
    EXPECT_EQ(rte_mempool_avail_count(pool_), avail_at_start_ - 64);
  }
  EXPECT_EQ(rte_mempool_avail_count(pool_), avail_at_start_) << "destructor";

  ImpairStage stage(c, kTscHz, pool_, 0);
  fill(pkts, 63, 0);
  EXPECT_EQ(stage.apply(pkts, 63, 64, 0), 0);
  const uint16_t k = stage.drain(pkts, 0, 64, kOneMs / 2);
  EXPECT_EQ(k, 62) << "one left in the reorder slot";
  consume(pkts, k, nullptr);
  fill(pkts, 64, 100);
  EXPECT_EQ(stage.apply(pkts, 64, 64, kOneMs / 2), 0) << "and 64 in the delay line";
  stage.flush_all();
  EXPECT_EQ(rte_mempool_avail_count(pool_), avail_at_start_) << "flush_all";
  EXPECT_EQ(stage.drain(pkts, 0, 64, 100 * kOneMs), 0) << "nothing left to drain";
  stage.flush_all();  // idempotent; the destructor runs it once more
}

// Everything on at once, with ragged bursts and caps: outputs never pass cap
// (sentinels beyond it stay), packets are conserved, nothing is stranded.
TEST_F(ImpairTest, AllImpairmentsTogetherRespectCapAndConservePackets) {
  ImpairConfig c;
  c.loss = 0.1;
  c.duplicate = 0.2;
  c.reorder = 0.2;
  c.corrupt = 0.1;
  c.delay_us = 3;
  c.seed = 42;
  ImpairStage stage(c, kTscHz, pool_, 9);
  rte_mbuf sentinel_storage{};
  rte_mbuf* const sentinel = &sentinel_storage;
  constexpr uint16_t kSlack = 8;
  std::vector<rte_mbuf*> pkts(64 + kSlack);
  uint64_t out = 0, in = 0, now = 0;
  uint32_t seq = 0;
  for (int pass = 0; pass < 5000; ++pass, now += 700) {
    const auto cap = static_cast<uint16_t>(1 + (pass * 7) % 64);
    const auto n = static_cast<uint16_t>(pass % 3 == 0 ? 0 : 1 + (pass * 13) % cap);
    std::fill(pkts.begin(), pkts.end(), sentinel);
    fill(pkts.data(), n, seq);
    seq += n;
    in += n;
    uint16_t k = stage.apply(pkts.data(), n, cap, now);
    ASSERT_LE(k, cap);
    k = stage.drain(pkts.data(), k, cap, now);
    ASSERT_LE(k, cap);
    for (size_t i = cap; i < pkts.size(); ++i) {
      ASSERT_EQ(pkts[i], sentinel) << "write past cap at " << i;
    }
    for (uint16_t i = 0; i < k; ++i) ASSERT_NE(pkts[i], sentinel);
    out += k;
    consume(pkts.data(), k, nullptr);
  }
  for (uint16_t k; (k = stage.drain(pkts.data(), 0, 64, now + kOneMs)) > 0;) {
    out += k;
    consume(pkts.data(), k, nullptr);
  }
  const ImpairStats& s = stage.stats();
  EXPECT_EQ(out, in - s.dropped + s.duplicated);
  EXPECT_GT(s.dropped, 0u);
  EXPECT_GT(s.duplicated, 0u);
  EXPECT_GT(s.reordered, 0u);
  EXPECT_GT(s.corrupted, 0u);
  EXPECT_GT(s.delayed, 0u);
}

TEST(ImpairValidateTest, AcceptsDefaultsAndBoundaries) {
  EXPECT_EQ(validate(ImpairConfig{}), "");
  ImpairConfig c;
  c.loss = 1;
  c.reorder = 0;
  c.duplicate = 0.5;
  c.corrupt = 1;
  c.delay_us = kImpairMaxDelayUs;
  c.seed = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(validate(c), "");
}

TEST(ImpairValidateTest, NamesTheFieldAndTheRange) {
  ImpairConfig c;
  c.loss = 1.5;
  EXPECT_EQ(validate(c), "impair.loss: expected a fraction from 0 to 1, got 1.5");
  c = {};
  c.reorder = -0.1;
  EXPECT_EQ(validate(c), "impair.reorder: expected a fraction from 0 to 1, got -0.1");
  c = {};
  c.duplicate = std::nan("");
  EXPECT_EQ(validate(c), "impair.duplicate: expected a fraction from 0 to 1, got nan");
  c = {};
  c.corrupt = std::numeric_limits<double>::infinity();
  EXPECT_EQ(validate(c), "impair.corrupt: expected a fraction from 0 to 1, got inf");
  c = {};
  c.delay_us = kImpairMaxDelayUs + 1;
  EXPECT_EQ(validate(c), "impair.delay_us: expected microseconds from 0 to 1000000, got 1000001");
}

}  // namespace
}  // namespace lg::drv

// EAL in memory only (no hugepages, devices or files) so mbufs can be made.
int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  lg::ScratchEal eal("impair", 256);
  if (!eal.ok()) return 1;
  return RUN_ALL_TESTS();
}
