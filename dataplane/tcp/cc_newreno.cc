#include <algorithm>

#include "dataplane/tcp/cc.h"

namespace lg::tcp {

uint32_t cc_initial_window(uint32_t smss, uint32_t initial_window_segments) {
  const uint64_t n = std::max<uint32_t>(initial_window_segments, 1);
  // RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)); 14600 = 10 * 1460.
  const uint64_t iw = std::min(n * smss, std::max<uint64_t>(2ull * smss, n * 1460));
  return static_cast<uint32_t>(std::min<uint64_t>(iw, kCwndMax));
}

uint32_t cc_slow_start(CcState& s, uint32_t bytes_acked) {
  if (s.cwnd >= s.ssthresh) return bytes_acked;
  // RFC 3465 §2.2: count bytes, not ACKs, so delayed ACKs do not halve the
  // growth rate, but credit at most L = 2*SMSS per ACK so that one stretch
  // ACK (or an ACK after a burst of losses) cannot release a huge burst.
  const uint32_t credit = std::min<uint32_t>(bytes_acked, 2 * s.smss);
  const uint32_t room = std::min(s.ssthresh, kCwndMax) - s.cwnd;
  const uint32_t used = std::min(credit, room);
  s.cwnd += used;
  return bytes_acked - used;
}

namespace {

// RFC 5681 §3.1 eq. (4).
uint32_t half_flight(const CcState& s, uint32_t flight_size) {
  return std::max<uint32_t>(flight_size / 2, 2 * s.smss);
}

}  // namespace

void newreno_init(CcState& s, uint32_t smss, uint32_t initial_window_segments) {
  s = CcState{};
  s.smss = smss ? smss : 1;
  s.cwnd = cc_initial_window(s.smss, initial_window_segments);
  s.ssthresh = UINT32_MAX;  // RFC 5681 §3.1: "arbitrarily high"
  s.epoch_start_us = kNoEpoch;
}

void newreno_on_ack(CcState& s, uint32_t bytes_acked) {
  const uint32_t rest = cc_slow_start(s, bytes_acked);
  if (rest == 0 || s.cwnd < s.ssthresh) return;
  // Congestion avoidance, RFC 3465 §2.1 byte counting (the RFC 5681 §3.1
  // recommended variant): +1 SMSS once a full cwnd of bytes has been acked,
  // i.e. exactly one SMSS per RTT, independent of delayed or stretch ACKs.
  s.ca_acked += rest;
  if (s.ca_acked >= s.cwnd) {
    s.ca_acked -= s.cwnd;
    s.cwnd = std::min(s.cwnd + s.smss, kCwndMax);
    // A huge stretch ACK must not carry several increments: RFC 5681 §3.1
    // allows at most one SMSS per RTT.
    s.ca_acked = std::min(s.ca_acked, s.cwnd - 1);
  }
}

void newreno_on_congestion(CcState& s, uint32_t flight_size) {
  s.ssthresh = half_flight(s, flight_size);
  s.cwnd = s.ssthresh;
  s.ca_acked = 0;
}

void newreno_on_recovery_exit(CcState& s) {
  s.cwnd = s.ssthresh;
  s.ca_acked = 0;
}

void newreno_on_rto(CcState& s, uint32_t flight_size) {
  s.ssthresh = half_flight(s, flight_size);
  s.cwnd = s.smss;  // RFC 5681 §3.1: the loss window, LW = 1 SMSS
  s.ca_acked = 0;
}

}  // namespace lg::tcp
