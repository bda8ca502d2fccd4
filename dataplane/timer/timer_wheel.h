// Per-lcore hierarchical timing wheel (Varghese & Lauck, with cascading, like
// the classic pre-4.8 Linux timer wheel). The TCP stack keeps millions of
// timers per core (RTO, delayed ACK, keepalive, TIME_WAIT), so arm and cancel
// are O(1), expiry is amortized O(1), and nothing allocates, locks, throws or
// makes a syscall after construction.
//
// Time is TSC cycles supplied by the caller; the wheel never reads a clock, so
// it is deterministic and testable with fake time. Cycles are quantized into
// ticks of tick_cycles(). A timer armed for cycle C is due at tick
// ceil(C / tick_cycles) and fires in the first advance(now) whose
// now / tick_cycles reaches that tick: never early, at most one tick late.
//
// Layout: 4 levels x 256 slots; a level-0 slot is one tick, a level-n slot
// 256^n ticks. A timer goes into the coarsest level its distance needs and is
// re-filed into a finer level (cascaded) when the finer level wraps, so it
// ends in level 0 exactly in its own tick. Timers further away than the wheel
// spans (2^32 ticks, ~5 days at 100 us) are parked in the farthest slot and
// re-filed from there, as often as needed, until they come within range.
//
// Semantics relied upon by callers:
//  - Timers fire in order of their due tick; timers due in the same tick fire
//    in unspecified order.
//  - A timer armed for a tick that has already been processed (the past, or
//    "now") is due: it fires at the start of the next advance() call, before
//    anything in the wheel, even if that call does not move time. Due timers
//    fire in unspecified order among themselves.
//  - Callbacks may arm, re-arm or cancel any timer, including the one firing
//    and timers due in the same tick. While a callback runs, now_cycles() is
//    the tick being fired (for an already due timer: the last tick processed
//    before this advance()). A timer a callback arms for that tick or earlier
//    fires on the NEXT advance() call (so a callback re-arming itself with no
//    delay cannot loop forever); one armed for a later tick still covered by
//    the current advance() fires within that same call (so a periodic timer
//    catches up with every period across a long jump).
//  - advance() must not be called from a callback (such a call does nothing
//    and returns 0).
//  - A timer must be cancelled (or have fired) before it is destroyed. The
//    wheel's destructor does not touch its timers (at teardown they may
//    already be gone); timers still armed then must not be used again.
//  - Single-threaded: a wheel and its timers belong to one lcore.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lg {

class TimerWheel;

// Embedded in its owner (a connection, a neighbor entry, ...). The callback
// recovers the owner from `arg` or from the Timer's address via offsetof.
struct Timer {
  using Callback = void (*)(Timer* t, void* arg);

  Callback cb = nullptr;  // may be null: the timer then just expires
  void* arg = nullptr;

  Timer() = default;
  Timer(Callback c, void* a) : cb(c), arg(a) {}
  // The wheel holds pointers into the timer; a copy would alias its links.
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return pprev_ != nullptr; }

 private:
  friend class TimerWheel;

  // Singly-linked list with a back-pointer to whatever points at us (the slot
  // head or the previous timer): unlinking is O(1) without knowing the list.
  Timer* next_ = nullptr;
  Timer** pprev_ = nullptr;
  uint64_t expires_ = 0;  // due tick
  uint16_t slot_ = 0;     // level * 256 + index, or TimerWheel::kDueSlot
};

class TimerWheel {
 public:
  // tick_cycles: TSC cycles per tick (e.g. rte_get_tsc_hz() / 10000 for
  // 100 us); must be > 0 (0 asserts; release builds use 1).
  // now_cycles: the current TSC; its tick counts as already processed.
  TimerWheel(uint64_t tick_cycles, uint64_t now_cycles);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)arms `t` to fire at cycle `expires_cycles`; an armed timer is moved.
  void arm(Timer& t, uint64_t expires_cycles);
  // Relative to now_cycles() (saturating).
  void arm_after(Timer& t, uint64_t delay_cycles);
  // No-op if `t` is not armed.
  void cancel(Timer& t);
  // Processes every tick up to now_cycles / tick_cycles and fires every timer
  // due by then. Returns how many fired. Moving time backwards fires only the
  // timers already due.
  unsigned advance(uint64_t now_cycles);

  size_t armed_count() const { return armed_; }
  uint64_t tick_cycles() const { return tick_cycles_; }
  // The last tick processed, in cycles.
  uint64_t now_cycles() const { return (next_tick_ - 1) * tick_cycles_; }

 private:
  static constexpr unsigned kLevelBits = 8;
  static constexpr unsigned kSlots = 1u << kLevelBits;  // per level
  static constexpr unsigned kLevels = 4;
  static constexpr unsigned kWords = kSlots / 64;  // occupancy bitmap words
  static constexpr uint16_t kDueSlot = kLevels * kSlots;

  void link(Timer*& head, Timer& t, uint16_t slot);
  void unlink(Timer& t);
  void file(Timer& t);  // into the wheel, by t.expires_ (>= next_tick_)
  void take(uint16_t slot, Timer*& list);
  void cascade(unsigned level, unsigned index);
  unsigned fire(Timer*& list);
  uint64_t next_event_tick() const;

  uint64_t tick_cycles_;
  uint64_t next_tick_;  // the first tick not yet processed
  size_t armed_ = 0;
  bool advancing_ = false;
  Timer* due_ = nullptr;  // armed for an already processed tick
  Timer* heads_[kLevels * kSlots] = {};
  // Bit set iff the slot is non-empty: finding the next event scans 4 words
  // per level instead of visiting every tick.
  uint64_t occupied_[kLevels][kWords] = {};
};

}  // namespace lg
