// Reconnect delays for the discovery stream: exponential with jitter, so a
// fleet of gateways that lost the agent at the same moment does not come back
// in lockstep ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015;
// gRPC's connection-backoff.md uses the same shape).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace lg::ctrl {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, uint64_t seed)
      : initial_(std::max<int64_t>(1, initial.count())), cap_(std::max<int64_t>(initial_, cap.count())), rng_(seed) {}

  // Delay before the next attempt: the exponential step, then "equal jitter"
  // (uniform in [step/2, step]) so there is always some wait but never in step.
  std::chrono::milliseconds next() {
    int64_t step = initial_;
    for (unsigned i = 0; i < attempt_ && step < cap_; ++i) step *= 2;
    step = std::min(step, cap_);
    if (attempt_ < 64) ++attempt_;
    std::uniform_int_distribution<int64_t> jitter(step / 2, step);
    return std::chrono::milliseconds(jitter(rng_));
  }

  // After a stream that worked: the next failure starts from `initial` again.
  void reset() { attempt_ = 0; }
  unsigned attempt() const { return attempt_; }

 private:
  int64_t initial_, cap_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace lg::ctrl
