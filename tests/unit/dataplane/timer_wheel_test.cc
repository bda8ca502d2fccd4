#include "dataplane/timer/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace lg {
namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

// Records each firing with the wheel's tick at that moment.
struct Recorder {
  struct Fire {
    Timer* t;
    uint64_t tick;
  };

  explicit Recorder(const TimerWheel& w) : wheel(w) {}

  static void cb(Timer* t, void* arg) {
    auto* r = static_cast<Recorder*>(arg);
    r->fires.push_back({t, r->wheel.now_cycles() / r->wheel.tick_cycles()});
  }

  size_t count(const Timer& t) const {
    return std::count_if(fires.begin(), fires.end(), [&](const Fire& f) { return f.t == &t; });
  }

  const TimerWheel& wheel;
  std::vector<Fire> fires;
};

TEST(TimerWheel, FiresAtItsTickAndNotBefore) {
  TimerWheel w(100, 1000);  // at tick 10
  Recorder rec(w);
  Timer a(Recorder::cb, &rec);
  Timer b(Recorder::cb, &rec);
  w.arm(a, 1550);  // rounds up to tick 16
  w.arm(b, 1600);  // exactly tick 16
  EXPECT_TRUE(a.armed());

  EXPECT_EQ(w.advance(1599), 0u);
  EXPECT_TRUE(rec.fires.empty());
  EXPECT_EQ(w.now_cycles(), 1500u);

  EXPECT_EQ(w.advance(1600), 2u);
  ASSERT_EQ(rec.fires.size(), 2u);
  EXPECT_EQ(rec.fires[0].tick, 16u);
  EXPECT_EQ(rec.fires[1].tick, 16u);
  EXPECT_FALSE(a.armed());
  EXPECT_FALSE(b.armed());

  EXPECT_EQ(w.advance(100000), 0u);  // fires once only
}

TEST(TimerWheel, AccessorsAndTickAlignedNow) {
  TimerWheel w(100, 12345);
  EXPECT_EQ(w.tick_cycles(), 100u);
  EXPECT_EQ(w.now_cycles(), 12300u);
  w.advance(20050);
  EXPECT_EQ(w.now_cycles(), 20000u);
  w.advance(500);  // time never goes backwards
  EXPECT_EQ(w.now_cycles(), 20000u);
}

TEST(TimerWheel, ArmAfterIsRelativeToWheelTime) {
  TimerWheel w(10, 1005);  // now_cycles() == 1000
  Recorder rec(w);
  Timer t(Recorder::cb, &rec);
  w.arm_after(t, 1);  // 1001 -> tick 101
  EXPECT_EQ(w.advance(1009), 0u);
  EXPECT_EQ(w.advance(1010), 1u);
  EXPECT_EQ(rec.fires.at(0).tick, 101u);

  w.arm_after(t, UINT64_MAX);  // saturates instead of wrapping into the past
  EXPECT_EQ(w.advance(1u << 30), 0u);
  EXPECT_TRUE(t.armed());
  w.cancel(t);
}

TEST(TimerWheel, CancelPreventsFiring) {
  TimerWheel w(1, 0);
  Recorder rec(w);
  Timer a(Recorder::cb, &rec), b(Recorder::cb, &rec), c(Recorder::cb, &rec);
  w.arm(a, 10);
  w.arm(b, 10);
  w.arm(c, 100000);  // a coarse level
  w.cancel(a);
  w.cancel(a);  // no-op
  w.cancel(c);
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(w.armed_count(), 1u);
  EXPECT_EQ(w.advance(1000000), 1u);
  ASSERT_EQ(rec.fires.size(), 1u);
  EXPECT_EQ(rec.fires[0].t, &b);

  Timer never;
  w.cancel(never);  // never armed: no-op
  EXPECT_EQ(w.armed_count(), 0u);
}

