// What the workers read: a GatewaySnapshot flattened into index-linked
// arrays, built on the control thread and published with RCU
// (publisher.h). Immutable once published; never freed while a worker can
// hold it. The L4/L7 gateways look listeners up by port, route tables by
// index, clusters and endpoints by index — no strings, maps or heap walks on
// the fast path.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ctrl/proto/snapshot.pb.h"
#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/upstream/lb.h"
#include "dataplane/upstream/outlier.h"
#include "dataplane/upstream/registry.h"

namespace lg::l7 {
class Routes;
}

namespace lg::tls {
class TicketKeys;
struct WorkloadIdentity;
}

namespace lg::config {

// What the TLS contexts take from the process rather than the snapshot.
struct TlsEnv {
  // Session ticket keys installed in every server context; they outlive
  // the tables (null: no session tickets).
  tls::TicketKeys* ticket_keys = nullptr;
  // The gateway's mesh identity: ISTIO_MUTUAL servers and clusters present
  // it and verify peers against its roots (null: they wait for one).
  std::shared_ptr<const tls::WorkloadIdentity> identity;
};

struct TlsServers;
struct UpstreamTls;
using Snapshot = linegate::snapshot::v1::GatewaySnapshot;

constexpr uint32_t kNone = UINT32_MAX;

// A fixed-size array allocated once per build (control path), read-only after.
template <typename T>
class FlatArray {
 public:
  FlatArray() = default;
  explicit FlatArray(size_t n) : data_(n ? std::make_unique<T[]>(n) : nullptr), size_(n) {}
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  std::span<const T> view() const { return {data_.get(), size_}; }
  size_t bytes() const { return size_ * sizeof(T); }

