#include "dataplane/upstream/outlier.h"

#include <gtest/gtest.h>

#include <vector>

namespace lg::upstream {
namespace {

constexpr uint64_t kSec = 1'000'000;

OutlierConfig enabled_cfg() {
  OutlierConfig c;
  c.enabled = true;
  c.max_ejection_percent = 100;
  return c;
}

// A cluster of n hosts with its stats, driven with fake time.
struct Cluster {
  OutlierConfig cfg;
  std::vector<HostOutlierState> hosts;
  ClusterOutlierStats stats;

  Cluster(OutlierConfig c, size_t n) : cfg(c), hosts(n) {}

  bool report(uint32_t h, Outcome o, uint64_t now_us, uint16_t status = 0) {
    return outlier_report(cfg, hosts, h, o, status, now_us, stats);
  }
  bool status(uint32_t h, uint16_t code, uint64_t now_us) {
    return report(h, Outcome::http_status, now_us, code);
  }
  // n outcomes; returns how many of them ejected the host.
  int repeat(uint32_t h, Outcome o, int n, uint64_t now_us) {
    int ejected = 0;
    for (int i = 0; i < n; i++) ejected += report(h, o, now_us) ? 1 : 0;
    return ejected;
  }
  uint32_t sweep(uint64_t now_us) { return outlier_sweep(cfg, hosts, now_us, stats); }
  // Sweeps every interval from `from` (exclusive); returns the time of the
  // first sweep that returned host h, or 0 if none did before `until`.
  uint64_t back_at(uint32_t h, uint64_t from, uint64_t until) {
    for (uint64_t t = from + cfg.interval_us; t <= until; t += cfg.interval_us) {
      sweep(t);
      if (!hosts[h].ejected) return t;
    }
    return 0;
  }
};

TEST(Outlier, EjectsAfterExactlyNConsecutiveConnectFailures) {
  Cluster c(enabled_cfg(), 4);  // consecutive_5xx = 5, no split
  for (int i = 0; i < 4; i++) EXPECT_FALSE(c.report(0, Outcome::connect_failure, 0)) << i;
  EXPECT_FALSE(c.hosts[0].ejected);
  EXPECT_EQ(c.hosts[0].consecutive_5xx, 4u);
  EXPECT_TRUE(c.report(0, Outcome::connect_failure, 7));
  EXPECT_TRUE(c.hosts[0].ejected);
  EXPECT_EQ(c.hosts[0].ejected_at_us, 7u);
  EXPECT_EQ(c.hosts[0].multiplier, 1u);
  EXPECT_FALSE(c.hosts[1].ejected);
}

TEST(Outlier, SuccessInBetweenResets) {
  Cluster c(enabled_cfg(), 4);
  EXPECT_EQ(c.repeat(0, Outcome::connect_failure, 4, 0), 0);
  EXPECT_FALSE(c.report(0, Outcome::connect_success, 0));
  EXPECT_EQ(c.hosts[0].consecutive_5xx, 0u);
  EXPECT_EQ(c.repeat(0, Outcome::connect_failure, 4, 0), 0);
  EXPECT_FALSE(c.hosts[0].ejected);
  EXPECT_TRUE(c.report(0, Outcome::connect_failure, 0));
}

TEST(Outlier, EjectedHostReturnsAtFirstSweepAfterBaseEjectionTime) {
  Cluster c(enabled_cfg(), 4);  // interval 10 s, base 30 s
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 5 * kSec), 1);
  // Sweeps at 10, 20, 30 s: out for 5, 15, 25 s; at 40 s: 35 s >= 30 s.
  EXPECT_EQ(c.back_at(0, 0, 100 * kSec), 40 * kSec);
  EXPECT_EQ(c.hosts[0].unejected_at_us, 40 * kSec);
  EXPECT_EQ(c.stats.ejections_active, 0u);
}

TEST(Outlier, ReturnsExactlyWhenEjectionTimeHasElapsed) {
  Cluster c(enabled_cfg(), 4);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 1);
  EXPECT_EQ(c.sweep(30 * kSec - 1), 0u);
  EXPECT_TRUE(c.hosts[0].ejected);
  EXPECT_EQ(c.sweep(30 * kSec), 1u);
  EXPECT_FALSE(c.hosts[0].ejected);
}

