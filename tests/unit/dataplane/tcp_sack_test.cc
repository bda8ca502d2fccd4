#include "dataplane/tcp/sack.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <ostream>
#include <vector>

namespace lg::tcp {

// Found by ADL from gtest's printer: readable failure messages.
inline void PrintTo(const SackBlock& b, std::ostream* os) { *os << "[" << b.start << "," << b.end << ")"; }

namespace {

std::vector<SackBlock> ranges(const SackScoreboard& sb) {
  std::vector<SackBlock> v;
  for (unsigned i = 0; i < sb.blocks(); ++i) v.push_back(sb.block(i));
  return v;
}

SackAckResult ack(SackScoreboard& sb, Seq una, Seq max, std::initializer_list<SackBlock> bl) {
  std::vector<SackBlock> v(bl);
  return sb.on_ack(una, max, v.data(), static_cast<unsigned>(v.size()));
}

using V = std::vector<SackBlock>;

// ---- scoreboard bookkeeping --------------------------------------------------

TEST(TcpSack, StartsEmpty) {
  SackScoreboard sb;
  sb.reset();
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.blocks(), 0u);
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  ack(sb, 1000, 5000, {});
  EXPECT_EQ(sb.highest_sacked(), 1000u);  // nothing SACKed: snd_una
  EXPECT_FALSE(sb.is_sacked(1000));
}

TEST(TcpSack, InsertsSortedAndCountsBytes) {
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, 1000, 20000, {{7000, 8000}, {3000, 4000}, {5000, 6000}});
  EXPECT_EQ(r.newly_sacked, 3000u);
  EXPECT_FALSE(r.dsack);
  EXPECT_EQ(ranges(sb), (V{{3000, 4000}, {5000, 6000}, {7000, 8000}}));
  EXPECT_EQ(sb.sacked_bytes(), 3000u);
  EXPECT_EQ(sb.highest_sacked(), 8000u);
  EXPECT_TRUE(sb.is_sacked(3000));
  EXPECT_TRUE(sb.is_sacked(3999));
  EXPECT_FALSE(sb.is_sacked(4000));
  EXPECT_FALSE(sb.is_sacked(2999));
  EXPECT_TRUE(sb.is_sacked(7500));
  EXPECT_FALSE(sb.is_sacked(9000));
}

TEST(TcpSack, MergesOverlappingAndAdjacent) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, 1000, 20000, {{3000, 4000}, {5000, 6000}, {9000, 10000}});
  // Adjacent on both sides: fills the gap between two ranges exactly.
  auto r = ack(sb, 1000, 20000, {{4000, 5000}});
  EXPECT_EQ(r.newly_sacked, 1000u);
  EXPECT_EQ(ranges(sb), (V{{3000, 6000}, {9000, 10000}}));
  // Overlapping and spanning: swallows a range and extends both ways.
  r = ack(sb, 1000, 20000, {{2500, 12000}});
  EXPECT_EQ(r.newly_sacked, 500u + 3000u + 2000u);
  EXPECT_EQ(ranges(sb), (V{{2500, 12000}}));
  EXPECT_EQ(sb.sacked_bytes(), 9500u);
  // Already covered: nothing new.
  r = ack(sb, 1000, 20000, {{3000, 4000}});
  EXPECT_EQ(r.newly_sacked, 0u);
  EXPECT_EQ(ranges(sb), (V{{2500, 12000}}));
}

TEST(TcpSack, SameAckRepeatingABlockCountsItOnce) {
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, 1000, 20000, {{3000, 4000}, {5000, 6000}, {3000, 4000}});
  EXPECT_EQ(r.newly_sacked, 2000u);
  EXPECT_EQ(sb.blocks(), 2u);
}

TEST(TcpSack, NewRangeBetweenExistingOnesSplitsTheHole) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, 1000, 20000, {{3000, 4000}, {9000, 10000}});
  ack(sb, 1000, 20000, {{6000, 7000}});
  EXPECT_EQ(ranges(sb), (V{{3000, 4000}, {6000, 7000}, {9000, 10000}}));
}

