// linegate-agent's workload CA in-process: a gateway-side request_certificate
// over real gRPC, the self-signed root, a cacerts Secret plugged in through
// the watched directory (and a bad one, and its removal), refusals.
#include "agent_fixtures.h"

#include "ctrl/ca/csr.h"
#include "ctrl/client/certificate_client.h"
#include "tests/unit/ctrl/ca/ca_fixtures.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace lg::ctrl {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ca::testing::TestCa;
using ca::testing::make_cert;
using ca::testing::verify;
using testing::AgentLog;

constexpr const char* kId = "spiffe://cluster.local/ns/istio-system/sa/linegate-ingress";

std::string base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Istio's plug-in CA Secret, `data` base64 as the API server stores it; an
// empty value leaves its key out (cert-chain.pem when ca-cert is the root).
std::string cacerts_yaml(const std::string& ca_cert, const std::string& ca_key, const std::string& chain,
                         const std::string& root) {
  std::string out = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cacerts\n  namespace: istio-system\n"
                    "type: Opaque\ndata:\n";
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"ca-cert.pem", ca_cert},
                                   {"ca-key.pem", ca_key},
                                   {"cert-chain.pem", chain},
                                   {"root-cert.pem", root}})
    if (!value.empty()) out += std::string("  ") + key + ": " + base64(value) + "\n";
  return out;
}

class AgentCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lg-agent-ca-test-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void start_agent(AgentOptions::CaMode mode = AgentOptions::CaMode::self_signed) {
    AgentOptions o;
    o.listen = "127.0.0.1:0";
    o.watch_dirs = {dir_.string()};
    // The test rereads the directory itself (reload_watched) so each step
    // sees exactly what it wrote; the watcher never fires in time.
    o.debounce = 10min;
    o.ca = mode;
    o.workload_cert_ttl = 3600s;
    o.max_workload_cert_ttl = 7200s;
    o.log = log_.sink();
    agent_ = std::make_unique<Agent>(o);
    std::string error;
    ASSERT_TRUE(agent_->start(error)) << error;
    target_ = "127.0.0.1:" + std::to_string(agent_->port());
  }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / (name + ".tmp")) << content;
    fs::rename(dir_ / (name + ".tmp"), dir_ / name);
  }

  // A certificate for `id` from the agent; the chain, or empty with error_.
  std::vector<std::string> issue(const std::string& id = kId, int64_t ttl = 0) {
    std::string key, csr;
    EXPECT_TRUE(ca::make_key_and_csr(id, &key, &csr, &error_)) << error_;
    std::vector<std::string> chain;
    error_.clear();
    if (!request_certificate(target_, csr, ttl, 10s, chain, error_)) chain.clear();
    return chain;
  }

  bool logged(const std::string& needle) { return log_.count(needle) > 0; }

  fs::path dir_;
  std::unique_ptr<Agent> agent_;
  std::string target_, error_;
  AgentLog log_;
};

TEST_F(AgentCaTest, IssuesACertificateThatChainsToItsSelfSignedRoot) {
  start_agent();
  auto ca = agent_->certificate_authority();
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->source(), "self-signed");
  std::vector<std::string> chain = issue(kId, 600);
  ASSERT_EQ(chain.size(), 2u) << error_;
  EXPECT_EQ(chain.back(), ca->root_cert_pem());
  EXPECT_EQ(verify(chain, ca->root_cert_pem()), "");
  auto leaf = ca::testing::parse(chain.front());
  EXPECT_EQ(ca::testing::san_uris(leaf.get()), std::vector<std::string>{kId});
  EXPECT_TRUE(logged(std::string("CA: issued ") + kId + " ttl 600s serial "));
  // The agent's TTL options: default when none is asked, cut to the maximum.
  chain = issue(kId, 0);
  ASSERT_FALSE(chain.empty()) << error_;
  EXPECT_TRUE(logged(std::string("CA: issued ") + kId + " ttl 3600s"));
  chain = issue(kId, 86400);
  ASSERT_FALSE(chain.empty()) << error_;
  EXPECT_TRUE(logged(std::string("CA: issued ") + kId + " ttl 7200s"));
  EXPECT_TRUE(logged("no caller authentication"));
}