TEST(Outlier, SecondEjectionLastsTwiceBase) {
  Cluster c(enabled_cfg(), 4);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 1);
  ASSERT_EQ(c.back_at(0, 0, 100 * kSec), 30 * kSec);
  // Fails again before the next sweep, so the multiplier has not decayed.
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 31 * kSec), 1);
  EXPECT_EQ(c.hosts[0].multiplier, 2u);
  // 60 s from 31 s: sweeps at 40..90 s are too early, 100 s is the first after.
  EXPECT_EQ(c.back_at(0, 30 * kSec, 200 * kSec), 100 * kSec);
  EXPECT_EQ(c.hosts[0].ejections_total, 2u);
}

TEST(Outlier, EjectionTimeGrowthIsCappedAtMaxEjectionTime) {
  OutlierConfig cfg = enabled_cfg();  // base 30 s, max 300 s
  Cluster c(cfg, 4);
  uint64_t now = 0;
  for (uint32_t k = 1; k <= 14; k++) {
    ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, now), 1) << k;
    // Envoy grows the backoff while base * backoff < max + base: up to 11.
    EXPECT_EQ(c.hosts[0].multiplier, std::min(k, 11u)) << k;
    const uint64_t expect_us = std::min<uint64_t>(30 * kSec * k, 300 * kSec);
    EXPECT_EQ(outlier_ejection_duration_us(cfg, c.hosts[0].multiplier), expect_us) << k;
    EXPECT_EQ(c.sweep(now + expect_us - 1), 0u) << k;
    EXPECT_EQ(c.sweep(now + expect_us), 1u) << k;
    now += expect_us + 1;  // fail again before a decay could happen
  }
}

TEST(Outlier, MaxEjectionTimeBelowBaseMeansBase) {
  OutlierConfig cfg = enabled_cfg();
  cfg.base_ejection_us = 60 * kSec;
  cfg.max_ejection_us = 10 * kSec;
  EXPECT_EQ(outlier_ejection_duration_us(cfg, 1), 60 * kSec);
  EXPECT_EQ(outlier_ejection_duration_us(cfg, 5), 60 * kSec);
}

TEST(Outlier, MultiplierDecaysOncePerHealthyInterval) {
  Cluster c(enabled_cfg(), 4);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 1);
  ASSERT_EQ(c.sweep(30 * kSec), 1u);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 31 * kSec), 1);
  ASSERT_EQ(c.sweep(91 * kSec), 1u);  // back after 60 s
  EXPECT_EQ(c.hosts[0].multiplier, 2u) << "no decay in the sweep that returns the host";
  c.sweep(101 * kSec - 1);
  EXPECT_EQ(c.hosts[0].multiplier, 2u) << "less than an interval since the return";
  c.sweep(101 * kSec);
  EXPECT_EQ(c.hosts[0].multiplier, 1u);
  c.sweep(111 * kSec);
  EXPECT_EQ(c.hosts[0].multiplier, 0u);
  c.sweep(121 * kSec);
  EXPECT_EQ(c.hosts[0].multiplier, 0u);
  // Fully decayed: the next ejection is back to base * 1.
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 122 * kSec), 1);
  EXPECT_EQ(c.hosts[0].multiplier, 1u);
  EXPECT_EQ(c.sweep(152 * kSec), 1u);
}

TEST(Outlier, MultiplierDoesNotDecayWhileEjected) {
  Cluster c(enabled_cfg(), 4);
  c.hosts[0].multiplier = 3;  // as if ejected three times already
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 1);
  ASSERT_EQ(c.hosts[0].multiplier, 4u);
  for (uint64_t t = 10; t < 120; t += 10) c.sweep(t * kSec);
  EXPECT_TRUE(c.hosts[0].ejected);
  EXPECT_EQ(c.hosts[0].multiplier, 4u);
  EXPECT_EQ(c.sweep(120 * kSec), 1u);
}

