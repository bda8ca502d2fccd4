#include "dataplane/admin/telemetry.h"

#include <rte_telemetry.h>

#include <mutex>
#include <optional>

namespace lg::admin {
namespace {

// Telemetry runs on its own EAL thread; the mutex keeps the source alive for
// the length of a call. Off the fast path, so a lock is fine here.
std::mutex g_mu;
StatsSource g_source = nullptr;
const void* g_ctx = nullptr;
bool g_registered = false;

std::optional<StatsView> take_view() {
  std::lock_guard lock(g_mu);
  if (g_source == nullptr) return std::nullopt;
  return g_source(g_ctx);
}

int cmd_info(const char*, const char*, rte_tel_data* d) {
  auto v = take_view();
  if (!v) return -1;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "node_id", v->node_id.c_str());
  rte_tel_data_add_dict_string(d, "cluster", v->cluster.c_str());
  rte_tel_data_add_dict_string(d, "network", v->network.c_str());
  rte_tel_data_add_dict_string(d, "version", v->version.c_str());
  rte_tel_data_add_dict_string(d, "state", v->state.c_str());
  rte_tel_data_add_dict_u64(d, "uptime_seconds", static_cast<uint64_t>(v->uptime_s));
  rte_tel_data_add_dict_u64(d, "workers", v->totals.per_worker.size());
  rte_tel_data_add_dict_u64(d, "ports", v->ports.size());
  return 0;
}

int cmd_ports(const char*, const char*, rte_tel_data* d) {
  auto v = take_view();
  if (!v) return -1;
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (const PortView& p : v->ports) rte_tel_data_add_array_string(d, p.name.c_str());
  return 0;
}

int cmd_port_stats(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -1;
  auto v = take_view();
  if (!v) return -1;
  for (size_t p = 0; p < v->ports.size(); ++p) {
    const PortView& pv = v->ports[p];
    if (pv.name != params) continue;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "link_up", pv.link.up);
    rte_tel_data_add_dict_u64(d, "hw_rx_packets", pv.hw.rx_packets);
    rte_tel_data_add_dict_u64(d, "hw_tx_packets", pv.hw.tx_packets);
    rte_tel_data_add_dict_u64(d, "hw_rx_missed", pv.hw.rx_missed);
    rte_tel_data_add_dict_u64(d, "hw_rx_nombuf", pv.hw.rx_nombuf);
    for (unsigned e = 0; e < kEventCount; ++e)
      rte_tel_data_add_dict_u64(d, std::string(event_name(static_cast<Event>(e))).c_str(),
                                v->totals.event(p, static_cast<Event>(e)));
    for (unsigned r = 0; r < kDropCount; ++r)
      rte_tel_data_add_dict_u64(d, ("drop_" + std::string(drop_name(static_cast<Drop>(r)))).c_str(),
                                v->totals.drop(p, static_cast<Drop>(r)));
    return 0;
  }
  return -1;
}

int cmd_workers(const char*, const char*, rte_tel_data* d) {
  auto v = take_view();
  if (!v) return -1;
  rte_tel_data_start_dict(d);
  for (size_t w = 0; w < v->totals.per_worker.size(); ++w) {
    const LoopCounters& l = v->totals.per_worker[w];
    const std::string pre = "worker" + std::to_string(w) + "_";
    rte_tel_data_add_dict_u64(d, (pre + "loop_iterations").c_str(), l.iterations);
    rte_tel_data_add_dict_u64(d, (pre + "busy_iterations").c_str(), l.busy_iterations);
    rte_tel_data_add_dict_u64(d, (pre + "busy_cycles").c_str(), l.busy_cycles);
    rte_tel_data_add_dict_u64(d, (pre + "idle_sleeps").c_str(), l.idle_sleeps);
  }
  return 0;
}

}  // namespace

void telemetry_attach(StatsSource source, const void* ctx) {
  std::lock_guard lock(g_mu);
  g_source = source;
  g_ctx = ctx;
  if (g_registered) return;
  g_registered = true;
  rte_telemetry_register_cmd("/linegate/info", cmd_info, "Node identity, version, state and uptime.");
  rte_telemetry_register_cmd("/linegate/ports", cmd_ports, "Names of the dataplane's ports.");
  rte_telemetry_register_cmd("/linegate/port_stats", cmd_port_stats,
                             "Counters of one port (hardware, events, drops by reason). Parameter: port name");
  rte_telemetry_register_cmd("/linegate/workers", cmd_workers, "Loop counters per worker lcore.");
}

void telemetry_detach() {
  std::lock_guard lock(g_mu);
  g_source = nullptr;
  g_ctx = nullptr;
}

}  // namespace lg::admin