TEST(TcpSack, CumulativeAckDropsAndTrims) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, 1000, 20000, {{3000, 4000}, {5000, 6000}, {7000, 8000}});
  // snd_una lands inside the second range: the first goes, the second is
  // trimmed to start at snd_una.
  ack(sb, 5500, 20000, {});
  EXPECT_EQ(ranges(sb), (V{{5500, 6000}, {7000, 8000}}));
  EXPECT_EQ(sb.sacked_bytes(), 1500u);
  ack(sb, 8000, 20000, {});
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_EQ(sb.highest_sacked(), 8000u);
}

TEST(TcpSack, IgnoresInvalidBlocks) {
  SackScoreboard sb;
  sb.reset();
  // blocks[0] valid so that later ones are not taken for D-SACKs.
  auto r = ack(sb, 1000, 10000,
               {{2000, 3000},
                {9000, 11000},   // beyond snd_max
                {5000, 5000},    // empty
                {6000, 5000},    // inverted
                {500, 900},      // entirely below snd_una (not first: not a D-SACK)
                {800, 1500}});   // straddles snd_una: trimmed
  EXPECT_FALSE(r.dsack);
  EXPECT_EQ(ranges(sb), (V{{1000, 1500}, {2000, 3000}}));
  EXPECT_EQ(r.newly_sacked, 1500u);
  // A block ending exactly at snd_max is fine.
  ack(sb, 1000, 10000, {{9000, 10000}});
  EXPECT_EQ(sb.highest_sacked(), 10000u);
}

TEST(TcpSack, WorksAcrossTheWrap) {
  const Seq una = 0xfffff000u;
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, una, una + 0x4000, {{una + 0x1800, una + 0x2000}, {una + 0x800, una + 0x1000}});
  EXPECT_EQ(r.newly_sacked, 0x1000u);
  // una + 0x1800 == 0x800 after the wrap; ordering must still be by sequence.
  EXPECT_EQ(ranges(sb), (V{{una + 0x800, una + 0x1000}, {0x800u, 0x1000u}}));
  EXPECT_TRUE(sb.is_sacked(0xfffff900u));
  EXPECT_TRUE(sb.is_sacked(0x900u));
  EXPECT_FALSE(sb.is_sacked(0x0u));  // the hole straddles the wrap
  EXPECT_EQ(sb.highest_sacked(), 0x1000u);
  // Fill the hole across zero: everything merges.
  ack(sb, una, una + 0x4000, {{una + 0x1000, una + 0x1800}});
  EXPECT_EQ(ranges(sb), (V{{una + 0x800, 0x1000u}}));
  EXPECT_EQ(sb.sacked_bytes(), 0x1800u);
  // Cumulative ACK past zero.
  ack(sb, 0x400u, una + 0x4000, {});
  EXPECT_EQ(ranges(sb), (V{{0x400u, 0x1000u}}));
}

// ---- D-SACK (RFC 2883) -----------------------------------------------------------

TEST(TcpSack, DsackBelowCumulativeAck) {
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, 5000, 10000, {{3000, 4000}});
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.dsack_block, (SackBlock{3000, 4000}));
  EXPECT_EQ(r.newly_sacked, 0u);
  EXPECT_TRUE(sb.empty());
}

TEST(TcpSack, DsackInsideSecondBlock) {
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, 1000, 10000, {{6000, 6500}, {6000, 7000}, {8000, 9000}});
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.dsack_block, (SackBlock{6000, 6500}));
  // The D-SACK itself is not inserted, the others are.
  EXPECT_EQ(ranges(sb), (V{{6000, 7000}, {8000, 9000}}));
  EXPECT_EQ(r.newly_sacked, 2000u);
}

TEST(TcpSack, DsackStraddlingCumulativeAck) {
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, 5000, 10000, {{4500, 5500}, {7000, 8000}});
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(ranges(sb), (V{{7000, 8000}}));
}

TEST(TcpSack, OrdinaryFirstBlockIsNotDsack) {
  SackScoreboard sb;
  sb.reset();
  EXPECT_FALSE(ack(sb, 1000, 10000, {{6000, 7000}, {2000, 3000}}).dsack);
  // Overlapping but not contained in the second block: not a D-SACK.
  EXPECT_FALSE(ack(sb, 1000, 10000, {{5500, 7000}, {6000, 7000}}).dsack);
  // Only blocks[0] can be a D-SACK.
  EXPECT_FALSE(ack(sb, 1000, 10000, {{6000, 7000}, {6000, 6500}}).dsack);
  EXPECT_EQ(ranges(sb), (V{{2000, 3000}, {5500, 7000}}));
}