// Ejects hosts 0, 1, ... in turn; returns how many ended up ejected.
uint32_t eject_all(Cluster& c) {
  for (uint32_t h = 0; h < c.hosts.size(); h++) c.repeat(h, Outcome::connect_failure, 5, 0);
  uint32_t n = 0;
  for (const HostOutlierState& s : c.hosts) n += s.ejected ? 1 : 0;
  return n;
}

TEST(Outlier, MaxEjectionPercentTenOfTenHosts) {
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 10;
  Cluster c(cfg, 10);
  EXPECT_EQ(eject_all(c), 1u);
  EXPECT_TRUE(c.hosts[0].ejected);
  EXPECT_EQ(c.stats.ejections_overflow, 9u);
  EXPECT_EQ(c.stats.ejections_active, 1u);
}

TEST(Outlier, MaxEjectionPercentFiftyOfTenHosts) {
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 50;
  Cluster c(cfg, 10);
  EXPECT_EQ(eject_all(c), 5u);
  for (uint32_t h = 0; h < 5; h++) EXPECT_TRUE(c.hosts[h].ejected) << h;
  EXPECT_EQ(c.stats.ejections_overflow, 5u);
  EXPECT_EQ(c.stats.ejections_enforced_total, 5u);
}

TEST(Outlier, MaxEjectionPercentIsCheckedAfterTheEjection) {
  // 3 hosts, 50%: ejecting a second host would leave 67% out (Envoy #26877).
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 50;
  Cluster c(cfg, 3);
  EXPECT_EQ(eject_all(c), 1u);
  // Over 100 is treated as 100.
  cfg.max_ejection_percent = 250;
  Cluster all(cfg, 3);
  EXPECT_EQ(eject_all(all), 3u);
}

TEST(Outlier, SmallClusterIsNotEjectedBelowTheLimitByDefault) {
  // Current Envoy, and Istio (which never sets always_eject_one_host):
  // 1 of 2 hosts is 50% > 10%, so nothing is ejected.
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 10;
  Cluster c(cfg, 2);
  EXPECT_EQ(eject_all(c), 0u);
  EXPECT_EQ(c.stats.ejections_overflow, 2u);
  EXPECT_EQ(c.stats.ejections_detected_consecutive_5xx, 2u);
  EXPECT_EQ(c.stats.ejections_enforced_total, 0u);
}

TEST(Outlier, AlwaysEjectOneHostWithTwoHostsAndTenPercent) {
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 10;
  cfg.always_eject_one_host = true;
  Cluster c(cfg, 2);
  EXPECT_EQ(eject_all(c), 1u);
  EXPECT_TRUE(c.hosts[0].ejected);
  EXPECT_EQ(c.stats.ejections_overflow, 1u);
  // Once host 0 is back, host 1 may take its turn.
  ASSERT_EQ(c.sweep(30 * kSec), 1u);
  EXPECT_EQ(c.repeat(1, Outcome::connect_failure, 5, 31 * kSec), 1);
  EXPECT_TRUE(c.hosts[1].ejected);
}

TEST(Outlier, OverflowResetsTheCounter) {
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 10;
  Cluster c(cfg, 2);
  EXPECT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 0);
  EXPECT_EQ(c.stats.ejections_overflow, 1u);
  EXPECT_EQ(c.hosts[0].consecutive_5xx, 0u);
  EXPECT_EQ(c.repeat(0, Outcome::connect_failure, 4, 0), 0);
  EXPECT_EQ(c.stats.ejections_overflow, 1u) << "next attempt only after N more failures";
  EXPECT_EQ(c.repeat(0, Outcome::connect_failure, 1, 0), 0);
  EXPECT_EQ(c.stats.ejections_overflow, 2u);
}

