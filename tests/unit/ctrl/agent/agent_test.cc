// linegate-agent in-process (gRPC on 127.0.0.1, port picked by the kernel)
// with real DiscoveryClients as gateways, and the real CRD loader, analyzer
// and compiler behind it.
#include "agent_fixtures.h"

#include "ctrl/compile/compiler.h"
#include "ctrl/crd/loader.h"
#include "ctrl/proto/discovery.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace lg::ctrl::testing {
namespace {

namespace fs = std::filesystem;

const std::map<std::string, std::string> kIngress = {{"istio", "ingressgateway"}, {"app", "edge"}};
const std::map<std::string, std::string> kInternal = {{"istio", "internalgateway"}};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { start_agent(0); }
  void TearDown() override {
    gateways_.clear();  // stop clients before the agent
    if (agent_) agent_->stop();
  }

  void start_agent(int port, std::vector<std::string> watch = {}) {
    AgentOptions o;
    o.listen = "127.0.0.1:" + std::to_string(port);
    o.watch_dirs = std::move(watch);
    o.debounce = 50ms;
    o.log = log_.sink();
    agent_ = std::make_unique<Agent>(o);
    std::string error;
    ASSERT_TRUE(agent_->start(error)) << error;
    port_ = agent_->port();
    ASSERT_GT(port_, 0);
  }

  dv1::ApplyResponse apply(std::vector<std::pair<std::string, std::string>> files, bool dry_run = false) {
    return agent_->apply(apply_request(std::move(files), dry_run));
  }

  TestGateway& gateway(std::string id, std::map<std::string, std::string> labels,
                       std::function<std::optional<std::string>(const GatewaySnapshot&)> reject = {}) {
    gateways_.push_back(std::make_unique<TestGateway>(port_, std::move(id), std::move(labels), std::move(reject)));
    EXPECT_TRUE(gateways_.back()->start());
    return *gateways_.back();
  }

  dv1::GatewayStatus status_of(const std::string& id) {
    auto st = agent_->proxy_status();
    const auto* g = find_gateway(st, id);
    return g ? *g : dv1::GatewayStatus();
  }

  bool synced(const std::string& id, const std::string& version = "") {
    auto g = status_of(id);
    return g.connected() && g.status() == dv1::GatewayStatus::SYNCED && (version.empty() || g.version_acked() == version);
  }

  size_t count_logged(const std::string& needle) { return log_.count(needle); }
  bool logged(const std::string& needle) { return count_logged(needle) > 0; }

  std::unique_ptr<Agent> agent_;
  int port_ = 0;
  std::vector<std::unique_ptr<TestGateway>> gateways_;
  AgentLog log_;
};

TEST_F(AgentTest, SnapshotOnConnectIsAckedAndTracked) {
  auto r = apply({{"base.yaml", kBaseConfig}});
  ASSERT_TRUE(r.accepted()) << (r.diagnostics_size() ? r.diagnostics(0).text() : "");
  EXPECT_EQ(r.generation(), 1u);
  EXPECT_EQ(r.resources(), 4u);
  EXPECT_TRUE(r.changed());

  auto& gw = gateway("gw-a", kIngress);
  ASSERT_TRUE(eventually([&] { return synced("gw-a"); }));
  auto applied = gw.applied();
  ASSERT_TRUE(applied);
  EXPECT_EQ(listener_ports(*applied), std::set<uint32_t>{80});

  auto g = status_of("gw-a");
  EXPECT_EQ(g.version_sent(), applied->version());
  EXPECT_EQ(g.version_acked(), applied->version());
  EXPECT_EQ(g.cluster(), "Kubernetes");
  EXPECT_EQ(g.network(), "network1");
  EXPECT_EQ(g.namespace_(), "istio-system");  // root namespace by default
  EXPECT_EQ(g.last_error(), "");
  EXPECT_GT(g.last_seen_unix_ms(), 0);
  EXPECT_GT(g.connected_since_unix_ms(), 0);
  EXPECT_EQ(gw.state().applied_version, applied->version());
  EXPECT_TRUE(logged("gateway gw-a connected"));
  EXPECT_TRUE(logged("gateway gw-a ACK version " + applied->version()));

  // A change reaches it; an unchanged re-apply pushes nothing.
  ASSERT_TRUE(apply({{"public.yaml", kPublicWith8443}}).accepted());
  ASSERT_TRUE(eventually([&] { return gw.applied() && listener_ports(*gw.applied()).count(8443); }));
  ASSERT_TRUE(eventually([&] { return synced("gw-a", gw.applied()->version()); }));
  size_t before = gw.received();
  auto again = apply({{"public.yaml", kPublicWith8443}});
  EXPECT_TRUE(again.accepted());
  EXPECT_FALSE(again.changed());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(gw.received(), before);

  gw.stop();
  ASSERT_TRUE(eventually([&] { return !status_of("gw-a").connected(); }));
  EXPECT_TRUE(logged("gateway gw-a disconnected"));
}

