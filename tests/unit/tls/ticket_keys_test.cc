// Resumption with process-wide ticket keys, against an OpenSSL client, TLS
// 1.3 and 1.2: a ticket resumes under the key that sealed it and under the
// next one (and is re-issued), not after two rotations; it resumes on a
// context built later with the same keys (a config push, a renewed
// certificate) but not on one that proves other names or checks clients
// differently; no keys, no tickets; a resumed handshake hands over to
// linegate's record layer after the records OpenSSL sealed.
#include "tls/session/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <thread>

#include "tls/record/protection.h"
#include "tls/session/server_context.h"
#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using tls_testing::Bytes;
using tls_testing::Credential;
using tls_testing::KeyType;
using tls_testing::MemoryClient;

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

// Not OpenSSL's default session timeout (7200 s) doubled or halved, so the
// lifetime test sees ours.
constexpr auto kPeriod = std::chrono::minutes(90);

class Tickets : public testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() {
    ca_ = tls_testing::issue("linegate test CA", KeyType::p256);
    leaf_ = tls_testing::issue("gw.example.com", KeyType::p256, &ca_);
  }
  void SetUp() override {
    std::string error;
    keys_ = TicketKeys::create(kPeriod, &error, std::chrono::milliseconds(0));
    ASSERT_TRUE(keys_) << error;
    server_ = build(config(leaf_));
    ASSERT_TRUE(server_);
    client_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_max_proto_version(client_.get(), GetParam());
  }

  ServerTlsConfig config(const Credential& cert) const {
    ServerTlsConfig c;
    c.certificates = {{"cred", cert.cert_pem, cert.key_pem}};
    c.ticket_keys = keys_.get();
    return c;
  }
  static std::unique_ptr<ServerContext> build(const ServerTlsConfig& c) {
    std::string error;
    auto s = ServerContext::build(c, &error);
    EXPECT_TRUE(s) << error;
    return s;
  }

  // One connection to `server`, resuming `session` when given; whether it
  // resumed, and the session (ticket) the client holds afterwards.
  bool connect(const ServerContext& server, SSL_SESSION* session, SessionPtr* after) {
    MemoryClient c(client_.get());
    if (session != nullptr) SSL_set_session(c.ssl(), session);
    Handshake hs(server.ctx());
    tls_testing::handshake(hs, c);
    EXPECT_EQ(hs.state(), Handshake::State::done) << hs.failure();
    Bytes out(hs.pending_output());  // TLS 1.3 tickets come after the handshake
    out.resize(hs.take_output(out.data(), out.size()));
    c.receive(out.data(), out.size());
    char b;
    SSL_read(c.ssl(), &b, 1);  // takes them in; no data yet
    after->reset(SSL_get1_session(c.ssl()));
    const bool server_resumed = SSL_session_reused(hs.ssl()) == 1;
    EXPECT_EQ(SSL_session_reused(c.ssl()) == 1, server_resumed);
    return server_resumed;
  }
  bool connect(SSL_SESSION* session, SessionPtr* after) { return connect(*server_, session, after); }

  // A first, full handshake's session, with a ticket to resume.
  SessionPtr first_session() {
    SessionPtr s;
    EXPECT_FALSE(connect(nullptr, &s));
    EXPECT_TRUE(s && SSL_SESSION_is_resumable(s.get()) && SSL_SESSION_has_ticket(s.get()));
    return s;
  }

  static Credential ca_, leaf_;
  std::unique_ptr<TicketKeys> keys_;
  std::unique_ptr<ServerContext> server_;
  std::unique_ptr<SSL_CTX, CtxFree> client_;
};

Credential Tickets::ca_, Tickets::leaf_;

TEST_P(Tickets, ResumeUnderTheCurrentAndThePreviousKeyOnly) {
  SessionPtr first = first_session(), again, renewed, stale;
  EXPECT_TRUE(connect(first.get(), &again)) << "the current key opens its ticket";

  ASSERT_TRUE(keys_->rotate());
  EXPECT_TRUE(connect(first.get(), &renewed)) << "the previous key still opens it";
  ASSERT_TRUE(keys_->rotate());
  EXPECT_FALSE(connect(first.get(), &stale)) << "two rotations later: a full handshake";
  EXPECT_TRUE(connect(renewed.get(), &stale)) << "the ticket was re-issued under the then-current key";
  EXPECT_EQ(keys_->rotations(), 2u);
}

TEST_P(Tickets, SessionsLiveTwoRotationPeriods) {
  // RFC 5077 §3.3 / RFC 8446 §4.6.1 lifetime hint, and OpenSSL's own check
  // on resumption: what the previous key can still open, no longer.
  EXPECT_EQ(SSL_CTX_get_timeout(server_->ctx()), 2 * 90 * 60);
  SessionPtr first = first_session();
  EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(first.get()), 2u * 90u * 60u);
}

