// The node's counters on DPDK telemetry, for dpdk-telemetry.py and other
// clients of /var/run/dpdk/<prefix>/dpdk_telemetry.v2:
//   /linegate/info                 node, version, state, uptime
//   /linegate/ports                port names
//   /linegate/port_stats,<name>    hardware counters, events and drops of one port
// (telemetry names allow only [A-Za-z0-9_/], hence hw_rx_packets, drop_<reason>)
//   /linegate/workers              loop counters per worker
#pragma once

#include "dataplane/admin/stats_view.h"

namespace lg::admin {

using StatsSource = StatsView (*)(const void* ctx);

// DPDK's telemetry callbacks carry no user pointer, so the source is held
// here. Register once after EAL init; detach before ctx goes away (calls that
// arrive afterwards get an error reply).
void telemetry_attach(StatsSource source, const void* ctx);
void telemetry_detach();

}  // namespace lg::admin
