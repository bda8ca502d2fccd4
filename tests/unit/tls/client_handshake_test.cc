// TLS origination's client side: a ClientContext built from
// DestinationRule-style settings handshakes (Handshake::Role::client)
// against a ServerContext over byte streams; both hand over to linegate's
// record layer and each opens what the other seals, the client after the
// server's TLS 1.3 session tickets. Verification: the CA, the SNI name, the
// subjectAltNames pins, insecureSkipVerify, a client certificate for MUTUAL.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "tls/record/protection.h"
#include "tls/session/client_context.h"
#include "tls/session/handshake.h"
#include "tls/session/server_context.h"
#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using tls_testing::Bytes;
using tls_testing::Credential;
using tls_testing::KeyType;

constexpr const char* kHost = "api.origin.test";

struct Suite {
  Version version;
  const char* tls12_cipher;  // TLS 1.2 only; TLS 1.3 takes OpenSSL's first (AES-256-GCM)
  Aead aead;
};

class ClientHandshake : public testing::TestWithParam<Suite> {
 protected:
  static void SetUpTestSuite() {
    ca_ = tls_testing::issue("origin test CA", KeyType::p256);
    other_ca_ = tls_testing::issue("unrelated CA", KeyType::p256);
    server_ = tls_testing::issue(kHost, KeyType::p256, &ca_, std::string("DNS:") + kHost);
    client_ = tls_testing::issue("gateway", KeyType::p256, &ca_, "URI:spiffe://cluster.local/ns/gw/sa/gateway");
    std::string error;
    keys_ = TicketKeys::create(std::chrono::seconds(3600), &error);
    ASSERT_TRUE(keys_) << error;
  }
  static void TearDownTestSuite() { keys_.reset(); }
  std::unique_ptr<ServerContext> server(bool mutual = false) {
    ServerTlsConfig c;
    c.certificates = {{"server", server_.cert_pem, server_.key_pem}};
    c.min_version = c.max_version = GetParam().version;
    c.ticket_keys = keys_.get();  // a TLS 1.3 server sends tickets behind its Finished
    if (GetParam().tls12_cipher != nullptr) c.cipher_suites = {GetParam().tls12_cipher};
    if (mutual) {
      c.client_certificate = ClientCertificate::required;
      c.client_ca_pem = ca_.cert_pem;
    }
    std::string error;
    auto s = ServerContext::build(c, &error);
    EXPECT_TRUE(s) << error;
    return s;
  }
  ClientTlsConfig client_config() const {
    ClientTlsConfig c;
    c.ca_pem = ca_.cert_pem;
    c.verify_host = kHost;
    return c;
  }
  std::unique_ptr<ClientContext> client(const ClientTlsConfig& c) {
    std::string error;
    auto ctx = ClientContext::build(c, &error);
    EXPECT_TRUE(ctx) << error;
    return ctx;
  }
  // Flights both ways until neither side has anything to say.
  static void run(Handshake& client, Handshake& server) {
    client.input(nullptr, 0);
    uint8_t buf[16384];
    for (int i = 0; i < 10; ++i) {
      bool moved = false;
      for (auto [from, to] : {std::pair{&client, &server}, std::pair{&server, &client}}) {
        while (size_t n = from->take_output(buf, sizeof buf)) {
          moved = true;
          if (to->state() == Handshake::State::in_progress) {
            to->input(buf, n);
          } else {
            to->feed(buf, n);  // behind its last flight: records for the record layer
          }
        }
      }
      if (!moved) break;
    }
  }
  static inline Credential ca_, other_ca_, server_, client_;
  static inline std::unique_ptr<TicketKeys> keys_;
};