TEST_P(Tickets, ResumeOnANewContextWithTheSameKeys) {
  SessionPtr first = first_session(), after;
  // The next snapshot builds its contexts anew, here with a renewed
  // certificate for the same name.
  const auto renewed = tls_testing::issue("gw.example.com", KeyType::p256, &ca_);
  auto pushed = build(config(renewed));
  ASSERT_TRUE(pushed);
  EXPECT_TRUE(connect(*pushed, first.get(), &after)) << "a config push keeps the sessions";
  server_.reset();  // the old snapshot's context is gone
  ASSERT_TRUE(keys_->rotate());
  EXPECT_TRUE(connect(*pushed, first.get(), &after)) << "and its keys still rotate as one";
}

TEST_P(Tickets, NoResumptionOnAServerWithOtherNamesOrClientChecks) {
  SessionPtr first = first_session(), after;
  auto other_host = build(config(tls_testing::issue("other.example.com", KeyType::p256, &ca_)));
  ASSERT_TRUE(other_host);
  EXPECT_FALSE(connect(*other_host, first.get(), &after)) << "a ticket of another server's name";
  // A resumed handshake does not ask for the client's certificate again: a
  // SIMPLE server's ticket must not get past a MUTUAL server's check.
  ServerTlsConfig m = config(leaf_);
  m.client_certificate = ClientCertificate::optional;
  m.client_ca_pem = ca_.cert_pem;
  auto mutual = build(m);
  ASSERT_TRUE(mutual);
  EXPECT_FALSE(connect(*mutual, first.get(), &after)) << "a ticket from a server that checked no client";
}

TEST_P(Tickets, WithoutKeysNoTicketsAndNoResumption) {
  ServerTlsConfig c = config(leaf_);
  c.ticket_keys = nullptr;
  auto plain = build(c);
  ASSERT_TRUE(plain);
  SessionPtr first, after;
  EXPECT_FALSE(connect(*plain, nullptr, &first));
  ASSERT_TRUE(first);
  EXPECT_FALSE(SSL_SESSION_has_ticket(first.get())) << "no NewSessionTicket, TLS 1.2 or 1.3";
  EXPECT_FALSE(connect(*plain, first.get(), &after)) << "and no server-side session cache";
}

// A resumed handshake, then linegate's record layer: the record it seals
// must follow whatever OpenSSL sealed under the application keys.
// TLS 1.3 (RFC 8446 §4.6.1): OpenSSL sends a new ticket after a resumption
// only when it renews one opened under the previous key; TLS 1.2: the
// server's Finished took record 0, a renewed ticket rides in the handshake.
TEST_P(Tickets, ResumedHandshakeHandsOverAfterWhatOpenSslSealed) {
  std::string error;
  auto engine = AeadEngine::create(&error);
  ASSERT_TRUE(engine) << error;
  const bool tls13 = GetParam() == TLS1_3_VERSION;
  SessionPtr first = first_session();
  for (const bool renewed : {false, true}) {
    SCOPED_TRACE(renewed ? "ticket under the previous key" : "ticket under the current key");
    if (renewed) {
      ASSERT_TRUE(keys_->rotate());
    }
    MemoryClient c(client_.get());
    SSL_set_session(c.ssl(), first.get());
    Handshake hs(server_->ctx());
    tls_testing::handshake(hs, c);
    ASSERT_EQ(hs.state(), Handshake::State::done) << hs.failure();
    ASSERT_EQ(SSL_session_reused(hs.ssl()), 1);
    Bytes out(hs.pending_output());
    out.resize(hs.take_output(out.data(), out.size()));
    c.receive(out.data(), out.size());
    HandOver h;
    Bytes leftover;
    ASSERT_TRUE(hs.hand_over(&h, &leftover, &error)) << error;
    EXPECT_EQ(h.tx_sequence, tls13 && !renewed ? 0u : 1u);
    RecordProtection tx(h.version, *engine, h.tx, h.tx_sequence);
    const std::string response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    const Bytes rec = tls_testing::seal_one(tx, *engine, ContentType::application_data,
                                            Bytes(response.begin(), response.end()));
    c.receive(rec.data(), rec.size());
    char got[256];
    const int r = SSL_read(c.ssl(), got, sizeof(got));
    ASSERT_EQ(r, static_cast<int>(response.size())) << ERR_error_string(ERR_get_error(), nullptr);
    EXPECT_EQ(std::string(got, static_cast<size_t>(r)), response);
    SessionPtr now(SSL_get1_session(c.ssl()));
    EXPECT_EQ(now.get() != first.get(), renewed) << "a renewed ticket replaces the client's session";
  }
}

TEST(TicketKeyRotation, TooSoonIsRefused) {
  std::string error;
  auto keys = TicketKeys::create(std::chrono::seconds(1), &error, std::chrono::milliseconds(500));
  ASSERT_TRUE(keys) << error;
  EXPECT_FALSE(keys->rotate()) << "the first key is as fresh as a rotation";
  std::this_thread::sleep_for(std::chrono::milliseconds(550));
  EXPECT_TRUE(keys->rotate());
  EXPECT_FALSE(keys->rotate());
  EXPECT_EQ(keys->rotations(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Versions, Tickets, testing::Values(TLS1_3_VERSION, TLS1_2_VERSION),
                         [](const testing::TestParamInfo<int>& i) {
                           return std::string(i.param == TLS1_3_VERSION ? "tls13" : "tls12");
                         });

}  // namespace
}  // namespace lg::tls
