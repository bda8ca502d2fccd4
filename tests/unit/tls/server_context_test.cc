// ServerContext from Gateway-style settings, against OpenSSL clients:
// certificates per key type, versions, ALPN, client certificates (MUTUAL,
// OPTIONAL_MUTUAL), and the errors a bad credential gets.
#include "tls/session/server_context.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "tls/session/context_util.h"
#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using tls_testing::Credential;
using tls_testing::KeyType;
using tls_testing::MemoryClient;

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

CtxPtr client_ctx(int max_version = TLS1_3_VERSION) {
  CtxPtr c(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_max_proto_version(c.get(), max_version);
  return c;
}

bool use_client_cert(SSL_CTX* ctx, const Credential& cred) {
  const std::vector<X509Ptr> certs = read_certificates(cred.cert_pem);
  const PkeyPtr key = read_private_key(cred.key_pem);
  return !certs.empty() && key != nullptr && SSL_CTX_use_certificate(ctx, certs.front().get()) == 1 &&
         SSL_CTX_use_PrivateKey(ctx, key.get()) == 1;
}

// key_pem as PKCS#8 encrypted under a passphrase.
std::string encrypted_key(const std::string& key_pem) {
  const PkeyPtr key = read_private_key(key_pem);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  if (key == nullptr || out == nullptr ||
      PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                    const_cast<char*>("passphrase")) != 1)
    return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

class ServerContextTest : public testing::Test {
 protected:
  // RSA key generation is slow: one CA and server pair for the suite.
  static void SetUpTestSuite() {
    ca_ = tls_testing::issue("linegate test CA", KeyType::p256);
    ecdsa_ = tls_testing::issue("gw.example.com", KeyType::p256, &ca_);
    rsa_ = tls_testing::issue("gw.example.com", KeyType::rsa2048, &ca_);
  }
  ServerTlsConfig simple() const {
    ServerTlsConfig c;
    c.certificates = {{"ecdsa-cred", ecdsa_.cert_pem, ecdsa_.key_pem}, {"rsa-cred", rsa_.cert_pem, rsa_.key_pem}};
    c.alpn = {"http/1.1"};
    return c;
  }
  std::unique_ptr<ServerContext> build(const ServerTlsConfig& c) {
    std::string error;
    auto s = ServerContext::build(c, &error);
    EXPECT_TRUE(s) << error;
    return s;
  }
  // One handshake; the server's state at the end.
  Handshake::State connect(const ServerContext& s, MemoryClient& c, Handshake** out = nullptr) {
    hs_ = std::make_unique<Handshake>(s.ctx());
    tls_testing::handshake(*hs_, c);
    if (out) *out = hs_.get();
    return hs_->state();
  }
  std::unique_ptr<ServerContext> mutual(ClientCertificate mode) {
    ServerTlsConfig m = simple();
    m.client_certificate = mode;
    m.client_ca_pem = ca_.cert_pem;
    return build(m);
  }
  // A TLS 1.3 client, presenting `cert` when given.
  Handshake::State connect_as(const ServerContext& s, const Credential* cert = nullptr) {
    CtxPtr cc = client_ctx();
    if (cert != nullptr) {
      EXPECT_TRUE(use_client_cert(cc.get(), *cert));
    }
    MemoryClient c(cc.get());
    return connect(s, c);
  }
  static inline Credential ca_, ecdsa_, rsa_;
  std::unique_ptr<Handshake> hs_;
};

TEST_F(ServerContextTest, TheClientsOfferPicksTheCertificate) {
  auto s = build(simple());
  ASSERT_TRUE(s);
  for (const auto& [suite, key_type] : {std::pair{"ECDHE-ECDSA-AES128-GCM-SHA256", EVP_PKEY_EC},
                                        std::pair{"ECDHE-RSA-AES128-GCM-SHA256", EVP_PKEY_RSA}}) {
    CtxPtr cc = client_ctx(TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(cc.get(), suite);
    MemoryClient c(cc.get());
    ASSERT_EQ(connect(*s, c), Handshake::State::done) << suite << ": " << hs_->failure();
    EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(SSL_get0_peer_certificate(c.ssl()))), key_type) << suite;
  }
}

