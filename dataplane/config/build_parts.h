// Pieces of build_tables() kept in their own files (internal to config/).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "dataplane/config/runtime_tables.h"

namespace lg::config {

using ClusterIndex = std::map<std::string_view, uint32_t>;

// L4 routes of TCP and TLS (SNI) listeners: VirtualService tcp/tls rules and
// AUTO_PASSTHROUGH servers, with their name patterns and subnets; fills
// listener l4 ranges and the sni_dnat cluster index.
bool build_l4_routes(const Snapshot& s, const ClusterIndex& clusters, RuntimeTables& t, std::string* error);

// Consistent-hash tables and per-worker state for the clusters.
void build_cluster_hashing(const Snapshot& s, RuntimeTables& t);
void build_cluster_index(RuntimeTables& t);  // cluster_by_stats_id, outlier_clusters
void allocate_worker_state(RuntimeTables& t, unsigned workers);

// The request and response headers the snapshot's access logs need.
void build_access_log_capture(const Snapshot& s, RuntimeTables& t);

// "10.0.0.0/8", "10.1.2.3" (= /32), "fd00::/8".
bool parse_subnet(const std::string& text, SubnetSlot& out);

}  // namespace lg::config
