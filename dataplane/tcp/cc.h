// Congestion control: NewReno (RFC 5681 + RFC 6582, with RFC 3465 byte
// counting) and CUBIC (RFC 9438), as plug-ins selected per connection by a
// one-byte CcAlgo. Dispatch is a switch over direct calls rather than a
// function-pointer table: a connection stores 1 byte instead of 8, the branch
// is perfectly predicted, and the calls can be inlined under LTO.
//
// The connection drives recovery (RFC 6675 / RFC 6582) and tells the
// algorithm about events; the algorithm only owns cwnd and ssthresh:
//   cc_init               at connection setup (SMSS known)
//   cc_on_ack             ACK of new data outside loss recovery (during
//                         recovery cwnd is frozen and pipe() governs sending)
//   cc_on_congestion      entering fast recovery (3 dupacks / RFC 6675 IsLost)
//   cc_on_recovery_exit   full ACK: snd_una reached the recovery point
//   cc_on_rto             retransmission timer expired, for a segment not yet
//                         resent by the timer: RFC 5681 §3.1 recomputes
//                         ssthresh only then; FlightSize is tiny on later
//                         expiries and would collapse ssthresh for nothing
//                         (cwnd is already the 1-SMSS loss window)
// Callers should only report ACKs while the connection is cwnd-limited
// (RFC 7661): growing cwnd while the application leaves it unused inflates it
// to a value the network never validated.
//
// All sizes are bytes; time is microseconds supplied by the caller.
#pragma once

#include <cstdint>

namespace lg::tcp {

enum class CcAlgo : uint8_t { newreno, cubic };

struct CcState {
  uint32_t cwnd;      // bytes
  uint32_t ssthresh;  // bytes
  uint32_t smss;      // bytes, > 0
  // Congestion-avoidance byte accumulator. NewReno: bytes acked since the
  // last +SMSS (RFC 3465 §2.1). CUBIC: remainder of the per-ACK
  // (target - cwnd) * acked / cwnd growth, so small steps are not truncated.
  uint32_t ca_acked;

