#include "dataplane/tcp/rtt.h"

#include <algorithm>

namespace lg::tcp {
namespace {

// srtt8_ is a uint32_t holding 8 * SRTT, and SRTT never exceeds the largest
// sample, so samples are clamped to what fits (about 536 s). Any RTT that long
// is pinned to max_rto_us anyway.
constexpr uint64_t kMaxSampleUs = UINT32_MAX >> 3;

}  // namespace

RttEstimator::RttEstimator(const RtoParams& p) : params_(p) {
  // Keep the bounds ordered so rto_us() is well-defined whatever is passed.
  if (params_.max_rto_us < params_.min_rto_us) params_.max_rto_us = params_.min_rto_us;
  reset();
}

void RttEstimator::reset() {
  srtt8_ = 0;
  rttvar4_ = 0;
  backoff_ = 0;
  has_sample_ = false;
  // RFC 6298 §2.1, held to the same bounds as computed values (§2.4, §2.5).
  rto_ = std::clamp(params_.initial_rto_us, params_.min_rto_us, params_.max_rto_us);
}

void RttEstimator::sample(uint64_t rtt_us) {
  const uint32_t r = static_cast<uint32_t>(std::min(rtt_us, kMaxSampleUs));
  if (!has_sample_) {
    // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
    srtt8_ = r << 3;
    rttvar4_ = r << 1;  // 4 * (R/2)
    has_sample_ = true;
  } else {
    // RFC 6298 §2.3, in this order because RTTVAR must use the SRTT from
    // before this sample:
    //   RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|   (x4: rttvar4 - rttvar4/4 + |err|)
    //   SRTT   <- 7/8 SRTT   + 1/8 R'           (x8: srtt8 - srtt8/8 + R')
    const int64_t err = static_cast<int64_t>(r) - static_cast<int64_t>(srtt8_ >> 3);
    const uint32_t abs_err = static_cast<uint32_t>(err < 0 ? -err : err);
    rttvar4_ = rttvar4_ - (rttvar4_ >> 2) + abs_err;
    srtt8_ = srtt8_ - (srtt8_ >> 3) + r;
  }
  set_rto();
  backoff_ = 0;
}

void RttEstimator::set_rto() {
  // RFC 6298 §2.3: RTO <- SRTT + max(G, K*RTTVAR) with K = 4, and rttvar4_
  // is already 4*RTTVAR. Then the §2.4 floor and §2.5 ceiling.
  const uint64_t rto = uint64_t{srtt8_ >> 3} + std::max(params_.clock_granularity_us, rttvar4_);
  rto_ = static_cast<uint32_t>(
      std::clamp<uint64_t>(rto, params_.min_rto_us, params_.max_rto_us));
}

uint64_t RttEstimator::rto_us() const {
  // backoff_ never exceeds the doublings needed to pass max_rto_us (< 32),
  // so the shift cannot overflow 64 bits.
  return std::min<uint64_t>(uint64_t{rto_} << backoff_, params_.max_rto_us);
}

void RttEstimator::backoff() {
  // RFC 6298 §5.5 doubling with the §2.5 cap. Stop counting once capped so
  // the shift in rto_us() stays small; 31 is a hard stop for rto_ == 1.
  if ((uint64_t{rto_} << backoff_) < params_.max_rto_us && backoff_ < 31) ++backoff_;
}

}  // namespace lg::tcp