TEST(TimerWheel, RearmMoves) {
  TimerWheel w(1, 0);
  Recorder rec(w);
  Timer t(Recorder::cb, &rec);
  w.arm(t, 10);
  w.arm(t, 70000);  // later, other level
  EXPECT_EQ(w.armed_count(), 1u);
  EXPECT_EQ(w.advance(69999), 0u);
  EXPECT_EQ(w.advance(70000), 1u);

  w.arm(t, 200000);
  w.arm(t, 70005);  // earlier
  EXPECT_EQ(w.advance(70004), 0u);
  EXPECT_EQ(w.advance(70005), 1u);
  ASSERT_EQ(rec.fires.size(), 2u);
  EXPECT_EQ(rec.fires[0].tick, 70000u);
  EXPECT_EQ(rec.fires[1].tick, 70005u);
  EXPECT_EQ(w.advance(1000000), 0u);
}

void check_order(uint64_t tick, uint64_t start, unsigned chunks) {
  std::mt19937_64 rng(7 + chunks);
  TimerWheel w(tick, start);
  Recorder rec(w);
  constexpr size_t kN = 5000;
  std::unique_ptr<Timer[]> timers(new Timer[kN]);
  std::vector<uint64_t> expect(kN);
  const uint64_t span = tick << 26;
  for (size_t i = 0; i < kN; ++i) {
    // Every fourth timer shares its expiry with the previous one: ties.
    const uint64_t at = i % 4 == 3 ? expect[i - 1] * tick : start + 1 + rng() % span;
    timers[i].cb = Recorder::cb;
    timers[i].arg = &rec;
    w.arm(timers[i], at);
    expect[i] = ceil_div(at, tick);
  }
  uint64_t now = start;
  for (unsigned k = 1; k <= chunks; ++k) {
    now = k == chunks ? start + span + tick : now + rng() % (2 * span / chunks);
    w.advance(now);
  }
  ASSERT_EQ(rec.fires.size(), kN);
  for (size_t i = 0; i < kN; ++i) {
    const size_t id = rec.fires[i].t - timers.get();
    EXPECT_EQ(rec.fires[i].tick, expect[id]);
    if (i > 0) {
      EXPECT_LE(rec.fires[i - 1].tick, rec.fires[i].tick);
    }
  }
}

TEST(TimerWheel, FiresInExpiryOrder) {
  check_order(3, 1000, 1);
  check_order(3, 1000, 40);
  check_order(1, (uint64_t{1} << 32) - 77, 7);
}

// Expiries around every level boundary, both relative to the start and
// absolute (the next multiples of 256, 2^16, 2^24, 2^32), and beyond range.
std::vector<uint64_t> boundary_expiries(uint64_t start) {
  std::vector<uint64_t> e;
  static constexpr uint64_t kDeltas[] = {
      1, 2, 3, 254, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537,
      (1ull << 24) - 1, 1ull << 24, (1ull << 24) + 1,
      (1ull << 32) - 2, (1ull << 32) - 1, 1ull << 32, (1ull << 32) + 1,
      (1ull << 33) + 7, (1ull << 40) + 3,
  };
  for (uint64_t d : kDeltas) {
    e.push_back(start + d);
  }
  for (unsigned bits : {8u, 16u, 24u, 32u, 40u}) {
    const uint64_t m = ((start >> bits) + 1) << bits;
    for (uint64_t x : {m - 1, m, m + 1, m + (uint64_t{1} << bits)}) {
      if (x > start) e.push_back(x);
    }
  }
  std::sort(e.begin(), e.end());
  e.erase(std::unique(e.begin(), e.end()), e.end());
  return e;
}

// Aligned, just-below and just-above level boundaries, and arbitrary.
const uint64_t kStarts[] = {
    0, 1, 200, 255, 256, 65535, 65536, 65537, (1u << 24) - 1, 1u << 24,
    (1ull << 32) - 1, 1ull << 32, 0x123456789ull,
};