TEST_F(AgentTest, NackIsRecordedAndGatewayKeepsLastGood) {
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  auto& gw = gateway("gw-a", kIngress, [](const GatewaySnapshot& s) -> std::optional<std::string> {
    if (listener_ports(s).count(8443)) return std::string("port 8443: no free queue for this listener");
    return std::nullopt;
  });
  ASSERT_TRUE(eventually([&] { return synced("gw-a"); }));
  std::string good = gw.applied()->version();

  ASSERT_TRUE(apply({{"public.yaml", kPublicWith8443}}).accepted());
  ASSERT_TRUE(eventually([&] { return status_of("gw-a").status() == dv1::GatewayStatus::NACKED; }));
  auto g = status_of("gw-a");
  EXPECT_EQ(g.last_error(), "port 8443: no free queue for this listener");
  EXPECT_EQ(g.version_acked(), good);  // what it still runs
  EXPECT_NE(g.version_sent(), good);
  EXPECT_TRUE(g.connected());
  EXPECT_EQ(gw.applied()->version(), good);
  EXPECT_EQ(gw.state().applied_version, good);
  EXPECT_EQ(gw.state().nacks, 1u);
  EXPECT_TRUE(logged("gateway gw-a NACK version " + g.version_sent()));

  // Reverting to something it accepts clears the error.
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  ASSERT_TRUE(eventually([&] { return synced("gw-a", good); }));
  EXPECT_EQ(status_of("gw-a").last_error(), "");
}

TEST_F(AgentTest, InvalidApplyIsRejectedAndNothingIsPushed) {
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  auto& gw = gateway("gw-a", kIngress);
  ASSERT_TRUE(eventually([&] { return synced("gw-a"); }));
  auto before = agent_->config();
  size_t received = gw.received();

  auto r = apply({{"bad-weights.yaml", kBadWeights}});
  EXPECT_FALSE(r.accepted());
  EXPECT_FALSE(r.changed());
  bool named = false;
  for (const auto& d : r.diagnostics()) {
    if (d.severity() != dv1::Diagnostic::ERROR) continue;
    EXPECT_FALSE(d.text().empty());
    named |= d.file() == "bad-weights.yaml" && d.kind() == "VirtualService" && d.name() == "httpbin" &&
             d.text().find("bad-weights.yaml") != std::string::npos;
  }
  EXPECT_TRUE(named) << "no error names bad-weights.yaml / VirtualService httpbin";
  EXPECT_EQ(r.config_version(), before->version);  // still in force
  EXPECT_EQ(agent_->config()->version, before->version);
  EXPECT_EQ(agent_->config()->generation, before->generation);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gw.received(), received);
  EXPECT_TRUE(synced("gw-a"));
  EXPECT_TRUE(logged("rejected"));

  // Unparsable YAML is rejected the same way, naming the file.
  auto y = apply({{"broken.yaml", "apiVersion: v1\nkind: [unclosed\n"}});
  EXPECT_FALSE(y.accepted());
  ASSERT_GT(y.diagnostics_size(), 0);
  EXPECT_NE(y.diagnostics(0).text().find("broken.yaml"), std::string::npos);

  // A dry run of a valid change changes nothing.
  auto dry = apply({{"public.yaml", kPublicWith8443}}, true);
  EXPECT_TRUE(dry.accepted());
  EXPECT_TRUE(dry.changed());
  EXPECT_NE(dry.config_version(), before->version);
  EXPECT_EQ(agent_->config()->version, before->version);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(gw.received(), received);
}

TEST_F(AgentTest, GatewaysReconnectWhenTheAgentComesBack) {
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  auto& gw = gateway("gw-a", kIngress);
  ASSERT_TRUE(eventually([&] { return synced("gw-a"); }));
  std::string version = gw.applied()->version();

  int port = port_;
  agent_->stop();
  agent_.reset();
  ASSERT_TRUE(eventually([&] { return !gw.state().connected; }));
  std::this_thread::sleep_for(300ms);  // a few backoff rounds against nobody
  EXPECT_GE(gw.state().reconnects, 1u);
  EXPECT_EQ(gw.state().applied_version, version);  // keeps serving the last good

  start_agent(port);
  ASSERT_EQ(port_, port);
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  ASSERT_TRUE(eventually([&] { return synced("gw-a", version); }));
  EXPECT_TRUE(gw.state().connected);
}

