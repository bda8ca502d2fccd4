#include "dataplane/upstream/outlier.h"

#include <algorithm>
#include <cstdint>

namespace lg::upstream {
namespace {

enum class Detector : uint8_t { consecutive_5xx, consecutive_gateway, consecutive_local_origin };

// Saturating, so a nonsensical base_ejection_us cannot wrap the arithmetic.
uint64_t mul_sat(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
uint64_t add_sat(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t effective_max_ejection_us(const OutlierConfig& cfg) {
  return std::max(cfg.max_ejection_us, cfg.base_ejection_us);
}

uint32_t count_ejected(std::span<const HostOutlierState> hosts) {
  uint32_t n = 0;
  for (const HostOutlierState& s : hosts) n += s.ejected ? 1 : 0;
  return n;
}

// Envoy DetectorImpl::ejectHost with every enforcing_* at 100% (Istio).
bool try_eject(const OutlierConfig& cfg, std::span<HostOutlierState> hosts, HostOutlierState& s,
               Detector d, uint64_t now_us, ClusterOutlierStats& stats) {
  switch (d) {
    case Detector::consecutive_5xx:
      stats.ejections_detected_consecutive_5xx++;
      s.consecutive_5xx = 0;
      break;
    case Detector::consecutive_gateway:
      stats.ejections_detected_consecutive_gateway_failure++;
      s.consecutive_gateway = 0;
      break;
    case Detector::consecutive_local_origin:
      stats.ejections_detected_consecutive_local_origin_failure++;
      s.consecutive_local_origin = 0;
      break;
  }
  // Counting beats trusting the gauge: ejection is rare, and the host array,
  // not the stats, is the truth.
  const uint32_t active = count_ejected(hosts);
  const uint64_t max_percent = std::min<uint32_t>(cfg.max_ejection_percent, 100);
  // The share after this ejection must stay within the limit (integer form of
  // Envoy's 100.0 * (active + 1) / hosts <= max_ejection_percent).
  bool allowed = 100 * (uint64_t{active} + 1) <= max_percent * hosts.size();
  if (cfg.always_eject_one_host && active == 0) allowed = true;
  if (!allowed) {
    stats.ejections_overflow++;
    return false;
  }

  s.ejected = true;
  s.ejected_at_us = now_us;
  s.ejections_total++;
  // Envoy grows the backoff only while base * backoff < max + base, which
  // bounds it just past the point where the ejection time hits the cap.
  if (mul_sat(cfg.base_ejection_us, s.multiplier) <
          add_sat(effective_max_ejection_us(cfg), cfg.base_ejection_us) &&
      s.multiplier < UINT32_MAX)
    s.multiplier++;

  stats.ejections_enforced_total++;
  switch (d) {
    case Detector::consecutive_5xx: stats.ejections_enforced_consecutive_5xx++; break;
    case Detector::consecutive_gateway:
      stats.ejections_enforced_consecutive_gateway_failure++;
      break;
    case Detector::consecutive_local_origin:
      stats.ejections_enforced_consecutive_local_origin_failure++;
      break;
  }
  stats.ejections_active = active + 1;
  return true;
}

// Envoy DetectorHostMonitorImpl::putHttpResponseCode. The gateway detector
// runs first; when it ejects, the 5xx detector has nothing left to do (Envoy
// drops its event because the host is already ejected). When it overflows, the
// 5xx detector still gets its chance, as in Envoy.
bool put_http_code(const OutlierConfig& cfg, std::span<HostOutlierState> hosts,
                   HostOutlierState& s, uint32_t code, uint64_t now_us,
                   ClusterOutlierStats& stats) {
  if (code < 500 || code > 599) {
    s.consecutive_5xx = 0;
    s.consecutive_gateway = 0;
    return false;
  }
  if (code >= 502 && code <= 504) {
    ++s.consecutive_gateway;
    if (cfg.consecutive_gateway != 0 && s.consecutive_gateway >= cfg.consecutive_gateway &&
        try_eject(cfg, hosts, s, Detector::consecutive_gateway, now_us, stats))
      return true;
  } else {
    s.consecutive_gateway = 0;
  }
  ++s.consecutive_5xx;
  if (cfg.consecutive_5xx != 0 && s.consecutive_5xx >= cfg.consecutive_5xx)
    return try_eject(cfg, hosts, s, Detector::consecutive_5xx, now_us, stats);
  return false;
}

// Envoy localOriginFailure.
bool local_origin_failure(const OutlierConfig& cfg, std::span<HostOutlierState> hosts,
                          HostOutlierState& s, uint64_t now_us, ClusterOutlierStats& stats) {
  ++s.consecutive_local_origin;
  if (cfg.consecutive_local_origin != 0 &&
      s.consecutive_local_origin >= cfg.consecutive_local_origin)
    return try_eject(cfg, hosts, s, Detector::consecutive_local_origin, now_us, stats);
  return false;
}

}  // namespace

uint64_t outlier_ejection_duration_us(const OutlierConfig& cfg, uint32_t multiplier) {
  return std::min(mul_sat(cfg.base_ejection_us, multiplier), effective_max_ejection_us(cfg));
}

bool outlier_report(const OutlierConfig& cfg, std::span<HostOutlierState> hosts, uint32_t h,
                    Outcome o, uint16_t status, uint64_t now_us, ClusterOutlierStats& stats) {
  if (!cfg.enabled || h >= hosts.size()) return false;
  HostOutlierState& s = hosts[h];
  if (s.ejected) return false;

  if (cfg.split_local_origin) {  // Envoy putResultWithLocalExternalSplit
    switch (o) {
      case Outcome::connect_success:
      case Outcome::connect_success_l7:
        s.consecutive_local_origin = 0;
        return false;
      case Outcome::connect_failure:
      case Outcome::connect_timeout:
        return local_origin_failure(cfg, hosts, s, now_us, stats);
      case Outcome::upstream_reset:
        return put_http_code(cfg, hosts, s, 503, now_us, stats);
      case Outcome::http_status:
        return put_http_code(cfg, hosts, s, status, now_us, stats);
    }
    return false;
  }

  switch (o) {  // Envoy putResultNoLocalExternalSplit / resultToHttpCode
    case Outcome::connect_success: return put_http_code(cfg, hosts, s, 200, now_us, stats);
    case Outcome::connect_failure: return put_http_code(cfg, hosts, s, 503, now_us, stats);
    case Outcome::connect_timeout: return put_http_code(cfg, hosts, s, 504, now_us, stats);
    case Outcome::upstream_reset: return put_http_code(cfg, hosts, s, 503, now_us, stats);
    case Outcome::http_status: return put_http_code(cfg, hosts, s, status, now_us, stats);
    case Outcome::connect_success_l7: return false;  // the L7 result will be mapped instead
  }
  return false;
}

// Envoy DetectorImpl::onIntervalTimer + checkHostForUneject + unejectHost
// (no jitter: Istio leaves max_ejection_time_jitter at 0).
uint32_t outlier_sweep(const OutlierConfig& cfg, std::span<HostOutlierState> hosts,
                       uint64_t now_us, ClusterOutlierStats& stats) {
  uint32_t returned = 0, active = 0;
  for (HostOutlierState& s : hosts) {
    if (s.ejected) {
      const uint64_t out_for = now_us >= s.ejected_at_us ? now_us - s.ejected_at_us : 0;
      if (!cfg.enabled || out_for >= outlier_ejection_duration_us(cfg, s.multiplier)) {
        s.ejected = false;
        s.unejected_at_us = now_us;
        // Envoy resets all counters so a counter left near its threshold
        // cannot re-eject the host on very few new errors.
        s.consecutive_5xx = s.consecutive_gateway = s.consecutive_local_origin = 0;
        returned++;
      } else {
        active++;
      }
      continue;
    }
    // Healthy for a whole interval since the last return to service (a host
    // returned just now waits for the next sweep, as in Envoy).
    if (s.multiplier > 0 && now_us >= s.unejected_at_us &&
        now_us - s.unejected_at_us >= cfg.interval_us)
      s.multiplier--;
  }
  stats.ejections_active = active;
  return returned;
}

bool outlier_panic(const OutlierConfig& cfg, uint32_t healthy, uint32_t total) {
  const uint64_t threshold = std::min<uint32_t>(cfg.min_health_percent, 100);
  if (threshold == 0) return false;
  if (total == 0) return true;  // Envoy: healthy_percent is 0 with no hosts
  return 100 * uint64_t{healthy} < threshold * total;
}

}  // namespace lg::upstream