TEST(TimerWheel, LevelBoundariesOneTimerPerWheel) {
  for (uint64_t start : kStarts) {
    for (uint64_t e : boundary_expiries(start)) {
      for (bool midway : {false, true}) {
        auto w = std::make_unique<TimerWheel>(1, start);
        Recorder rec(*w);
        Timer t(Recorder::cb, &rec);
        w->arm(t, e);
        if (midway) {
          EXPECT_EQ(w->advance(start + (e - start) / 2), 0u);
        }
        EXPECT_EQ(w->advance(e - 1), 0u) << "start " << start << " expiry " << e;
        EXPECT_EQ(w->advance(e), 1u) << "start " << start << " expiry " << e;
        if (!rec.fires.empty()) {
          EXPECT_EQ(rec.fires[0].tick, e);
        }
      }
    }
  }
}

TEST(TimerWheel, LevelBoundariesAllInOneWheel) {
  for (uint64_t start : kStarts) {
    const std::vector<uint64_t> expiries = boundary_expiries(start);
    auto w = std::make_unique<TimerWheel>(1, start);
    Recorder rec(*w);
    std::unique_ptr<Timer[]> timers(new Timer[expiries.size()]);
    for (size_t i = 0; i < expiries.size(); ++i) {
      timers[i].cb = Recorder::cb;
      timers[i].arg = &rec;
      w->arm(timers[i], expiries[i]);
    }
    for (size_t i = 0; i < expiries.size(); ++i) {
      EXPECT_EQ(w->advance(expiries[i] - 1), 0u) << "start " << start << " expiry " << expiries[i];
      EXPECT_EQ(w->advance(expiries[i]), 1u) << "start " << start << " expiry " << expiries[i];
      ASSERT_EQ(rec.fires.size(), i + 1);
      EXPECT_EQ(rec.fires[i].t, &timers[i]);
      EXPECT_EQ(rec.fires[i].tick, expiries[i]);
    }
    EXPECT_EQ(w->armed_count(), 0u);
  }
}

TEST(TimerWheel, BeyondRangeNeverEarly) {
  TimerWheel w(1, 12345);
  Recorder rec(w);
  Timer far(Recorder::cb, &rec), never(Recorder::cb, &rec);
  const uint64_t e = 12345 + (uint64_t{1} << 44) + 99;  // ~4096 wheel spans away
  w.arm(far, e);
  w.arm(never, UINT64_MAX);
  EXPECT_EQ(w.advance(12345 + (uint64_t{1} << 32)), 0u);
  EXPECT_EQ(w.advance(e - 1), 0u);
  EXPECT_EQ(w.advance(e), 1u);
  ASSERT_EQ(rec.fires.size(), 1u);
  EXPECT_EQ(rec.fires[0].tick, e);
  EXPECT_EQ(w.advance(uint64_t{1} << 50), 0u);
  EXPECT_TRUE(never.armed());
  w.cancel(never);
  EXPECT_EQ(w.armed_count(), 0u);
}

struct Periodic {
  TimerWheel* wheel;
  uint64_t period;
  std::vector<uint64_t> ticks;
  Timer t;

  static void cb(Timer* t, void* arg) {
    auto* p = static_cast<Periodic*>(arg);
    p->ticks.push_back(p->wheel->now_cycles() / p->wheel->tick_cycles());
    p->wheel->arm_after(*t, p->period);
  }
};

TEST(TimerWheel, PeriodicTimerCatchesUpWithinOneAdvance) {
  TimerWheel w(10, 0);
  Periodic p{&w, 1000, {}, {}};
  p.t.cb = Periodic::cb;
  p.t.arg = &p;
  w.arm_after(p.t, 1000);
  EXPECT_EQ(w.advance(10500), 10u);
  ASSERT_EQ(p.ticks.size(), 10u);
  for (size_t i = 0; i < p.ticks.size(); ++i) EXPECT_EQ(p.ticks[i], (i + 1) * 100);
  EXPECT_TRUE(p.t.armed());
  EXPECT_EQ(w.advance(11000), 1u);
  w.cancel(p.t);
}