// RFC 7301: the server's preference among what the client offers; nothing
// in common is a failed handshake. The connection is TLS 1.3, offloadable.
TEST_F(ServerContextTest, AlpnAndHandOverOnTls13) {
  auto s = build(simple());
  ASSERT_TRUE(s);
  for (const std::string& offer : {std::string("\x02h2\x08http/1.1"), std::string("\x02h2")}) {
    CtxPtr cc = client_ctx();
    SSL_CTX_set_alpn_protos(cc.get(), reinterpret_cast<const unsigned char*>(offer.data()),
                            static_cast<unsigned>(offer.size()));
    MemoryClient c(cc.get());
    Handshake* hs = nullptr;
    const Handshake::State st = connect(*s, c, &hs);
    if (offer.size() == 3) {
      EXPECT_EQ(st, Handshake::State::failed) << "no protocol in common";
      continue;
    }
    ASSERT_EQ(st, Handshake::State::done) << hs->failure();
    const unsigned char* chosen = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(c.ssl(), &chosen, &len);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(chosen), len), "http/1.1");
    HandOver h;
    tls_testing::Bytes leftover;
    std::string error;
    EXPECT_TRUE(hs->hand_over(&h, &leftover, &error)) << error;
    EXPECT_EQ(h.version, Version::tls13);
  }
}

TEST_F(ServerContextTest, VersionsBelowTheMinimumAreRefused) {
  auto s = build(simple());
  ASSERT_TRUE(s);
  CtxPtr cc = client_ctx(TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(cc.get(), "DEFAULT:@SECLEVEL=0");  // lets the client offer TLS 1.1 at all
  SSL_CTX_set_min_proto_version(cc.get(), TLS1_VERSION);
  MemoryClient c(cc.get());
  EXPECT_EQ(connect(*s, c), Handshake::State::failed);
  EXPECT_NE(hs_->failure().find("protocol"), std::string::npos) << hs_->failure();

  ServerTlsConfig only13 = simple();
  only13.min_version = Version::tls13;
  auto s13 = build(only13);
  ASSERT_TRUE(s13);
  CtxPtr c12 = client_ctx(TLS1_2_VERSION);
  MemoryClient c2(c12.get());
  EXPECT_EQ(connect(*s13, c2), Handshake::State::failed);
}

TEST_F(ServerContextTest, MutualWantsACertificateFromTheCa) {
  auto s = mutual(ClientCertificate::required);
  ASSERT_TRUE(s);
  EXPECT_EQ(connect_as(*s), Handshake::State::failed) << "no client certificate";
  const Credential other_ca = tls_testing::issue("another CA", KeyType::p256);
  const Credential stranger = tls_testing::issue("client", KeyType::p256, &other_ca);
  EXPECT_EQ(connect_as(*s, &stranger), Handshake::State::failed) << "a certificate from another CA";
  const Credential client = tls_testing::issue("client", KeyType::p256, &ca_);
  ASSERT_EQ(connect_as(*s, &client), Handshake::State::done) << hs_->failure();
  EXPECT_NE(SSL_get0_peer_certificate(hs_->ssl()), nullptr);
}

TEST_F(ServerContextTest, OptionalMutualLetsAClientWithoutCertificateIn) {
  auto s = mutual(ClientCertificate::optional);
  ASSERT_TRUE(s);
  EXPECT_EQ(connect_as(*s), Handshake::State::done) << hs_->failure();
}

TEST_F(ServerContextTest, BadSettingsGetClearErrors) {
  std::string error;
  ServerTlsConfig c = simple();
  c.certificates = {{"cred-a", ecdsa_.cert_pem, rsa_.key_pem}};
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_NE(error.find("cred-a: the private key does not match the certificate"), std::string::npos) << error;
  c.certificates = {{"cred-b", "not a certificate", ecdsa_.key_pem}};
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error.rfind("cred-b: no PEM certificate", 0), 0u) << error;
  c.certificates = {{"cred-c", ecdsa_.cert_pem, "not a key"}};
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error.rfind("cred-c: no PEM private key", 0), 0u) << error;
  // An encrypted key is refused with the same error, never a passphrase prompt.
  c.certificates = {{"cred-d", ecdsa_.cert_pem, encrypted_key(ecdsa_.key_pem)}};
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error.rfind("cred-d: no PEM private key", 0), 0u) << error;
  c = simple();
  c.min_version = Version::tls13;
  c.max_version = Version::tls12;
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error, "minProtocolVersion is above maxProtocolVersion");
  c = simple();
  c.cipher_suites = {"NOT-A-SUITE"};
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error.rfind("cipherSuites: none is known", 0), 0u) << error;
  c = simple();
  c.client_certificate = ClientCertificate::required;
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error, "client CA: no PEM certificate");
  c = simple();
  c.certificates.clear();
  EXPECT_FALSE(ServerContext::build(c, &error));
  EXPECT_EQ(error, "no certificate");
}

}  // namespace
}  // namespace lg::tls
