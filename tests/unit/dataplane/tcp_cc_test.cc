#include "dataplane/tcp/cc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

namespace lg::tcp {
namespace {

constexpr uint64_t kT0 = 5'000'000;  // arbitrary start of simulated time

// One round trip of a cwnd-limited sender: the whole window (as it was at
// the start of the round) is acked in `per_ack`-byte ACKs, the last one
// taking the remainder, spread evenly over the RTT. Time is simulated only.
uint64_t run_rtt(CcAlgo a, CcState& s, uint64_t now, uint64_t rtt_us, uint32_t per_ack) {
  const uint32_t window = s.cwnd;
  const uint32_t acks = (window + per_ack - 1) / per_ack;
  for (uint32_t k = 1; k <= acks; ++k) {
    const uint32_t bytes = k < acks ? per_ack : window - per_ack * (acks - 1);
    cc_on_ack(a, s, bytes, now + rtt_us * k / acks, rtt_us, rtt_us);
  }
  return now + rtt_us;
}

class CcBoth : public ::testing::TestWithParam<CcAlgo> {};

INSTANTIATE_TEST_SUITE_P(Algos, CcBoth, ::testing::Values(CcAlgo::newreno, CcAlgo::cubic),
                         [](const auto& info) { return std::string(cc_name(info.param)); });

// ---- common behaviour -------------------------------------------------------------

TEST_P(CcBoth, InitialWindowRfc6928) {
  CcState s;
  cc_init(GetParam(), s, 1460);
  EXPECT_EQ(s.cwnd, 14600u);
  EXPECT_EQ(s.smss, 1460u);
  EXPECT_EQ(s.ssthresh, UINT32_MAX);
  cc_init(GetParam(), s, 1000);
  EXPECT_EQ(s.cwnd, 10000u);
  // Jumbo SMSS: max(2*SMSS, 14600) caps it at two segments.
  cc_init(GetParam(), s, 9000);
  EXPECT_EQ(s.cwnd, 18000u);
  cc_init(GetParam(), s, 1000, 4);
  EXPECT_EQ(s.cwnd, 4000u);
  cc_init(GetParam(), s, 1000, 0);  // at least one segment
  EXPECT_EQ(s.cwnd, 1000u);
}

TEST_P(CcBoth, SlowStartDoublesPerRtt) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  uint64_t now = kT0;
  for (uint32_t expect : {20000u, 40000u, 80000u, 160000u}) {
    now = run_rtt(GetParam(), s, now, 50'000, 1000);
    EXPECT_EQ(s.cwnd, expect);
  }
}

TEST_P(CcBoth, SlowStartDoublesWithDelayedAcks) {
  // RFC 3465: counting bytes, not ACKs, keeps doubling with one ACK per two
  // segments.
  CcState s;
  cc_init(GetParam(), s, 1000);
  uint64_t now = kT0;
  for (uint32_t expect : {20000u, 40000u, 80000u}) {
    now = run_rtt(GetParam(), s, now, 50'000, 2000);
    EXPECT_EQ(s.cwnd, expect);
  }
}

TEST_P(CcBoth, SlowStartCreditsAtMostTwoSegmentsPerAck) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  cc_on_ack(GetParam(), s, 8000, kT0, 50'000, 50'000);  // stretch ACK
  EXPECT_EQ(s.cwnd, 12000u);  // L = 2*SMSS
}

TEST_P(CcBoth, SlowStartStopsAtSsthresh) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  s.ssthresh = 15000;
  for (int i = 0; i < 4; ++i) cc_on_ack(GetParam(), s, 1000, kT0, 50'000, 50'000);
  EXPECT_EQ(s.cwnd, 14000u);
  cc_on_ack(GetParam(), s, 2000, kT0, 50'000, 50'000);
  // 1000 bytes finish slow start; the rest goes to congestion avoidance,
  // which cannot add a whole segment for 1000 bytes at this window.
  EXPECT_EQ(s.cwnd, 15000u);
}

TEST_P(CcBoth, CongestionNeverBelowTwoSegments) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  cc_on_congestion(GetParam(), s, 1500, kT0);
  EXPECT_EQ(s.ssthresh, 2000u);
  EXPECT_EQ(s.cwnd, 2000u);
  cc_on_congestion(GetParam(), s, 0, kT0);
  EXPECT_EQ(s.cwnd, 2000u);
}