TEST(TimerWheel, RearmForNowFromCallbackFiresOnNextAdvance) {
  TimerWheel w(1, 0);
  Periodic p{&w, 0, {}, {}};  // period 0: re-arms for the tick being fired
  p.t.cb = Periodic::cb;
  p.t.arg = &p;
  w.arm(p.t, 5);
  EXPECT_EQ(w.advance(100), 1u);  // no infinite loop
  EXPECT_TRUE(p.t.armed());
  EXPECT_EQ(w.advance(100), 1u);  // same time: still fires, once
  EXPECT_EQ(w.advance(100), 1u);
  ASSERT_EQ(p.ticks.size(), 3u);
  EXPECT_EQ(p.ticks[0], 5u);
  EXPECT_EQ(p.ticks[1], 100u);
  w.cancel(p.t);
  EXPECT_EQ(w.advance(200), 0u);
}

// Two timers due in the same tick, each cancelling (or pushing back) the
// other: whichever fires first must stop the other from firing in that tick.
struct Sibling {
  TimerWheel* wheel;
  Sibling* other;
  bool rearm_other;  // instead of cancelling it
  int fired = 0;
  Timer t;

  static void cb(Timer*, void* arg) {
    auto* s = static_cast<Sibling*>(arg);
    ++s->fired;
    if (!s->rearm_other) {
      s->wheel->cancel(s->other->t);
    } else if (!s->other->fired) {
      s->wheel->arm_after(s->other->t, 10);
    }
  }
};

void sibling_case(bool rearm, bool in_the_past) {
  SCOPED_TRACE(testing::Message() << "rearm " << rearm << " in_the_past " << in_the_past);
  TimerWheel w(1, 1000);
  Sibling a{&w, nullptr, rearm, 0, {}}, b{&w, nullptr, rearm, 0, {}};
  a.other = &b;
  b.other = &a;
  const uint64_t due = in_the_past ? 1000 : 1050;
  for (Sibling* s : {&a, &b}) {
    s->t.cb = Sibling::cb;
    s->t.arg = s;
    w.arm(s->t, in_the_past ? 3 : due);
  }
  EXPECT_EQ(w.advance(due), 1u);
  EXPECT_EQ(a.fired + b.fired, 1);
  Sibling& loser = a.fired ? b : a;
  if (!rearm) {
    EXPECT_FALSE(loser.t.armed());
    EXPECT_EQ(w.armed_count(), 0u);
    EXPECT_EQ(w.advance(100000), 0u);
  } else {
    EXPECT_TRUE(loser.t.armed());
    EXPECT_EQ(w.advance(due + 9), 0u);
    EXPECT_EQ(w.advance(due + 10), 1u);  // ten ticks after the winner fired
    EXPECT_EQ(loser.fired, 1);
    EXPECT_EQ(w.armed_count(), 0u);
  }
}

TEST(TimerWheel, CallbackCancelsSiblingDueInSameTick) {
  sibling_case(false, false);
  sibling_case(false, true);
}

TEST(TimerWheel, CallbackRearmsSiblingDueInSameTick) {
  sibling_case(true, false);
  sibling_case(true, true);
}

TEST(TimerWheel, ArmingInThePastFiresOnNextAdvance) {
  TimerWheel w(10, 100000);
  Recorder rec(w);
  Timer old(Recorder::cb, &rec), now(Recorder::cb, &rec), soon(Recorder::cb, &rec);
  Timer moved(Recorder::cb, &rec), dropped(Recorder::cb, &rec);
  w.arm(soon, 100001);  // next tick, in the wheel
  w.arm(old, 0);
  w.arm(now, w.now_cycles());
  w.arm(moved, 5);
  w.arm(moved, 200000);  // out of the due list again
  w.arm(dropped, 5);
  w.cancel(dropped);
  EXPECT_EQ(w.armed_count(), 4u);

  EXPECT_EQ(w.advance(100000), 2u);  // even without time moving
  ASSERT_EQ(rec.fires.size(), 2u);
  EXPECT_EQ(rec.fires[0].tick, 10000u);
  EXPECT_EQ(rec.fires[1].tick, 10000u);
  EXPECT_EQ(rec.count(old) + rec.count(now), 2u);

  EXPECT_EQ(w.advance(100010), 1u);
  EXPECT_EQ(rec.fires.back().t, &soon);
  EXPECT_EQ(w.advance(199999), 0u);
  EXPECT_EQ(w.advance(200000), 1u);
  EXPECT_EQ(rec.fires.back().t, &moved);
}

