// DiscoveryClient against a scripted agent (a plain synchronous gRPC
// service), so the client's side of the protocol is checked on its own:
// hello, ACK/NACK with nonces and versions, reconnect with backoff, stop.
#include "ctrl/client/backoff.h"
#include "ctrl/client/discovery_client.h"
#include "ctrl/proto/discovery.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace dv1 = linegate::discovery::v1;
using lg::ctrl::DiscoveryClient;
using lg::ctrl::DiscoveryClientOptions;
using linegate::snapshot::v1::GatewaySnapshot;

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// Sends `script` (version, nonce) on every stream, one at a time, waiting for
// the reply to each; records what the gateway said.
class ScriptedAgent final : public dv1::GatewayDiscovery::Service {
 public:
  std::vector<std::pair<std::string, std::string>> script;

  grpc::Status StreamSnapshots(grpc::ServerContext* ctx,
                               grpc::ServerReaderWriter<dv1::SnapshotResponse, dv1::SnapshotRequest>* stream) override {
    ctx->AddInitialMetadata("x-linegate-agent", "test");
    stream->SendInitialMetadata();
    dv1::SnapshotRequest req;
    if (!stream->Read(&req)) return grpc::Status::OK;
    {
      std::lock_guard lk(mu);
      hellos.push_back(req);
      ++streams;
    }
    for (const auto& [version, nonce] : script) {
      dv1::SnapshotResponse resp;
      resp.set_version_info(version);
      resp.set_nonce(nonce);
      resp.mutable_snapshot()->set_version(version);
      if (!stream->Write(resp)) return grpc::Status::OK;
      if (!stream->Read(&req)) return grpc::Status::OK;
      std::lock_guard lk(mu);
      replies.push_back(req);
    }
    while (stream->Read(&req)) {
    }
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<dv1::SnapshotRequest> hellos, replies;
  int streams = 0;

  size_t reply_count() {
    std::lock_guard lk(mu);
    return replies.size();
  }
  int stream_count() {
    std::lock_guard lk(mu);
    return streams;
  }
};

struct Server {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  Server(ScriptedAgent& svc, int want_port) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:" + std::to_string(want_port), grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&svc);
    server = b.BuildAndStart();
  }
  ~Server() { stop(); }
  void stop() {
    if (server) server->Shutdown(std::chrono::system_clock::now());
    server.reset();
  }
};

DiscoveryClientOptions options(int port) {
  DiscoveryClientOptions o;
  o.agent = "127.0.0.1:" + std::to_string(port);
  o.node.id = "gw-test";
  o.node.cluster = "Kubernetes";
  o.node.network = "net1";
  o.node.ns = "edge";
  o.node.labels = {{"istio", "ingressgateway"}, {"app", "gw"}};
  o.node.build_version = "0.1.0";
  o.backoff_initial = 20ms;
  o.backoff_max = 200ms;
  return o;
}

TEST(Backoff, GrowsToTheCapWithJitterAndResets) {
  lg::ctrl::Backoff b(100ms, 5000ms, 42);
  std::vector<int64_t> steps = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (int64_t step : steps) {
    auto d = b.next().count();
    EXPECT_GE(d, step / 2) << "step " << step;
    EXPECT_LE(d, step) << "step " << step;
  }
  b.reset();
  auto d = b.next().count();
  EXPECT_GE(d, 50);
  EXPECT_LE(d, 100);
  // Jitter: a fleet does not reconnect in lockstep.
  lg::ctrl::Backoff x(1000ms, 5000ms, 1), y(1000ms, 5000ms, 2);
  bool differ = false;
  for (int i = 0; i < 5; ++i) differ |= x.next() != y.next();
  EXPECT_TRUE(differ);
}

