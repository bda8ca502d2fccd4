// Resumption across ticket key rotations, against an OpenSSL client: a
// ticket resumes under the key that sealed it and under the next one (and
// is re-issued), not after two rotations; TLS 1.3 and 1.2.
#include "tls/session/ticket_keys.h"

#include <gtest/gtest.h>

#include <thread>

#include "tls/session/server_context.h"
#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using tls_testing::KeyType;
using tls_testing::MemoryClient;

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};

class Tickets : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const auto ca = tls_testing::issue("ca", KeyType::p256);
    const auto leaf = tls_testing::issue("gw.example.com", KeyType::p256, &ca);
    ServerTlsConfig c;
    c.certificates = {{"cred", leaf.cert_pem, leaf.key_pem}};
    std::string error;
    server_ = ServerContext::build(c, &error);
    ASSERT_TRUE(server_) << error;
    keys_.install(server_->ctx());
    client_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_max_proto_version(client_.get(), GetParam());
  }

  // One connection, resuming `session` when given; whether it resumed, and
  // the session (ticket) the client holds afterwards.
  bool connect(SSL_SESSION* session, std::unique_ptr<SSL_SESSION, SessionFree>* after) {
    MemoryClient c(client_.get());
    if (session != nullptr) SSL_set_session(c.ssl(), session);
    ServerHandshake hs(server_->ctx());
    tls_testing::handshake(hs, c);
    EXPECT_EQ(hs.state(), ServerHandshake::State::done) << hs.failure();
    Bytes out(hs.pending_output());  // TLS 1.3 tickets come after the handshake
    out.resize(hs.take_output(out.data(), out.size()));
    c.receive(out.data(), out.size());
    char b;
    SSL_read(c.ssl(), &b, 1);  // takes them in; no data yet
    after->reset(SSL_get1_session(c.ssl()));
    return SSL_session_reused(hs.ssl()) == 1;
  }
  using Bytes = tls_testing::Bytes;

  std::unique_ptr<ServerContext> server_;
  TicketKeys keys_{std::chrono::milliseconds(0)};
  std::unique_ptr<SSL_CTX, CtxFree> client_;
};

TEST_P(Tickets, ResumeUnderTheCurrentAndThePreviousKeyOnly) {
  std::unique_ptr<SSL_SESSION, SessionFree> first, again, renewed, stale;
  EXPECT_FALSE(connect(nullptr, &first));
  ASSERT_TRUE(SSL_SESSION_is_resumable(first.get()));
  ASSERT_TRUE(SSL_SESSION_has_ticket(first.get()));
  EXPECT_TRUE(connect(first.get(), &again)) << "the current key opens its ticket";

  ASSERT_TRUE(keys_.rotate());
  EXPECT_TRUE(connect(first.get(), &renewed)) << "the previous key still opens it";
  ASSERT_TRUE(keys_.rotate());
  EXPECT_TRUE(connect(renewed.get(), &stale)) << "the ticket re-issued under the then-current key";
  EXPECT_FALSE(connect(first.get(), &stale)) << "two rotations later: a full handshake";
}

TEST(TicketKeyRotation, TooSoonIsRefused) {
  TicketKeys keys(std::chrono::milliseconds(50));
  EXPECT_FALSE(keys.rotate());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_TRUE(keys.rotate());
  EXPECT_FALSE(keys.rotate());
}

INSTANTIATE_TEST_SUITE_P(Versions, Tickets, testing::Values(TLS1_3_VERSION, TLS1_2_VERSION),
                         [](const testing::TestParamInfo<int>& i) {
                           return std::string(i.param == TLS1_3_VERSION ? "tls13" : "tls12");
                         });

}  // namespace
}  // namespace lg::tls