TEST(TimerWheel, DueTimersFireBeforeWheelTimers) {
  TimerWheel w(1, 500);
  Recorder rec(w);
  Timer wheel_timer(Recorder::cb, &rec), due(Recorder::cb, &rec);
  w.arm(wheel_timer, 501);
  w.arm(due, 100);
  EXPECT_EQ(w.advance(600), 2u);
  ASSERT_EQ(rec.fires.size(), 2u);
  EXPECT_EQ(rec.fires[0].t, &due);
  EXPECT_EQ(rec.fires[0].tick, 500u);
  EXPECT_EQ(rec.fires[1].tick, 501u);
}

TEST(TimerWheel, ArmedCountBookkeeping) {
  TimerWheel w(1, 0);
  Timer a, b, c;  // null callbacks: they just expire
  EXPECT_EQ(w.armed_count(), 0u);
  w.arm(a, 10);
  w.arm(b, 1u << 20);
  w.arm(c, 0);  // due
  EXPECT_EQ(w.armed_count(), 3u);
  w.arm(a, 20);  // re-arm does not count twice
  w.arm(c, 30);
  EXPECT_EQ(w.armed_count(), 3u);
  w.cancel(b);
  w.cancel(b);
  EXPECT_EQ(w.armed_count(), 2u);
  EXPECT_EQ(w.advance(25), 1u);
  EXPECT_EQ(w.armed_count(), 1u);
  EXPECT_EQ(w.advance(30), 1u);
  EXPECT_EQ(w.armed_count(), 0u);
  EXPECT_FALSE(a.armed());
  EXPECT_FALSE(c.armed());
}

TEST(TimerWheel, OneHourJumpAt100usTicks) {
  constexpr uint64_t kHz = 2'500'000'000;
  constexpr uint64_t kTick = kHz / 10000;  // 100 us
  constexpr uint64_t kHour = 3600 * kHz;
  const uint64_t start = 987'654'321'000;
  std::mt19937_64 rng(42);

  TimerWheel w(kTick, start);
  Recorder rec(w);
  constexpr size_t kN = 10000;
  std::unique_ptr<Timer[]> timers(new Timer[kN]);
  std::vector<uint64_t> expect(kN);
  for (size_t i = 0; i < kN; ++i) {
    const uint64_t at = start + 1 + rng() % kHour;
    timers[i].cb = Recorder::cb;
    timers[i].arg = &rec;
    w.arm(timers[i], at);
    expect[i] = ceil_div(at, kTick);
  }
  Periodic keepalive{&w, kHz / 10, {}, {}};  // every 100 ms, re-armed from its callback
  keepalive.t.cb = Periodic::cb;
  keepalive.t.arg = &keepalive;
  w.arm_after(keepalive.t, keepalive.period);

  const unsigned fired = w.advance(start + kHour);

  EXPECT_EQ(fired, kN + 36000);
  EXPECT_EQ(keepalive.ticks.size(), 36000u);
  ASSERT_EQ(rec.fires.size(), kN);
  for (size_t i = 0; i < kN; ++i) {
    EXPECT_EQ(rec.fires[i].tick, expect[rec.fires[i].t - timers.get()]);
    if (i > 0) {
      EXPECT_LE(rec.fires[i - 1].tick, rec.fires[i].tick);
    }
  }
  EXPECT_EQ(w.armed_count(), 1u);
  w.cancel(keepalive.t);
}