  // CUBIC (RFC 9438) only. Windows in bytes; the cubic itself is evaluated in
  // segments, as C = 0.4 is defined per segment.
  uint32_t w_max;        // cwnd before the last reduction, after fast convergence (§4.7)
  uint32_t origin;       // plateau of this epoch's curve: max(w_max, cwnd_epoch)
  uint32_t k_us;         // K (§4.2), time from epoch start to reach origin
  uint32_t w_est;        // Reno-friendly window estimate (§4.3)
  uint32_t w_est_acked;  // bytes acked towards the next +SMSS of w_est
  uint32_t cwnd_prior;   // cwnd before the last reduction (§4.3 alpha switch)
  uint64_t epoch_start_us;  // start of this CA stage; kNoEpoch until one begins
};

static_assert(sizeof(CcState) == 48, "CcState is embedded in every connection");

// RFC 7323 §2.3: the largest window TCP can use is 2^30 bytes; cwnd is capped
// there, which also keeps all the window arithmetic far from overflow.
inline constexpr uint32_t kCwndMax = 1u << 30;
inline constexpr uint64_t kNoEpoch = UINT64_MAX;

// --- per-algorithm entry points (cc_newreno.cc, cc_cubic.cc) -------------------
void newreno_init(CcState& s, uint32_t smss, uint32_t initial_window_segments);
void newreno_on_ack(CcState& s, uint32_t bytes_acked);
void newreno_on_congestion(CcState& s, uint32_t flight_size);
void newreno_on_recovery_exit(CcState& s);
void newreno_on_rto(CcState& s, uint32_t flight_size);

void cubic_init(CcState& s, uint32_t smss, uint32_t initial_window_segments);
void cubic_on_ack(CcState& s, uint32_t bytes_acked, uint64_t now_us, uint64_t srtt_us,
                  uint64_t min_rtt_us);
void cubic_on_congestion(CcState& s, uint32_t flight_size);
void cubic_on_recovery_exit(CcState& s);
void cubic_on_rto(CcState& s, uint32_t flight_size);

// Shared by both algorithms (cc_newreno.cc).
// RFC 6928 §2 initial window, generalized from 10 segments to n:
// min(n*SMSS, max(2*SMSS, n*1460)), so jumbo SMSS does not inflate it.
uint32_t cc_initial_window(uint32_t smss, uint32_t initial_window_segments);
// RFC 5681 §3.1 slow start with RFC 3465 §2.2 byte counting, L = 2*SMSS.
// Grows cwnd at most up to ssthresh and returns the part of bytes_acked not
// used, which the caller feeds to congestion avoidance (as Linux does), so
// crossing ssthresh mid-ACK loses nothing.
uint32_t cc_slow_start(CcState& s, uint32_t bytes_acked);

// --- dispatch ------------------------------------------------------------------

// RFC 6928 IW10 by default. Initial ssthresh is "arbitrarily high"
// (RFC 5681 §3.1): slow start runs until the first loss.
inline void cc_init(CcAlgo a, CcState& s, uint32_t smss, uint32_t initial_window_segments = 10) {
  if (a == CcAlgo::cubic) return cubic_init(s, smss, initial_window_segments);
  newreno_init(s, smss, initial_window_segments);
}

// New data acked outside recovery. Slow start while cwnd < ssthresh (RFC 5681
// §3.1, ABC L = 2 per RFC 3465 §2.2), else congestion avoidance: NewReno
// +1 SMSS per cwnd of acked bytes (RFC 3465 §2.1), CUBIC RFC 9438 §4.2-§4.5.
// srtt_us drives CUBIC's t + RTT lookahead (min_rtt_us stands in until there
// is an SRTT; it is otherwise unused, reserved for HyStart++, RFC 9406).
inline void cc_on_ack(CcAlgo a, CcState& s, uint32_t bytes_acked, uint64_t now_us,
                      uint64_t srtt_us, uint64_t min_rtt_us) {
  if (a == CcAlgo::cubic) return cubic_on_ack(s, bytes_acked, now_us, srtt_us, min_rtt_us);
  newreno_on_ack(s, bytes_acked);
}

// Loss detected by fast retransmit / SACK, entering recovery.
// NewReno: ssthresh = cwnd = max(FlightSize/2, 2*SMSS) (RFC 5681 §3.2 step 2,
// eq. (4)); FlightSize, not cwnd, so an application-limited sender is not
// left with a window the network never carried.
// RFC 6582 §3.2 step 2 would add 3*SMSS of "inflation" to cwnd and then grow
// it per dupack; with RFC 6675 SACK recovery sending is governed by
// pipe < cwnd instead, so cwnd is set to ssthresh directly (RFC 6675 §5 step
// 4.2). CUBIC: RFC 9438 §4.6 (beta_cubic = 0.7) with fast convergence §4.7.
// now_us is accepted for plug-ins that timestamp the event; CUBIC starts its
// epoch at the first congestion-avoidance ACK instead.
inline void cc_on_congestion(CcAlgo a, CcState& s, uint32_t flight_size, uint64_t now_us) {
  (void)now_us;
  if (a == CcAlgo::cubic) return cubic_on_congestion(s, flight_size);
  newreno_on_congestion(s, flight_size);
}

// RFC 6582 §3.2 step 3, full ACK: cwnd = ssthresh (option 2, which avoids a
// burst that option 1's FlightSize-based window could not).
inline void cc_on_recovery_exit(CcAlgo a, CcState& s) {
  if (a == CcAlgo::cubic) return cubic_on_recovery_exit(s);
  newreno_on_recovery_exit(s);
}

// Retransmission timeout: RFC 5681 §3.1 eq. (4) ssthresh = max(FlightSize/2,
// 2*SMSS) and cwnd = 1 SMSS, the loss window; CUBIC per RFC 9438 §4.8
// (ssthresh from beta_cubic, then a fresh curve with K = 0).
inline void cc_on_rto(CcAlgo a, CcState& s, uint32_t flight_size, uint64_t now_us) {
  (void)now_us;
  if (a == CcAlgo::cubic) return cubic_on_rto(s, flight_size);
  newreno_on_rto(s, flight_size);
}

inline const char* cc_name(CcAlgo a) {
  switch (a) {
    case CcAlgo::newreno: return "newreno";
    case CcAlgo::cubic: return "cubic";
  }
  return "unknown";
}

}  // namespace lg::tcp
