// CUBIC, RFC 9438. Windows are kept in bytes like the rest of the stack; the
// cubic function is evaluated in segments (C = 0.4 segments/s^3) and scaled
// by SMSS. Floating point is used for W_cubic(t) (a few multiplications per
// ACK); the cube root for K is taken once per congestion avoidance epoch,
// i.e. once per congestion event, never per ACK.
#include <algorithm>
#include <cmath>

#include "dataplane/tcp/cc.h"

namespace lg::tcp {
namespace {

constexpr double kC = 0.4;  // RFC 9438 §4.1.1 C, segments / s^3
// RFC 9438 §4.1.1 beta_cubic = 0.7, kept as the exact fraction 7/10.
constexpr uint64_t kBetaNum = 7, kBetaDen = 10;
// RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta) = 0.9 / 1.7 = 9/17
// exactly, so W_est can grow in integers without drift.
constexpr uint64_t kAlphaNum = 9, kAlphaDen = 17;

uint32_t cap(uint64_t w) { return static_cast<uint32_t>(std::min<uint64_t>(w, kCwndMax)); }

// RFC 9438 §4.2: W_cubic(t) = C * (t - K)^3 + W_max, here with the epoch's
// origin as W_max (see start_epoch), in bytes, clamped to [0, kCwndMax].
double w_cubic(const CcState& s, uint64_t t_us) {
  const double d = (static_cast<double>(t_us) - static_cast<double>(s.k_us)) * 1e-6;
  const double w = static_cast<double>(s.origin) + kC * d * d * d * s.smss;
  return std::clamp(w, 0.0, static_cast<double>(kCwndMax));
}

// Start of a congestion avoidance stage (RFC 9438 §4.2: t counts from here,
// not from the loss, so time spent in recovery or slow start does not count).
void start_epoch(CcState& s, uint64_t now_us) {
  s.epoch_start_us = now_us;
  if (s.w_max > s.cwnd) {
    // §4.2: K = cbrt((W_max - cwnd_epoch) / C), the time the curve takes to
    // climb back from this window to W_max. RFC 8312 used W_max*(1-beta),
    // which is the same when cwnd_epoch = beta*W_max but wrong after an
    // application-limited loss (cwnd_epoch from FlightSize) or fast convergence.
    const double segs = static_cast<double>(s.w_max - s.cwnd) / s.smss;
    const double k_us = std::cbrt(segs / kC) * 1e6;
    s.k_us = static_cast<uint32_t>(std::min(k_us, static_cast<double>(UINT32_MAX)));
    s.origin = s.w_max;
  } else {
    // No higher window to return to: after an RTO (§4.8, "K is set to 0 and
    // W_max to the cwnd at the beginning of the current congestion avoidance
    // stage") or when slow start ended without loss. The curve starts at its
    // plateau and immediately probes convexly.
    s.k_us = 0;
    s.origin = s.cwnd;
    s.w_max = s.cwnd;
  }
  // §4.3: W_est starts at cwnd_epoch (§4.8 says the same after an RTO).
  s.w_est = s.cwnd;
  s.w_est_acked = 0;
  s.ca_acked = 0;
}

// Shared ssthresh/cwnd_prior update of §4.6 (loss) and §4.8 (timeout).
void reduce(CcState& s, uint32_t flight_size) {
  s.cwnd_prior = s.cwnd;
  // §4.6: ssthresh = flight_size * beta_cubic. FlightSize rather than cwnd,
  // as RFC 9438 §4.6 requires unless cwnd-limited growth is otherwise
  // prevented; never below 2 SMSS.
  const uint64_t ss = uint64_t{flight_size} * kBetaNum / kBetaDen;
  s.ssthresh = std::max<uint32_t>(cap(ss), 2 * s.smss);
  s.epoch_start_us = kNoEpoch;
  s.ca_acked = 0;
}

}  // namespace

void cubic_init(CcState& s, uint32_t smss, uint32_t initial_window_segments) {
  s = CcState{};
  s.smss = smss ? smss : 1;
  s.cwnd = cc_initial_window(s.smss, initial_window_segments);
  s.ssthresh = UINT32_MAX;  // RFC 5681 §3.1 (RFC 9438 §4.10: standard slow start)
  s.epoch_start_us = kNoEpoch;
}

void cubic_on_ack(CcState& s, uint32_t bytes_acked, uint64_t now_us, uint64_t srtt_us,
                  uint64_t min_rtt_us) {
  if (s.cwnd < s.ssthresh) {
    // §4.10: slow start below ssthresh. Whatever epoch existed is over; the
    // next congestion avoidance stage starts a new one.
    s.epoch_start_us = kNoEpoch;
    bytes_acked = cc_slow_start(s, bytes_acked);
    if (bytes_acked == 0 || s.cwnd < s.ssthresh) return;
  }
  if (s.epoch_start_us == kNoEpoch) start_epoch(s, now_us);

  const uint64_t t_us = now_us > s.epoch_start_us ? now_us - s.epoch_start_us : 0;
  const uint64_t rtt_us = srtt_us ? srtt_us : min_rtt_us;

  // §4.3 Reno-friendly estimate: W_est += alpha_cubic * segments_acked / cwnd,
  // i.e. +1 SMSS per cwnd/alpha bytes acked. alpha_cubic makes CUBIC's
  // AIMD(alpha, beta=0.7) as aggressive on average as Reno's AIMD(1, 0.5);
  // once W_est reaches cwnd_prior the flow has regained its old share and
  // alpha becomes 1, Reno's own rate.
  {
    const uint64_t per_smss = s.w_est >= s.cwnd_prior
                                  ? uint64_t{s.cwnd}
                                  : uint64_t{s.cwnd} * kAlphaDen / kAlphaNum;
    const uint64_t acc = uint64_t{s.w_est_acked} + bytes_acked;
    s.w_est = cap(uint64_t{s.w_est} + acc / per_smss * s.smss);
    s.w_est_acked = static_cast<uint32_t>(acc % per_smss);
  }

  if (w_cubic(s, t_us) < static_cast<double>(s.w_est)) {
    // §4.3: in the Reno-friendly region cwnd follows W_est (short RTTs or
    // small windows, where the cubic curve would be slower than Reno). Never
    // shrink: cwnd may legitimately be ahead of W_est after tracking the
    // t + RTT target.
    s.cwnd = std::max(s.cwnd, s.w_est);
    return;
  }

  // §4.4 (concave, cwnd < W_max) and §4.5 (convex, cwnd >= W_max) share the
  // rule: aim one RTT ahead, target = W_cubic(t + RTT) bounded to
  // [cwnd, 1.5 cwnd] (§4.2: an ACK never shrinks cwnd, and far below the
  // curve growth is at most half a window per RTT, gentler than slow
  // start's doubling, so a long-idle epoch cannot release a burst), and move (target - cwnd) / cwnd segments per
  // segment acked, i.e. (target - cwnd) * bytes_acked / cwnd bytes, so cwnd
  // reaches target after about one RTT of ACKs.
  const double lo = s.cwnd, hi = 1.5 * s.cwnd;
  const uint64_t target = static_cast<uint64_t>(std::clamp(w_cubic(s, t_us + rtt_us), lo, hi));
  const uint64_t num = (target - s.cwnd) * uint64_t{bytes_acked} + s.ca_acked;
  s.cwnd = cap(uint64_t{s.cwnd} + num / s.cwnd);
  s.ca_acked = static_cast<uint32_t>(num % s.cwnd);
}

void cubic_on_congestion(CcState& s, uint32_t flight_size) {
  // §4.7 fast convergence: a loss below the previous W_max means the flow's
  // share is shrinking (new flows joined), so aim lower, W_max*(1+beta)/2,
  // releasing bandwidth to them sooner.
  const uint32_t w_max = s.cwnd < s.w_max
                             ? static_cast<uint32_t>(uint64_t{s.cwnd} * (kBetaDen + kBetaNum) /
                                                     (2 * kBetaDen))
                             : s.cwnd;
  reduce(s, flight_size);
  s.w_max = w_max;
  // §4.6: cwnd = max(ssthresh, 2 SMSS) on loss (reduce() already floors
  // ssthresh at 2 SMSS).
  s.cwnd = s.ssthresh;
}

void cubic_on_recovery_exit(CcState& s) {
  s.cwnd = s.ssthresh;
  s.ca_acked = 0;
}

void cubic_on_rto(CcState& s, uint32_t flight_size) {
  reduce(s, flight_size);
  // §4.8: after a timeout the next curve has K = 0 and W_max = cwnd at the
  // start of that congestion avoidance stage; w_max = 0 makes start_epoch()
  // do exactly that.
  s.w_max = 0;
  s.cwnd = s.smss;  // RFC 5681 §3.1 loss window, which §4.8 follows
}

}  // namespace lg::tcp
