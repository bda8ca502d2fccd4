// The gateway's workload identity: a SPIFFE leaf, its key and the mesh
// roots are accepted only together (one spiffe:// URI SAN, the key is the
// leaf's, the chain verifies to a root at that time); and the
// x-forwarded-client-cert element a server builds for a verified client.
#include "tls/session/workload_identity.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "tls/session/client_cert_details.h"
#include "tls/session/server_context.h"
#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using tls_testing::Credential;
using tls_testing::KeyType;

constexpr const char* kGw = "spiffe://cluster.local/ns/istio-system/sa/gw";

struct Pki {
  Credential root = tls_testing::issue("mesh root", KeyType::p256);
  Credential intermediate = tls_testing::issue("mesh intermediate", KeyType::p256, &root, "", true);
  Credential leaf = tls_testing::issue("gw", KeyType::p256, &root, std::string("URI:") + kGw);
  Credential other_root = tls_testing::issue("other root", KeyType::p256);
};

std::shared_ptr<const WorkloadIdentity> load(const std::string& chain, const std::string& key,
                                             const std::string& roots, std::string* error,
                                             std::chrono::system_clock::time_point now =
                                                 std::chrono::system_clock::now()) {
  return WorkloadIdentity::load(chain, key, roots, "test", now, error);
}

TEST(WorkloadIdentity, AcceptsASpiffeLeafWithItsKeyAndRoot) {
  Pki p;
  std::string error;
  auto id = load(p.leaf.cert_pem, p.leaf.key_pem, p.root.cert_pem, &error);
  ASSERT_NE(id, nullptr) << error;
  EXPECT_EQ(id->spiffe_id, kGw);
  EXPECT_EQ(id->trust_domain, "cluster.local");
  EXPECT_LT(id->not_before, id->not_after);
}

TEST(WorkloadIdentity, AcceptsAChainThroughAnIntermediate) {
  Pki p;
  Credential leaf = tls_testing::issue("gw2", KeyType::rsa2048, &p.intermediate, std::string("URI:") + kGw);
  std::string error;
  EXPECT_NE(load(leaf.cert_pem + p.intermediate.cert_pem, leaf.key_pem, p.root.cert_pem, &error), nullptr) << error;
  EXPECT_EQ(load(leaf.cert_pem, leaf.key_pem, p.root.cert_pem, &error), nullptr);  // the intermediate missing
  EXPECT_NE(error.find("does not verify"), std::string::npos) << error;
}

TEST(WorkloadIdentity, RefusesPartsThatDoNotFit) {
  Pki p;
  Credential dns_only = tls_testing::issue("gw", KeyType::p256, &p.root, "DNS:gw.example.com");
  Credential two = tls_testing::issue("gw", KeyType::p256, &p.root, std::string("URI:") + kGw + ",URI:spiffe://x/y");
  Credential http_uri = tls_testing::issue("gw", KeyType::p256, &p.root, "URI:https://gw.example.com/");
  struct Case {
    std::string chain, key, roots, want;
  } cases[] = {
      {"", p.leaf.key_pem, p.root.cert_pem, "no certificate in the certificate chain"},
      {p.leaf.cert_pem, p.leaf.key_pem, "garbage", "no certificate in the root certificates"},
      {dns_only.cert_pem, dns_only.key_pem, p.root.cert_pem, "no single spiffe:// URI SAN"},
      {two.cert_pem, two.key_pem, p.root.cert_pem, "no single spiffe:// URI SAN"},
      {http_uri.cert_pem, http_uri.key_pem, p.root.cert_pem, "no single spiffe:// URI SAN"},
      {p.leaf.cert_pem, p.root.key_pem, p.root.cert_pem, "the private key is not the certificate's"},
      {p.leaf.cert_pem, "not a key", p.root.cert_pem, "private key:"},
      {p.leaf.cert_pem, p.leaf.key_pem, p.other_root.cert_pem, "does not verify to the roots"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_EQ(load(c.chain, c.key, c.roots, &error), nullptr) << c.want;
    EXPECT_NE(error.find("test: "), std::string::npos) << error;
    EXPECT_NE(error.find(c.want), std::string::npos) << error;
  }
}

TEST(WorkloadIdentity, RefusesAnExpiredCertificate) {
  Pki p;
  std::string error;
  EXPECT_EQ(load(p.leaf.cert_pem, p.leaf.key_pem, p.root.cert_pem, &error,
                 std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 20)),
            nullptr);
  EXPECT_NE(error.find("expired"), std::string::npos) << error;
}

TEST(SpiffeTrustDomain, ParsesOnlySpiffeIds) {
  EXPECT_EQ(spiffe_trust_domain("spiffe://cluster.local/ns/a/sa/b"), "cluster.local");
  EXPECT_EQ(spiffe_trust_domain("spiffe:///ns/a"), "");
  EXPECT_EQ(spiffe_trust_domain("spiffe://td"), "");
  EXPECT_EQ(spiffe_trust_domain("https://td/x"), "");
}

