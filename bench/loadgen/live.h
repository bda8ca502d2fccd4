// What the generator lcore publishes for the control thread while it runs:
// single-writer counters (the lcore stores, the control thread loads; relaxed
// is enough for a progress line), and the phase the run is in.
#pragma once

#include <atomic>
#include <cstdint>

namespace lg::bench {

enum class Phase : uint8_t { starting, warmup, measure, finishing, done };
const char* phase_name(Phase p);

class LiveCounter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct Live {
  std::atomic<Phase> phase{Phase::starting};
  LiveCounter requests;      // completed, every phase
  LiveCounter errors;        // every kind, every phase
  LiveCounter bytes;         // received by the client
  LiveCounter latency_ns;    // sum over completed requests, for a mean
  LiveCounter open_conns;
  LiveCounter busy_cycles;   // generator loop passes that found work
  LiveCounter responder_requests;
};

}  // namespace lg::bench
