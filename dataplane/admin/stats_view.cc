#include "dataplane/admin/stats_view.h"

#include "dataplane/upstream/registry.h"

#include <array>
#include <nlohmann/json.hpp>
#include <span>

#include <sstream>

namespace lg::admin {
namespace {

template <typename Fn>
void for_each_drop(Fn fn) {
  for (unsigned d = 0; d < kDropCount; ++d) fn(static_cast<Drop>(d));
}
template <typename Fn>
void for_each_event(Fn fn) {
  for (unsigned e = 0; e < kEventCount; ++e) fn(static_cast<Event>(e));
}
template <typename Fn>
void for_each_gauge(Fn fn) {
  for (unsigned g = 0; g < kGaugeCount; ++g) fn(static_cast<Gauge>(g));
}

// Prometheus label values: backslash, quote and newline escaped.
std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct HwCounter {
  const char* name;
  const char* help;
  uint64_t drv::PortStats::*field;
};
constexpr HwCounter kHwCounters[] = {
    {"rx_packets", "packets the port received", &drv::PortStats::rx_packets},
    {"rx_bytes", "bytes the port received", &drv::PortStats::rx_bytes},
    {"rx_missed", "packets the port dropped for lack of RX descriptors", &drv::PortStats::rx_missed},
    {"rx_errors", "erroneous packets the port received", &drv::PortStats::rx_errors},
    {"rx_nombuf", "receive failures for lack of mbufs", &drv::PortStats::rx_nombuf},
    {"tx_packets", "packets the port transmitted", &drv::PortStats::tx_packets},
    {"tx_bytes", "bytes the port transmitted", &drv::PortStats::tx_bytes},
    {"tx_errors", "transmit failures", &drv::PortStats::tx_errors},
};

// Clusters and listeners render alike; this says how each kind is named.
struct NamedKind {
  const std::vector<NamedCounters>& list;
  std::span<const upstream::StatInfo> info;
  std::string_view text_prefix, prom_prefix, prom_label, json_key;
};
std::array<NamedKind, 2> named_kinds(const StatsView& v) {
  return {NamedKind{v.clusters, upstream::cluster_stat_info(), "cluster.", "linegate_cluster_", "cluster_name", "clusters"},
          NamedKind{v.listeners, upstream::listener_stat_info(), "listener.", "linegate_listener_", "listener_address",
                    "listeners"}};
}

}  // namespace

// The access log writer's counters, in every format.
struct AccessLogCounter {
  std::string_view name, help;
  uint64_t AccessLogView::*field;
};
constexpr AccessLogCounter kAccessLogCounters[] = {
    {"written", "access log entries written", &AccessLogView::written},
    {"filtered", "access log entries a log's filter left out", &AccessLogView::filtered},
    {"filter_errors", "access log filters that did not evaluate to a bool (entry left out)",
     &AccessLogView::filter_errors},
    {"write_failed", "access log writes that failed or files that did not open", &AccessLogView::write_failed},
    {"dropped", "requests not logged: the worker had no free access log record", &AccessLogView::dropped},
    {"truncated", "requests logged with a value cut short or left out: their record's text space was full",
     &AccessLogView::truncated},
};

std::string render_text(const StatsView& v) {
  std::ostringstream o;
  o << "server.state: " << v.state << "\n";
  o << "server.uptime_seconds: " << static_cast<uint64_t>(v.uptime_s) << "\n";
  o << "control_plane.connected_state: " << (v.config.connected ? 1 : 0) << "\n";
  o << "config.generation: " << v.config.generation << "\n";
  o << "config.update_success: " << v.config.update_success << "\n";
  o << "config.update_rejected: " << v.config.update_rejected << "\n";
  for (size_t w = 0; w < v.config.worker_generation.size(); ++w)
    o << "worker." << w << ".config_generation: " << v.config.worker_generation[w] << "\n";
  o << "tls.ticket_key_rotations: " << v.tls_ticket_key_rotations << "\n";
  for (const AccessLogCounter& c : kAccessLogCounters) o << "access_log." << c.name << ": " << v.access_log.*c.field << "\n";
  if (v.identity.configured) {
    o << "tls.workload_cert_updates: " << v.identity.updates << "\n";
    o << "tls.workload_cert_failures: " << v.identity.failures << "\n";
    o << "tls.workload_cert_expiry_seconds: " << v.identity.not_after << "\n";
  }
  for (const NamedKind& k : named_kinds(v))
    for (const NamedCounters& c : k.list)
      for (unsigned i = 0; i < c.values.size(); ++i)
        o << k.text_prefix << c.name << "." << k.info[i].name << ": " << c.values[i] << "\n";
  for (size_t w = 0; w < v.totals.per_worker.size(); ++w) {
    const LoopCounters& l = v.totals.per_worker[w];
    o << "worker." << w << ".loop_iterations: " << l.iterations << "\n";
    o << "worker." << w << ".busy_iterations: " << l.busy_iterations << "\n";
    o << "worker." << w << ".busy_cycles: " << l.busy_cycles << "\n";
    o << "worker." << w << ".idle_sleeps: " << l.idle_sleeps << "\n";
  }
  for (size_t p = 0; p < v.ports.size(); ++p) {
    const PortView& pv = v.ports[p];
    const std::string pre = "port." + pv.name + ".";
    o << pre << "link_up: " << (pv.link.up ? 1 : 0) << "\n";
    for (const HwCounter& h : kHwCounters) o << pre << "hw." << h.name << ": " << pv.hw.*h.field << "\n";
    for (size_t q = 0; q < pv.hw.queues.size(); ++q) {
      o << pre << "hw.queue." << q << ".rx_packets: " << pv.hw.queues[q].rx_packets << "\n";
      o << pre << "hw.queue." << q << ".tx_packets: " << pv.hw.queues[q].tx_packets << "\n";
    }
    for_each_event([&](Event e) { o << pre << event_name(e) << ": " << v.totals.event(p, e) << "\n"; });
    for_each_gauge([&](Gauge g) { o << pre << gauge_name(g) << ": " << v.totals.gauge(p, g) << "\n"; });
    for_each_drop([&](Drop d) { o << pre << "drop." << drop_name(d) << ": " << v.totals.drop(p, d) << "\n"; });
  }
  return o.str();
}

std::string render_prometheus(const StatsView& v) {
  std::ostringstream o;
  auto header = [&](std::string_view name, std::string_view help, const char* type) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  header("linegate_server_uptime_seconds", "seconds since the dataplane started", "gauge");
  o << "linegate_server_uptime_seconds " << static_cast<uint64_t>(v.uptime_s) << "\n";
  header("linegate_server_live", "1 when the dataplane is serving", "gauge");
  o << "linegate_server_live " << (v.state == "LIVE" ? 1 : 0) << "\n";
  header("linegate_control_plane_connected_state", "1 while the discovery stream to the agent is up", "gauge");
  o << "linegate_control_plane_connected_state " << (v.config.connected ? 1 : 0) << "\n";
  header("linegate_config_generation", "config tables published to the workers so far", "gauge");
  o << "linegate_config_generation " << v.config.generation << "\n";
  header("linegate_config_update_success_total", "snapshots applied (ACKed)", "counter");
  o << "linegate_config_update_success_total " << v.config.update_success << "\n";
  header("linegate_config_update_rejected_total", "snapshots rejected (NACKed); the last good one kept serving",
         "counter");
  o << "linegate_config_update_rejected_total " << v.config.update_rejected << "\n";
  header("linegate_tls_ticket_key_rotations_total", "session ticket keys replaced (tls.ticket_key_rotation_s)",
         "counter");
  o << "linegate_tls_ticket_key_rotations_total " << v.tls_ticket_key_rotations << "\n";
  for (const AccessLogCounter& c : kAccessLogCounters) {
    const std::string name = "linegate_access_log_" + std::string(c.name) + "_total";
    header(name, c.help, "counter");
    o << name << " " << v.access_log.*c.field << "\n";
  }
  if (v.identity.configured) {
    header("linegate_tls_workload_cert_updates_total", "workload certificates put in use (bootstrap identity)",
           "counter");
    o << "linegate_tls_workload_cert_updates_total " << v.identity.updates << "\n";
    header("linegate_tls_workload_cert_failures_total", "workload certificate loads or signings that failed",
           "counter");
    o << "linegate_tls_workload_cert_failures_total " << v.identity.failures << "\n";
    header("linegate_tls_workload_cert_expiry_seconds", "notAfter of the workload certificate (Unix time)", "gauge");
    o << "linegate_tls_workload_cert_expiry_seconds " << v.identity.not_after << "\n";
  }

  header("linegate_worker_loop_iterations_total", "passes of the worker loop", "counter");
  for (size_t w = 0; w < v.totals.per_worker.size(); ++w)
    o << "linegate_worker_loop_iterations_total{worker=\"" << w << "\"} " << v.totals.per_worker[w].iterations << "\n";
  header("linegate_worker_busy_iterations_total", "passes of the worker loop that found work", "counter");
  for (size_t w = 0; w < v.totals.per_worker.size(); ++w)
    o << "linegate_worker_busy_iterations_total{worker=\"" << w << "\"} " << v.totals.per_worker[w].busy_iterations
      << "\n";
  header("linegate_worker_busy_cycles_total", "TSC cycles spent in passes that found work", "counter");
  for (size_t w = 0; w < v.totals.per_worker.size(); ++w)
    o << "linegate_worker_busy_cycles_total{worker=\"" << w << "\"} " << v.totals.per_worker[w].busy_cycles << "\n";

  header("linegate_port_link_up", "1 when the port's link is up", "gauge");
  for (const PortView& pv : v.ports) o << "linegate_port_link_up{port=\"" << label(pv.name) << "\"} " << pv.link.up << "\n";
  for (const HwCounter& h : kHwCounters) {
    const std::string name = std::string("linegate_port_hw_") + h.name + "_total";
    header(name, h.help, "counter");
    for (const PortView& pv : v.ports) o << name << "{port=\"" << label(pv.name) << "\"} " << pv.hw.*h.field << "\n";
  }
  header("linegate_port_queue_rx_packets_total", "packets received per RX queue", "counter");
  for (const PortView& pv : v.ports)
    for (size_t q = 0; q < pv.hw.queues.size(); ++q)
      o << "linegate_port_queue_rx_packets_total{port=\"" << label(pv.name) << "\",queue=\"" << q << "\"} "
        << pv.hw.queues[q].rx_packets << "\n";
  header("linegate_port_queue_tx_packets_total", "packets transmitted per TX queue", "counter");
  for (const PortView& pv : v.ports)
    for (size_t q = 0; q < pv.hw.queues.size(); ++q)
      o << "linegate_port_queue_tx_packets_total{port=\"" << label(pv.name) << "\",queue=\"" << q << "\"} "
        << pv.hw.queues[q].tx_packets << "\n";

  for_each_event([&](Event e) {
    const std::string name = "linegate_" + std::string(event_name(e)) + "_total";
    header(name, event_help(e), "counter");
    for (size_t p = 0; p < v.ports.size(); ++p)
      o << name << "{port=\"" << label(v.ports[p].name) << "\"} " << v.totals.event(p, e) << "\n";
  });
  for_each_gauge([&](Gauge g) {
    const std::string name = "linegate_" + std::string(gauge_name(g));
    header(name, gauge_help(g), "gauge");
    for (size_t p = 0; p < v.ports.size(); ++p)
      o << name << "{port=\"" << label(v.ports[p].name) << "\"} " << v.totals.gauge(p, g) << "\n";
  });
  header("linegate_drops_total", "packets dropped by the dataplane, by port and reason", "counter");
  for (size_t p = 0; p < v.ports.size(); ++p)
    for_each_drop([&](Drop d) {
      o << "linegate_drops_total{port=\"" << label(v.ports[p].name) << "\",reason=\"" << drop_name(d) << "\"} "
        << v.totals.drop(p, d) << "\n";
    });
  // Envoy's cluster and listener stats, as istio-proxy exports them
  // (envoy_cluster_upstream_cx_total{cluster_name="..."}), under our prefix.
  for (const NamedKind& k : named_kinds(v)) {
    if (k.list.empty()) continue;
    for (unsigned i = 0; i < k.info.size(); ++i) {
      const upstream::StatInfo& st = k.info[i];
      std::string name(k.prom_prefix);
      name += st.name;
      if (!st.gauge && !st.name.ends_with("_total")) name += "_total";
      header(name, st.help, st.gauge ? "gauge" : "counter");
      for (const NamedCounters& c : k.list) o << name << "{" << k.prom_label << "=\"" << label(c.name) << "\"} " << c.values[i] << "\n";
    }
  }
  return o.str();
}

nlohmann::ordered_json config_json(const ConfigView& c) {
  return {{"source", c.source},
          {"connected", c.connected},
          {"version", c.version},
          {"generation", c.generation},
          {"worker_generation", c.worker_generation},
          {"update_success", c.update_success},
          {"update_rejected", c.update_rejected},
          {"last_error", c.last_error},
          {"tls_errors", c.tls_errors}};
}

nlohmann::ordered_json identity_json(const IdentityView& id) {
  if (!id.configured) return nullptr;
  return {{"spiffe_id", id.spiffe_id}, {"source", id.source},       {"not_before", id.not_before},
          {"not_after", id.not_after}, {"updates", id.updates},     {"failures", id.failures},
          {"last_error", id.last_error}};
}

std::string render_json(const StatsView& v) {
  nlohmann::ordered_json j;
  j["node"] = {{"id", v.node_id}, {"cluster", v.cluster}, {"network", v.network}};
  j["version"] = v.version;
  j["state"] = v.state;
  j["uptime_seconds"] = v.uptime_s;
  j["tsc_hz"] = v.tsc_hz;
  j["config"] = config_json(v.config);
  j["tls"] = {{"ticket_key_rotations", v.tls_ticket_key_rotations}, {"workload_identity", identity_json(v.identity)}};
  for (const AccessLogCounter& c : kAccessLogCounters) j["access_log"][std::string(c.name)] = v.access_log.*c.field;
  for (const NamedKind& k : named_kinds(v)) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const NamedCounters& c : k.list) {
      nlohmann::ordered_json stats = nlohmann::ordered_json::object();
      for (unsigned i = 0; i < c.values.size(); ++i) stats[std::string(k.info[i].name)] = c.values[i];
      out[c.name] = std::move(stats);
    }
    j[std::string(k.json_key)] = std::move(out);
  }
  j["workers"] = nlohmann::ordered_json::array();
  for (const LoopCounters& l : v.totals.per_worker)
    j["workers"].push_back({{"loop_iterations", l.iterations},
                            {"busy_iterations", l.busy_iterations},
                            {"busy_cycles", l.busy_cycles},
                            {"idle_sleeps", l.idle_sleeps}});
  j["ports"] = nlohmann::ordered_json::array();
  for (size_t p = 0; p < v.ports.size(); ++p) {
    const PortView& pv = v.ports[p];
    nlohmann::ordered_json port = {{"name", pv.name},       {"device", pv.device}, {"driver", pv.driver},
                                   {"mac", pv.mac},         {"queues", pv.queues}, {"rss", pv.rss},
                                   {"link_up", pv.link.up}, {"speed_mbps", pv.link.speed_mbps}};
    for (const HwCounter& h : kHwCounters) port["hw"][h.name] = pv.hw.*h.field;
    for_each_event([&](Event e) { port["events"][std::string(event_name(e))] = v.totals.event(p, e); });
    for_each_gauge([&](Gauge g) { port["gauges"][std::string(gauge_name(g))] = v.totals.gauge(p, g); });
    for_each_drop([&](Drop d) { port["drops"][std::string(drop_name(d))] = v.totals.drop(p, d); });
    j["ports"].push_back(std::move(port));
  }
  return j.dump(2) + "\n";
}

}  // namespace lg::admin
