#include "dataplane/l4/l4_router.h"

#include <algorithm>
#include <cstring>

namespace lg::l4 {
using config::kNone;

namespace {

// -1: no match; higher is more specific.
int name_score(const config::RuntimeTables& t, uint32_t first, uint32_t count, std::string_view sni) {
  if (count == 0) return 0;
  int best = -1;
  for (uint32_t i = first; i < first + count; ++i) {
    const config::NameSlot& n = t.name_patterns[i];
    best = std::max(best, config::name_match_score(t.name_of(n), n.wildcard, sni));
  }
  return best;
}

bool in_subnet(const config::SubnetSlot& s, const std::array<uint8_t, 16>& a) {
  const unsigned full = s.prefix / 8, bits = s.prefix % 8;
  if (std::memcmp(s.addr.data(), a.data(), full) != 0) return false;
  if (bits == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (s.addr[full] & mask) == (a[full] & mask);
}

std::array<uint8_t, 16> mapped(const uint8_t* addr, uint8_t family) {
  std::array<uint8_t, 16> a{};
  if (family == 4) {
    a[10] = a[11] = 0xff;
    std::memcpy(&a[12], addr, 4);
  } else {
    std::memcpy(a.data(), addr, 16);
  }
  return a;
}

bool any_subnet(const config::RuntimeTables& t, uint32_t first, uint32_t count, const std::array<uint8_t, 16>& a) {
  if (count == 0) return true;
  for (uint32_t i = first; i < first + count; ++i)
    if (in_subnet(t.subnets[i], a)) return true;
  return false;
}

}  // namespace

uint32_t select_route(const config::RuntimeTables& t, const config::ListenerSlot& l, const tcp::FlowKey& k,
                      std::string_view sni) {
  // Phase 1: the most specific server (filter chain) for this SNI.
  int best = -1;
  uint32_t server = kNone;
  for (uint32_t i = l.l4_first; i < l.l4_first + l.l4_count; ++i) {
    const config::L4RouteSlot& r = t.l4_routes[i];
    if (r.server == server) continue;
    // Without SNI only a server that names no hosts (or "*") matches.
    const int s = sni.empty() ? (r.server_name_count == 0 || name_score(t, r.server_name_first, r.server_name_count, "*") >= 0 ? 0 : -1)
                              : name_score(t, r.server_name_first, r.server_name_count, sni);
    if (s > best) best = s, server = r.server;
  }
  if (server == kNone) return kNone;
  // Phase 2: that server's rules in order.
  const auto dst = mapped(k.local, k.family), src = mapped(k.remote, k.family);
  for (uint32_t i = l.l4_first; i < l.l4_first + l.l4_count; ++i) {
    const config::L4RouteSlot& r = t.l4_routes[i];
    if (r.server != server) continue;
    if (r.sni_count != 0 && (sni.empty() || name_score(t, r.sni_first, r.sni_count, sni) < 0)) continue;
    if (!any_subnet(t, r.dst_subnet_first, r.dst_subnet_count, dst)) continue;
    if (r.src_subnet != kNone && !in_subnet(t.subnets[r.src_subnet], src)) continue;
    return i;
  }
  return kNone;
}

uint32_t route_cluster(const config::RuntimeTables& t, const config::L4RouteSlot& r, uint32_t draw,
                       std::string_view sni) {
  if (r.auto_passthrough) return sni.empty() ? kNone : t.find_sni_cluster(sni);
  if (r.dest_count == 0) return kNone;
  const uint32_t total = t.destinations[r.dest_first + r.dest_count - 1].cumulative_weight;
  if (total == 0) return t.destinations[r.dest_first].cluster;
  const auto point = static_cast<uint32_t>((uint64_t{draw} * total) >> 32);
  for (uint32_t i = r.dest_first; i < r.dest_first + r.dest_count; ++i)
    if (point < t.destinations[i].cumulative_weight) return t.destinations[i].cluster;
  return t.destinations[r.dest_first + r.dest_count - 1].cluster;
}

}  // namespace lg::l4
