// Handshake against a real OpenSSL client: the handshake runs over
// byte streams, then linegate's record layer takes over, after the session
// tickets OpenSSL sealed and with the client's records that arrived behind
// its Finished, and the client reads what the record layer seals.
#include "tls/session/handshake.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <memory>
#include <string>

#include "tls/record/protection.h"
#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using lg::tls_testing::Bytes;
using lg::tls_testing::PairOptions;

struct Ctx {
  SSL_CTX *server = nullptr, *client = nullptr;
  ~Ctx() {
    SSL_CTX_free(server);
    SSL_CTX_free(client);
  }
};

class TakeOver : public testing::TestWithParam<PairOptions> {
 protected:
  void SetUp() override {
    std::string error;
    ctx_.server = tls_testing::server_context(GetParam(), &error);
    ctx_.client = tls_testing::client_context(GetParam(), &error);
    ASSERT_TRUE(ctx_.server && ctx_.client) << error;
    eng_ = AeadEngine::create(&error);
    ASSERT_TRUE(eng_) << error;
  }
  Ctx ctx_;
  std::unique_ptr<AeadEngine> eng_;
};

TEST_P(TakeOver, RecordLayerTakesOverAfterTicketsWithPipelinedData) {
  const bool tls13 = GetParam().version == Version::tls13;
  SSL_CTX_set_num_tickets(ctx_.server, 2);
  Handshake hs(ctx_.server);
  tls_testing::MemoryClient c(ctx_.client);
  const std::string request = "GET / HTTP/1.1\r\nhost: linegate.test\r\n\r\n";
  bool sent = false;
  tls_testing::handshake(hs, c, [&] {
    if (SSL_is_init_finished(c.ssl()) && !sent) {
      // TLS 1.3: the client is done once it sent Finished; its first
      // request travels in the same bytes.
      EXPECT_EQ(SSL_write(c.ssl(), request.data(), static_cast<int>(request.size())), static_cast<int>(request.size()));
      sent = true;
    }
  });
  ASSERT_EQ(hs.state(), Handshake::State::done) << hs.failure();

  HandOver h;
  Bytes leftover;
  std::string error;
  ASSERT_TRUE(hs.hand_over(&h, &leftover, &error)) << error;
  EXPECT_EQ(h.aead, GetParam().aead);
  EXPECT_EQ(h.tx_sequence, tls13 ? 2u : 1u) << "two tickets went out under the application keys";
  RecordProtection rx(h.version, *eng_, h.rx, h.rx_sequence), tx(h.version, *eng_, h.tx, h.tx_sequence);

  if (!sent) {  // TLS 1.2: the client finishes after the server; it writes now
    ASSERT_EQ(SSL_write(c.ssl(), request.data(), static_cast<int>(request.size())), static_cast<int>(request.size()));
    leftover = c.written();
  }
  ASSERT_GE(leftover.size(), kHeaderLen) << "the request's record";
  ContentType type;
  Bytes got_request;
  ASSERT_EQ(tls_testing::open_one(rx, *eng_, leftover, &type, &got_request), OpenStatus::ok);
  EXPECT_EQ(type, ContentType::application_data);
  EXPECT_EQ(std::string(got_request.begin(), got_request.end()), request);

  const std::string response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  const Bytes rec = tls_testing::seal_one(tx, *eng_, ContentType::application_data, Bytes(response.begin(), response.end()));
  c.receive(rec.data(), rec.size());
  char got[256];
  const int r = SSL_read(c.ssl(), got, sizeof(got));
  ASSERT_EQ(r, static_cast<int>(response.size())) << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_EQ(std::string(got, static_cast<size_t>(r)), response);
}

const PairOptions kSuites[] = {
    {Version::tls13, "TLS_AES_128_GCM_SHA256", Aead::aes_128_gcm},
    {Version::tls13, "TLS_CHACHA20_POLY1305_SHA256", Aead::chacha20_poly1305},
    {Version::tls12, "ECDHE-ECDSA-AES256-GCM-SHA384", Aead::aes_256_gcm},
};

std::string suite_name(const testing::TestParamInfo<PairOptions>& i) {
  std::string n = i.param.suite;
  std::erase(n, '-');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Suites, TakeOver, testing::ValuesIn(kSuites), suite_name);

TEST(HandshakeEdge, SuiteWithoutOffloadStaysOnOpenSsl) {
  std::string error;
  const PairOptions cbc{Version::tls12, "ECDHE-ECDSA-AES128-SHA256", Aead::aes_128_gcm};
  Ctx ctx{tls_testing::server_context(cbc, &error), tls_testing::client_context(cbc, &error)};
  ASSERT_TRUE(ctx.server && ctx.client) << error;
  Handshake hs(ctx.server);
  tls_testing::MemoryClient c(ctx.client);
  tls_testing::handshake(hs, c);
  ASSERT_EQ(hs.state(), Handshake::State::done) << hs.failure();
  HandOver h;
  Bytes leftover;
  EXPECT_FALSE(hs.hand_over(&h, &leftover, &error));
  EXPECT_EQ(error, "suite not offloaded: ECDHE-ECDSA-AES128-SHA256");
}

TEST(HandshakeEdge, PlaintextHttpIsRefused) {
  std::string error;
  const PairOptions o{Version::tls13, "TLS_AES_128_GCM_SHA256", Aead::aes_128_gcm};
  Ctx ctx{tls_testing::server_context(o, &error), nullptr};
  ASSERT_TRUE(ctx.server) << error;
  Handshake hs(ctx.server);
  const std::string http = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";
  EXPECT_EQ(hs.input(reinterpret_cast<const uint8_t*>(http.data()), http.size()), Handshake::State::failed);
  EXPECT_FALSE(hs.failure().empty());
  HandOver h;
  Bytes leftover;
  EXPECT_FALSE(hs.hand_over(&h, &leftover, &error));
}

TEST(HandshakeEdge, NoContextIsAFailureNotACrash) {
  Handshake hs(nullptr);  // SSL_new refuses
  EXPECT_EQ(hs.state(), Handshake::State::failed);
  EXPECT_EQ(hs.failure(), "cannot create an SSL object");
  const uint8_t hello[5] = {22, 3, 1, 0, 0};
  EXPECT_EQ(hs.input(hello, sizeof(hello)), Handshake::State::failed);
  EXPECT_EQ(hs.pending_output(), 0u);
  uint8_t out[8];
  EXPECT_EQ(hs.take_output(out, sizeof(out)), 0u);
}

}  // namespace
}  // namespace lg::tls
