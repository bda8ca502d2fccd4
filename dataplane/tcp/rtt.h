// Retransmission timeout estimation, RFC 6298 (SRTT/RTTVAR, Jacobson/Karels)
// with exponential backoff. One estimator is embedded in every connection, so
// it is 32 bytes of integers: no allocation, no clock reads (samples are
// measured by the caller, in microseconds), no floating point.
//
// Karn's algorithm (RFC 6298 §3) is the CALLER's job: never sample() an RTT
// measured from a segment that was retransmitted, because the ACK cannot say
// which transmission it acknowledges and a wrong pick skews SRTT either way.
// The exception is an RTT taken from the TCP timestamp option (RFC 7323 §4),
// whose echoed TSval identifies the transmission unambiguously.
//
// Typical use:
//   on each valid RTT measurement R:      est.sample(R);   (also clears backoff)
//   on retransmission timer expiry:       est.backoff();   re-arm with rto_us()
//   when arming the retransmission timer: timer = now + est.rto_us()
#pragma once

#include <cstdint>

namespace lg::tcp {

// All durations in microseconds. uint32_t holds up to ~71 minutes, far above
// any sensible RTO bound, and keeps the estimator small.
struct RtoParams {
  // RFC 6298 §2.4 says 1 s; Linux (and most datacenter stacks) use 200 ms
  // because 1 s idles a LAN flow for thousands of RTTs after a tail loss.
  uint32_t min_rto_us = 200'000;
  // RFC 6298 §2.5 allows an upper bound of at least 60 s; Linux uses 120 s.
  uint32_t max_rto_us = 120'000'000;
  // RFC 6298 §2.1: RTO before the first RTT sample (SYN, SYN-ACK).
  uint32_t initial_rto_us = 1'000'000;
  // RFC 6298 §2.3 / §4: the clock granularity G. The RTO never goes below
  // SRTT + G, so a perfectly steady RTT (RTTVAR -> 0) cannot produce a timer
  // that fires before the ACK could possibly arrive.
  uint32_t clock_granularity_us = 1'000;
};

class RttEstimator {
 public:
  explicit RttEstimator(const RtoParams& p = RtoParams{});

  // Feeds one RTT measurement (RFC 6298 §2.2 for the first, §2.3 after) and
  // recomputes the RTO. Also clears the backoff, as Linux does: a valid
  // (Karn-clean) sample proves the path delivers again, and RFC 6298 §5 (the
  // note after rule 5.7) has a new measurement "collapse" a backed-off RTO. Samples above ~536 s
  // (what fits the fixed-point state) are clamped.
  void sample(uint64_t rtt_us);

  // The retransmission timeout to arm now: the computed RTO doubled once per
  // backoff(), never above max_rto_us.
  uint64_t rto_us() const;

  // RFC 6298 §5.5: the timer expired, double the RTO ("back off the timer"),
  // capped at max_rto_us (§2.5). Further calls at the cap change nothing.
  void backoff();
  // Undo all backoff. sample() does it; the caller may also do it when new
  // data is cumulatively ACKed without a usable sample (e.g. everything in
  // flight was retransmitted, so Karn forbids sampling).
  void clear_backoff() { backoff_ = 0; }
  // Number of backoff() steps in effect (for "too many retransmissions"
  // decisions, RFC 9293 §3.8.3 R1/R2).
  unsigned backoff_count() const { return backoff_; }

  // RFC 6298 §5 (note after rule 5.7): after repeated backoffs SRTT/RTTVAR
  // are likely bogus and MAY be cleared; the next sample then initializes them as a first one.
  // Also resets the RTO to initial_rto_us and clears the backoff.
  void reset();

  bool has_sample() const { return has_sample_; }
  uint64_t srtt_us() const { return srtt8_ >> 3; }
  uint64_t rttvar_us() const { return rttvar4_ >> 2; }
  const RtoParams& params() const { return params_; }

 private:
  void set_rto();

  RtoParams params_;
  // Fixed point like Linux's tcp_rtt_estimator(): SRTT scaled by 8 and
  // RTTVAR by 4, so the 1/8 and 1/4 gains of RFC 6298 §2.3 are exact shifts
  // and sub-microsecond remainders are not lost between samples.
  uint32_t srtt8_ = 0;
  uint32_t rttvar4_ = 0;  // == 4 * RTTVAR, the K*RTTVAR term of §2.3 as is
  uint32_t rto_ = 0;      // computed RTO before backoff, already clamped
  uint8_t backoff_ = 0;
  bool has_sample_ = false;
};

static_assert(sizeof(RttEstimator) == 32, "RttEstimator is embedded in every connection");

}  // namespace lg::tcp