TEST(TcpSack, DsackAcrossTheWrap) {
  SackScoreboard sb;
  sb.reset();
  auto r = ack(sb, 0x100u, 0x5000u, {{0xffffff00u, 0x50u}});
  EXPECT_TRUE(r.dsack);
  EXPECT_TRUE(sb.empty());
}

// ---- overflow ------------------------------------------------------------------------

TEST(TcpSack, FullScoreboardDropsTheHighestRange) {
  SackScoreboard sb;
  sb.reset();
  const Seq una = 1000;
  // 16 ranges: [2000,2100), [3000,3100), ... [17000,17100).
  for (Seq i = 0; i < SackScoreboard::kMaxBlocks; ++i)
    ack(sb, una, 100000, {{2000 + 1000 * i, 2100 + 1000 * i}});
  ASSERT_EQ(sb.blocks(), 16u);
  ASSERT_EQ(sb.dropped_ranges(), 0u);

  // A new highest range is the one dropped.
  ack(sb, una, 100000, {{50000, 50100}});
  EXPECT_EQ(sb.blocks(), 16u);
  EXPECT_EQ(sb.dropped_ranges(), 1u);
  EXPECT_EQ(sb.highest_sacked(), 17100u);
  EXPECT_FALSE(sb.is_sacked(50000));

  // A new low range evicts the current highest.
  ack(sb, una, 100000, {{1500, 1600}});
  EXPECT_EQ(sb.blocks(), 16u);
  EXPECT_EQ(sb.dropped_ranges(), 2u);
  EXPECT_EQ(sb.block(0), (SackBlock{1500, 1600}));
  EXPECT_EQ(sb.highest_sacked(), 16100u);
  EXPECT_EQ(sb.sacked_bytes(), 1600u);

  // Merging into existing ranges needs no slot, so drops nothing.
  ack(sb, una, 100000, {{2100, 2500}});
  EXPECT_EQ(sb.dropped_ranges(), 2u);
  EXPECT_EQ(sb.block(1), (SackBlock{2000, 2500}));

  // A block bridging two ranges frees a slot.
  ack(sb, una, 100000, {{2500, 3000}});
  EXPECT_EQ(sb.blocks(), 15u);
  ack(sb, una, 100000, {{60000, 60100}});
  EXPECT_EQ(sb.blocks(), 16u);
  EXPECT_EQ(sb.dropped_ranges(), 2u);
  EXPECT_EQ(sb.highest_sacked(), 60100u);

  sb.reset();
  EXPECT_EQ(sb.dropped_ranges(), 0u);
  EXPECT_TRUE(sb.empty());
}

// ---- RFC 6675 IsLost ----------------------------------------------------------------

constexpr uint32_t kMss = 1000;

TEST(TcpSack, IsLostByBytes) {
  SackScoreboard sb;
  sb.reset();
  // Exactly (DupThresh - 1) * SMSS = 2000 octets above: not yet.
  ack(sb, 1000, 20000, {{2000, 4000}});
  EXPECT_FALSE(sb.is_lost(1000, kMss));
  // One more octet: "more than (DupThresh - 1) * SMSS".
  ack(sb, 1000, 20000, {{4000, 4001}});
  EXPECT_TRUE(sb.is_lost(1000, kMss));
  EXPECT_TRUE(sb.is_lost(1999, kMss));
  // Only octets ABOVE seq count: from 2001 there are 2000 left.
  EXPECT_FALSE(sb.is_lost(2000, kMss));
  EXPECT_FALSE(sb.is_lost(5000, kMss));
  // DupThresh is a parameter.
  EXPECT_TRUE(sb.is_lost(1000, kMss, 2));
  EXPECT_FALSE(sb.is_lost(1000, kMss, 4));
}

