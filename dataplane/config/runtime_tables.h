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

#include "ctrl/proto/snapshot.pb.h"
#include "dataplane/bootstrap/bootstrap.h"

namespace lg::config {

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

struct ListenerSlot {
  uint16_t port;
  uint8_t protocol;      // linegate::snapshot::v1::Protocol
  uint8_t tls_mode;      // of the first server (ServerTlsMode)
  uint32_t route_table;  // index in route_tables, kNone for TCP/TLS listeners
  uint32_t server_first, server_count;  // snapshot servers, for SNI/host selection
};

struct RouteTableSlot {
  uint32_t vhost_first, vhost_count;
};

// Exact domains are matched by hash then compared against the snapshot
// string; wildcard domains ("*.example.com", "*") by suffix.
struct DomainSlot {
  uint64_t hash;       // FNV-1a of the lower-case domain (without "*" for wildcards)
  uint32_t vhost;      // index in vhosts
  uint16_t length;     // suffix length for wildcards
  uint8_t wildcard;    // 1: "*.suffix" or "*"
  uint8_t pad;
};

struct VhostSlot {
  uint32_t route_first, route_count;
  uint32_t domain_first, domain_count;
};

enum class RouteKind : uint8_t { forward, redirect, direct_response };

struct RouteSlot {
  RouteKind kind;
  uint8_t match_flags;     // which match kinds the route has (kMatch*)
  uint16_t dest_count;
  uint32_t dest_first;     // index in destinations
  uint32_t snapshot_index; // position among the route table's routes, for details
};
constexpr uint8_t kMatchUri = 1, kMatchHeaders = 2, kMatchQuery = 4, kMatchMethod = 8, kMatchAuthority = 16,
                  kMatchRegex = 32;

struct DestinationSlot {
  uint32_t cluster;            // index in clusters, kNone: not visible here (503 NC)
  uint32_t cumulative_weight;  // running sum, for one draw in [0, 100)
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
};

struct EndpointSlot {
  std::array<uint8_t, 16> addr;  // IPv4 as ::ffff:a.b.c.d
  uint16_t port;
  uint8_t family;  // 4 or 6; 0 for a DNS name (resolved by the control plane later)
  uint8_t healthy;
  uint32_t weight;
};

struct RuntimeTables {
  uint64_t generation = 0;  // set by TablePublisher::publish
  std::string version;
  std::shared_ptr<const Snapshot> snapshot;  // details behind the indices (strings, policies)

  FlatArray<ListenerSlot> listeners;  // sorted by port
  FlatArray<RouteTableSlot> route_tables;
  FlatArray<VhostSlot> vhosts;
  FlatArray<DomainSlot> domains;
  FlatArray<RouteSlot> routes;
  FlatArray<DestinationSlot> destinations;
  FlatArray<ClusterSlot> clusters;  // same order as snapshot->clusters()
  FlatArray<EndpointSlot> endpoints;

  const ListenerSlot* find_listener(uint16_t port) const;
  size_t table_bytes() const;  // the arrays above (not the snapshot)
};

// Builds the tables for `snapshot`, checking what only this node can check
// (listener ports the node's own services hold, the configured limits,
// endpoint addresses). On failure returns null and sets *error to the
// NACK reason.
std::unique_ptr<RuntimeTables> build_tables(std::shared_ptr<const Snapshot> snapshot, const Bootstrap& node,
                                            std::string* error);

uint64_t domain_hash(std::string_view lower_case_domain);

}  // namespace lg::config
