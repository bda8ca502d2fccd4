// A point-in-time copy of everything the node reports, taken on the control
// thread (or the telemetry thread) and rendered as Envoy-style text,
// Prometheus exposition format, or JSON.
#pragma once

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
  std::vector<uint64_t> worker_generation;  // generation each worker last read
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
  std::vector<NamedCounters> clusters;   // cluster.<name>.<stat>
  std::vector<NamedCounters> listeners;  // listener.<name>.<stat>
};

std::string render_text(const StatsView& v);
std::string render_prometheus(const StatsView& v);
std::string render_json(const StatsView& v);

}  // namespace lg::admin