TEST(DiscoveryClient, SendsNodeAndAcksSnapshot) {
  ScriptedAgent svc;
  svc.script = {{"v1", "n1"}};
  Server srv(svc, 0);
  ASSERT_TRUE(srv.server);

  std::vector<std::string> applied;
  std::mutex applied_mu;
  DiscoveryClient client(options(srv.port), [&](const GatewaySnapshot& s) -> std::optional<std::string> {
    std::lock_guard lk(applied_mu);
    applied.push_back(s.version());
    return std::nullopt;
  });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(eventually([&] { return svc.reply_count() == 1; }));

  {
    std::lock_guard lk(svc.mu);
    ASSERT_EQ(svc.hellos.size(), 1u);
    const auto& hello = svc.hellos[0];
    EXPECT_EQ(hello.node().id(), "gw-test");
    EXPECT_EQ(hello.node().cluster(), "Kubernetes");
    EXPECT_EQ(hello.node().network(), "net1");
    EXPECT_EQ(hello.node().namespace_(), "edge");
    EXPECT_EQ(hello.node().build_version(), "0.1.0");
    ASSERT_EQ(hello.node().labels_size(), 2);
    EXPECT_EQ(hello.node().labels(0).key(), "app");  // sorted
    EXPECT_EQ(hello.node().labels(1).key(), "istio");
    EXPECT_EQ(hello.node().labels(1).value(), "ingressgateway");
    EXPECT_EQ(hello.version_info(), "");
    EXPECT_EQ(hello.response_nonce(), "");

    const auto& ack = svc.replies[0];
    EXPECT_EQ(ack.version_info(), "v1");
    EXPECT_EQ(ack.response_nonce(), "n1");
    EXPECT_FALSE(ack.has_error_detail());
  }
  auto st = client.state();
  EXPECT_TRUE(st.running);
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.applied_version, "v1");
  EXPECT_EQ(st.acks, 1u);
  EXPECT_EQ(st.nacks, 0u);
  EXPECT_EQ(st.reconnects, 0u);
  std::lock_guard lk(applied_mu);
  EXPECT_EQ(applied, std::vector<std::string>{"v1"});
}

TEST(DiscoveryClient, NackCarriesReasonAndLastGoodVersion) {
  ScriptedAgent svc;
  svc.script = {{"v1", "n1"}, {"v2", "n2"}, {"v3", "n3"}};
  Server srv(svc, 0);
  ASSERT_TRUE(srv.server);

  DiscoveryClient client(options(srv.port), [&](const GatewaySnapshot& s) -> std::optional<std::string> {
    if (s.version() == "v2") return std::string("listener 8443: no certificate for sni a.example.com");
    if (s.version() == "v3") throw std::runtime_error("table build exploded");
    return std::nullopt;
  });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(eventually([&] { return svc.reply_count() == 3; }));
  {
    std::lock_guard lk(svc.mu);
    EXPECT_EQ(svc.replies[0].version_info(), "v1");
    EXPECT_FALSE(svc.replies[0].has_error_detail());

    EXPECT_EQ(svc.replies[1].version_info(), "v1");  // still runs v1
    EXPECT_EQ(svc.replies[1].response_nonce(), "n2");
    ASSERT_TRUE(svc.replies[1].has_error_detail());
    EXPECT_EQ(svc.replies[1].error_detail().message(), "listener 8443: no certificate for sni a.example.com");

    EXPECT_EQ(svc.replies[2].version_info(), "v1");
    EXPECT_EQ(svc.replies[2].response_nonce(), "n3");
    ASSERT_TRUE(svc.replies[2].has_error_detail());
    EXPECT_NE(svc.replies[2].error_detail().message().find("table build exploded"), std::string::npos);
  }
  auto st = client.state();
  EXPECT_EQ(st.applied_version, "v1");
  EXPECT_EQ(st.acks, 1u);
  EXPECT_EQ(st.nacks, 2u);
  EXPECT_NE(st.last_error.find("table build exploded"), std::string::npos);
}