TEST(TcpSack, IsLostByCount) {
  SackScoreboard sb;
  sb.reset();
  // Three small discontiguous ranges: 300 octets, far below 2*SMSS, but
  // DupThresh separate SACKed sequences.
  ack(sb, 1000, 20000, {{2000, 2100}, {3000, 3100}});
  EXPECT_FALSE(sb.is_lost(1000, kMss));
  ack(sb, 1000, 20000, {{4000, 4100}});
  EXPECT_TRUE(sb.is_lost(1000, kMss));
  EXPECT_FALSE(sb.is_lost(2500, kMss));  // only two ranges above
  EXPECT_TRUE(sb.is_lost(2500, kMss, 2));
}

// ---- RFC 6675 SetPipe / NextSeg, worked by hand ---------------------------------------
//
// 10 segments of 1000 octets outstanding: segment k is [1000k, 1000k + 1000),
// k = 1..10, snd_una = 1000, snd_max = 11000. high_rxt is one past the last
// retransmitted octet (RFC 6675 HighRxt + 1); high_rxt = snd_una means
// "nothing retransmitted yet".

constexpr Seq kUna = 1000, kMax = 11000, kNoRxt = kUna;

TEST(TcpSack, PipeWithoutSackIsFlightSize) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {});
  EXPECT_EQ(sb.pipe(kUna, kMax, kNoRxt, kMss), 10000u);
  EXPECT_EQ(sb.pipe(kUna, kUna, kNoRxt, kMss), 0u);
  NextSeg ns;
  EXPECT_FALSE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &ns));
  EXPECT_EQ(ns.rule, NextSegRule::none);
}

TEST(TcpSack, PipeFirstSegmentLost) {
  // Segment 1 lost, segments 2-4 arrived (three dupacks, SACKing [2000,5000)).
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {{2000, 5000}});
  // IsLost(1000): 3000 SACKed octets above > 2000. So segment 1 is not in
  // the pipe; segments 2-4 are SACKed; segments 5-10 (6000) are in flight.
  EXPECT_TRUE(sb.is_lost(1000, kMss));
  EXPECT_EQ(sb.pipe(kUna, kMax, kNoRxt, kMss), 6000u);
  // A stale high_rxt from an earlier recovery (below snd_una) means the same.
  EXPECT_EQ(sb.pipe(kUna, kMax, 500, kMss), 6000u);

  // NextSeg rule (1): the lost segment 1.
  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &ns));
  EXPECT_EQ(ns.rule, NextSegRule::lost);
  EXPECT_EQ(ns.seq, 1000u);
  EXPECT_EQ(ns.len, 1000u);
  Seq s = 0;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &s));
  EXPECT_EQ(s, 1000u);

  // After retransmitting it, high_rxt = 2000 (HighRxt 1999): its retransmission is in
  // flight (+1000 per SetPipe (b)), and no further hole is below the SACK.
  EXPECT_EQ(sb.pipe(kUna, kMax, 2000, kMss), 7000u);
  EXPECT_FALSE(sb.next_seg(kUna, kMax, 2000, kMss, &ns));
  EXPECT_FALSE(sb.next_seg(kUna, kMax, 2000, kMss, &s));
}

TEST(TcpSack, PipeTwoSparseSacksNothingLostYet) {
  // Segments 3 and 5 SACKed: 2 ranges, 2000 octets above segment 1: not lost.
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {{3000, 4000}, {5000, 6000}});
  EXPECT_FALSE(sb.is_lost(1000, kMss));
  // Every un-SACKed octet counts: 10000 - 2000.
  EXPECT_EQ(sb.pipe(kUna, kMax, kNoRxt, kMss), 8000u);
  // Rule (1) finds nothing; rule (3) offers the first un-SACKed segment.
  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &ns));
  EXPECT_EQ(ns.rule, NextSegRule::unsacked);
  EXPECT_EQ(ns.seq, 1000u);
  EXPECT_EQ(ns.len, 1000u);
}

