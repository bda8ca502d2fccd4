// A point-in-time copy of everything the node reports, taken on the control
// thread (or the telemetry thread) and rendered as Envoy-style text,
// Prometheus exposition format, or JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/counters/counters.h"
#include "drivers/port.h"

namespace lg::admin {

struct PortView {
  std::string name, device, driver, mac;
  unsigned queues = 0;
  bool rss = false;
  drv::LinkStatus link;
  drv::PortStats hw;
};

// Where the routing config stands (Envoy names where Envoy has one).
struct ConfigView {
  std::string source;                    // "agent 127.0.0.1:15010", "config_dir /etc/linegate/istio", "none"
  bool connected = false;                // control_plane.connected_state
  std::string version;                   // content hash of the snapshot serving now ("" = none yet)
  uint64_t generation = 0;               // tables published so far
  uint64_t update_success = 0, update_rejected = 0;
  std::string last_error;                // why the last snapshot was rejected ("" after a success)
  // TLS contexts of the serving snapshot that could not be built (a missing
  // credential, ISTIO_MUTUAL without a workload certificate): their servers
  // refuse handshakes, their clusters answer 503.
  std::vector<std::string> tls_errors;
  std::vector<uint64_t> worker_generation;  // generation each worker last read
};

// The gateway's workload certificate for Istio mTLS (bootstrap identity:).
struct IdentityView {
  bool configured = false;
  std::string spiffe_id, source;  // "" until one loaded
  int64_t not_before = 0, not_after = 0;  // Unix seconds
  uint64_t updates = 0, failures = 0;
  std::string last_error;
};
nlohmann::ordered_json identity_json(const IdentityView& id);

// The access log writer (dataplane/access_log/writer.h).
struct AccessLogView {
  uint64_t written = 0, filtered = 0, filter_errors = 0, write_failed = 0, dropped = 0, truncated = 0;
};

// Counters of one cluster or listener, summed over lcores, in the order of
// upstream::ClusterStat / ListenerStat.
struct NamedCounters {
  std::string name;
  std::vector<int64_t> values;
};

struct StatsView {
  std::string node_id, cluster, network, version, state;
  double uptime_s = 0;
  uint64_t tsc_hz = 0;
  std::vector<PortView> ports;  // index = counter port index
  CounterTotals totals;
  ConfigView config;
  uint64_t tls_ticket_key_rotations = 0;  // session ticket keys replaced (tls.ticket_key_rotation_s)
  AccessLogView access_log;
  IdentityView identity;
  std::vector<NamedCounters> clusters;   // cluster.<name>.<stat>
  std::vector<NamedCounters> listeners;  // listener.<name>.<stat>
};

std::string render_text(const StatsView& v);
std::string render_prometheus(const StatsView& v);
std::string render_json(const StatsView& v);
// The config state as JSON: /stats?format=json and /server_info both show it.
nlohmann::ordered_json config_json(const ConfigView& c);

}  // namespace lg::admin
