// Rendering of the counters: every drop reason appears per port, names are
// stable, Prometheus output is well-formed, JSON parses.
#include "dataplane/admin/stats_view.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>
#include <sstream>

namespace lg::admin {
namespace {

StatsView sample() {
  StatsView v;
  v.node_id = "gw-1";
  v.state = "LIVE";
  v.version = "0.1.0";
  PortView p;
  p.name = "p0";
  p.link.up = true;
  p.hw.rx_packets = 10;
  p.hw.queues.push_back({10, 1000, 7, 700});
  v.ports.push_back(p);
  p.name = "p\"1";
  v.ports.push_back(p);
  v.totals.per_worker.push_back({100, 10, 5000, 90});
  v.totals.drops[0][static_cast<unsigned>(Drop::ipv4_bad_checksum)] = 3;
  v.totals.events[1][static_cast<unsigned>(Event::icmp_echo_replies_sent)] = 5;
  v.tls_ticket_key_rotations = 7;
  return v;
}

TEST(StatsView, TextHasEveryCounterPerPort) {
  const std::string t = render_text(sample());
  EXPECT_NE(t.find("port.p0.drop.ipv4_bad_checksum: 3\n"), std::string::npos);
  EXPECT_NE(t.find("port.p\"1.icmp_echo_replies_sent: 5\n"), std::string::npos);
  EXPECT_NE(t.find("worker.0.busy_cycles: 5000\n"), std::string::npos);
  EXPECT_NE(t.find("tls.ticket_key_rotations: 7\n"), std::string::npos);
  for (unsigned d = 0; d < kDropCount; ++d)
    EXPECT_NE(t.find("port.p0.drop." + std::string(drop_name(static_cast<Drop>(d))) + ": "), std::string::npos);
}

TEST(StatsView, PrometheusIsWellFormed) {
  const std::string t = render_prometheus(sample());
  EXPECT_NE(t.find("linegate_drops_total{port=\"p0\",reason=\"ipv4_bad_checksum\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("linegate_icmp_echo_replies_sent_total{port=\"p\\\"1\"} 5\n"), std::string::npos)
      << "label values are escaped";
  EXPECT_NE(t.find("linegate_tls_ticket_key_rotations_total 7\n"), std::string::npos);
  // Every sample line: name{labels} value; every metric has one HELP and one TYPE.
  const std::regex sample_line(R"(^[a-z_][a-z0-9_]*(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? [0-9]+$)");
  std::set<std::string> typed;
  std::istringstream in(t);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(typed.insert(line.substr(7, line.find(' ', 7) - 7)).second) << "duplicate TYPE: " << line;
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, sample_line)) << line;
    EXPECT_TRUE(typed.count(line.substr(0, line.find_first_of("{ ")))) << "sample before its TYPE: " << line;
  }
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n') > 0, true);
}

TEST(StatsView, JsonParsesAndCarriesCounters) {
  const auto j = nlohmann::json::parse(render_json(sample()));
  EXPECT_EQ(j["node"]["id"], "gw-1");
  EXPECT_EQ(j["ports"][0]["drops"]["ipv4_bad_checksum"], 3);
  EXPECT_EQ(j["ports"][1]["events"]["icmp_echo_replies_sent"], 5);
  EXPECT_EQ(j["ports"][0]["hw"]["rx_packets"], 10);
  EXPECT_EQ(j["workers"][0]["busy_cycles"], 5000);
  EXPECT_EQ(j["tls"]["ticket_key_rotations"], 7);
}

TEST(Counters, NamesAreUniqueAndSnakeCase) {
  std::set<std::string> names;
  const std::regex snake("^[a-z][a-z0-9_]*$");
  for (unsigned d = 0; d < kDropCount; ++d) {
    const std::string n(drop_name(static_cast<Drop>(d)));
    EXPECT_TRUE(std::regex_match(n, snake)) << n;
    EXPECT_TRUE(names.insert("drop." + n).second) << n;
    EXPECT_FALSE(drop_help(static_cast<Drop>(d)).empty());
  }
  for (unsigned e = 0; e < kEventCount; ++e) {
    const std::string n(event_name(static_cast<Event>(e)));
    EXPECT_TRUE(std::regex_match(n, snake)) << n;
    EXPECT_TRUE(names.insert(n).second) << n;
  }
}

TEST(Counters, TotalsSumAcrossWorkers) {
  CounterSet set(3);
  for (unsigned w = 0; w < 3; ++w) {
    set.worker(w).drop(2, Drop::no_route, w + 1);
    set.worker(w).event(0, Event::rx_frames, 10);
    counter_add(set.worker(w).loop.busy_cycles, 100 * (w + 1));
  }
  const CounterTotals t = set.totals();
  EXPECT_EQ(t.drop(2, Drop::no_route), 6u);
  EXPECT_EQ(t.event(0, Event::rx_frames), 30u);
  ASSERT_EQ(t.per_worker.size(), 3u);
  EXPECT_EQ(t.per_worker[2].busy_cycles, 300u);
}

}  // namespace
}  // namespace lg::admin
