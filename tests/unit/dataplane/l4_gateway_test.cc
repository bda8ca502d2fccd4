// The L4 gateway's decisions without a wire: routes from runtime tables
// (dataplane/l4/l4_router) and endpoint picks with outlier detection and
// maxConnections (dataplane/upstream/cluster_manager), with fake time.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <map>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/l4/l4_router.h"
#include "dataplane/upstream/cluster_manager.h"

namespace lg {
namespace {
namespace pb = linegate::snapshot::v1;
using config::kNone;

pb::Cluster* add_cluster(pb::GatewaySnapshot& s, const std::string& name, std::initializer_list<uint32_t> ports,
                         bool sni_dnat = false) {
  pb::Cluster* c = s.add_clusters();
  c->set_name(name);
  c->set_sni_dnat(sni_dnat);
  for (uint32_t p : ports) {
    pb::Endpoint* e = c->add_endpoints();
    e->set_address("10.0.0.1");
    e->set_port(p);
    e->set_weight(1);
  }
  return c;
}

void add_dest(google::protobuf::RepeatedPtrField<pb::WeightedCluster>* wcs, const std::string& cluster, uint32_t w) {
  pb::WeightedCluster* wc = wcs->Add();
  wc->set_cluster(cluster);
  wc->set_weight(w);
}

// 443: PASSTHROUGH (a.example.com exact, *.apps.example.com wildcard);
// 15443: AUTO_PASSTHROUGH for *.local; 9000: TCP, 10.1.0.0/16 to "blue"
// (90/10 blue/green otherwise).
std::shared_ptr<pb::GatewaySnapshot> snapshot() {
  auto s = std::make_shared<pb::GatewaySnapshot>();
  s->set_version("v1");
  pb::Listener* tls = s->add_listeners();
  tls->set_name("0.0.0.0_443");
  tls->set_port(443);
  tls->set_protocol(pb::PROTOCOL_TLS);
  pb::Server* srv = tls->add_servers();
  srv->set_protocol(pb::PROTOCOL_TLS);
  srv->mutable_tls()->set_mode(pb::SERVER_TLS_PASSTHROUGH);
  srv->add_sni_hosts("a.example.com");
  srv->add_sni_hosts("*.apps.example.com");
  pb::TlsRoute* r = srv->add_tls_routes();
  r->add_sni_hosts("a.example.com");
  add_dest(r->mutable_clusters(), "a", 100);
  r = srv->add_tls_routes();
  r->add_sni_hosts("*.apps.example.com");
  add_dest(r->mutable_clusters(), "apps", 100);

  pb::Listener* ew = s->add_listeners();
  ew->set_name("0.0.0.0_15443");
  ew->set_port(15443);
  ew->set_protocol(pb::PROTOCOL_TLS);
  srv = ew->add_servers();
  srv->set_protocol(pb::PROTOCOL_TLS);
  srv->mutable_tls()->set_mode(pb::SERVER_TLS_AUTO_PASSTHROUGH);
  srv->add_sni_hosts("*.local");
  srv->set_auto_passthrough(true);

  pb::Listener* tcp = s->add_listeners();
  tcp->set_name("0.0.0.0_9000");
  tcp->set_port(9000);
  tcp->set_protocol(pb::PROTOCOL_TCP);
  srv = tcp->add_servers();
  srv->set_protocol(pb::PROTOCOL_TCP);
  pb::TcpRoute* t = srv->add_tcp_routes();
  t->add_destination_subnets("10.1.0.0/16");
  add_dest(t->mutable_clusters(), "blue", 100);
  t = srv->add_tcp_routes();
  add_dest(t->mutable_clusters(), "blue", 90);
  add_dest(t->mutable_clusters(), "green", 10);

  add_cluster(*s, "a", {1});
  add_cluster(*s, "apps", {2});
  add_cluster(*s, "blue", {3});
  add_cluster(*s, "green", {4});
  add_cluster(*s, "outbound_.3306_.v2_.db.vm.local", {5}, true);
  pb::Cluster* pool = add_cluster(*s, "pool", {6, 7, 8});
  pool->mutable_policy()->mutable_load_balancer()->set_simple(pb::LB_ROUND_ROBIN);
  pool->mutable_policy()->mutable_connection_pool()->mutable_tcp()->set_max_connections(2);
  pb::OutlierDetection* od = pool->mutable_policy()->mutable_outlier_detection();
  od->set_consecutive_5xx_errors(2);
  od->set_interval_ms(1000);
  od->set_base_ejection_time_ms(3000);
  od->set_max_ejection_percent(50);
  return s;
}

std::unique_ptr<config::RuntimeTables> tables(upstream::UpstreamRegistry& reg, uint64_t generation = 1) {
  std::string error;
  Bootstrap b;
  auto t = config::build_tables(snapshot(), b, &error, &reg);
  EXPECT_TRUE(t) << error;
  t->generation = generation;
  return t;
}

tcp::FlowKey key(const char* local) {
  tcp::FlowKey k{};
  inet_pton(AF_INET, local, k.local);
  inet_pton(AF_INET, "192.0.2.7", k.remote);
  k.family = 4;
  return k;
}

uint32_t cluster_index(const config::RuntimeTables& t, const std::string& name) {
  for (int i = 0; i < t.snapshot->clusters_size(); ++i)
    if (t.snapshot->clusters(i).name() == name) return static_cast<uint32_t>(i);
  return kNone;
}

std::string routed(const config::RuntimeTables& t, uint16_t port, const char* local, std::string_view sni,
                   uint32_t draw = 0) {
  const config::ListenerSlot* l = t.find_listener(port);
  if (l == nullptr) return "no listener";
  const uint32_t r = l4::select_route(t, *l, key(local), sni);
  if (r == kNone) return "no route";
  const uint32_t c = l4::route_cluster(t, t.l4_routes[r], draw, sni);
  return c == kNone ? "no cluster" : t.snapshot->clusters(static_cast<int>(c)).name();
}

TEST(L4Router, SniExactWildcardAndUnknown) {
  upstream::UpstreamRegistry reg(1, 64, 16);
  auto t = tables(reg);
  EXPECT_EQ(t->find_listener(443)->kind, config::ListenerKind::tls_sni);
  EXPECT_EQ(routed(*t, 443, "10.0.0.2", "a.example.com"), "a");
  EXPECT_EQ(routed(*t, 443, "10.0.0.2", "shop.apps.example.com"), "apps");
  EXPECT_EQ(routed(*t, 443, "10.0.0.2", "x.y.apps.example.com"), "apps");
  EXPECT_EQ(routed(*t, 443, "10.0.0.2", "apps.example.com"), "no route");  // "*." needs a label before it
  EXPECT_EQ(routed(*t, 443, "10.0.0.2", "b.example.com"), "no route");
  EXPECT_EQ(routed(*t, 443, "10.0.0.2", ""), "no route");
}

TEST(L4Router, AutoPassthroughNamesTheCluster) {
  upstream::UpstreamRegistry reg(1, 64, 16);
  auto t = tables(reg);
  EXPECT_EQ(routed(*t, 15443, "10.0.0.2", "outbound_.3306_.v2_.db.vm.local"), "outbound_.3306_.v2_.db.vm.local");
  EXPECT_EQ(routed(*t, 15443, "10.0.0.2", "outbound_.3306_.v1_.db.vm.local"), "no cluster");
  EXPECT_EQ(routed(*t, 15443, "10.0.0.2", "pool"), "no route");  // outside the server's *.local
}

TEST(L4Router, DestinationSubnetsAndWeights) {
  upstream::UpstreamRegistry reg(1, 64, 16);
  auto t = tables(reg);
  EXPECT_EQ(t->find_listener(9000)->kind, config::ListenerKind::tcp);
  EXPECT_EQ(routed(*t, 9000, "10.1.2.3", "", UINT32_MAX), "blue");  // the subnet rule, whatever the draw
  std::map<std::string, int> split;
  uint64_t weyl = 0;
  for (int i = 0; i < 1000; ++i) {
    weyl += 0x9E3779B97F4A7C15ull;  // as TcpProxy draws
    ++split[routed(*t, 9000, "10.2.0.1", "", static_cast<uint32_t>(weyl >> 32))];
  }
  EXPECT_NEAR(split["blue"], 900, 2);
  EXPECT_NEAR(split["green"], 100, 2);
}

TEST(ClusterManager, RoundRobinEjectsAFailingEndpointAndTakesItBack) {
  upstream::UpstreamRegistry reg(1, 64, 16);
  auto t = tables(reg);
  upstream::ClusterManager cm(0, &reg);
  cm.set_tables(t.get(), 1'000'000);
  const uint32_t pool = cluster_index(*t, "pool");
  std::map<uint16_t, int> picks;
  upstream::HostRef bad;
  // Endpoint :6 refuses twice in a row (consecutive5xxErrors 2): ejected.
  for (int i = 0; i < 6; ++i) {
    upstream::HostRef h;
    ASSERT_EQ(cm.pick(pool, 0, 0, {}, &h), upstream::PickStatus::ok);
    ++picks[h.port];
    cm.report(h, h.port == 6 ? upstream::Outcome::connect_failure : upstream::Outcome::connect_success);
    cm.connection_closed(h);
    if (h.port == 6) bad = h;
  }
  EXPECT_EQ(picks[6], 2);
  EXPECT_EQ(t->workers[0].outlier[bad.endpoint].ejected, true);
  for (int i = 0; i < 20; ++i) {
    upstream::HostRef h;
    ASSERT_EQ(cm.pick(pool, 0, 0, {}, &h), upstream::PickStatus::ok);
    EXPECT_NE(h.port, 6) << "picked while ejected";
    cm.connection_closed(h);
  }
  // Back after baseEjectionTime (3 s), at an interval sweep.
  for (uint64_t now = 1'000'000; now <= 5'000'000; now += 100'000) cm.poll(now);
  cm.set_tables(t.get(), 5'000'000);
  EXPECT_FALSE(t->workers[0].outlier[bad.endpoint].ejected);
  std::map<uint16_t, int> after;
  for (int i = 0; i < 3; ++i) {
    upstream::HostRef h;
    ASSERT_EQ(cm.pick(pool, 0, 0, {}, &h), upstream::PickStatus::ok);
    ++after[h.port];
    cm.connection_closed(h);
  }
  EXPECT_EQ(after[6], 1);
}

TEST(ClusterManager, MaxConnectionsHoldsAndOutlierStateSurvivesNewTables) {
  upstream::UpstreamRegistry reg(1, 64, 16);
  auto t1 = tables(reg, 1);
  upstream::ClusterManager cm(0, &reg);
  cm.set_tables(t1.get(), 1'000'000);
  const uint32_t pool = cluster_index(*t1, "pool");
  upstream::HostRef a, b, c;
  ASSERT_EQ(cm.pick(pool, 0, 0, {}, &a), upstream::PickStatus::ok);
  ASSERT_EQ(cm.pick(pool, 0, 0, {}, &b), upstream::PickStatus::ok);
  EXPECT_EQ(cm.pick(pool, 0, 0, {}, &c), upstream::PickStatus::overflow);  // maxConnections 2
  const uint32_t stats_id = t1->clusters[pool].stats_id;
  EXPECT_EQ(reg.cluster(0, stats_id).read(static_cast<unsigned>(upstream::ClusterStat::upstream_cx_overflow)), 1u);
  cm.report(a, upstream::Outcome::connect_failure);
  cm.report(a, upstream::Outcome::connect_failure);  // ejected
  // A config push: same cluster and endpoints, new tables. The ejection and
  // the two open connections carry over; closing one under the new tables
  // frees a slot.
  auto t2 = tables(reg, 2);
  cm.set_tables(t2.get(), 1'100'000);
  EXPECT_TRUE(t2->workers[0].outlier[a.endpoint].ejected);
  EXPECT_EQ(t2->workers[0].hosts[b.endpoint].active, 1u);
  cm.connection_closed(a);
  upstream::HostRef d;
  ASSERT_EQ(cm.pick(pool, 0, 0, {}, &d), upstream::PickStatus::ok);
  EXPECT_NE(d.port, a.port) << "an ejected endpoint was picked after the push";
  cm.connection_closed(b);
  cm.connection_closed(d);
  EXPECT_EQ(reg.shared(stats_id).upstream_cx.load(), 0u);
}

}  // namespace
}  // namespace lg