TEST_P(ClientHandshake, BothSidesHandOverAndOpenEachOthersRecords) {
  auto s = server();
  auto c = client(client_config());
  ASSERT_TRUE(s && c);
  Handshake srv(s->ctx());
  Handshake cli(c->ctx(), Handshake::Role::client, kHost);
  run(cli, srv);
  ASSERT_EQ(cli.state(), Handshake::State::done) << cli.failure();
  ASSERT_EQ(srv.state(), Handshake::State::done) << srv.failure();
  EXPECT_TRUE(!cli.is_server() && srv.is_server());

  std::string error;
  auto engine = AeadEngine::create(&error);
  ASSERT_TRUE(engine) << error;
  HandOver ch, sh;
  Bytes c_left, s_left;
  ASSERT_TRUE(cli.hand_over(&ch, &c_left, &error)) << error;
  ASSERT_TRUE(srv.hand_over(&sh, &s_left, &error)) << error;
  EXPECT_EQ(ch.aead, GetParam().aead);
  EXPECT_TRUE(s_left.empty());
  RecordProtection c_tx(ch.version, *engine, ch.tx, ch.tx_sequence), c_rx(ch.version, *engine, ch.rx, ch.rx_sequence);
  RecordProtection s_tx(sh.version, *engine, sh.tx, sh.tx_sequence), s_rx(sh.version, *engine, sh.rx, sh.rx_sequence);

  // TLS 1.3: the server's session tickets reached the client behind its
  // Finished; they open under the server's first application keys.
  unsigned tickets = 0;
  while (c_left.size() >= kHeaderLen) {
    const size_t len = kHeaderLen + (size_t{c_left[3]} << 8 | c_left[4]);
    ASSERT_LE(len, c_left.size());
    ContentType type;
    Bytes plain;
    ASSERT_EQ(tls_testing::open_one(c_rx, *engine, Bytes(c_left.begin(), c_left.begin() + len), &type, &plain),
              OpenStatus::ok);
    EXPECT_EQ(type, ContentType::handshake);
    EXPECT_EQ(plain.at(0), 4) << "NewSessionTicket";
    c_left.erase(c_left.begin(), c_left.begin() + static_cast<ptrdiff_t>(len));
    ++tickets;
  }
  EXPECT_EQ(tickets != 0, GetParam().version == Version::tls13);

  const Bytes request{'G', 'E', 'T', ' ', '/'};
  ContentType type;
  Bytes got;
  ASSERT_EQ(tls_testing::open_one(s_rx, *engine, tls_testing::seal_one(c_tx, *engine, ContentType::application_data, request),
                                  &type, &got),
            OpenStatus::ok);
  EXPECT_EQ(got, request);
  const Bytes response(3000, 'r');
  ASSERT_EQ(tls_testing::open_one(c_rx, *engine, tls_testing::seal_one(s_tx, *engine, ContentType::application_data, response),
                                  &type, &got),
            OpenStatus::ok);
  EXPECT_EQ(got, response);
}

TEST_P(ClientHandshake, MutualPresentsTheClientCertificate) {
  auto s = server(true);
  ClientTlsConfig cc = client_config();
  cc.certificate = CertificateKey{"gw-client", client_.cert_pem, client_.key_pem};
  auto c = client(cc);
  ASSERT_TRUE(s && c);
  Handshake srv(s->ctx());
  Handshake cli(c->ctx(), Handshake::Role::client, kHost);
  run(cli, srv);
  ASSERT_EQ(srv.state(), Handshake::State::done) << srv.failure();
  X509* peer = SSL_get0_peer_certificate(srv.ssl());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(check_peer(peer, {{"spiffe://cluster.local/ns/gw/sa/gateway"}, {}, {}}), PeerFailure::none);
}

