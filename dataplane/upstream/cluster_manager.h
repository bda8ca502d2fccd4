// One worker's view of the upstream clusters: picks endpoints with the
// cluster's balancer, keeps per-endpoint counts and outlier-detection state,
// and enforces maxConnections gateway-wide. State is per lcore (as Envoy's
// per-worker load balancers and outlier detectors are per cluster); the
// only shared write is one relaxed atomic per upstream connection opened or
// closed, for maxConnections.
//
// Tables come and go with config pushes; the state lives in the tables'
// WorkerState and is carried over by adopt(), matched by cluster name (its
// stats id) and endpoint (address, port). A connection opened under older
// tables keeps a HostRef and is found again by address and port.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/upstream/outlier.h"
#include "dataplane/upstream/registry.h"

namespace lg::upstream {

// An endpoint chosen for one upstream connection.
struct HostRef {
  uint64_t generation = 0;   // tables the indices below refer to
  uint32_t cluster = config::kNone;  // index in those tables
  uint32_t endpoint = config::kNone; // index in those tables' endpoints
  uint32_t stats_id = config::kNone; // the cluster's stable id
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;
  uint8_t family = 0;
  // The address as the TCP stack takes it: 4 bytes for IPv4, 16 for IPv6.
  const uint8_t* ip() const { return family == 4 ? &addr[12] : addr.data(); }
};

enum class PickStatus : uint8_t { ok, no_cluster, none_healthy, overflow };

class ClusterManager {
 public:
  ClusterManager(unsigned worker, UpstreamRegistry* registry) : worker_(worker), registry_(registry) {}

  // The worker calls this once per pass with the tables it read; at a new
  // generation the state of `prev` (still alive: see TablePublisher) is
  // carried over first.
  void set_tables(const config::RuntimeTables* t, uint64_t now_us);

  // Chooses an endpoint of cluster `ci` (current tables). hash_key is used by
  // consistent-hash clusters; `attempt` > 0 asks for a different endpoint
  // than earlier attempts where the balancer allows (connect failure → next
  // endpoint). On ok, counts the connection against maxConnections: the
  // caller must call connection_closed() exactly once.
  PickStatus pick(uint32_t ci, uint64_t hash_key, unsigned attempt, std::span<const uint32_t> tried, HostRef* out);
  // The two halves of pick(), for connection pools: choose the endpoint
  // (a pooled idle connection to it may serve), then count a new connection
  // against maxConnections (ok or overflow; h from pick_host in this pass).
  PickStatus pick_host(uint32_t ci, uint64_t hash_key, unsigned attempt, std::span<const uint32_t> tried,
                       HostRef* out);
  PickStatus reserve(const HostRef& h);
  void connection_closed(const HostRef& h);
  // Outcome of a connection attempt or of an established connection.
  void report(const HostRef& h, Outcome o, uint16_t http_status = 0);

  // Outlier-detection sweeps that are due (call once per pass).
  void poll(uint64_t now_us);

  ClusterStats& stats(uint32_t stats_id) { return registry_->cluster(worker_, stats_id); }
  uint64_t now_us() const { return now_us_; }

 private:
  void adopt(const config::RuntimeTables* prev, const config::RuntimeTables& next);
  // h resolved in the current tables: endpoint index or kNone.
  uint32_t resolve(const HostRef& h, uint32_t* cluster) const;
  void refresh_available(uint32_t ci);

  unsigned worker_;
  UpstreamRegistry* registry_;
  const config::RuntimeTables* t_ = nullptr;
  config::WorkerState* ws_ = nullptr;
  uint64_t generation_ = 0;
  uint64_t now_us_ = 0;
  uint64_t next_poll_us_ = 0;
};

}  // namespace lg::upstream