TEST_F(AgentTest, NodeSelectionGivesEachGatewayItsOwnSnapshot) {
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  auto& a = gateway("gw-ingress", kIngress);
  auto& b = gateway("gw-internal", kInternal);
  auto& c = gateway("gw-ingress-2", kIngress);
  ASSERT_TRUE(eventually([&] { return synced("gw-ingress") && synced("gw-internal") && synced("gw-ingress-2"); }));
  EXPECT_EQ(listener_ports(*a.applied()), std::set<uint32_t>{80});
  EXPECT_EQ(listener_ports(*b.applied()), std::set<uint32_t>{8080});
  EXPECT_NE(a.applied()->version(), b.applied()->version());
  // Same identity as gw-ingress: the same snapshot, byte for byte.
  EXPECT_EQ(c.applied()->version(), a.applied()->version());
  EXPECT_EQ(listener_ports(*c.applied()), std::set<uint32_t>{80});

  // A change to the ingress gateway's Gateway leaves the internal one alone.
  size_t b_before = b.received();
  ASSERT_TRUE(apply({{"public.yaml", kPublicWith8443}}).accepted());
  ASSERT_TRUE(eventually([&] { return a.applied() && listener_ports(*a.applied()).count(8443); }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(b.received(), b_before);
}

TEST(SnapshotIdentity, GatewaysWithTheSameIdentityGetTheSameBytes) {
  Diagnostics d;
  auto resources = load_text(kBaseConfig, "base.yaml", d);
  ASSERT_FALSE(d.has_errors());
  GatewayNode a{"gw-a", "Kubernetes", "network1", "istio-system", kIngress};
  GatewayNode b = a;
  b.id = "gw-b";
  EXPECT_EQ(serialize_snapshot(compile_snapshot(resources, a)), serialize_snapshot(compile_snapshot(resources, b)));
  b.network = "network2";
  EXPECT_NE(compile_snapshot(resources, a).version(), compile_snapshot(resources, b).version());
}

TEST_F(AgentTest, ThreeHundredGatewaysAllSync) {
  ASSERT_TRUE(apply({{"base.yaml", kBaseConfig}}).accepted());
  constexpr int kGateways = 300;
  for (int i = 0; i < kGateways; ++i) gateway("gw-" + std::to_string(i), i % 2 ? kIngress : kInternal);
  // want_8443: the ingress half must run the changed Gateway.
  auto all_synced = [&](bool want_8443) {
    auto st = agent_->proxy_status();
    if (st.gateways_size() != kGateways) return false;
    for (const auto& g : st.gateways()) {
      if (!g.connected() || g.status() != dv1::GatewayStatus::SYNCED) return false;
    }
    for (int i = 1; i < kGateways; i += 2) {
      auto applied = gateways_[i]->applied();
      if (!applied || (want_8443 && !listener_ports(*applied).count(8443))) return false;
    }
    return true;
  };
  ASSERT_TRUE(eventually([&] { return all_synced(false); }, 60s));
  ASSERT_TRUE(apply({{"public.yaml", kPublicWith8443}}).accepted());
  ASSERT_TRUE(eventually([&] { return all_synced(true); }, 60s));
  // One version per identity (ingress, internal), each acked as sent.
  auto st = agent_->proxy_status();
  std::set<std::string> versions;
  for (const auto& g : st.gateways()) {
    EXPECT_EQ(g.version_sent(), g.version_acked());
    versions.insert(g.version_acked());
  }
  EXPECT_EQ(versions.size(), 2u);
}

TEST_F(AgentTest, FirstRequestWithoutNodeIdIsRefused) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
  auto stub = dv1::GatewayDiscovery::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  auto stream = stub->StreamSnapshots(&ctx);
  dv1::SnapshotRequest hello;  // no node
  ASSERT_TRUE(stream->Write(hello));
  dv1::SnapshotResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  auto st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("node.id"), std::string::npos);
}

TEST_F(AgentTest, WatchedDirectoryChangesArePickedUpAndOverlaidByApply) {
  char tmpl[] = "/tmp/lg-agent-test-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  fs::path dir = tmpl;
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  agent_->stop();
  start_agent(0, {dir.string()});
  EXPECT_TRUE(agent_->config());  // an empty directory is a valid (empty) config
  auto& gw = gateway("gw-a", kIngress);

  // Written elsewhere and renamed in, as tools do.
  fs::create_directories(dir / "team-a");
  {
    std::ofstream(dir / "base.yaml.tmp") << kBaseConfig;
  }
  fs::rename(dir / "base.yaml.tmp", dir / "team-a" / "base.yaml");
  ASSERT_TRUE(eventually([&] { return gw.applied() && listener_ports(*gw.applied()) == std::set<uint32_t>{80}; }));
  EXPECT_TRUE(logged("config from watched directories accepted"));

  // An invalid file on disk is rejected; the gateway keeps its config.
  size_t received = gw.received();
  {
    std::ofstream(dir / "bad.yaml") << kBadWeights;
  }
  ASSERT_TRUE(eventually([&] { return logged("config from watched directories rejected"); }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(gw.received(), received);

  // Fixing it on disk works again; an applied resource overrides the file's.
  size_t accepted_before = count_logged("config from watched directories accepted") +
                           count_logged("config from watched directories unchanged");
  fs::remove(dir / "bad.yaml");
  ASSERT_TRUE(eventually([&] {
    return count_logged("config from watched directories accepted") +
               count_logged("config from watched directories unchanged") >
           accepted_before;
  }));
  ASSERT_TRUE(apply({{"public.yaml", kPublicWith8443}}).accepted());
  ASSERT_TRUE(eventually([&] { return gw.applied() && listener_ports(*gw.applied()).count(8443); }));
}

}  // namespace
}  // namespace lg::ctrl::testing
