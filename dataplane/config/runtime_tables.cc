#include "dataplane/config/runtime_tables.h"
#include "dataplane/config/tls_servers.h"
#include "dataplane/config/upstream_tls.h"

#include "dataplane/config/build_parts.h"
#include "dataplane/upstream/hash.h"
#include "l7/router/router.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

namespace lg::config {
namespace pb = linegate::snapshot::v1;

uint64_t domain_hash(std::string_view d) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (char c : d) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

unsigned RuntimeTables::listener_ports(bool http, std::span<uint16_t> out) const {
  unsigned n = 0;
  for (size_t i = 0; i < listeners.size() && n < out.size(); ++i)
    if ((listeners[i].kind == ListenerKind::http) == http) out[n++] = listeners[i].port;
  return n;
}

const ListenerSlot* RuntimeTables::find_listener(uint16_t port) const {
  const auto v = listeners.view();
  const auto it = std::lower_bound(v.begin(), v.end(), port,
                                   [](const ListenerSlot& l, uint16_t p) { return l.port < p; });
  return it != v.end() && it->port == port ? &*it : nullptr;
}

size_t RuntimeTables::table_bytes() const {
  return listeners.bytes() + destinations.bytes() + clusters.bytes() + endpoints.bytes() + l4_routes.bytes() +
         name_patterns.bytes() + names.bytes() + subnets.bytes() + sni_clusters.bytes() + rings.bytes() +
         maglev.bytes() + (http_routes ? http_routes->bytes() : 0);
}

namespace {

// Ports this node's own services hold (bootstrap test_apps): a listener there
// would never see a connection.
std::optional<std::string> port_owner(const Bootstrap& b, uint32_t port) {
  for (const TestAppConfig& app : b.test_apps)
    if (app.port == port && app.kind != "client") return "the built-in " + app.kind + " service";
  return std::nullopt;
}

bool parse_endpoint_address(const std::string& s, EndpointSlot& e) {
  e.addr.fill(0);
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    e.addr[10] = e.addr[11] = 0xff;
    std::memcpy(&e.addr[12], &v4, 4);
    e.family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), e.addr.data()) == 1) {
    e.family = 6;
    return true;
  }
  return false;
}

upstream::OutlierConfig outlier_config(const pb::TrafficPolicy& p) {
  upstream::OutlierConfig o;
  if (!p.has_outlier_detection()) return o;
  const pb::OutlierDetection& d = p.outlier_detection();
  o.enabled = true;
  o.consecutive_5xx = d.consecutive_5xx_errors();
  o.consecutive_gateway = d.consecutive_gateway_errors();
  o.consecutive_local_origin = d.consecutive_local_origin_failures();
  o.split_local_origin = d.split_external_local_origin_errors();
  if (d.interval_ms()) o.interval_us = d.interval_ms() * 1000;
  if (d.base_ejection_time_ms()) o.base_ejection_us = d.base_ejection_time_ms() * 1000;
  o.max_ejection_percent = d.max_ejection_percent();
  o.min_health_percent = d.min_health_percent();
  return o;
}

uint32_t clamp32(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX)); }

}  // namespace

