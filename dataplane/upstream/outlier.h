// Passive health checking: consecutive-error outlier detection with the
// semantics Envoy gives cluster.outlier_detection as Istio configures it from
// DestinationRule trafficPolicy.outlierDetection (Istio's applyOutlierDetection
// in pilot/pkg/networking/core/cluster_traffic_policy.go; Envoy's
// source/common/upstream/outlier_detection_impl.cc). Only the consecutive
// detectors exist: Istio forces enforcing_success_rate (and the local-origin
// success rate) to 0, and enforces every consecutive detector it enables at
// 100%, so there is no randomness here.
//
// State is per (cluster, lcore) and owned by the caller: one HostOutlierState
// per endpoint, in the same order as the cluster's host list, plus one
// ClusterOutlierStats. Nothing reads a clock; time is microseconds passed in,
// so tests drive it with fake time. Nothing allocates or throws.
//
// Differences from Envoy, on purpose:
//  - Envoy detects on workers and ejects on the main thread, shared by all
//    workers; each lcore here ejects on its own evidence, synchronously.
//  - A counter that reaches its threshold (>=, Envoy tests ==) triggers, so a
//    threshold lowered by a config push does not leave a counter stranded above it.
#pragma once

#include <cstdint>
#include <span>

namespace lg::upstream {

// From linegate::snapshot::v1::OutlierDetection, defaults already resolved.
struct OutlierConfig {
  bool enabled = false;
  uint32_t consecutive_5xx = 5;           // 0 = off
  uint32_t consecutive_gateway = 0;       // 0 = off
  uint32_t consecutive_local_origin = 5;  // used only with split_local_origin; 0 = off
  bool split_local_origin = false;
  uint64_t interval_us = 10'000'000;
  uint64_t base_ejection_us = 30'000'000;
  // Envoy's max_ejection_time default (Istio does not set it). The effective
  // cap is max(max_ejection_us, base_ejection_us), as Envoy defaults it.
  uint64_t max_ejection_us = 300'000'000;
  uint32_t max_ejection_percent = 10;  // clamped to 100
  // Istio minHealthPercent -> Envoy common_lb_config.healthy_panic_threshold.
  uint32_t min_health_percent = 0;
  // Envoy's always_eject_one_host (envoy PR #34796, 2024; default false, and
  // Istio never sets it): allow one ejection when none is active even if
  // max_ejection_percent forbids it. Envoy before PR #27909 (2023) always did.
  bool always_eject_one_host = false;
};

// What the caller observed on one attempt to a host. Envoy's
// Outlier::Result values in brackets.
enum class Outcome : uint8_t {
  connect_success,     // local origin, TCP connect completed and nothing runs
                       // on top that reports more [LocalOriginConnectSuccessFinal]
  connect_failure,     // local origin: refused / unreachable [LocalOriginConnectFailed]
  connect_timeout,     // local origin [LocalOriginTimeout]
  upstream_reset,      // external origin: the upstream reset an established
                       // connection (counted as a 503, as Envoy's router does)
  http_status,         // external origin: an HTTP response with `status`
  connect_success_l7,  // local origin: connected, and an L7 protocol on top will
                       // report http_status [LocalOriginConnectSuccess]
};

struct HostOutlierState {
  uint32_t consecutive_5xx = 0, consecutive_gateway = 0, consecutive_local_origin = 0;
  // Envoy's ejectTimeBackoff: grows by one per ejection (bounded so that
  // base * multiplier stays below max + base), decays by one per interval
  // spent healthy since the last un-ejection.
  uint32_t multiplier = 0;
  uint64_t ejected_at_us = 0;
  uint64_t unejected_at_us = 0;  // last return to service
  bool ejected = false;
  uint64_t ejections_total = 0;  // for stats
};

// Names follow Envoy's cluster.<name>.outlier_detection.* stats.
struct ClusterOutlierStats {
  uint64_t ejections_enforced_total = 0, ejections_overflow = 0,
           ejections_enforced_consecutive_5xx = 0,
           ejections_enforced_consecutive_gateway_failure = 0,
           ejections_enforced_consecutive_local_origin_failure = 0;
  uint64_t ejections_detected_consecutive_5xx = 0,
           ejections_detected_consecutive_gateway_failure = 0,
           ejections_detected_consecutive_local_origin_failure = 0;
  uint32_t ejections_active = 0;  // gauge
};

// Records one outcome for host `h`; returns true when this call ejected it.
//
// Without split_local_origin, local-origin results are mapped to HTTP codes
// (Envoy putResultNoLocalExternalSplit / resultToHttpCode): connect_success ->
// 200, connect_failure -> 503, connect_timeout -> 504, upstream_reset -> 503;
// connect_success_l7 is not mapped (the L7 result will be). A 5xx counts toward
// consecutive_5xx, and 502/503/504 also toward consecutive_gateway; any other
// status resets both; a 5xx that is not a gateway error resets the gateway count.
//
// With split_local_origin (putResultWithLocalExternalSplit), connect failures
// and timeouts count only toward consecutive_local_origin, both connect
// successes reset it, and upstream_reset / http_status go to the 5xx and
// gateway counters as above.
//
// A counter reaching its threshold is reset and asks for an ejection. The
// ejection is refused (ejections_overflow) when it would leave more than
// max_ejection_percent of the hosts ejected, unless always_eject_one_host and
// none is ejected (Envoy checks the share after the ejection, envoy PRs
// #27624 and #27909). Results
// for an ejected host are ignored: Envoy discards them too, since un-ejection
// resets the counters. h out of range or !cfg.enabled: ignored.
bool outlier_report(const OutlierConfig& cfg, std::span<HostOutlierState> hosts, uint32_t h,
                    Outcome o, uint16_t status, uint64_t now_us, ClusterOutlierStats& stats);

// Envoy's onIntervalTimer, to be called every interval_us. Returns to service
// each host ejected for at least min(base * multiplier, max(max, base)) (with
// its counters reset), and decrements the multiplier of each host that is not
// ejected and was returned to service at least interval_us ago. With
// !cfg.enabled every ejected host is returned at once. Refreshes
// stats.ejections_active. Returns the number of hosts returned to service.
uint32_t outlier_sweep(const OutlierConfig& cfg, std::span<HostOutlierState> hosts,
                       uint64_t now_us, ClusterOutlierStats& stats);

// How long a host ejected with this multiplier stays out.
uint64_t outlier_ejection_duration_us(const OutlierConfig& cfg, uint32_t multiplier);

// Envoy's healthy panic threshold (LoadBalancerBase::isHostSetInPanic): true
// when 100 * healthy / total < min_health_percent; the balancer then picks
// among all hosts, ejected or not. 0 never panics; no hosts at all panics when
// the threshold is above 0, as in Envoy. healthy counts non-ejected hosts that
// are otherwise healthy.
bool outlier_panic(const OutlierConfig& cfg, uint32_t healthy, uint32_t total);

}  // namespace lg::upstream