 private:
  std::unique_ptr<T[]> data_;
  size_t size_ = 0;
};

enum class ListenerKind : uint8_t {
  http,         // HTTP/HTTPS/GRPC...: the L7 gateway (route_table)
  tcp,          // TCP servers: VirtualService tcp routes
  tls_sni,      // TLS PASSTHROUGH / AUTO_PASSTHROUGH servers: routed by the ClientHello's SNI
};

struct ListenerSlot {
  uint16_t port;
  uint8_t protocol;      // linegate::snapshot::v1::Protocol
  uint8_t tls_mode;      // of the first server (ServerTlsMode)
  ListenerKind kind;
  bool terminates_tls;   // TLS ends here (SIMPLE/MUTUAL/ISTIO_MUTUAL servers): a TLS channel per connection
  // A mesh port whose PeerAuthentication is PERMISSIVE (with terminates_tls:
  // the first byte tells) or DISABLE: plain-text connections are served,
  // each request routed by its Host among the port's servers.
  bool accepts_plaintext;
  uint32_t route_table;  // index in snapshot->route_tables() (http_routes), kNone for TCP/TLS listeners
  uint32_t server_first, server_count;  // snapshot servers, for SNI/host selection
  uint32_t l4_first, l4_count;          // L4 routes (l4_routes), in match order
  uint32_t stats_id;                    // listener counters (UpstreamRegistry)
  uint32_t snapshot_index;              // in snapshot->listeners()
};

// A server name pattern (Gateway server hosts, VirtualService sniHosts):
// exact, "*.suffix" (any name ending in ".suffix") or "*". Lower case.
struct NameSlot {
  uint32_t offset;   // in names (exact: the name; wildcard: ".suffix")
  uint16_t length;
  uint8_t wildcard;
  uint8_t pad;
};

// A CIDR; IPv4 as ::ffff:a.b.c.d/(96 + len).
struct SubnetSlot {
  std::array<uint8_t, 16> addr;
  uint8_t prefix;  // over the 128-bit form
  uint8_t family;
};

// One L4 route of a listener: a VirtualService tcp/tls rule, or an
// AUTO_PASSTHROUGH server (the SNI names the cluster).
struct L4RouteSlot {
  uint32_t server_name_first, server_name_count;  // the server's hosts: the filter-chain match (0: any)
  uint32_t sni_first, sni_count;                  // the rule's sniHosts (0: any)
  uint32_t dst_subnet_first, dst_subnet_count;    // destinationSubnets (0: any)
  uint32_t src_subnet;                            // sourceSubnet, kNone: any
  uint32_t dest_first, dest_count;                // weighted clusters (destinations)
  uint32_t server;                                // server ordinal within the listener
  uint8_t auto_passthrough;
  uint8_t needs_sni;                              // TLS: decided after the ClientHello
};

// sni_dnat clusters by name, for AUTO_PASSTHROUGH (sorted by hash).
struct ClusterNameSlot {
  uint64_t hash;
  uint32_t cluster;
};

enum class HashKind : uint8_t { none, ring, maglev };

struct DestinationSlot {
  uint32_t cluster;            // index in clusters, kNone: not visible here (connection refused)
  uint32_t cumulative_weight;  // running sum of the route's weights
};

struct ClusterSlot {
  uint32_t endpoint_first, endpoint_count;
  uint32_t total_weight;
  uint8_t lb;            // LbPolicy
  uint8_t discovery;     // DiscoveryType
  uint8_t consistent_hash;
  uint8_t upstream_tls;  // UpstreamTlsMode
  uint32_t max_connections;      // 0: unlimited
  uint32_t connect_timeout_ms;
  uint32_t idle_timeout_ms;      // TCP proxy idle timeout (Envoy's default 1 h when unset)
  uint32_t keepalive_time_ms, keepalive_interval_ms;  // 0: no keepalive
  uint8_t keepalive_probes;
  HashKind hash_kind;
  uint8_t sni_dnat;
  uint32_t hash_first, hash_count;  // in rings or maglev
  uint32_t stats_id;                // counters and gateway-wide limits (UpstreamRegistry)
  upstream::OutlierConfig outlier;
};

struct EndpointSlot {
  std::array<uint8_t, 16> addr;  // IPv4 as ::ffff:a.b.c.d
  uint16_t port;
  uint8_t family;  // 4 or 6; 0 for a DNS name (resolved by the control plane later)
  uint8_t healthy; // HEALTHY in the snapshot (not UNHEALTHY, not DRAINING)
  uint32_t weight;
  uint64_t key;    // XXH64 of "address:port": the host's identity for consistent hashing
};

// What one worker keeps per cluster and per endpoint while these tables are
// current. Allocated here (control path); only that worker writes it; when
// new tables arrive the worker carries the state over (upstream/balancer.h).
struct WorkerClusterState {
  upstream::LbState lb;
  upstream::ClusterOutlierStats outlier;
  uint64_t next_sweep_us;
};
struct HostStats {
  uint64_t cx_total, cx_connect_fail, cx_active;
};
struct WorkerState {
  FlatArray<WorkerClusterState> clusters;        // by cluster index
  FlatArray<upstream::LbHost> hosts;             // by endpoint index
  FlatArray<int64_t> rr;                         // round-robin scratch, by endpoint index
  FlatArray<upstream::HostOutlierState> outlier; // by endpoint index
  FlatArray<HostStats> host_stats;               // by endpoint index (admin /clusters)
};

struct RuntimeTables {
  uint64_t generation = 0;  // set by TablePublisher::publish
  std::string version;
  std::shared_ptr<const Snapshot> snapshot;  // details behind the indices (strings, policies)

