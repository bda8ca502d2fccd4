// ROUND_ROBIN: rotation with equal weights, smooth weighted round robin
// otherwise (see lb.h for the contract).
#include <cstdint>
#include <span>

#include "dataplane/upstream/lb.h"

namespace lg::upstream {

namespace {

// Credits sum to 0 and stay within about the weight sum even while hosts flap
// (the unit test checks it), so this value never occurs as a credit and can
// mark "weights are equal" in scratch[0].
constexpr int64_t kEqualWeights = INT64_MIN;

bool weights_equal(std::span<const LbHost> hosts) {
  const uint32_t w0 = lb_detail::weight_of(hosts[0]);
  for (const LbHost& h : hosts)
    if (lb_detail::weight_of(h) != w0) return false;
  return true;
}

// Envoy's unweighted path: hosts[rr_index_++ % size] over the healthy hosts.
// Here unavailable hosts are skipped in place, so a host coming back keeps its
// turn in the rotation.
uint32_t rotate(std::span<const LbHost> hosts, LbState& s) {
  const uint64_t n = hosts.size();
  uint64_t i = s.cursor % n;
  for (uint64_t tried = 0; tried < n; ++tried) {
    if (hosts[i].available) {
      s.cursor = i + 1;
      return static_cast<uint32_t>(i);
    }
    if (++i == n) i = 0;
  }
  return kNoHost;
}

// Smooth weighted round robin (nginx ngx_http_upstream_get_peer): every
// available host earns its weight, the richest is picked and pays the total
// earned. Over sum(w) consecutive picks each host is picked exactly w times,
// and a heavy host's picks are spread out rather than bunched. Unavailable
// hosts keep their credit frozen and rejoin where they left off.
uint32_t smooth_weighted(std::span<const LbHost> hosts, std::span<int64_t> credit) {
  int64_t total = 0;
  uint32_t best = kNoHost;
  for (uint32_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].available) continue;
    const int64_t w = lb_detail::weight_of(hosts[i]);
    credit[i] += w;
    total += w;
    if (best == kNoHost || credit[i] > credit[best]) best = i;
  }
  if (best != kNoHost) credit[best] -= total;
  return best;
}

}  // namespace

uint32_t pick_round_robin(std::span<const LbHost> hosts, LbState& s, std::span<int64_t> scratch) {
  if (hosts.empty()) return kNoHost;
  if (scratch.size() < hosts.size()) return rotate(hosts, s);
  if (scratch[0] == kEqualWeights) return rotate(hosts, s);
  // Credits of a fresh (zeroed) scratch are all 0; a weighted cluster keeps
  // taking this branch, and the equality test stops at its first differing
  // weight, so it costs little next to the weighted scan.
  if (weights_equal(hosts)) {
    scratch[0] = kEqualWeights;
    return rotate(hosts, s);
  }
  return smooth_weighted(hosts, scratch);
}

}  // namespace lg::upstream