TEST(Outlier, WithoutSplitLocalOriginResultsAreHttpCodes) {
  OutlierConfig cfg = enabled_cfg();
  cfg.consecutive_5xx = 0;
  cfg.consecutive_gateway = 3;
  Cluster c(cfg, 4);
  // timeout -> 504, failure -> 503, reset -> 503: all gateway errors.
  EXPECT_FALSE(c.report(0, Outcome::connect_timeout, 0));
  EXPECT_FALSE(c.report(0, Outcome::connect_failure, 0));
  EXPECT_TRUE(c.report(0, Outcome::upstream_reset, 0));
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_gateway_failure, 1u);
  // connect_success -> 200 resets; connect_success_l7 is not mapped.
  c.repeat(1, Outcome::connect_failure, 2, 0);
  c.report(1, Outcome::connect_success_l7, 0);
  EXPECT_EQ(c.hosts[1].consecutive_gateway, 2u);
  EXPECT_EQ(c.hosts[1].consecutive_5xx, 2u);
  c.report(1, Outcome::connect_success, 0);
  EXPECT_EQ(c.hosts[1].consecutive_gateway, 0u);
  EXPECT_EQ(c.hosts[1].consecutive_5xx, 0u);
  // The local-origin counter is not used without split.
  c.repeat(2, Outcome::connect_failure, 2, 0);
  EXPECT_EQ(c.hosts[2].consecutive_gateway, 2u);
  EXPECT_EQ(c.hosts[2].consecutive_local_origin, 0u);
}

TEST(Outlier, WithSplitLocalOriginFailuresCountSeparately) {
  OutlierConfig cfg = enabled_cfg();
  cfg.split_local_origin = true;
  cfg.consecutive_local_origin = 3;
  cfg.consecutive_5xx = 2;
  Cluster c(cfg, 4);
  EXPECT_FALSE(c.report(0, Outcome::connect_failure, 0));
  EXPECT_FALSE(c.report(0, Outcome::connect_timeout, 0));
  EXPECT_EQ(c.hosts[0].consecutive_5xx, 0u) << "local origin does not feed the 5xx detector";
  EXPECT_EQ(c.hosts[0].consecutive_local_origin, 2u);
  EXPECT_FALSE(c.status(0, 200, 0));
  EXPECT_EQ(c.hosts[0].consecutive_local_origin, 2u) << "an HTTP success is not a connect success";
  EXPECT_TRUE(c.report(0, Outcome::connect_failure, 0));
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_local_origin_failure, 1u);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_5xx, 0u);

  // Both kinds of connect success reset the local-origin counter.
  c.repeat(1, Outcome::connect_failure, 2, 0);
  c.report(1, Outcome::connect_success, 0);
  EXPECT_EQ(c.hosts[1].consecutive_local_origin, 0u);
  c.repeat(1, Outcome::connect_failure, 2, 0);
  c.report(1, Outcome::connect_success_l7, 0);
  EXPECT_EQ(c.hosts[1].consecutive_local_origin, 0u);

  // External-origin errors still go to the 5xx detector, not the local one.
  EXPECT_FALSE(c.report(2, Outcome::upstream_reset, 0));
  EXPECT_EQ(c.hosts[2].consecutive_local_origin, 0u);
  EXPECT_TRUE(c.status(2, 500, 0));
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_5xx, 1u);
}

TEST(Outlier, ConsecutiveGatewayCountsOnly502To504) {
  OutlierConfig cfg = enabled_cfg();
  cfg.consecutive_5xx = 0;
  cfg.consecutive_gateway = 3;
  Cluster c(cfg, 8);
  EXPECT_FALSE(c.status(0, 502, 0));
  EXPECT_FALSE(c.status(0, 503, 0));
  EXPECT_TRUE(c.status(0, 504, 0));
  // 500, 501 and 505 are 5xx but not gateway errors: they reset the count.
  for (uint16_t other : {500, 501, 505, 599}) {
    EXPECT_FALSE(c.status(1, 503, 0));
    EXPECT_FALSE(c.status(1, 503, 0));
    EXPECT_FALSE(c.status(1, other, 0)) << other;
    EXPECT_EQ(c.hosts[1].consecutive_gateway, 0u) << other;
  }
  // Non-5xx resets too.
  c.status(2, 502, 0);
  c.status(2, 502, 0);
  c.status(2, 404, 0);
  EXPECT_EQ(c.hosts[2].consecutive_gateway, 0u);
  EXPECT_FALSE(c.hosts[1].ejected);
  EXPECT_FALSE(c.hosts[2].ejected);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_gateway_failure, 1u);
}

