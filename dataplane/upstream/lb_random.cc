// RANDOM: weighted draw among available hosts (see lb.h).
#include <cstdint>
#include <span>

#include "dataplane/upstream/lb.h"

namespace lg::upstream {

uint32_t pick_random(std::span<const LbHost> hosts, LbState& s) {
  uint64_t total = 0;
  for (const LbHost& h : hosts)
    if (h.available) total += lb_detail::weight_of(h);
  if (total == 0) return kNoHost;
  return lb_detail::weighted_index(hosts, lb_random_below64(s, total));
}

}  // namespace lg::upstream