TEST_F(AgentCaTest, CacertsSecretPlugsInAnIntermediateAndItsRemovalGoesBack) {
  start_agent();
  const std::string self_root = agent_->certificate_authority()->root_cert_pem();

  TestCa root = make_cert("plugged root", nullptr);
  TestCa inter = make_cert("plugged intermediate", &root);
  write("cacerts.yaml", cacerts_yaml(inter.cert_pem(), inter.key_pem(), inter.cert_pem() + root.cert_pem(),
                                     root.cert_pem()));
  agent_->reload_watched();
  EXPECT_TRUE(logged("CA: loaded Secret istio-system/cacerts"));
  std::vector<std::string> chain = issue();
  ASSERT_EQ(chain.size(), 3u) << error_;
  EXPECT_EQ(chain[1], inter.cert_pem());
  EXPECT_EQ(chain[2], root.cert_pem());
  EXPECT_EQ(verify(chain, root.cert_pem()), "");
  EXPECT_NE(verify(chain, self_root), "");
  EXPECT_TRUE(logged("(cacerts)"));

  // A cacerts whose key does not match: refused, the plugged CA keeps signing.
  TestCa stranger = make_cert("stranger", nullptr);
  write("cacerts.yaml", cacerts_yaml(inter.cert_pem(), stranger.key_pem(), "", root.cert_pem()));
  agent_->reload_watched();
  EXPECT_TRUE(logged("CA: Secret istio-system/cacerts rejected: ca-key.pem does not match ca-cert.pem"));
  EXPECT_TRUE(logged("; still signing with plugged-in CA CN=plugged intermediate"));
  chain = issue();
  ASSERT_EQ(chain.size(), 3u) << error_;
  EXPECT_EQ(verify(chain, root.cert_pem()), "");

  // The Secret gone: back to the root the agent made at start.
  fs::remove(dir_ / "cacerts.yaml");
  agent_->reload_watched();
  EXPECT_TRUE(logged("Secret istio-system/cacerts is gone: back to the self-signed root"));
  chain = issue();
  ASSERT_EQ(chain.size(), 2u) << error_;
  EXPECT_EQ(verify(chain, self_root), "");
}

TEST_F(AgentCaTest, CacertsInAnotherNamespaceIsIgnored) {
  start_agent();
  TestCa root = make_cert("plugged root", nullptr);
  std::string yaml = cacerts_yaml(root.cert_pem(), root.key_pem(), "", root.cert_pem());
  yaml.replace(yaml.find("namespace: istio-system"), 23, "namespace: default");
  write("cacerts.yaml", yaml);
  agent_->reload_watched();
  ASSERT_TRUE(agent_->config());
  EXPECT_EQ(agent_->config()->resources.size(), 1u);
  EXPECT_EQ(agent_->certificate_authority()->source(), "self-signed");
}

TEST_F(AgentCaTest, BadRequestsAreInvalidArgumentWithTheReason) {
  start_agent();
  std::vector<std::string> chain;
  std::string error;
  EXPECT_FALSE(request_certificate(target_, "not a csr", 0, 10s, chain, error));
  EXPECT_NE(error.find("INVALID_ARGUMENT: csr: not a PEM certificate request"), std::string::npos) << error;
  EXPECT_TRUE(chain.empty());

  chain = issue("spiffe://example.org/ns/default/sa/bookinfo");
  EXPECT_TRUE(chain.empty());
  EXPECT_NE(error_.find("INVALID_ARGUMENT"), std::string::npos) << error_;
  EXPECT_NE(error_.find("trust domain \"example.org\" is not this CA's (\"cluster.local\")"), std::string::npos)
      << error_;
  EXPECT_TRUE(logged("CA: refused a CSR from "));
}

TEST_F(AgentCaTest, CaOffAnswersUnavailableEvenWithCacerts) {
  TestCa root = make_cert("plugged root", nullptr);
  write("cacerts.yaml", cacerts_yaml(root.cert_pem(), root.key_pem(), "", root.cert_pem()));
  start_agent(AgentOptions::CaMode::off);
  EXPECT_FALSE(agent_->certificate_authority());
  EXPECT_TRUE(issue().empty());
  EXPECT_NE(error_.find("UNAVAILABLE: the agent's CA is off (--ca off)"), std::string::npos) << error_;
}

TEST(RequestCertificate, NoAgentIsADeadlineError) {
  // Port 1: nothing listens there; the call waits for it until the deadline.
  std::vector<std::string> chain;
  std::string error;
  EXPECT_FALSE(request_certificate("127.0.0.1:1", "csr", 0, 300ms, chain, error));
  EXPECT_NE(error.find("DEADLINE_EXCEEDED"), std::string::npos) << error;
}

}  // namespace
}  // namespace lg::ctrl