TEST(Outlier, Http500CountsToward5xxNotGateway) {
  OutlierConfig cfg = enabled_cfg();
  cfg.consecutive_5xx = 3;
  cfg.consecutive_gateway = 2;
  Cluster c(cfg, 4);
  EXPECT_FALSE(c.status(0, 500, 0));
  EXPECT_FALSE(c.status(0, 500, 0));
  EXPECT_EQ(c.hosts[0].consecutive_gateway, 0u);
  EXPECT_TRUE(c.status(0, 500, 0));
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_5xx, 1u);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_gateway_failure, 0u);
  // A gateway error counts toward both; the gateway detector fires first here.
  EXPECT_FALSE(c.status(1, 503, 0));
  EXPECT_TRUE(c.status(1, 503, 0));
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_gateway_failure, 1u);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_5xx, 1u);
  // 5xx counting spans a mix of gateway and non-gateway errors.
  EXPECT_FALSE(c.status(2, 503, 0));
  EXPECT_FALSE(c.status(2, 500, 0));
  EXPECT_TRUE(c.status(2, 503, 0));
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_5xx, 2u);
}

TEST(Outlier, GatewayOverflowStillLetsThe5xxDetectorTry) {
  OutlierConfig cfg = enabled_cfg();
  cfg.consecutive_5xx = 2;
  cfg.consecutive_gateway = 2;
  cfg.max_ejection_percent = 10;
  Cluster c(cfg, 2);
  c.status(0, 503, 0);
  EXPECT_FALSE(c.status(0, 503, 0));
  EXPECT_EQ(c.stats.ejections_detected_consecutive_gateway_failure, 1u);
  EXPECT_EQ(c.stats.ejections_detected_consecutive_5xx, 1u);
  EXPECT_EQ(c.stats.ejections_overflow, 2u);
}

TEST(Outlier, EjectedHostResultsAreIgnored) {
  Cluster c(enabled_cfg(), 4);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 1);
  const ClusterOutlierStats before = c.stats;
  EXPECT_EQ(c.repeat(0, Outcome::connect_failure, 20, 1), 0);
  EXPECT_FALSE(c.report(0, Outcome::connect_success, 1));
  EXPECT_FALSE(c.status(0, 503, 1));
  EXPECT_EQ(c.hosts[0].consecutive_5xx, 0u);
  EXPECT_EQ(c.hosts[0].ejected_at_us, 0u);
  EXPECT_EQ(c.hosts[0].ejections_total, 1u);
  EXPECT_EQ(c.stats.ejections_enforced_total, before.ejections_enforced_total);
  EXPECT_EQ(c.stats.ejections_overflow, before.ejections_overflow);
}

TEST(Outlier, ReturnResetsCountersSoFewErrorsDoNotReeject) {
  OutlierConfig cfg = enabled_cfg();
  cfg.consecutive_gateway = 3;
  Cluster c(cfg, 4);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 4, 0), 1);  // gateway, at the 3rd
  ASSERT_EQ(c.hosts[0].consecutive_5xx, 2u);  // the gateway detector ejected first
  ASSERT_EQ(c.sweep(30 * kSec), 1u);
  EXPECT_EQ(c.hosts[0].consecutive_5xx, 0u);
  EXPECT_EQ(c.hosts[0].consecutive_gateway, 0u);
  EXPECT_EQ(c.hosts[0].consecutive_local_origin, 0u);
  EXPECT_FALSE(c.report(0, Outcome::connect_failure, 31 * kSec));
}