// A MUTUAL handshake whose client presents `client`; the server's element.
std::string details_after_handshake(const Credential& server, const Credential& client, const Credential& ca) {
  ServerTlsConfig cfg;
  cfg.certificates.push_back({"server", server.cert_pem, server.key_pem});
  cfg.client_certificate = ClientCertificate::required;
  cfg.client_ca_pem = ca.cert_pem;
  std::string error;
  auto ctx = ServerContext::build(cfg, &error);
  EXPECT_NE(ctx, nullptr) << error;
  if (ctx == nullptr) return {};
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  tls_testing::use_credential(cctx, client);
  tls_testing::MemoryClient c(cctx);
  SSL_CTX_free(cctx);
  Handshake hs(ctx->ctx(), Handshake::Role::server);
  tls_testing::handshake(hs, c);
  EXPECT_EQ(hs.state(), Handshake::State::done);
  char out[1024];
  return {out, client_cert_details(hs.ssl(), out, sizeof out)};
}

TEST(ClientCertDetails, NamesTheVerifierAndTheCaller) {
  Pki p;
  Credential sleep = tls_testing::issue("sleep", KeyType::p256, &p.root,
                                        "URI:spiffe://cluster.local/ns/default/sa/sleep,DNS:sleep.default");
  const std::string got = details_after_handshake(p.leaf, sleep, p.root);
  auto bio = tls_testing::pem_cert(sleep.cert_pem);
  unsigned char md[32];
  unsigned int n = 0;
  ASSERT_EQ(X509_digest(bio.get(), EVP_sha256(), md, &n), 1);
  std::string hex;
  for (unsigned i = 0; i < n; ++i) hex += "0123456789abcdef"[md[i] >> 4], hex += "0123456789abcdef"[md[i] & 15];
  EXPECT_EQ(got, std::string("By=") + kGw + ";Hash=" + hex +
                     ";Subject=\"CN=sleep\";URI=spiffe://cluster.local/ns/default/sa/sleep;DNS=sleep.default");
}

TEST(ClientCertDetails, LeavesOutNamesThatWouldForgeFields) {
  Pki p;
  Credential sneaky = tls_testing::issue("a\"b", KeyType::p256, &p.root, "URI:spiffe://td/x;URI=spiffe://admin");
  const std::string got = details_after_handshake(p.leaf, sneaky, p.root);
  EXPECT_EQ(got.find("URI="), std::string::npos) << got;
  EXPECT_NE(got.find("Subject=\"CN=a\\\\\\\"b\""), std::string::npos) << got;
}

std::string values(std::string_view element, std::string_view key) {
  char out[512];
  return {out, xfcc_values(element, key, out, sizeof out)};
}

TEST(ClientCertDetails, ValuesReadBackEveryUriAndTheVerifier) {
  Pki p;
  Credential two = tls_testing::issue("two", KeyType::p256, &p.root,
                                      "URI:spiffe://cluster.local/ns/a/sa/one,URI:spiffe://cluster.local/ns/a/sa/two");
  const std::string got = details_after_handshake(p.leaf, two, p.root);
  EXPECT_EQ(values(got, "URI"), "spiffe://cluster.local/ns/a/sa/one,spiffe://cluster.local/ns/a/sa/two") << got;
  EXPECT_EQ(values(got, "By"), kGw) << got;
  EXPECT_EQ(values(got, "DNS"), "") << got;
}

TEST(ClientCertDetails, ValuesIgnoreFieldsInsideTheQuotedSubject) {
  // RFC 2253 prints the ';' escaped, inside the quoted Subject: no field starts there.
  Pki p;
  Credential sneaky = tls_testing::issue("x;URI=spiffe://admin", KeyType::p256, &p.root,
                                         "URI:spiffe://cluster.local/ns/a/sa/real");
  const std::string got = details_after_handshake(p.leaf, sneaky, p.root);
  ASSERT_NE(got.find("URI=spiffe://admin"), std::string::npos) << "the test must put the look-alike in: " << got;
  EXPECT_EQ(values(got, "URI"), "spiffe://cluster.local/ns/a/sa/real") << got;
  Credential quoted = tls_testing::issue("q\";URI=spiffe://admin", KeyType::p256, &p.root,
                                         "URI:spiffe://cluster.local/ns/a/sa/real");
  EXPECT_EQ(values(details_after_handshake(p.leaf, quoted, p.root), "URI"), "spiffe://cluster.local/ns/a/sa/real");
}

TEST(ClientCertDetails, ValuesThatDoNotFitAreLeftOut) {
  char out[8];
  EXPECT_EQ(std::string(out, xfcc_values("URI=aaaa;URI=bbbbbbbbbb;URI=cc", "URI", out, sizeof out)), "aaaa,cc");
}

}  // namespace
}  // namespace lg::tls