TEST(DiscoveryClient, ReconnectsWithBackoffAndResendsRunningVersion) {
  ScriptedAgent svc;
  svc.script = {{"v1", "n1"}};
  auto srv = std::make_unique<Server>(svc, 0);
  ASSERT_TRUE(srv->server);
  int port = srv->port;

  std::vector<std::string> logs;
  std::mutex log_mu;
  auto o = options(port);
  o.log = [&](std::string_view l) {
    std::lock_guard lk(log_mu);
    logs.emplace_back(l);
  };
  DiscoveryClient client(o, [](const GatewaySnapshot&) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(eventually([&] { return client.state().acks == 1; }));

  srv->stop();
  ASSERT_TRUE(eventually([&] { return !client.state().connected; }));
  // Agent away: the client keeps trying, spaced by the backoff (20..200 ms).
  std::this_thread::sleep_for(600ms);
  auto away = client.state();
  EXPECT_GE(away.reconnects, 2u);
  EXPECT_LE(away.reconnects, 40u);  // not a busy loop
  EXPECT_EQ(away.applied_version, "v1");  // last good config kept

  srv = std::make_unique<Server>(svc, port);  // back on the same port
  ASSERT_TRUE(srv->server) << "port " << port << " not reusable";
  ASSERT_TRUE(eventually([&] { return client.state().acks == 2; }));
  EXPECT_TRUE(client.state().connected);
  {
    std::lock_guard lk(svc.mu);
    ASSERT_EQ(svc.hellos.size(), 2u);
    EXPECT_EQ(svc.hellos[1].version_info(), "v1");  // tells the agent what it runs
  }
  std::lock_guard lk(log_mu);
  bool logged_reconnect = false;
  for (const auto& l : logs) logged_reconnect |= l.find("reconnecting") != std::string::npos;
  EXPECT_TRUE(logged_reconnect);
}

TEST(DiscoveryClient, StopIsPromptWhileConnectedAndWhileAway) {
  ScriptedAgent svc;
  svc.script = {{"v1", "n1"}};
  Server srv(svc, 0);
  ASSERT_TRUE(srv.server);
  {
    DiscoveryClient client(options(srv.port), [](const GatewaySnapshot&) { return std::optional<std::string>(); });
    ASSERT_TRUE(client.start());
    ASSERT_TRUE(eventually([&] { return client.state().acks == 1; }));
    auto t0 = std::chrono::steady_clock::now();
    client.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_FALSE(client.state().running);
    EXPECT_FALSE(client.state().connected);
  }
  // Nobody listening, long backoff: stop() does not wait the backoff out.
  int dead_port = srv.port;
  srv.stop();
  auto o = options(dead_port);
  o.backoff_initial = 10s;
  o.backoff_max = 10s;
  DiscoveryClient client(o, [](const GatewaySnapshot&) { return std::optional<std::string>(); });
  ASSERT_TRUE(client.start());
  std::this_thread::sleep_for(200ms);
  auto t0 = std::chrono::steady_clock::now();
  client.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  // And it can start again.
  EXPECT_TRUE(client.start());
  client.stop();
}

TEST(DiscoveryClient, RefusesUnusableOptions) {
  auto handler = [](const GatewaySnapshot&) { return std::optional<std::string>(); };
  std::string logged;
  auto o = options(1);
  o.node.id.clear();
  o.log = [&](std::string_view l) { logged = l; };
  DiscoveryClient no_id(o, handler);
  EXPECT_FALSE(no_id.start());
  EXPECT_NE(logged.find("node id"), std::string::npos);

  auto o2 = options(1);
  o2.agent.clear();
  DiscoveryClient no_agent(o2, handler);
  EXPECT_FALSE(no_agent.start());

  DiscoveryClient ok(options(1), handler);
  EXPECT_TRUE(ok.start());
  EXPECT_FALSE(ok.start());  // already running
  ok.stop();
  ok.stop();  // idempotent
}

}  // namespace
