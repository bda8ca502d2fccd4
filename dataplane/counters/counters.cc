#include "dataplane/counters/counters.h"

namespace lg {
namespace {

constexpr std::string_view kDropNames[] = {
#define LG_X(name, help) #name,
    LG_DROP_REASONS(LG_X)
#undef LG_X
};
constexpr std::string_view kDropHelp[] = {
#define LG_X(name, help) help,
    LG_DROP_REASONS(LG_X)
#undef LG_X
};
constexpr std::string_view kEventNames[] = {
#define LG_X(name, help) #name,
    LG_EVENTS(LG_X)
#undef LG_X
};
constexpr std::string_view kEventHelp[] = {
#define LG_X(name, help) help,
    LG_EVENTS(LG_X)
#undef LG_X
};

constexpr std::string_view kGaugeNames[] = {
#define LG_X(name, help) #name,
    LG_GAUGES(LG_X)
#undef LG_X
};
constexpr std::string_view kGaugeHelp[] = {
#define LG_X(name, help) help,
    LG_GAUGES(LG_X)
#undef LG_X
};

}  // namespace

std::string_view gauge_name(Gauge g) { return kGaugeNames[static_cast<unsigned>(g)]; }
std::string_view gauge_help(Gauge g) { return kGaugeHelp[static_cast<unsigned>(g)]; }
std::string_view drop_name(Drop d) { return kDropNames[static_cast<unsigned>(d)]; }
std::string_view drop_help(Drop d) { return kDropHelp[static_cast<unsigned>(d)]; }
std::string_view event_name(Event e) { return kEventNames[static_cast<unsigned>(e)]; }
std::string_view event_help(Event e) { return kEventHelp[static_cast<unsigned>(e)]; }

CounterSet::CounterSet(unsigned workers) {
  blocks_.reserve(workers);
  for (unsigned w = 0; w < workers; ++w) blocks_.push_back(std::make_unique<LcoreCounters>());
}

CounterTotals CounterSet::totals() const {
  CounterTotals t;
  t.per_worker.resize(blocks_.size());
  for (size_t w = 0; w < blocks_.size(); ++w) {
    const LcoreCounters& b = *blocks_[w];
    for (unsigned p = 0; p < kMaxPorts; ++p) {
      for (unsigned i = 0; i < kDropCount; ++i) t.drops[p][i] += counter_read(b.drops[p][i]);
      for (unsigned i = 0; i < kEventCount; ++i) t.events[p][i] += counter_read(b.events[p][i]);
      for (unsigned i = 0; i < kGaugeCount; ++i) t.gauges[p][i] += counter_read(b.gauges[p][i]);
    }
    t.per_worker[w] = {counter_read(b.loop.iterations), counter_read(b.loop.busy_iterations),
                       counter_read(b.loop.busy_cycles), counter_read(b.loop.idle_sleeps)};
  }
  return t;
}

}  // namespace lg