TEST_P(CcBoth, RtoCollapsesToOneSegment) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  s.cwnd = 100000;
  cc_on_rto(GetParam(), s, 100000, kT0);
  EXPECT_EQ(s.cwnd, 1000u);
  EXPECT_EQ(s.ssthresh, GetParam() == CcAlgo::newreno ? 50000u : 70000u);
  // Tiny flight: ssthresh still at least 2 SMSS.
  cc_on_rto(GetParam(), s, 1000, kT0);
  EXPECT_EQ(s.cwnd, 1000u);
  EXPECT_EQ(s.ssthresh, 2000u);
}

TEST_P(CcBoth, RecoveryExitSetsCwndToSsthresh) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  s.cwnd = 100000;
  cc_on_congestion(GetParam(), s, 100000, kT0);
  s.cwnd = 5000;  // e.g. a pipe-limited recovery left it elsewhere
  cc_on_recovery_exit(GetParam(), s);
  EXPECT_EQ(s.cwnd, s.ssthresh);
}

TEST_P(CcBoth, SlowStartAfterRtoThenAvoidance) {
  CcState s;
  cc_init(GetParam(), s, 1000);
  s.cwnd = 64000;
  cc_on_rto(GetParam(), s, 64000, kT0);
  uint64_t now = kT0;
  // 1 -> 2 -> 4 -> ... segments until ssthresh (32 or 44.8 segments).
  now = run_rtt(GetParam(), s, now, 10'000, 1000);
  EXPECT_EQ(s.cwnd, 2000u);
  int rounds = 1;
  while (s.cwnd < s.ssthresh) {
    now = run_rtt(GetParam(), s, now, 10'000, 1000);
    ++rounds;
  }
  EXPECT_EQ(rounds, GetParam() == CcAlgo::newreno ? 5 : 6);
  // Slow start stops at ssthresh; what is left of the round's ACKs goes to
  // congestion avoidance, worth at most a segment.
  EXPECT_LE(s.cwnd, s.ssthresh + 1000);
  const uint32_t at = s.cwnd;
  for (int i = 0; i < 3; ++i) now = run_rtt(GetParam(), s, now, 10'000, 1000);
  EXPECT_GT(s.cwnd, at);
  EXPECT_LT(s.cwnd, at * 3 / 2);  // linear-ish, not doubling
}

TEST_P(CcBoth, CwndIsCappedAndDoesNotOverflow) {
  CcState s;
  cc_init(GetParam(), s, 65000);
  uint64_t now = kT0;
  for (int i = 0; i < 20; ++i) now = run_rtt(GetParam(), s, now, 1'000, 65000);
  EXPECT_EQ(s.cwnd, kCwndMax);
  cc_on_congestion(GetParam(), s, kCwndMax, now);
  cc_on_recovery_exit(GetParam(), s);
  for (int i = 0; i < 200; ++i) now = run_rtt(GetParam(), s, now, 100'000, 1u << 20);
  EXPECT_LE(s.cwnd, kCwndMax);
  EXPECT_GT(s.cwnd, kCwndMax / 2);
}

TEST(TcpCc, Names) {
  EXPECT_STREQ(cc_name(CcAlgo::newreno), "newreno");
  EXPECT_STREQ(cc_name(CcAlgo::cubic), "cubic");
}

// ---- NewReno ----------------------------------------------------------------------------

TEST(TcpCcNewReno, HalvesOnCongestion) {
  CcState s;
  cc_init(CcAlgo::newreno, s, 1000);
  s.cwnd = 80000;
  cc_on_congestion(CcAlgo::newreno, s, 60000, kT0);  // FlightSize, not cwnd
  EXPECT_EQ(s.ssthresh, 30000u);
  EXPECT_EQ(s.cwnd, 30000u);
}

TEST(TcpCcNewReno, LinearGrowthOneSegmentPerRtt) {
  CcState s;
  cc_init(CcAlgo::newreno, s, 1000);
  s.cwnd = 100000;
  cc_on_congestion(CcAlgo::newreno, s, 100000, kT0);
  cc_on_recovery_exit(CcAlgo::newreno, s);
  ASSERT_EQ(s.cwnd, 50000u);
  uint64_t now = kT0;
  for (uint32_t i = 1; i <= 20; ++i) {
    now = run_rtt(CcAlgo::newreno, s, now, 30'000, 1000);
    EXPECT_EQ(s.cwnd, 50000u + 1000 * i);
  }
  // Delayed ACKs do not slow it down (byte counting).
  for (uint32_t i = 1; i <= 5; ++i) now = run_rtt(CcAlgo::newreno, s, now, 30'000, 2000);
  EXPECT_EQ(s.cwnd, 75000u);
}

TEST(TcpCcNewReno, StretchAckGivesAtMostOneSegment) {
  CcState s;
  cc_init(CcAlgo::newreno, s, 1000);
  s.ssthresh = 10000;
  cc_on_ack(CcAlgo::newreno, s, 1'000'000, kT0, 0, 0);
  EXPECT_EQ(s.cwnd, 11000u);
  EXPECT_LT(s.ca_acked, s.cwnd);
}

// ---- CUBIC ----------------------------------------------------------------------------------

constexpr uint32_t kMss = 1448;

// cwnd at W segments, then a loss with FlightSize = cwnd and a full ACK.
CcState cubic_after_loss(uint32_t w_segments) {
  CcState s;
  cc_init(CcAlgo::cubic, s, kMss);
  s.cwnd = w_segments * kMss;
  cc_on_congestion(CcAlgo::cubic, s, s.cwnd, kT0);
  cc_on_recovery_exit(CcAlgo::cubic, s);
  return s;
}

double segs(uint32_t bytes) { return static_cast<double>(bytes) / kMss; }

TEST(TcpCcCubic, MultiplicativeDecreaseIsBeta07) {
  CcState s = cubic_after_loss(1000);
  EXPECT_EQ(s.w_max, 1000 * kMss);
  EXPECT_EQ(s.cwnd_prior, 1000 * kMss);
  EXPECT_EQ(s.ssthresh, 700 * kMss);
  EXPECT_EQ(s.cwnd, 700 * kMss);
}

TEST(TcpCcCubic, FollowsTheCubicCurveBackToWmax) {
  CcState s = cubic_after_loss(1000);
  const uint64_t rtt = 100'000;
  const double k = std::cbrt(1000 * (1 - 0.7) / 0.4);  // 9.0856 s
  uint64_t now = kT0;
  now = run_rtt(CcAlgo::cubic, s, now, rtt, kMss);
  // K is computed once, at the start of congestion avoidance.
  EXPECT_NEAR(s.k_us / 1e6, k, 1e-3);
  EXPECT_EQ(s.origin, 1000 * kMss);
  const uint64_t epoch = s.epoch_start_us;

  std::vector<double> w;  // cwnd in segments at the end of each RTT
  w.push_back(segs(s.cwnd));
  while (now - epoch < 18'000'000) {
    now = run_rtt(CcAlgo::cubic, s, now, rtt, kMss);
    w.push_back(segs(s.cwnd));
    // cwnd follows W_cubic: with the target one RTT ahead and one RTT of
    // ACKs to reach it, cwnd at time t is about W_cubic(t).
    const double t = (now - epoch) / 1e6;
    const double expect = 0.4 * std::pow(t - k, 3) + 1000;
    EXPECT_NEAR(segs(s.cwnd), expect, expect * 0.03) << "t=" << t;
  }
  // At t = K the window is back at W_max.
  const size_t at_k = static_cast<size_t>(std::lround(k * 1e6 / rtt));
  EXPECT_NEAR(w[at_k], 1000.0, 1000.0 * 0.02);
  // It plateaus around W_max: within a few segments for a whole second.
  EXPECT_NEAR(w[at_k - 5], 1000.0, 5.0);
  EXPECT_NEAR(w[at_k + 5], 1000.0, 5.0);
}

TEST(TcpCcCubic, ConcaveThenConvex) {
  CcState s = cubic_after_loss(1000);
  const uint64_t rtt = 100'000;
  uint64_t now = kT0;
  std::vector<double> w{segs(s.cwnd)};
  for (int i = 0; i < 160; ++i) {
    now = run_rtt(CcAlgo::cubic, s, now, rtt, kMss);
    w.push_back(segs(s.cwnd));
  }
  // Mean growth per RTT over [from, from + 10).
  auto growth = [&](size_t from) { return (w[from + 10] - w[from]) / 10; };
  // K ~ 91 RTTs. Concave before: fast, then slower and slower.
  EXPECT_GT(growth(0), 5.0);
  EXPECT_GT(growth(0), growth(30));
  EXPECT_GT(growth(30), growth(60));
  EXPECT_GT(growth(60), growth(80));
  EXPECT_LT(growth(80), 0.5);  // flat near W_max
  // Convex after: slowly, then faster and faster.
  EXPECT_LT(growth(95), growth(115));
  EXPECT_LT(growth(115), growth(135));
  EXPECT_LT(growth(135), growth(150));
  EXPECT_GT(growth(150), 3.0);
  // Never shrinks on an ACK.
  for (size_t i = 1; i < w.size(); ++i) EXPECT_GE(w[i], w[i - 1]);
}

TEST(TcpCcCubic, RenoFriendlyRegionDominatesForSmallWindowAndShortRtt) {
  // W_max = 20 segments on a 1 ms path: K = cbrt(20 * 0.3 / 0.4) = 2.47 s is
  // 2466 RTTs, so the cubic curve is nearly flat in RTT terms and W_est
  // (Reno-equivalent growth) takes over.
  CcState s = cubic_after_loss(20);
  ASSERT_EQ(s.cwnd, 14 * kMss);
  const uint64_t rtt = 1'000;
  uint64_t now = kT0;
  for (int i = 0; i < 200; ++i) now = run_rtt(CcAlgo::cubic, s, now, rtt, kMss);
  // W_est: +9/17 segment per RTT up to cwnd_prior = 20 (about 11 RTTs),
  // then +1 per RTT: ~ 20 + 189 = 209 segments.
  EXPECT_NEAR(segs(s.cwnd), 209.0, 209.0 * 0.05);
  EXPECT_EQ(s.cwnd, s.w_est);
  const double t = (now - s.epoch_start_us) / 1e6;
  const double cubic = 0.4 * std::pow(t - s.k_us / 1e6, 3) + 20;
  EXPECT_GT(segs(s.cwnd), 5 * cubic);

  // The same path under NewReno grows 1 segment per RTT from 14: CUBIC in
  // the Reno-friendly region is about as aggressive, not more.
  CcState r;
  cc_init(CcAlgo::newreno, r, kMss);
  r.cwnd = 20 * kMss;
  cc_on_congestion(CcAlgo::newreno, r, r.cwnd, kT0);
  cc_on_recovery_exit(CcAlgo::newreno, r);
  now = kT0;
  for (int i = 0; i < 200; ++i) now = run_rtt(CcAlgo::newreno, r, now, rtt, kMss);
  EXPECT_NEAR(segs(s.cwnd), segs(r.cwnd), segs(r.cwnd) * 0.1);
}

TEST(TcpCcCubic, RenoFriendlyAlphaBeforeCwndPrior) {
  // Before W_est reaches cwnd_prior it grows by alpha_cubic = 9/17 segment
  // per RTT; with a long RTT and a big W_max the cubic curve dominates
  // cwnd, so look at W_est itself.
  CcState s = cubic_after_loss(1000);
  uint64_t now = kT0;
  for (int i = 0; i < 17; ++i) now = run_rtt(CcAlgo::cubic, s, now, 100'000, kMss);
  // Per RTT: cwnd bytes acked * (9/17) * SMSS / cwnd = 9/17 segment;
  // the first RTT's first ACK starts the epoch, so ~16-17 RTTs count.
  EXPECT_NEAR(segs(s.w_est) - 700, 9.0, 1.0);
  EXPECT_GT(s.cwnd, s.w_est);
}

TEST(TcpCcCubic, FastConvergenceLowersWmax) {
  CcState s = cubic_after_loss(100);
  ASSERT_EQ(s.w_max, 100 * kMss);
  // Next loss at 80 segments, below the previous W_max: release bandwidth.
  s.cwnd = 80 * kMss;
  cc_on_congestion(CcAlgo::cubic, s, s.cwnd, kT0);
  EXPECT_EQ(s.w_max, 68 * kMss);  // 80 * (1 + 0.7) / 2
  EXPECT_EQ(s.cwnd_prior, 80 * kMss);
  EXPECT_EQ(s.ssthresh, 56 * kMss);
  cc_on_recovery_exit(CcAlgo::cubic, s);
  cc_on_ack(CcAlgo::cubic, s, kMss, kT0 + 1000, 100'000, 100'000);
  // K from the lowered W_max: cbrt((68 - 56) / 0.4).
  EXPECT_NEAR(s.k_us / 1e6, std::cbrt(12 / 0.4), 1e-3);
  EXPECT_EQ(s.origin, 68 * kMss);

  // A loss at or above W_max sets W_max to cwnd unchanged.
  s.cwnd = 90 * kMss;
  cc_on_congestion(CcAlgo::cubic, s, s.cwnd, kT0);
  EXPECT_EQ(s.w_max, 90 * kMss);
}

TEST(TcpCcCubic, ApplicationLimitedLossUsesFlightSize) {
  CcState s;
  cc_init(CcAlgo::cubic, s, kMss);
  s.cwnd = 100 * kMss;
  cc_on_congestion(CcAlgo::cubic, s, 40 * kMss, kT0);
  EXPECT_EQ(s.ssthresh, 28 * kMss);
  EXPECT_EQ(s.w_max, 100 * kMss);
  cc_on_recovery_exit(CcAlgo::cubic, s);
  cc_on_ack(CcAlgo::cubic, s, kMss, kT0, 100'000, 100'000);
  // RFC 9438 K uses cwnd_epoch, not beta*W_max.
  EXPECT_NEAR(s.k_us / 1e6, std::cbrt((100 - 28) / 0.4), 1e-3);
}

TEST(TcpCcCubic, AfterRtoCurveStartsAtItsPlateau) {
  CcState s = cubic_after_loss(100);
  s.cwnd = 100 * kMss;
  cc_on_rto(CcAlgo::cubic, s, 100 * kMss, kT0);
  EXPECT_EQ(s.cwnd, kMss);
  EXPECT_EQ(s.ssthresh, 70 * kMss);
  uint64_t now = kT0;
  while (s.cwnd < s.ssthresh) now = run_rtt(CcAlgo::cubic, s, now, 50'000, kMss);
  EXPECT_EQ(s.cwnd, 70 * kMss);
  // Congestion avoidance starts: RFC 9438 §4.8, K = 0 and W_max = cwnd_epoch.
  cc_on_ack(CcAlgo::cubic, s, kMss, now + 1, 50'000, 50'000);
  EXPECT_EQ(s.k_us, 0u);
  EXPECT_EQ(s.w_max, 70 * kMss);
  EXPECT_EQ(s.origin, 70 * kMss);
  EXPECT_EQ(s.w_est, 70 * kMss);
  // ... and grows convexly from there. (On a 200 ms path, so that the
  // Reno-friendly estimate, +9/17 segment per RTT, stays below the curve.)
  for (int i = 0; i < 40; ++i) now = run_rtt(CcAlgo::cubic, s, now, 200'000, kMss);
  const double t = (now - s.epoch_start_us) / 1e6;  // ~8 s
  EXPECT_NEAR(segs(s.cwnd), 70 + 0.4 * t * t * t, (70 + 0.4 * t * t * t) * 0.05);
  EXPECT_GT(s.cwnd, s.w_est);
}

TEST(TcpCcCubic, EpochResetsOnCongestion) {
  CcState s = cubic_after_loss(100);
  uint64_t now = run_rtt(CcAlgo::cubic, s, kT0, 100'000, kMss);
  ASSERT_NE(s.epoch_start_us, kNoEpoch);
  cc_on_congestion(CcAlgo::cubic, s, s.cwnd, now);
  EXPECT_EQ(s.epoch_start_us, kNoEpoch);
  cc_on_recovery_exit(CcAlgo::cubic, s);
  // The epoch begins with congestion avoidance, not at the loss: time spent
  // in recovery does not count.
  cc_on_ack(CcAlgo::cubic, s, kMss, now + 3'000'000, 100'000, 100'000);
  EXPECT_EQ(s.epoch_start_us, now + 3'000'000);
}

TEST(TcpCcCubic, UsesMinRttWithoutSrtt) {
  CcState a = cubic_after_loss(1000), b = cubic_after_loss(1000);
  for (int i = 0; i < 50; ++i) {
    cc_on_ack(CcAlgo::cubic, a, kMss, kT0 + i * 1000, 0, 100'000);
    cc_on_ack(CcAlgo::cubic, b, kMss, kT0 + i * 1000, 100'000, 100'000);
  }
  EXPECT_EQ(a.cwnd, b.cwnd);
}

TEST(TcpCcCubic, StateSize) {
  EXPECT_EQ(sizeof(CcState), 48u);
  EXPECT_TRUE(std::is_trivially_copyable_v<CcState>);
}

}  // namespace
}  // namespace lg::tcp
