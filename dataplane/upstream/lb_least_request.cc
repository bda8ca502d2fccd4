// LEAST_REQUEST: power of two choices over distinct hosts (see lb.h).
#include <cstdint>
#include <span>

#include "dataplane/upstream/lb.h"

namespace lg::upstream {

namespace {

// a.active / a.weight < b.active / b.weight without division; the products
// of two uint32 fit in uint64.
bool less_loaded(const LbHost& a, const LbHost& b) {
  return uint64_t{a.active} * lb_detail::weight_of(b) < uint64_t{b.active} * lb_detail::weight_of(a);
}

}  // namespace

uint32_t pick_least_request(std::span<const LbHost> hosts, LbState& s) {
  uint64_t total = 0;
  uint32_t count = 0;
  uint32_t only = kNoHost;
  for (uint32_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].available) continue;
    total += lb_detail::weight_of(hosts[i]);
    ++count;
    only = i;
  }
  if (count <= 1) return only;

  const uint32_t first = lb_detail::weighted_index(hosts, lb_random_below64(s, total));
  // Second draw without replacement: the same weighted draw over the other
  // available hosts.
  const uint64_t rest = total - lb_detail::weight_of(hosts[first]);
  const uint32_t second = lb_detail::weighted_index(hosts, lb_random_below64(s, rest), first);
  return less_loaded(hosts[second], hosts[first]) ? second : first;
}

}  // namespace lg::upstream