TEST_P(ClientHandshake, AnUpstreamThatDoesNotVerifyIsRefused) {
  auto s = server();
  ASSERT_TRUE(s);
  struct Case {
    const char* what;
    ClientTlsConfig config;
    std::string sni;
    bool done;
    PeerFailure pinned;
  };
  ClientTlsConfig other_ca = client_config();
  other_ca.ca_pem = other_ca_.cert_pem;
  ClientTlsConfig wrong_name = client_config();
  wrong_name.verify_host = "other.origin.test";
  ClientTlsConfig wildcard_name = client_config();
  wildcard_name.verify_host = "x.api.origin.test";  // the certificate names api.origin.test only
  ClientTlsConfig pinned = client_config();
  pinned.server_requirements.subject_alt_names = {"someone.else.test"};
  ClientTlsConfig pinned_ok = client_config();
  pinned_ok.verify_host = "not-checked.test";  // subjectAltNames replace the name check
  pinned_ok.server_requirements.subject_alt_names = {"x.test", kHost};
  ClientTlsConfig insecure;
  insecure.insecure_skip_verify = true;
  insecure.ca_pem = other_ca_.cert_pem;
  const Case cases[] = {
      {"unrelated CA", other_ca, kHost, false, PeerFailure::none},
      {"name not on the certificate", wrong_name, kHost, false, PeerFailure::none},
      {"a deeper name", wildcard_name, kHost, false, PeerFailure::none},
      {"subjectAltNames pin someone else", pinned, kHost, false, PeerFailure::subject_alt_name},
      {"subjectAltNames pin it", pinned_ok, kHost, true, PeerFailure::none},
      {"insecureSkipVerify", insecure, "", true, PeerFailure::none},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    auto c = client(k.config);
    ASSERT_TRUE(c);
    Handshake srv(s->ctx());
    Handshake cli(c->ctx(), Handshake::Role::client, k.sni);
    run(cli, srv);
    EXPECT_EQ(cli.state(), k.done ? Handshake::State::done : Handshake::State::failed) << cli.failure();
    EXPECT_EQ(peer_failure(cli.ssl()), k.pinned);
    if (!k.done) {
      EXPECT_EQ(cli.failure_reason(), SSL_R_CERTIFICATE_VERIFY_FAILED) << cli.failure();
      EXPECT_EQ(srv.state(), Handshake::State::failed) << "the client's alert reached the server";
    }
  }
}

const Suite kSuites[] = {
    {Version::tls13, nullptr, Aead::aes_256_gcm},
    {Version::tls12, "ECDHE-ECDSA-AES128-GCM-SHA256", Aead::aes_128_gcm},
    {Version::tls12, "ECDHE-ECDSA-CHACHA20-POLY1305", Aead::chacha20_poly1305},
};

std::string suite_name(const testing::TestParamInfo<Suite>& i) {
  return i.param.version == Version::tls13 ? "TLS13" : std::string("TLS12_") + (i.param.aead == Aead::aes_128_gcm ? "AES128" : "CHACHA20");
}

INSTANTIATE_TEST_SUITE_P(Suites, ClientHandshake, testing::ValuesIn(kSuites), suite_name);

TEST(ClientContextErrors, NameWhatIsWrong) {
  const Credential ca = tls_testing::issue("CA", KeyType::p256);
  const Credential leaf = tls_testing::issue("leaf", KeyType::p256, &ca);
  struct Case {
    ClientTlsConfig config;
    std::string error;
  };
  ClientTlsConfig bad_ca;
  bad_ca.ca_pem = "not a certificate";
  ClientTlsConfig bad_key;
  bad_key.ca_pem = ca.cert_pem;
  bad_key.certificate = CertificateKey{"credential gw-client", leaf.cert_pem, "garbage"};
  ClientTlsConfig wrong_key = bad_key;
  wrong_key.certificate->private_key_pem = ca.key_pem;
  ClientTlsConfig versions;
  versions.min_version = Version::tls13;
  versions.max_version = Version::tls12;
  ClientTlsConfig ciphers;
  ciphers.cipher_suites = {"NO-SUCH-CIPHER"};
  const Case cases[] = {
      {bad_ca, "caCertificates: no PEM certificate"},
      {bad_key, "credential gw-client: no PEM private key"},
      {wrong_key, "credential gw-client: the private key does not match the certificate"},
      {versions, "minProtocolVersion is above maxProtocolVersion"},
      {ciphers, "cipherSuites: none is known"},
  };
  for (const Case& k : cases) {
    std::string error;
    EXPECT_EQ(ClientContext::build(k.config, &error), nullptr) << k.error;
    EXPECT_EQ(error.rfind(k.error, 0), 0u) << error;
  }
}

}  // namespace
}  // namespace lg::tls