TEST(TimerWheel, HugeJumpSkipsEmptyTicks) {
  // 100 years of 100 us ticks (~2^45): a wheel that visits every tick never
  // finishes (the test runner's timeout catches it); no wall-clock assertion.
  constexpr uint64_t kTick = 250'000;
  const uint64_t span = uint64_t{100} * 365 * 24 * 3600 * 10000;
  TimerWheel w(kTick, 0);
  Recorder rec(w);
  Timer t(Recorder::cb, &rec);
  w.arm(t, (span - 1) * kTick + 1);  // tick `span`
  EXPECT_EQ(w.advance((span - 1) * kTick + kTick - 1), 0u);
  EXPECT_EQ(w.advance(span * kTick), 1u);
  EXPECT_EQ(w.advance(2 * span * kTick), 0u);
  ASSERT_EQ(rec.fires.size(), 1u);
  EXPECT_EQ(rec.fires[0].tick, span);
}

// Random arm / re-arm / cancel / advance, also from inside callbacks, checked
// against a multimap of due ticks: every timer fires exactly once, in the
// first advance() reaching ceil(expires / tick), and at exactly that tick.
class RandomizedAgainstModel : public ::testing::Test {
 protected:
  static constexpr uint64_t kTick = 7;  // not a power of two: exercises rounding
  static constexpr size_t kTimers = 100000;
  enum State : uint8_t { kIdle, kScheduled, kDeferred };
  using Schedule = std::multimap<uint64_t, size_t>;

  RandomizedAgainstModel() : timers_(new Timer[kTimers]), state_(kTimers, kIdle), pos_(kTimers) {
    for (size_t i = 0; i < kTimers; ++i) {
      timers_[i].cb = &RandomizedAgainstModel::on_fire;
      timers_[i].arg = this;
    }
  }

  uint64_t pick(uint64_t n) { return rng_() % n; }  // [0, n)
  uint64_t now_tick() const { return wheel_.now_cycles() / kTick; }

  void forget(size_t id) {
    if (state_[id] == kScheduled) schedule_.erase(pos_[id]);
    if (state_[id] == kDeferred) --deferred_count_;
    state_[id] = kIdle;
  }

  uint64_t random_expiry() {
    const uint64_t now = wheel_.now_cycles();
    const uint64_t r = pick(100);
    uint64_t d;
    if (r < 30) {
      d = pick(300);
    } else if (r < 55) {
      d = pick(70000);
    } else if (r < 75) {
      d = pick(uint64_t{1} << 25);
    } else if (r < 83) {
      d = pick(uint64_t{1} << 34);  // partly beyond the wheel's range
    } else if (r < 93) {
      return pick(now + 1);  // in the past, or exactly now
    } else {
      static constexpr uint64_t kEdges[] = {
          255, 256, 65535, 65536, 1 << 24, (1ull << 32) - 1, 1ull << 32,
      };
      d = kEdges[pick(std::size(kEdges))] + pick(3) - 1;
    }
    return now + d * kTick + pick(kTick);
  }

  void arm(size_t id) {
    const uint64_t at = random_expiry();
    forget(id);
    const uint64_t now = wheel_.now_cycles();
    if (at >= now && pick(2)) {
      wheel_.arm_after(timers_[id], at - now);
    } else {
      wheel_.arm(timers_[id], at);
    }
    const uint64_t due = ceil_div(at, kTick);
    if (due > now_tick()) {
      pos_[id] = schedule_.emplace(due, id);
      state_[id] = kScheduled;
    } else if (in_advance_) {
      // From a callback: waits for the next advance(), which fires it first,
      // at the time this advance() ends.
      state_[id] = kDeferred;
      ++deferred_count_;
      deferred_.push_back(id);
    } else {
      pos_[id] = schedule_.emplace(now_tick(), id);
      state_[id] = kScheduled;
    }
  }

  void cancel(size_t id) {
    wheel_.cancel(timers_[id]);
    forget(id);
  }

  static void on_fire(Timer* t, void* arg) {
    auto* self = static_cast<RandomizedAgainstModel*>(arg);
    self->fired(static_cast<size_t>(t - self->timers_.get()));
  }

