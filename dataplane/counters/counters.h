// Per-lcore counters. A worker owns its block and is the only writer; the
// control thread (admin, telemetry) reads every block and sums them. Writes
// and reads are relaxed atomic 64-bit accesses: on x86 they compile to plain
// moves, so counting costs the same as a non-atomic increment, and readers
// never see a torn value.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/counters/counter_defs.h"

namespace lg {

inline constexpr unsigned kMaxPorts = 16;

enum class Drop : uint16_t {
#define LG_X(name, help) name,
  LG_DROP_REASONS(LG_X)
#undef LG_X
      count
};

enum class Event : uint16_t {
#define LG_X(name, help) name,
  LG_EVENTS(LG_X)
#undef LG_X
      count
};

enum class Gauge : uint16_t {
#define LG_X(name, help) name,
  LG_GAUGES(LG_X)
#undef LG_X
      count
};

inline constexpr unsigned kGaugeCount = static_cast<unsigned>(Gauge::count);
inline constexpr unsigned kDropCount = static_cast<unsigned>(Drop::count);
inline constexpr unsigned kEventCount = static_cast<unsigned>(Event::count);

std::string_view drop_name(Drop d);
std::string_view drop_help(Drop d);
std::string_view event_name(Event e);
std::string_view event_help(Event e);
std::string_view gauge_name(Gauge g);
std::string_view gauge_help(Gauge g);

// Adds n to a counter only this thread writes.
inline void counter_add(uint64_t& c, uint64_t n = 1) {
  __atomic_store_n(&c, c + n, __ATOMIC_RELAXED);
}
inline uint64_t counter_read(const uint64_t& c) { return __atomic_load_n(&c, __ATOMIC_RELAXED); }

// Loop accounting used for cycles-per-unit figures.
struct LoopCounters {
  uint64_t iterations = 0;       // every pass of the worker loop
  uint64_t busy_iterations = 0;  // passes that found work
  uint64_t busy_cycles = 0;      // TSC cycles spent in busy passes
  uint64_t idle_sleeps = 0;      // naps taken because a pass found nothing
};

struct alignas(64) LcoreCounters {
  std::array<std::array<uint64_t, kDropCount>, kMaxPorts> drops{};
  std::array<std::array<uint64_t, kEventCount>, kMaxPorts> events{};
  std::array<std::array<uint64_t, kGaugeCount>, kMaxPorts> gauges{};  // two's complement deltas
  LoopCounters loop;

  void drop(unsigned port, Drop d, uint64_t n = 1) {
    counter_add(drops[port][static_cast<unsigned>(d)], n);
  }
  void event(unsigned port, Event e, uint64_t n = 1) {
    counter_add(events[port][static_cast<unsigned>(e)], n);
  }
  void gauge(unsigned port, Gauge g, int64_t delta) {
    counter_add(gauges[port][static_cast<unsigned>(g)], static_cast<uint64_t>(delta));
  }
};

// Sum over lcores, as the control thread reports it.
struct CounterTotals {
  std::array<std::array<uint64_t, kDropCount>, kMaxPorts> drops{};
  std::array<std::array<uint64_t, kEventCount>, kMaxPorts> events{};
  std::array<std::array<uint64_t, kGaugeCount>, kMaxPorts> gauges{};
  std::vector<LoopCounters> per_worker;  // index = worker number

  uint64_t drop(unsigned port, Drop d) const { return drops[port][static_cast<unsigned>(d)]; }
  uint64_t event(unsigned port, Event e) const { return events[port][static_cast<unsigned>(e)]; }
  int64_t gauge(unsigned port, Gauge g) const { return static_cast<int64_t>(gauges[port][static_cast<unsigned>(g)]); }
};

// Owns one counter block per worker, allocated before the workers start.
class CounterSet {
 public:
  explicit CounterSet(unsigned workers);
  LcoreCounters& worker(unsigned w) { return *blocks_[w]; }
  unsigned workers() const { return static_cast<unsigned>(blocks_.size()); }
  CounterTotals totals() const;

 private:
  std::vector<std::unique_ptr<LcoreCounters>> blocks_;
};

}  // namespace lg