TEST(TcpSack, PipeThreeSparseSacks) {
  // Segments 3, 5 and 7 SACKed.
  //   hole [1000,3000): 3 ranges above -> lost      -> 0
  //   hole [4000,5000): 2 ranges, 2000 octets above -> 1000
  //   hole [6000,7000): 1 range                     -> 1000
  //   [8000,11000) above all SACKs                  -> 3000
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {{3000, 4000}, {5000, 6000}, {7000, 8000}});
  EXPECT_EQ(sb.pipe(kUna, kMax, kNoRxt, kMss), 5000u);

  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &ns));
  EXPECT_EQ(ns.rule, NextSegRule::lost);
  EXPECT_EQ(ns.seq, 1000u);
  EXPECT_EQ(ns.len, 1000u);

  // Segment 1 retransmitted (high_rxt = 2000): pipe +1000 for it; segment 2
  // is next (still lost, same hole).
  EXPECT_EQ(sb.pipe(kUna, kMax, 2000, kMss), 6000u);
  ASSERT_TRUE(sb.next_seg(kUna, kMax, 2000, kMss, &ns));
  EXPECT_EQ(ns.rule, NextSegRule::lost);
  EXPECT_EQ(ns.seq, 2000u);
  EXPECT_EQ(ns.len, 1000u);

  // Segments 1 and 2 retransmitted (high_rxt = 3000): pipe 7000. The next
  // hole, segment 4, is not lost (only 2 ranges, 2000 octets above): rule (1)
  // fails, rule (3) proposes it.
  EXPECT_EQ(sb.pipe(kUna, kMax, 3000, kMss), 7000u);
  ASSERT_TRUE(sb.next_seg(kUna, kMax, 3000, kMss, &ns));
  EXPECT_EQ(ns.rule, NextSegRule::unsacked);
  EXPECT_EQ(ns.seq, 4000u);

  // Retransmitted up to segment 6 (high_rxt = 7000): segments 1-2 count once
  // (lost, but retransmitted), 4 and 6 twice (not lost AND retransmitted),
  // 8-10 once: 2000 + 4000 + 3000 = 9000.
  EXPECT_EQ(sb.pipe(kUna, kMax, 7000, kMss), 9000u);
  EXPECT_FALSE(sb.next_seg(kUna, kMax, 7000, kMss, &ns));
}

TEST(TcpSack, PipeCountsPartialRetransmissionToTheOctet) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {{2000, 5000}});
  // high_rxt in the middle of the lost segment: 1000..1499 retransmitted.
  EXPECT_EQ(sb.pipe(kUna, kMax, 1500, kMss), 6500u);
  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, 1500, kMss, &ns));
  EXPECT_EQ(ns.seq, 1500u);
  EXPECT_EQ(ns.len, 500u);  // stops at the SACKed data
}

TEST(TcpSack, NextSegLenStopsAtSackedData) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {{1300, 1400}, {2000, 5000}});
  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &ns));
  EXPECT_EQ(ns.seq, 1000u);
  EXPECT_EQ(ns.len, 300u);
  EXPECT_EQ(ns.rule, NextSegRule::lost);
}

TEST(TcpSack, NextSegNeverProposesDataAboveTheHighestSack) {
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna, kMax, {{1000 + 500, 2000}});
  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna, kMax, kNoRxt, kMss, &ns));
  EXPECT_EQ(ns.seq, 1000u);
  EXPECT_EQ(ns.len, 500u);
  EXPECT_FALSE(sb.next_seg(kUna, kMax, 1500, kMss, &ns));  // [2000,11000) is rule (2)/(4) land
}

TEST(TcpSack, PipeAndNextSegAcrossTheWrap) {
  // The PipeThreeSparseSacks scenario shifted so the window straddles 2^32.
  const Seq off = 0xfffff000u - kUna;  // una = 0xfffff000
  SackScoreboard sb;
  sb.reset();
  ack(sb, kUna + off, kMax + off,
      {{3000 + off, 4000 + off}, {5000 + off, 6000 + off}, {7000 + off, 8000 + off}});
  EXPECT_EQ(sb.pipe(kUna + off, kMax + off, kNoRxt + off, kMss), 5000u);
  EXPECT_EQ(sb.pipe(kUna + off, kMax + off, 3000 + off, kMss), 7000u);
  NextSeg ns;
  ASSERT_TRUE(sb.next_seg(kUna + off, kMax + off, 2000 + off, kMss, &ns));
  EXPECT_EQ(ns.seq, 2000 + off);
  EXPECT_EQ(ns.rule, NextSegRule::lost);
}

