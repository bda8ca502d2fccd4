#include "dataplane/upstream/clusters_view.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "dataplane/counters/counters.h"

namespace lg::upstream {
namespace pb = linegate::snapshot::v1;

namespace {

struct HostTotals {
  uint64_t cx_total = 0, cx_connect_fail = 0, cx_active = 0;
  bool ejected = false;  // on any lcore (outlier state is per lcore)
  uint32_t ejections = 0;
};

HostTotals host_totals(const config::RuntimeTables& t, uint32_t e) {
  HostTotals h;
  for (unsigned w = 0; w < t.worker_count; ++w) {
    const config::WorkerState& ws = t.workers[w];
    h.cx_total += counter_read(ws.host_stats[e].cx_total);
    h.cx_connect_fail += counter_read(ws.host_stats[e].cx_connect_fail);
    h.cx_active += counter_read(ws.host_stats[e].cx_active);
    h.ejected |= __atomic_load_n(&ws.outlier[e].ejected, __ATOMIC_RELAXED);
    h.ejections += static_cast<uint32_t>(__atomic_load_n(&ws.outlier[e].ejections_total, __ATOMIC_RELAXED));
  }
  return h;
}

std::string health_flags(const pb::Endpoint& ep, const HostTotals& h) {
  std::string f;
  if (ep.status() == pb::UNHEALTHY) f += "/failed_eds_health";
  if (ep.status() == pb::DRAINING) f += "/pending_dynamic_removal";
  if (h.ejected) f += "/failed_outlier_check";
  return f.empty() ? "healthy" : f;
}

}  // namespace

std::string render_clusters(const config::RuntimeTables* t, bool as_json) {
  nlohmann::ordered_json j = {{"cluster_statuses", nlohmann::ordered_json::array()}};
  std::ostringstream o;
  if (t != nullptr) {
    for (size_t ci = 0; ci < t->clusters.size(); ++ci) {
      const config::ClusterSlot& c = t->clusters[ci];
      const pb::Cluster& pc = t->snapshot->clusters(static_cast<int>(ci));
      nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
      o << pc.name() << "::max_connections::" << c.max_connections << "\n";
      for (uint32_t i = 0; i < c.endpoint_count; ++i) {
        const uint32_t e = c.endpoint_first + i;
        const pb::Endpoint& ep = pc.endpoints(static_cast<int>(i));
        const HostTotals h = host_totals(*t, e);
        const std::string flags = health_flags(ep, h);
        const std::string host = pc.name() + "::" + ep.address() + ":" + std::to_string(ep.port()) + "::";
        o << host << "cx_total::" << h.cx_total << "\n"
          << host << "cx_active::" << h.cx_active << "\n"
          << host << "cx_connect_fail::" << h.cx_connect_fail << "\n"
          << host << "weight::" << t->endpoints[e].weight << "\n"
          << host << "health_flags::" << flags << "\n"
          << host << "region::" << ep.locality().region() << "\n"
          << host << "zone::" << ep.locality().zone() << "\n";
        nlohmann::ordered_json labels = nlohmann::ordered_json::object();
        for (const auto& kv : ep.labels()) labels[kv.key()] = kv.value();
        hosts.push_back({{"address", ep.address()},
                         {"port", ep.port()},
                         {"weight", t->endpoints[e].weight},
                         {"health_flags", flags},
                         {"ejected", h.ejected},
                         {"ejections_total", h.ejections},
                         {"cx_total", h.cx_total},
                         {"cx_active", h.cx_active},
                         {"cx_connect_fail", h.cx_connect_fail},
                         {"labels", labels},
                         {"locality", {{"region", ep.locality().region()}, {"zone", ep.locality().zone()},
                                       {"subzone", ep.locality().subzone()}}},
                         {"network", ep.network()}});
      }
      j["cluster_statuses"].push_back({{"name", pc.name()},
                                       {"max_connections", c.max_connections},
                                       {"lb_policy", pb::LbPolicy_Name(static_cast<pb::LbPolicy>(c.lb))},
                                       {"host_statuses", std::move(hosts)}});
    }
  }
  return as_json ? j.dump(2) + "\n" : o.str();
}

}  // namespace lg::upstream
