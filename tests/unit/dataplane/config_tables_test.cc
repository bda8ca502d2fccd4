// Runtime tables from a snapshot (dataplane/config/runtime_tables) and their
// publication to readers with QSBR RCU (dataplane/config/publisher).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "dataplane/config/config_manager.h"
#include "dataplane/config/publisher.h"
#include "dataplane/config/runtime_tables.h"
#include "l7/router/router.h"

namespace lg::config {
namespace {
namespace pb = linegate::snapshot::v1;

std::shared_ptr<Snapshot> sample_snapshot(const std::string& version = "v1") {
  auto s = std::make_shared<Snapshot>();
  s->set_version(version);
  for (uint32_t port : {8443u, 80u}) {
    pb::Listener* l = s->add_listeners();
    l->set_name("0.0.0.0_" + std::to_string(port));
    l->set_port(port);
    l->set_protocol(pb::PROTOCOL_HTTP);
    l->set_route_table("http." + std::to_string(port));
    l->add_servers()->add_hosts("*");
  }
  pb::RouteTable* rt = s->add_route_tables();
  rt->set_name("http.80");
  pb::VirtualHost* vh = rt->add_virtual_hosts();
  vh->set_name("*.example.com:80");
  vh->add_domains("*.Example.com");
  vh->add_domains("api.example.com");
  pb::Route* r = vh->add_routes();
  r->mutable_match()->mutable_uri()->set_regex("/v[0-9]+/.*");
  for (auto [name, w] : {std::pair{"outbound|9000|v1|backend", 90u}, {"outbound|9000|v9|gone", 10u}}) {
    pb::WeightedCluster* wc = r->mutable_route()->add_clusters();
    wc->set_cluster(name);
    wc->set_weight(w);
  }
  vh->add_routes()->mutable_redirect();
  pb::Cluster* c = s->add_clusters();
  c->set_name("outbound|9000|v1|backend");
  c->mutable_policy()->mutable_connection_pool()->mutable_tcp()->set_max_connections(64);
  for (const char* a : {"10.0.0.1", "fd00::2"}) {
    pb::Endpoint* e = c->add_endpoints();
    e->set_address(a);
    e->set_port(9000);
    e->set_weight(a[0] == '1' ? 3 : 0);
  }
  return s;
}

// Built by appending: GCC 12 at -O3 flags `"v" + std::to_string(n)` with a
// false -Werror=restrict (PR105651).
std::string version_name(uint64_t n) {
  std::string v = "v";
  v += std::to_string(n);
  return v;
}

Bootstrap node() {
  Bootstrap b;
  b.node.id = "gw-test";
  return b;
}

TEST(RuntimeTables, FlattensListenersRoutesClustersEndpoints) {
  std::string error;
  auto t = build_tables(sample_snapshot(), node(), &error);
  ASSERT_TRUE(t) << error;
  ASSERT_EQ(t->listeners.size(), 2u);
  EXPECT_EQ(t->listeners[0].port, 80);  // sorted by port
  ASSERT_NE(t->find_listener(80), nullptr);
  EXPECT_EQ(t->find_listener(80)->route_table, 0u);
  EXPECT_EQ(t->find_listener(8443)->route_table, kNone);  // no such table in the snapshot
  EXPECT_EQ(t->find_listener(81), nullptr);

  // The route tables are compiled for the L7 router with the tables.
  ASSERT_NE(t->http_routes, nullptr);
  const l7::Routes& routes = *t->http_routes;
  const auto match = [&](std::string_view host, std::string_view path) {
    l7::RequestView rv;
    rv.method = "GET";
    rv.path = path;
    rv.authority = host;
    rv.scheme = "http";
    rv.port = 80;
    return routes.match(0, rv, 0);
  };
  EXPECT_EQ(match("a.EXAMPLE.com", "/v1/x"), match("api.example.com", "/v1/x"));  // lower-cased, "*" dropped
  EXPECT_EQ(match("example.org", "/v1/x"), l7::kNoRoute);
  const l7::Route& forward = routes.route(match("api.example.com", "/v1/x"));  // uri regex route
  EXPECT_EQ(forward.action, l7::RouteAction::forward);
  const auto dests = routes.destinations(forward);
  ASSERT_EQ(dests.size(), 2u);
  EXPECT_EQ(dests[0].cluster, 0u);
  EXPECT_EQ(dests[0].cumulative_weight, 90u);
  EXPECT_EQ(dests[1].cluster, UINT32_MAX);  // undefined here: the proxy answers 503 NC
  EXPECT_EQ(dests[1].cumulative_weight, 100u);
  EXPECT_EQ(routes.route(match("api.example.com", "/other")).action, l7::RouteAction::redirect);

  ASSERT_EQ(t->clusters.size(), 1u);
  EXPECT_EQ(t->clusters[0].max_connections, 64u);
  EXPECT_EQ(t->clusters[0].endpoint_count, 2u);
  EXPECT_EQ(t->clusters[0].total_weight, 4u);  // 3 + (unset → 1)
  EXPECT_EQ(t->endpoints[0].family, 4);
  EXPECT_EQ(t->endpoints[0].addr[15], 1);
  EXPECT_EQ(t->endpoints[1].family, 6);
  EXPECT_GT(t->table_bytes(), 0u);
}

TEST(RuntimeTables, RejectsAListenerOnAPortTheNodeHolds) {
  Bootstrap b = node();
  b.test_apps.push_back({"echo", 8443, 0, "", 1});
  std::string error;
  EXPECT_FALSE(build_tables(sample_snapshot(), b, &error));
  EXPECT_NE(error.find("port 8443 is held by the built-in echo service on node gw-test"), std::string::npos) << error;
}

TEST(RuntimeTables, RejectsTwoListenersOnOnePort) {
  auto s = sample_snapshot();
  s->mutable_listeners(1)->set_port(8443);
  std::string error;
  EXPECT_FALSE(build_tables(s, node(), &error));
  EXPECT_EQ(error, "two listeners on port 8443");
}

TEST(RuntimeTables, RejectsWhatExceedsTheNodeLimits) {
  Bootstrap b = node();
  b.config_limits.max_routes = 1;
  std::string error;
  EXPECT_FALSE(build_tables(sample_snapshot(), b, &error));
  EXPECT_NE(error.find("has 2 routes, over this node's config_limits (1)"), std::string::npos) << error;
  b = node();
  b.config_limits.max_endpoints = 1;
  EXPECT_FALSE(build_tables(sample_snapshot(), b, &error));
  EXPECT_NE(error.find("2 endpoints"), std::string::npos) << error;
}

TEST(RuntimeTables, RejectsANonIpEndpointOutsideDnsClusters) {
  auto s = sample_snapshot();
  s->mutable_clusters(0)->mutable_endpoints(0)->set_address("backend.internal");
  std::string error;
  EXPECT_FALSE(build_tables(s, node(), &error));
  EXPECT_NE(error.find("\"backend.internal\" is not an IP address"), std::string::npos) << error;
  s->mutable_clusters(0)->set_discovery(pb::DISCOVERY_STRICT_DNS);
  auto t = build_tables(s, node(), &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->endpoints[0].family, 0);
}

TEST(ConfigManager, RejectedSnapshotLeavesTheLastGoodOneServing) {
  std::string error;
  auto pub = TablePublisher::create(1, &error);
  ASSERT_TRUE(pub) << error;
  Bootstrap b = node();
  b.test_apps.push_back({"echo", 8443, 0, "", 1});
  ConfigManager cm(b, *pub);
  Snapshot good = *sample_snapshot("good");
  good.mutable_listeners(0)->set_port(9443);
  EXPECT_EQ(cm.apply(good), std::nullopt);
  const auto reason = cm.apply(*sample_snapshot("bad"));
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("8443"), std::string::npos);
  EXPECT_EQ(cm.current()->version(), "good");
  EXPECT_EQ(pub->tables()->version, "good");
  const auto st = cm.status();
  EXPECT_EQ(st.update_success, 1u);
  EXPECT_EQ(st.update_rejected, 1u);
  EXPECT_EQ(st.version, "good");
  EXPECT_EQ(st.last_error, *reason);
}

// Readers run the worker protocol (read once, use, report quiescence) while
// the control side publishes as fast as it can. A table freed too early is a
// use-after-free (AddressSanitizer in the sanitizer build) or a torn read
// (the version/generation cross-check here).
TEST(TablePublisher, ReadersNeverSeeAFreedTable) {
  constexpr unsigned kReaders = 2;
  std::string error;
  auto pub = TablePublisher::create(kReaders, &error);
  ASSERT_TRUE(pub) << error;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, bad{0};
  std::atomic<unsigned> online{0};
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < kReaders; ++r)
    readers.emplace_back([&, r] {
      pub->register_reader(r);
      online.fetch_add(1);
      uint64_t last = 0;
      const RuntimeTables* held = nullptr;  // the tables this reader adopted, as a worker holds them
      while (!stop.load(std::memory_order_relaxed)) {
        const RuntimeTables* t = pub->tables();
        if (t != nullptr) {
          if (t->version != version_name(t->generation) || t->generation < last ||
              t->find_listener(80) == nullptr)
            bad.fetch_add(1);
          // Moving state over from the previous tables: they must still be alive.
          if (held != nullptr && held != t && held->version != version_name(held->generation)) bad.fetch_add(1);
          if (held != t) pub->adopted(r, t->generation);
          held = t;
          last = t->generation;
          reads.fetch_add(1, std::memory_order_relaxed);
        }
        pub->quiescent(r);
      }
      pub->unregister_reader(r);
    });
  while (online.load() != kReaders) std::this_thread::yield();  // else every publish may precede them
  for (uint64_t g = 1; g <= 300; ++g) {
    auto t = build_tables(sample_snapshot(version_name(g)), node(), &error);
    ASSERT_TRUE(t) << error;
    pub->publish(std::move(t));
    EXPECT_EQ(pub->generation(), g);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(pub->tables()->generation, 300u);
}

// A request in flight keeps the tables it was routed with (the L7 gateway
// pins their generation): publishing newer tables retires them but must not
// free them until the pin is gone.
TEST(TablePublisher, PinnedTablesOutliveTheirReplacement) {
  std::string error;
  auto pub = TablePublisher::create(1, &error);
  ASSERT_TRUE(pub) << error;
  std::atomic<bool> stop{false}, online{false};
  std::thread reader([&] {
    pub->register_reader(0);
    online = true;
    while (!stop.load(std::memory_order_relaxed)) {
      if (const RuntimeTables* t = pub->tables()) pub->adopted(0, t->generation);
      pub->quiescent(0);
    }
    pub->unregister_reader(0);
  });
  while (!online.load()) std::this_thread::yield();
  const auto publish = [&](uint64_t g) {
    auto t = build_tables(sample_snapshot(version_name(g)), node(), &error);
    ASSERT_TRUE(t) << error;
    pub->publish(std::move(t));
  };
  publish(1);
  const RuntimeTables* first = pub->tables();
  pub->pinned(0, 1);  // a request routed with generation 1 is still in flight
  publish(2);
  publish(3);
  EXPECT_EQ(pub->retired(), 2u);            // generations 1 and 2 kept
  EXPECT_EQ(first->version, version_name(1));  // (a use-after-free under ASan if not)
  pub->pinned(0, 3);
  pub->reclaim();
  EXPECT_EQ(pub->retired(), 0u);
  stop = true;
  reader.join();
}

}  // namespace
}  // namespace lg::config