std::unique_ptr<RuntimeTables> build_tables(std::shared_ptr<const Snapshot> snap, const Bootstrap& b,
                                            std::string* error, upstream::UpstreamRegistry* registry,
                                            unsigned workers, const TlsEnv& tls) {
  const ConfigLimits& lim = b.config_limits;
  const Snapshot& s = *snap;

  // Sizes first: limits are checked before anything is allocated.
  size_t n_routes = 0, n_endpoints = 0;
  for (const pb::RouteTable& rt : s.route_tables())
    for (const pb::VirtualHost& vh : rt.virtual_hosts()) n_routes += static_cast<size_t>(vh.routes_size());
  for (const pb::Cluster& c : s.clusters()) n_endpoints += static_cast<size_t>(c.endpoints_size());
  const auto over = [&](const char* what, size_t n, uint32_t limit) {
    *error = "snapshot " + s.version() + " has " + std::to_string(n) + " " + what + ", over this node's config_limits (" +
             std::to_string(limit) + ")";
    return nullptr;
  };
  if (static_cast<size_t>(s.listeners_size()) > lim.max_listeners)
    return over("listeners", static_cast<size_t>(s.listeners_size()), lim.max_listeners);
  if (n_routes > lim.max_routes) return over("routes", n_routes, lim.max_routes);
  if (static_cast<size_t>(s.clusters_size()) > lim.max_clusters)
    return over("clusters", static_cast<size_t>(s.clusters_size()), lim.max_clusters);
  if (n_endpoints > lim.max_endpoints) return over("endpoints", n_endpoints, lim.max_endpoints);

  auto t = std::make_unique<RuntimeTables>();
  t->version = s.version();
  t->snapshot = snap;

  std::map<std::string_view, uint32_t> route_table_index;
  for (int i = 0; i < s.route_tables_size(); ++i) route_table_index.emplace(s.route_tables(i).name(), i);
  std::map<std::string_view, uint32_t> cluster_index;
  for (int i = 0; i < s.clusters_size(); ++i) cluster_index.emplace(s.clusters(i).name(), i);

  // Listeners, sorted by port; one per port (the compiler merges servers).
  t->listeners = FlatArray<ListenerSlot>(static_cast<size_t>(s.listeners_size()));
  uint32_t server_first = 0;
  for (int i = 0; i < s.listeners_size(); ++i) {
    const pb::Listener& l = s.listeners(i);
    if (l.port() == 0 || l.port() > 65535) {
      *error = "listener " + l.name() + ": port " + std::to_string(l.port()) + " out of range";
      return nullptr;
    }
    if (auto owner = port_owner(b, l.port())) {
      *error = "listener " + l.name() + ": port " + std::to_string(l.port()) + " is held by " + *owner +
               " on node " + b.node.id;
      return nullptr;
    }
    ListenerSlot& slot = t->listeners[static_cast<size_t>(i)];
    slot.snapshot_index = static_cast<uint32_t>(i);
    slot.stats_id = registry ? registry->listener_id(l.name()) : static_cast<uint32_t>(i);
    if (slot.stats_id == upstream::UpstreamRegistry::kNone) {
      *error = "listener " + l.name() + ": no room for its counters (more distinct listener names than this "
               "process keeps; restart the gateway)";
      return nullptr;
    }
    slot.port = static_cast<uint16_t>(l.port());
    slot.protocol = static_cast<uint8_t>(l.protocol());
    slot.tls_mode = l.servers_size() ? static_cast<uint8_t>(l.servers(0).tls().mode()) : 0;
    slot.terminates_tls = terminates_tls(slot.tls_mode) && l.peer_mtls() != pb::MTLS_DISABLE;
    slot.accepts_plaintext = l.has_peer_mtls() && l.peer_mtls() != pb::MTLS_STRICT;
    const auto rt = route_table_index.find(l.route_table());
    slot.route_table = rt == route_table_index.end() ? kNone : rt->second;
    slot.server_first = server_first;
    slot.server_count = static_cast<uint32_t>(l.servers_size());
    server_first += slot.server_count;
  }
  if (t->listeners.size() != 0) {
    ListenerSlot* const first = &t->listeners[0];
    ListenerSlot* const last = first + t->listeners.size();
    std::sort(first, last, [](const ListenerSlot& a, const ListenerSlot& c) { return a.port < c.port; });
    const auto dup = std::adjacent_find(first, last, [](const auto& a, const auto& c) { return a.port == c.port; });
    if (dup != last) {
      *error = "two listeners on port " + std::to_string(dup->port);
      return nullptr;
    }
  }

  // Clusters and their endpoints.
  t->clusters = FlatArray<ClusterSlot>(static_cast<size_t>(s.clusters_size()));
  t->endpoints = FlatArray<EndpointSlot>(n_endpoints);
  uint32_t ep_i = 0;
  for (int ci = 0; ci < s.clusters_size(); ++ci) {
    const pb::Cluster& c = s.clusters(ci);
    ClusterSlot& cs = t->clusters[static_cast<size_t>(ci)];
    const pb::TrafficPolicy& p = c.policy();
    cs.endpoint_first = ep_i;
    cs.endpoint_count = static_cast<uint32_t>(c.endpoints_size());
    cs.lb = static_cast<uint8_t>(p.load_balancer().simple());
    cs.consistent_hash = p.load_balancer().has_consistent_hash();
    cs.discovery = static_cast<uint8_t>(c.discovery());
    cs.upstream_tls = static_cast<uint8_t>(p.tls().mode());
    cs.max_connections = p.connection_pool().tcp().max_connections();
    const pb::TcpPool& tcp = p.connection_pool().tcp();
    cs.connect_timeout_ms = clamp32(tcp.connect_timeout_ms());
    cs.idle_timeout_ms = tcp.idle_timeout_ms() ? clamp32(tcp.idle_timeout_ms()) : 3600 * 1000;  // Envoy: 1 h
    if (tcp.has_keepalive()) {
      // Istio's unset fields take the OS defaults (Linux: 7200 s, 75 s, 9 probes).
      cs.keepalive_time_ms = tcp.keepalive().time_ms() ? clamp32(tcp.keepalive().time_ms()) : 7200 * 1000;
      cs.keepalive_interval_ms = tcp.keepalive().interval_ms() ? clamp32(tcp.keepalive().interval_ms()) : 75 * 1000;
      cs.keepalive_probes = static_cast<uint8_t>(std::min<uint32_t>(tcp.keepalive().probes() ? tcp.keepalive().probes() : 9, 255));
    }
    cs.sni_dnat = c.sni_dnat();
    cs.outlier = outlier_config(p);
    if (cs.consistent_hash) {
      const pb::ConsistentHash& h = p.load_balancer().consistent_hash();
      cs.hash_kind = h.maglev_table_size() ? HashKind::maglev : HashKind::ring;
    }
    cs.stats_id = registry ? registry->cluster_id(c.name()) : static_cast<uint32_t>(ci);
    if (cs.stats_id == upstream::UpstreamRegistry::kNone) {
      *error = "cluster " + c.name() + ": no room for its counters (more distinct cluster names than this "
               "process keeps; restart the gateway)";
      return nullptr;
    }
    cs.total_weight = 0;
    const bool dns = c.discovery() == pb::DISCOVERY_STRICT_DNS || c.discovery() == pb::DISCOVERY_LOGICAL_DNS;
    for (const pb::Endpoint& e : c.endpoints()) {
      EndpointSlot& es = t->endpoints[ep_i++];
      if (!parse_endpoint_address(e.address(), es)) {
        if (!dns) {
          *error = "cluster " + c.name() + ": endpoint address \"" + e.address() + "\" is not an IP address";
          return nullptr;
        }
        es.family = 0;  // a name: resolved by the control plane before use
      }
      if (e.port() == 0 || e.port() > 65535) {
        *error = "cluster " + c.name() + ": endpoint " + e.address() + " has port " + std::to_string(e.port());
        return nullptr;
      }
      es.port = static_cast<uint16_t>(e.port());
      const std::string id = e.address() + ":" + std::to_string(e.port());
      es.key = upstream::xxh64(id, 0);
      es.healthy = e.status() == pb::HEALTHY;
      es.weight = std::max<uint32_t>(1, e.weight());
      cs.total_weight += es.weight;
    }
  }
  if (!build_l4_routes(s, cluster_index, *t, error)) return nullptr;
  t->server_route_tables = FlatArray<uint32_t>(server_first);
  for (size_t li = 0; li < t->listeners.size(); ++li) {
    const ListenerSlot& ls = t->listeners[li];
    const pb::Listener& l = s.listeners(static_cast<int>(ls.snapshot_index));
    for (uint32_t i = 0; i < ls.server_count; ++i) {
      const auto rt = route_table_index.find(l.servers(static_cast<int>(i)).route_table());
      t->server_route_tables[ls.server_first + i] = rt == route_table_index.end() ? kNone : rt->second;
    }
  }
  t->tls_servers = build_tls_servers(s, *t, tls, error);
  if (t->tls_servers == nullptr) return nullptr;
  t->upstream_tls = build_upstream_tls(s, *t, tls.identity.get());
  build_cluster_hashing(s, *t);
  build_cluster_index(*t);
  build_access_log_capture(s, *t);
  if (s.route_tables_size() != 0) {
    std::string why;
    t->http_routes = l7::build_routes(s, std::max(1u, workers), &why);
    if (t->http_routes == nullptr) {
      *error = "snapshot " + s.version() + ": route tables: " + why;
      return nullptr;
    }
  }
  allocate_worker_state(*t, registry ? registry->workers() : workers);
  return t;
}

}  // namespace lg::config