TEST(Outlier, DisabledDoesNothingAndReleasesEjectedHosts) {
  Cluster c(enabled_cfg(), 4);
  ASSERT_EQ(c.repeat(0, Outcome::connect_failure, 5, 0), 1);
  c.cfg.enabled = false;
  EXPECT_EQ(c.repeat(1, Outcome::connect_failure, 50, 0), 0);
  EXPECT_EQ(c.hosts[1].consecutive_5xx, 0u);
  EXPECT_EQ(c.sweep(1), 1u);
  EXPECT_FALSE(c.hosts[0].ejected);
  EXPECT_EQ(c.stats.ejections_active, 0u);
}

TEST(Outlier, OutOfRangeHostIsIgnored) {
  Cluster c(enabled_cfg(), 2);
  EXPECT_FALSE(c.report(2, Outcome::connect_failure, 0));
  EXPECT_FALSE(c.report(UINT32_MAX, Outcome::connect_failure, 0));
}

TEST(Outlier, StatsCounters) {
  OutlierConfig cfg = enabled_cfg();
  cfg.max_ejection_percent = 50;
  cfg.consecutive_gateway = 2;
  cfg.split_local_origin = true;
  cfg.consecutive_local_origin = 2;
  Cluster c(cfg, 6);
  c.status(0, 500, 0);
  c.status(0, 500, 0);
  c.status(0, 500, 0);
  c.status(0, 500, 0);
  EXPECT_TRUE(c.status(0, 500, 0));                                  // 5xx
  EXPECT_EQ(c.repeat(1, Outcome::upstream_reset, 2, 0), 1);          // gateway
  EXPECT_EQ(c.repeat(2, Outcome::connect_timeout, 2, 0), 1);         // local origin
  EXPECT_EQ(c.repeat(3, Outcome::connect_failure, 2, 0), 0);         // 4 of 6 > 50%
  EXPECT_EQ(c.stats.ejections_enforced_total, 3u);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_5xx, 1u);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_gateway_failure, 1u);
  EXPECT_EQ(c.stats.ejections_enforced_consecutive_local_origin_failure, 1u);
  EXPECT_EQ(c.stats.ejections_detected_consecutive_local_origin_failure, 2u);
  EXPECT_EQ(c.stats.ejections_overflow, 1u);
  EXPECT_EQ(c.stats.ejections_active, 3u);
  EXPECT_EQ(c.sweep(10 * kSec), 0u);
  EXPECT_EQ(c.stats.ejections_active, 3u);
  EXPECT_EQ(c.sweep(30 * kSec), 3u);
  EXPECT_EQ(c.stats.ejections_active, 0u);
  EXPECT_EQ(c.stats.ejections_enforced_total, 3u) << "returning is not an ejection";
  for (uint32_t h = 0; h < 3; h++) EXPECT_EQ(c.hosts[h].ejections_total, 1u) << h;
  EXPECT_EQ(c.hosts[3].ejections_total, 0u);
}

TEST(Outlier, PanicThresholdArithmetic) {
  OutlierConfig cfg;
  cfg.min_health_percent = 0;
  EXPECT_FALSE(outlier_panic(cfg, 0, 4));
  EXPECT_FALSE(outlier_panic(cfg, 0, 0));
  cfg.min_health_percent = 50;
  EXPECT_TRUE(outlier_panic(cfg, 1, 4));    // 25% < 50%
  EXPECT_FALSE(outlier_panic(cfg, 2, 4));   // 50% is not below 50%
  EXPECT_FALSE(outlier_panic(cfg, 4, 4));
  EXPECT_TRUE(outlier_panic(cfg, 0, 1));
  EXPECT_TRUE(outlier_panic(cfg, 0, 0));    // Envoy: no hosts is 0% healthy
  cfg.min_health_percent = 34;
  EXPECT_TRUE(outlier_panic(cfg, 1, 3));    // 33.3% < 34%
  cfg.min_health_percent = 33;
  EXPECT_FALSE(outlier_panic(cfg, 1, 3));
  cfg.min_health_percent = 200;             // clamped to 100
  EXPECT_TRUE(outlier_panic(cfg, 99, 100));
  EXPECT_FALSE(outlier_panic(cfg, 100, 100));
  EXPECT_FALSE(outlier_panic(cfg, UINT32_MAX, UINT32_MAX));
}

}  // namespace
}  // namespace lg::upstream