  void fired(size_t id) {
    const uint64_t tick = now_tick();
    ++fired_in_call_;
    EXPECT_TRUE(in_advance_);
    EXPECT_FALSE(timers_[id].armed());
    ASSERT_EQ(state_[id], kScheduled) << "timer " << id << " fired twice or after cancel";
    EXPECT_EQ(pos_[id]->first, tick) << "timer " << id << " fired at the wrong tick";
    EXPECT_LE(tick, target_);
    EXPECT_GE(tick, last_fire_tick_) << "out of order";
    last_fire_tick_ = tick;
    forget(id);
    ++total_fired_;

    const uint64_t r = pick(100);
    if (r < 20) {
      arm(id);
    } else if (r < 25) {
      cancel(pick(kTimers));
    } else if (r < 30) {
      arm(pick(kTimers));
    }
  }

  void advance(uint64_t now_cycles) {
    target_ = std::max(now_cycles / kTick, now_tick());
    fired_in_call_ = 0;
    in_advance_ = true;
    const unsigned n = wheel_.advance(now_cycles);
    in_advance_ = false;
    EXPECT_EQ(n, fired_in_call_);
    EXPECT_EQ(now_tick(), target_);
    if (!schedule_.empty()) {
      EXPECT_GT(schedule_.begin()->first, target_)
          << "timer " << schedule_.begin()->second << " did not fire";
    }
    for (size_t id : deferred_) {
      if (state_[id] != kDeferred) continue;  // cancelled or re-armed since
      pos_[id] = schedule_.emplace(now_tick(), id);
      state_[id] = kScheduled;
      --deferred_count_;
    }
    deferred_.clear();
    EXPECT_EQ(deferred_count_, 0u);
    EXPECT_EQ(wheel_.armed_count(), schedule_.size());
  }

  void random_advance() {
    const uint64_t r = pick(100);
    uint64_t dt;
    if (r < 60) {
      dt = pick(6);
    } else if (r < 85) {
      dt = pick(1000);
    } else if (r < 95) {
      dt = pick(100000);
    } else if (r < 99) {
      dt = pick(uint64_t{1} << 26);
    } else {
      dt = pick(uint64_t{1} << 34);
    }
    advance(wheel_.now_cycles() + dt * kTick + pick(kTick));
  }

  void check_armed_flags() {
    for (size_t i = 0; i < kTimers; ++i) {
      ASSERT_EQ(timers_[i].armed(), state_[i] != kIdle) << "timer " << i;
    }
  }

  std::mt19937_64 rng_{0x5eed};
  TimerWheel wheel_{kTick, 123456789};
  std::unique_ptr<Timer[]> timers_;
  std::vector<State> state_;
  std::vector<Schedule::iterator> pos_;
  Schedule schedule_;
  std::vector<size_t> deferred_;
  size_t deferred_count_ = 0;
  bool in_advance_ = false;
  uint64_t target_ = 0;
  uint64_t last_fire_tick_ = 0;
  unsigned fired_in_call_ = 0;
  uint64_t total_fired_ = 0;
};

TEST_F(RandomizedAgainstModel, EveryTimerFiresOnceAtItsTick) {
  for (size_t i = 0; i < kTimers; ++i) arm(i);
  EXPECT_EQ(wheel_.armed_count(), kTimers);

  for (int step = 0; step < 300000 && !HasFailure(); ++step) {
    const uint64_t r = pick(100);
    if (r < 50) {
      arm(pick(kTimers));
    } else if (r < 65) {
      cancel(pick(kTimers));
    } else {
      random_advance();
    }
    if (step % 50000 == 0) check_armed_flags();
  }
  ASSERT_FALSE(HasFailure());

  // Drain: callbacks keep re-arming a shrinking fraction.
  for (int i = 0; i < 100 && wheel_.armed_count() > 0 && !HasFailure(); ++i) {
    advance(wheel_.now_cycles() + (uint64_t{1} << 35) * kTick);
  }
  EXPECT_EQ(wheel_.armed_count(), 0u);
  EXPECT_TRUE(schedule_.empty());
  check_armed_flags();
  EXPECT_GT(total_fired_, kTimers);
}

}  // namespace
}  // namespace lg