TEST(TcpSack, PipeOfAFullScoreboardIsBounded) {
  // 16 ranges: the walk is over holes, never per octet or segment.
  SackScoreboard sb;
  sb.reset();
  const Seq una = 0;
  const Seq max = 1u << 30;  // a 1 GiB window
  for (Seq i = 0; i < 16; ++i) ack(sb, una, max, {{(i + 1) * (1u << 25), (i + 1) * (1u << 25) + 1000}});
  const uint32_t p = sb.pipe(una, max, una, 1448);
  // Everything below the 3rd-highest range is lost; above it: 2 holes of
  // 2^25 - 1000 and the tail.
  const uint64_t tail = max - (16u * (1u << 25) + 1000);
  EXPECT_EQ(p, 2 * ((1u << 25) - 1000) + tail);
}

// ---- receiver side -------------------------------------------------------------------------

V fill(const SackReceiverBlocks& rb, unsigned max = 4) {
  SackBlock out[4];
  const unsigned n = rb.fill(out, max);
  return V(out, out + n);
}

TEST(TcpSackReceiver, MostRecentFirst) {
  SackReceiverBlocks rb;
  rb.reset();
  rb.on_ooo_data(2000, 3000);
  rb.on_ooo_data(6000, 7000);
  rb.on_ooo_data(4000, 5000);
  EXPECT_EQ(fill(rb), (V{{4000, 5000}, {6000, 7000}, {2000, 3000}}));
  // A segment extending an older range moves it to the front.
  rb.on_ooo_data(7000, 7500);
  EXPECT_EQ(fill(rb), (V{{6000, 7500}, {4000, 5000}, {2000, 3000}}));
  // fill() honours the caller's limit, keeping the newest.
  EXPECT_EQ(fill(rb, 2), (V{{6000, 7500}, {4000, 5000}}));
  EXPECT_EQ(fill(rb, 0), V{});
}

TEST(TcpSackReceiver, MergesBridgedRanges) {
  SackReceiverBlocks rb;
  rb.reset();
  rb.on_ooo_data(2000, 3000);
  rb.on_ooo_data(4000, 5000);
  rb.on_ooo_data(6000, 7000);
  // Bridges all three.
  rb.on_ooo_data(3000, 6000);
  EXPECT_EQ(fill(rb), (V{{2000, 7000}}));
  // Duplicate inside an existing range: still moved to the front.
  rb.on_ooo_data(9000, 9100);
  rb.on_ooo_data(2500, 2600);
  EXPECT_EQ(fill(rb), (V{{2000, 7000}, {9000, 9100}}));
}

TEST(TcpSackReceiver, OldestFallsOff) {
  SackReceiverBlocks rb;
  rb.reset();
  for (Seq i = 0; i < 5; ++i) rb.on_ooo_data(2000 + 1000 * i, 2500 + 1000 * i);
  EXPECT_EQ(rb.blocks(), 4u);
  EXPECT_EQ(fill(rb), (V{{6000, 6500}, {5000, 5500}, {4000, 4500}, {3000, 3500}}));
}

TEST(TcpSackReceiver, RcvNxtPrunesAndTrims) {
  SackReceiverBlocks rb;
  rb.reset();
  rb.on_ooo_data(2000, 3000);
  rb.on_ooo_data(6000, 7000);
  rb.on_ooo_data(4000, 5000);
  rb.on_rcv_nxt(3000);  // the hole below 2000 filled: [2000,3000) now in order
  EXPECT_EQ(fill(rb), (V{{4000, 5000}, {6000, 7000}}));
  rb.on_rcv_nxt(6500);
  EXPECT_EQ(fill(rb), (V{{6500, 7000}}));
  rb.on_rcv_nxt(7000);
  EXPECT_EQ(rb.blocks(), 0u);
}

TEST(TcpSackReceiver, IgnoresEmptyAndWorksAcrossTheWrap) {
  SackReceiverBlocks rb;
  rb.reset();
  rb.on_ooo_data(5000, 5000);
  EXPECT_EQ(rb.blocks(), 0u);
  rb.on_ooo_data(0xffffff00u, 0xffffff80u);
  rb.on_ooo_data(0xffffff80u, 0x80u);
  EXPECT_EQ(fill(rb), (V{{0xffffff00u, 0x80u}}));
  rb.on_rcv_nxt(0x10u);
  EXPECT_EQ(fill(rb), (V{{0x10u, 0x80u}}));
}

}  // namespace
}  // namespace lg::tcp
