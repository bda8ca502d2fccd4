#include "dataplane/tcp/rtt.h"

#include <gtest/gtest.h>

namespace lg::tcp {
namespace {

RtoParams params(uint32_t min_us = 200'000, uint32_t max_us = 120'000'000,
                 uint32_t initial_us = 1'000'000, uint32_t g_us = 1'000) {
  RtoParams p;
  p.min_rto_us = min_us;
  p.max_rto_us = max_us;
  p.initial_rto_us = initial_us;
  p.clock_granularity_us = g_us;
  return p;
}

TEST(TcpRtt, InitialRtoBeforeAnySample) {
  RttEstimator e(params());
  EXPECT_FALSE(e.has_sample());
  EXPECT_EQ(e.rto_us(), 1'000'000u);  // RFC 6298 §2.1
  EXPECT_EQ(e.srtt_us(), 0u);
  EXPECT_EQ(e.rttvar_us(), 0u);
}

TEST(TcpRtt, FirstSample) {
  RttEstimator e(params());
  e.sample(100'000);
  EXPECT_TRUE(e.has_sample());
  EXPECT_EQ(e.srtt_us(), 100'000u);  // SRTT = R
  EXPECT_EQ(e.rttvar_us(), 50'000u);  // RTTVAR = R/2
  EXPECT_EQ(e.rto_us(), 300'000u);    // SRTT + 4 * RTTVAR
}

TEST(TcpRtt, SecondSampleFollowsRfc6298Gains) {
  RttEstimator e(params());
  e.sample(100'000);
  e.sample(200'000);
  // RTTVAR = 3/4 * 50000 + 1/4 * |100000 - 200000| = 62500
  // SRTT   = 7/8 * 100000 + 1/8 * 200000 = 112500
  EXPECT_EQ(e.rttvar_us(), 62'500u);
  EXPECT_EQ(e.srtt_us(), 112'500u);
  EXPECT_EQ(e.rto_us(), 112'500u + 4 * 62'500u);
}

TEST(TcpRtt, ConvergesOnConstantRtt) {
  RttEstimator e(params(/*min*/ 1'000));
  for (int i = 0; i < 200; ++i) e.sample(50'000);
  EXPECT_EQ(e.srtt_us(), 50'000u);
  EXPECT_EQ(e.rttvar_us(), 0u);
  // RTTVAR -> 0, so the granularity term takes over: SRTT + G.
  EXPECT_EQ(e.rto_us(), 51'000u);
}

TEST(TcpRtt, ConvergesFromAboveAndBelow) {
  RttEstimator up(params(1'000)), down(params(1'000));
  up.sample(10'000);
  down.sample(900'000);
  for (int i = 0; i < 300; ++i) {
    up.sample(300'000);
    down.sample(300'000);
  }
  EXPECT_NEAR(static_cast<double>(up.srtt_us()), 300'000.0, 10.0);
  EXPECT_NEAR(static_cast<double>(down.srtt_us()), 300'000.0, 10.0);
}

TEST(TcpRtt, VarianceRaisesRto) {
  RttEstimator steady(params(1'000)), jittery(params(1'000));
  for (int i = 0; i < 100; ++i) {
    steady.sample(100'000);
    jittery.sample(i % 2 ? 60'000 : 140'000);  // same mean, +-40 ms
  }
  EXPECT_NEAR(static_cast<double>(jittery.srtt_us()), 100'000.0, 6'000.0);
  // Mean deviation of a +-40 ms square wave around its mean is ~40 ms.
  EXPECT_GT(jittery.rttvar_us(), 30'000u);
  EXPECT_LT(jittery.rttvar_us(), 50'000u);
  EXPECT_GT(jittery.rto_us(), steady.rto_us() + 100'000);

  // A sudden spike moves RTTVAR by a quarter of the error at once.
  const uint64_t before = steady.rttvar_us();
  steady.sample(500'000);
  EXPECT_EQ(steady.rttvar_us(), before * 3 / 4 + (500'000 - 100'000) / 4);
  EXPECT_EQ(steady.srtt_us(), 100'000u + (500'000 - 100'000) / 8);
}

TEST(TcpRtt, MinClamp) {
  RttEstimator e(params(200'000));
  e.sample(1'000);  // 1 ms LAN
  EXPECT_EQ(e.rto_us(), 200'000u);
  for (int i = 0; i < 50; ++i) e.sample(1'000);
  EXPECT_EQ(e.rto_us(), 200'000u);
}

TEST(TcpRtt, MaxClamp) {
  RttEstimator e(params(200'000, 3'000'000));
  e.sample(2'000'000);  // 2 s + 4 * 1 s > 3 s
  EXPECT_EQ(e.rto_us(), 3'000'000u);
}

TEST(TcpRtt, HugeSampleDoesNotOverflow) {
  RttEstimator e(params());
  e.sample(UINT64_MAX);
  EXPECT_EQ(e.rto_us(), 120'000'000u);
  EXPECT_GT(e.srtt_us(), 500'000'000u);
  e.sample(UINT64_MAX);
  EXPECT_EQ(e.rto_us(), 120'000'000u);
}

TEST(TcpRtt, GranularityFloorsTheVarianceTerm) {
  RttEstimator e(params(/*min*/ 0, 120'000'000, 1'000'000, /*G*/ 10'000));
  e.sample(4'000);  // 4*RTTVAR = 8 ms < G = 10 ms
  EXPECT_EQ(e.rto_us(), 14'000u);
}

TEST(TcpRtt, BackoffDoublesAndCaps) {
  RttEstimator e(params(200'000, 10'000'000));
  e.sample(100'000);  // RTO 300 ms
  ASSERT_EQ(e.rto_us(), 300'000u);
  e.backoff();
  EXPECT_EQ(e.rto_us(), 600'000u);
  e.backoff();
  EXPECT_EQ(e.rto_us(), 1'200'000u);
  e.backoff();
  e.backoff();
  e.backoff();
  EXPECT_EQ(e.rto_us(), 9'600'000u);
  e.backoff();
  EXPECT_EQ(e.rto_us(), 10'000'000u);  // capped at max
  const unsigned n = e.backoff_count();
  for (int i = 0; i < 100; ++i) e.backoff();
  EXPECT_EQ(e.rto_us(), 10'000'000u);
  EXPECT_EQ(e.backoff_count(), n);  // stops counting at the cap
}

TEST(TcpRtt, BackoffAppliesToInitialRto) {
  RttEstimator e(params());
  e.backoff();
  e.backoff();
  EXPECT_EQ(e.rto_us(), 4'000'000u);  // SYN retransmissions: 1, 2, 4 s
  EXPECT_EQ(e.backoff_count(), 2u);
}

TEST(TcpRtt, ClearBackoff) {
  RttEstimator e(params());
  e.sample(100'000);
  e.backoff();
  e.backoff();
  ASSERT_EQ(e.rto_us(), 1'200'000u);
  e.clear_backoff();
  EXPECT_EQ(e.rto_us(), 300'000u);
  EXPECT_EQ(e.backoff_count(), 0u);
}

TEST(TcpRtt, SampleClearsBackoff) {
  RttEstimator e(params());
  e.sample(100'000);
  e.backoff();
  e.backoff();
  e.sample(100'000);
  EXPECT_EQ(e.backoff_count(), 0u);
  EXPECT_LT(e.rto_us(), 400'000u);
}

TEST(TcpRtt, ResetForgetsSamples) {
  RttEstimator e(params());
  e.sample(100'000);
  e.sample(120'000);
  e.backoff();
  e.reset();
  EXPECT_FALSE(e.has_sample());
  EXPECT_EQ(e.rto_us(), 1'000'000u);
  e.sample(40'000);  // initializes per §2.2 again
  EXPECT_EQ(e.srtt_us(), 40'000u);
  EXPECT_EQ(e.rttvar_us(), 20'000u);
}

TEST(TcpRtt, InconsistentParamsStayOrdered) {
  RttEstimator e(params(/*min*/ 5'000'000, /*max*/ 1'000'000));
  e.sample(10'000);
  EXPECT_EQ(e.rto_us(), 5'000'000u);
  e.backoff();
  EXPECT_EQ(e.rto_us(), 5'000'000u);
}

}  // namespace
}  // namespace lg::tcp
