#include "dataplane/timer/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>

namespace lg {
namespace {

// One below the largest tick, so that next_tick_ = tick + 1 never wraps.
constexpr uint64_t kMaxTick = std::numeric_limits<uint64_t>::max() - 1;

uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

// Distance from bit `from` to the first set bit at or after it, wrapping
// around the 256-bit map; -1 if the map is empty.
int next_set(const uint64_t (&words)[4], unsigned from) {
  const unsigned w = from / 64;
  const unsigned b = from % 64;
  if (uint64_t bits = words[w] & (~uint64_t{0} << b)) {
    return static_cast<int>(w * 64 + std::countr_zero(bits) - from);
  }
  for (unsigned i = 1; i <= 4; ++i) {
    const unsigned wi = (w + i) % 4;
    uint64_t bits = words[wi];
    if (i == 4) bits &= ~(~uint64_t{0} << b);  // back at the start: only bits below `from`
    if (bits) return static_cast<int>((wi * 64 + std::countr_zero(bits) - from) % 256);
  }
  return -1;
}

}  // namespace

TimerWheel::TimerWheel(uint64_t tick_cycles, uint64_t now_cycles)
    : tick_cycles_(tick_cycles ? tick_cycles : 1),
      next_tick_(std::min(now_cycles / tick_cycles_, kMaxTick) + 1) {
  assert(tick_cycles > 0);
}

void TimerWheel::link(Timer*& head, Timer& t, uint16_t slot) {
  t.next_ = head;
  if (head) head->pprev_ = &t.next_;
  head = &t;
  t.pprev_ = &head;
  t.slot_ = slot;
  if (slot < kDueSlot) occupied_[slot / kSlots][slot % kSlots / 64] |= uint64_t{1} << (slot % 64);
}

void TimerWheel::unlink(Timer& t) {
  *t.pprev_ = t.next_;
  if (t.next_) t.next_->pprev_ = t.pprev_;
  t.next_ = nullptr;
  t.pprev_ = nullptr;
  // The timer may be in a list already taken out of its slot (being fired or
  // cascaded); testing the slot's head keeps the bit exact in either case.
  if (t.slot_ < kDueSlot && !heads_[t.slot_]) {
    occupied_[t.slot_ / kSlots][t.slot_ % kSlots / 64] &= ~(uint64_t{1} << (t.slot_ % 64));
  }
}

void TimerWheel::file(Timer& t) {
  assert(t.expires_ >= next_tick_);
  constexpr uint64_t kMaxDelta = (uint64_t{1} << (kLevelBits * kLevels)) - 1;
  uint64_t delta = t.expires_ - next_tick_;
  uint64_t at = t.expires_;
  if (delta > kMaxDelta) {
    // Parked in the farthest slot; cascading re-files it by its real expiry.
    // No overflow: next_tick_ + kMaxDelta < expires_.
    delta = kMaxDelta;
    at = next_tick_ + kMaxDelta;
  }
  const unsigned level = delta ? (std::bit_width(delta) - 1) / kLevelBits : 0;
  const unsigned index = (at >> (level * kLevelBits)) % kSlots;
  const uint16_t slot = static_cast<uint16_t>(level * kSlots + index);
  link(heads_[slot], t, slot);
}

// Moves the whole slot into `list` (a local head), leaving the slot empty.
void TimerWheel::take(uint16_t slot, Timer*& list) {
  list = heads_[slot];
  heads_[slot] = nullptr;
  if (list) list->pprev_ = &list;
  occupied_[slot / kSlots][slot % kSlots / 64] &= ~(uint64_t{1} << (slot % 64));
}

void TimerWheel::cascade(unsigned level, unsigned index) {
  Timer* list;
  take(static_cast<uint16_t>(level * kSlots + index), list);
  while (Timer* t = list) {
    unlink(*t);
    file(*t);
  }
}

// Pops one timer at a time, so a callback that cancels or re-arms a timer
// still in `list` simply takes it out of the list.
unsigned TimerWheel::fire(Timer*& list) {
  unsigned n = 0;
  while (Timer* t = list) {
    unlink(*t);
    --armed_;
    ++n;
    if (t->cb) t->cb(t, t->arg);
  }
  return n;
}

// The first tick >= next_tick_ at which something happens: a level-0 slot to
// fire or a higher-level slot to cascade. Ticks before it are no-ops and can
// be skipped.
uint64_t TimerWheel::next_event_tick() const {
  uint64_t best = std::numeric_limits<uint64_t>::max();
  // Level-0 timers are due within [next_tick_, next_tick_ + 255].
  if (int d = next_set(occupied_[0], next_tick_ % kSlots); d >= 0) best = next_tick_ + d;
  for (unsigned level = 1; level < kLevels; ++level) {
    // A non-empty level holds a timer at least one period away, so none of
    // this overflows.
    const unsigned shift = level * kLevelBits;
    const uint64_t period = uint64_t{1} << shift;
    const uint64_t boundary = (next_tick_ + period - 1) & ~(period - 1);
    // A slot is cascaded when a period boundary with its index is processed.
    const int d = next_set(occupied_[level], (boundary >> shift) % kSlots);
    if (d >= 0) best = std::min(best, boundary + static_cast<uint64_t>(d) * period);
  }
  return best;
}

void TimerWheel::arm(Timer& t, uint64_t expires_cycles) {
  if (t.armed()) {
    unlink(t);
  } else {
    ++armed_;
  }
  t.expires_ = ceil_div(expires_cycles, tick_cycles_);
  if (t.expires_ < next_tick_) {
    link(due_, t, kDueSlot);
  } else {
    file(t);
  }
}

void TimerWheel::arm_after(Timer& t, uint64_t delay_cycles) {
  const uint64_t now = now_cycles();
  const uint64_t limit = std::numeric_limits<uint64_t>::max();
  arm(t, delay_cycles > limit - now ? limit : now + delay_cycles);
}

void TimerWheel::cancel(Timer& t) {
  if (!t.armed()) return;
  unlink(t);
  --armed_;
}

unsigned TimerWheel::advance(uint64_t now_cycles) {
  if (advancing_) return 0;
  advancing_ = true;
  unsigned fired = 0;

  // Already due: older than anything in the wheel. Detached first so that
  // callbacks arming more due timers defer them to the next call.
  Timer* list = due_;
  due_ = nullptr;
  if (list) list->pprev_ = &list;
  fired += fire(list);

  const uint64_t target = std::min(now_cycles / tick_cycles_, kMaxTick);
  while (next_tick_ <= target) {
    const uint64_t tick = next_event_tick();
    if (tick > target) {
      next_tick_ = target + 1;
      break;
    }
    next_tick_ = tick;
    // Cascade before firing: the cascaded slot may hold timers due in this
    // very tick. A level is cascaded only when the level below wraps to 0.
    if (tick % kSlots == 0) {
      for (unsigned level = 1; level < kLevels; ++level) {
        const unsigned index = (tick >> (level * kLevelBits)) % kSlots;
        cascade(level, index);
        if (index != 0) break;
      }
    }
    take(static_cast<uint16_t>(tick % kSlots), list);
    next_tick_ = tick + 1;  // callbacks see `tick` as now
    fired += fire(list);
  }

  advancing_ = false;
  return fired;
}

}  // namespace lg