  FlatArray<ListenerSlot> listeners;  // sorted by port
  FlatArray<DestinationSlot> destinations;  // weighted clusters of the L4 routes
  FlatArray<ClusterSlot> clusters;  // same order as snapshot->clusters()
  FlatArray<EndpointSlot> endpoints;
  FlatArray<L4RouteSlot> l4_routes;
  FlatArray<NameSlot> name_patterns;   // server hosts and sniHosts of the L4 routes
  FlatArray<char> names;               // their characters
  FlatArray<SubnetSlot> subnets;
  FlatArray<ClusterNameSlot> sni_clusters;
  FlatArray<upstream::RingEntry> rings;
  FlatArray<uint32_t> maglev;
  FlatArray<uint32_t> cluster_by_stats_id;  // stats id → cluster index (kNone: not in these tables)
  FlatArray<uint32_t> outlier_clusters;     // clusters with outlier detection, for the sweeps
  // By snapshot server ordinal (ListenerSlot::server_first + i): the index of
  // the server's own route table (HTTPS servers terminated here), else kNone.
  FlatArray<uint32_t> server_route_tables;
  // OpenSSL contexts of the servers that terminate TLS (tls_servers.h); built for every snapshot.
  std::shared_ptr<const TlsServers> tls_servers;
  // OpenSSL client contexts of the clusters that originate TLS (upstream_tls.h).
  std::shared_ptr<const UpstreamTls> upstream_tls;
  // The HTTP route tables compiled for matching (l7/router); null without route tables.
  std::shared_ptr<const l7::Routes> http_routes;
  // What workers copy into access log records (access_log_tables.cc).
  struct AccessLogCapture {
    // Where a request header's value comes from: pseudo-headers from the
    // request line or the connection, x-forwarded-for with the client's
    // address appended (as the upstream gets it), the rest as received.
    enum class Source : uint8_t { header, method, target, authority, scheme, forwarded_for };
    struct RequestHeader {
      std::string name;  // lower case, as the formats name it (":path", "user-agent")
      Source source;
    };
    bool on = false;  // the snapshot has an access log
    std::vector<RequestHeader> request_headers;
    std::vector<std::string> response_headers;  // lower case
  } access_log;
  // Per worker, mutable by that worker only (see WorkerState).
  mutable std::unique_ptr<WorkerState[]> workers;
  unsigned worker_count = 0;

  const ListenerSlot* find_listener(uint16_t port) const;
  // The ports of the HTTP listeners (http true) or of the TCP/TLS ones, in
  // port order, at most out.size(); returns how many.
  unsigned listener_ports(bool http, std::span<uint16_t> out) const;
  // The sni_dnat cluster with exactly this (lower-case) name, or kNone.
  uint32_t find_sni_cluster(std::string_view name) const;
  uint32_t cluster_for_stats_id(uint32_t id) const {
    return id < cluster_by_stats_id.size() ? cluster_by_stats_id[id] : kNone;
  }
  std::string_view name_of(const NameSlot& n) const { return {&names[n.offset], n.length}; }
  size_t table_bytes() const;  // the arrays above and the compiled routes (not the snapshot)
};

// Builds the tables for `snapshot`, checking what only this node can check
// (listener ports the node's own services hold, the configured limits,
// endpoint addresses). On failure returns null and sets *error to the
// NACK reason.
// `registry` gives clusters and listeners their stable counter ids (null in
// tests: ids are the indices); `workers` sets how many WorkerStates to allocate.
// `tls`: ticket keys and workload identity for the TLS contexts.
std::unique_ptr<RuntimeTables> build_tables(std::shared_ptr<const Snapshot> snapshot, const Bootstrap& node,
                                            std::string* error, upstream::UpstreamRegistry* registry = nullptr,
                                            unsigned workers = 1, const TlsEnv& tls = {});

// Whether a lower-case server name matches a pattern (exact, "*.suffix", "*").
bool name_matches(std::string_view pattern_name, bool wildcard, std::string_view name);
// How specifically a pattern matches a name, in Envoy's filter-chain order:
// an exact name, then the longer "*.suffix", then "*"; -1 for no match.
int name_match_score(std::string_view pattern_name, bool wildcard, std::string_view name);

uint64_t domain_hash(std::string_view lower_case_domain);

}  // namespace lg::config
