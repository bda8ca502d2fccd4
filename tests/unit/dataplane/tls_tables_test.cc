// The TLS side of the runtime tables: an OpenSSL context per terminating
// Gateway server (dataplane/config/tls_servers.h), built from Secrets or
// files, SNI selection among a listener's servers, and session tickets that
// outlive the tables under the process's ticket keys; a client context per
// cluster that originates TLS (upstream_tls.h), and the errors of both.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/config/tls_servers.h"
#include "dataplane/config/upstream_tls.h"
#include "tls/session/workload_identity.h"
#include "tls/testing/peers.h"

namespace lg::config {
namespace {
namespace pb = linegate::snapshot::v1;
using tls_testing::Credential;
using tls_testing::KeyType;

struct Pki {
  Credential ca = tls_testing::issue("test CA", KeyType::p256);
  Credential ecdsa = tls_testing::issue("a.example.com", KeyType::p256, &ca);
  Credential rsa = tls_testing::issue("a.example.com", KeyType::rsa2048, &ca);
  Credential ecdsa_renewed = tls_testing::issue("a.example.com", KeyType::p256, &ca);
};

const Pki& pki() {
  static const Pki p;
  return p;
}

void add_secret(Snapshot& s, const std::string& name, const Credential& c) {
  pb::Secret* sec = s.add_secrets();
  sec->set_name(name);
  sec->set_cert_chain(c.cert_pem);
  sec->set_private_key(c.key_pem);
}

pb::Server* add_server(pb::Listener* l, const std::string& host, pb::ServerTlsMode mode, const std::string& cred) {
  pb::Server* srv = l->add_servers();
  srv->set_name(host);
  srv->set_protocol(pb::PROTOCOL_HTTPS);
  srv->add_hosts(host);
  srv->set_route_table("https." + host);
  srv->mutable_tls()->set_mode(mode);
  if (!cred.empty()) srv->mutable_tls()->add_credential_names(cred);
  return srv;
}

// Port 443: the servers in this order (filter-chain order), every one with
// the same credential unless told otherwise.
std::shared_ptr<Snapshot> snapshot_with(const std::vector<std::string>& hosts) {
  auto s = std::make_shared<Snapshot>();
  s->set_version("v1");
  pb::Listener* l = s->add_listeners();
  l->set_name("0.0.0.0_443");
  l->set_port(443);
  l->set_protocol(pb::PROTOCOL_HTTPS);
  for (const std::string& h : hosts) {
    add_server(l, h, pb::SERVER_TLS_SIMPLE, "cert");
    s->add_route_tables()->set_name("https." + h);
  }
  add_secret(*s, "cert", pki().ecdsa);
  return s;
}

Bootstrap node() {
  Bootstrap b;
  b.node.id = "gw-1";
  return b;
}

std::unique_ptr<RuntimeTables> build(std::shared_ptr<const Snapshot> s, std::string* error) {
  return build_tables(std::move(s), node(), error);
}

TEST(TlsTables, SniPicksTheServerAsEnvoyMatchesFilterChains) {
  std::string error;
  const auto t = build(snapshot_with({"*.example.com", "a.example.com", "*.b.example.com", "*"}), &error);
  ASSERT_TRUE(t) << error;
  ASSERT_TRUE(t->tls_servers);
  const ListenerSlot& l = *t->find_listener(443);
  EXPECT_TRUE(l.terminates_tls);
  const TlsServers& s = *t->tls_servers;
  EXPECT_EQ(s.select(l, "a.example.com"), 1u);    // exact beats a wildcard listed before it
  EXPECT_EQ(s.select(l, "c.example.com"), 0u);    // wildcard
  EXPECT_EQ(s.select(l, "x.b.example.com"), 2u);  // the longest wildcard suffix
  EXPECT_EQ(s.select(l, "example.com"), 3u);      // "*.example.com" needs a label before the suffix
  EXPECT_EQ(s.select(l, "other.org"), 3u);        // "*"
  EXPECT_EQ(s.select(l, ""), 3u);  // no SNI: the catch-all, as Envoy's chain without server names
  for (uint32_t i = 0; i < l.server_count; ++i) {
    EXPECT_TRUE(s.servers[l.server_first + i].context) << s.servers[l.server_first + i].error;
    // Each HTTPS server routes with its own table.
    EXPECT_EQ(t->server_route_tables[l.server_first + i], i);
  }
}

// A mesh port's PeerAuthentication (the compiler sets it): STRICT keeps
// TLS only; PERMISSIVE keeps the channel (its first byte tells) and serves
// plain text too; DISABLE serves plain text only.
TEST(TlsTables, PeerAuthenticationDecidesWhatAMeshPortAccepts) {
  struct Case {
    std::optional<pb::MtlsMode> mode;
    bool tls, plaintext;
  };
  for (const Case& c : {Case{std::nullopt, true, false}, Case{pb::MTLS_STRICT, true, false},
                        Case{pb::MTLS_PERMISSIVE, true, true}, Case{pb::MTLS_DISABLE, false, true}}) {
    auto snap = snapshot_with({"a.example.com"});
    if (c.mode) snap->mutable_listeners(0)->set_peer_mtls(*c.mode);
    std::string error;
    const auto t = build(snap, &error);
    ASSERT_TRUE(t) << error;
    const ListenerSlot& l = *t->find_listener(443);
    const std::string what = c.mode ? pb::MtlsMode_Name(*c.mode) : "unset";
    EXPECT_EQ(l.terminates_tls, c.tls) << what;
    EXPECT_EQ(l.accepts_plaintext, c.plaintext) << what;
    // DISABLE builds no context (and reports no error for the lack of one);
    // the server's names still pick the route table of plain-text requests.
    const TlsServer& srv = t->tls_servers->servers[l.server_first];
    EXPECT_EQ(srv.context != nullptr, c.tls) << what;
    EXPECT_EQ(srv.error, "") << what;
    EXPECT_EQ(t->tls_servers->select(l, "a.example.com"), 0u) << what;
  }
}

TEST(TlsTables, UnknownNameWithoutCatchAllGetsTheFirstTerminatingServer) {
  std::string error;
  auto snap = snapshot_with({"a.example.com", "b.example.com"});
  snap->mutable_listeners(0)->mutable_servers(0)->mutable_tls()->set_mode(pb::SERVER_TLS_PASSTHROUGH);
  const auto t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  const ListenerSlot& l = *t->find_listener(443);
  EXPECT_EQ(t->tls_servers->select(l, "nobody.example.org"), 1u);
  EXPECT_EQ(t->tls_servers->select(l, ""), 1u);  // no SNI and no catch-all: the first server too
  EXPECT_EQ(t->tls_servers->select(l, "a.example.com"), 1u);  // a passthrough server has no context to pick
}

TEST(TlsTables, AMissingCredentialLeavesThatServerWithoutAContext) {
  std::string error;
  auto snap = snapshot_with({"a.example.com", "b.example.com"});
  snap->mutable_listeners(0)->mutable_servers(1)->mutable_tls()->set_credential_names(0, "absent");
  const auto t = build(snap, &error);
  ASSERT_TRUE(t) << error;  // the compiler warned already; other servers keep serving
  const TlsServer& b = t->tls_servers->servers[1];
  EXPECT_FALSE(b.context);
  EXPECT_NE(b.error.find("credential absent not found"), std::string::npos) << b.error;
  EXPECT_TRUE(t->tls_servers->servers[0].context);
}

TEST(TlsTables, ACredentialThatDoesNotLoadRefusesTheSnapshot) {
  std::string error;
  auto snap = snapshot_with({"a.example.com"});
  snap->mutable_secrets(0)->set_private_key(pki().rsa.key_pem);  // not the certificate's key
  EXPECT_FALSE(build(snap, &error));
  EXPECT_NE(error.find("listener 0.0.0.0_443 server a.example.com"), std::string::npos) << error;
}

TEST(TlsTables, MutualNeedsItsCa) {
  std::string error;
  auto snap = snapshot_with({"a.example.com"});
  pb::ServerTls& tls = *snap->mutable_listeners(0)->mutable_servers(0)->mutable_tls();
  tls.set_mode(pb::SERVER_TLS_MUTUAL);
  tls.set_ca_credential_name("a-cacert");
  auto t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_FALSE(t->tls_servers->servers[0].context);
  EXPECT_NE(t->tls_servers->servers[0].error.find("CA credential a-cacert"), std::string::npos);

  pb::Secret* ca = snap->add_secrets();
  ca->set_name("a-cacert");
  ca->set_ca_cert(pki().ca.cert_pem);
  auto& secrets = *snap->mutable_secrets();  // snapshots keep them sorted by name
  std::sort(secrets.begin(), secrets.end(), [](const pb::Secret& x, const pb::Secret& y) { return x.name() < y.name(); });
  t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  ASSERT_TRUE(t->tls_servers->servers[0].context) << t->tls_servers->servers[0].error;
  EXPECT_EQ(SSL_CTX_get_verify_mode(t->tls_servers->servers[0].context->ctx()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

TEST(TlsTables, AMalformedPinLeavesThatServerWithoutAContext) {
  std::string error;
  auto snap = snapshot_with({"a.example.com"});
  pb::Secret* ca = snap->add_secrets();
  ca->set_name("a-cacert");
  ca->set_ca_cert(pki().ca.cert_pem);
  auto& secrets = *snap->mutable_secrets();
  std::sort(secrets.begin(), secrets.end(), [](const pb::Secret& x, const pb::Secret& y) { return x.name() < y.name(); });
  pb::ServerTls& tls = *snap->mutable_listeners(0)->mutable_servers(0)->mutable_tls();
  tls.set_mode(pb::SERVER_TLS_MUTUAL);
  tls.set_ca_credential_name("a-cacert");
  tls.add_verify_certificate_hash("not-hex");
  auto t = build(snap, &error);
  ASSERT_TRUE(t) << error;  // the other servers keep serving
  EXPECT_FALSE(t->tls_servers->servers[0].context);
  EXPECT_NE(t->tls_servers->servers[0].error.find("verifyCertificateHash: \"not-hex\""), std::string::npos)
      << t->tls_servers->servers[0].error;

  tls.clear_verify_certificate_hash();
  tls.add_verify_certificate_spki("AAAA");
  t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_NE(t->tls_servers->servers[0].error.find("verifyCertificateSpki: \"AAAA\""), std::string::npos)
      << t->tls_servers->servers[0].error;
}

// A TLS 1.3 handshake with `server`, resuming `session` when given: whether
// it resumed, and the client's session (with its ticket) afterwards.
bool handshake(const TlsServer& server, SSL_SESSION* session, SSL_SESSION** after) {
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  bool reused = false;
  {
    tls_testing::MemoryClient c(cctx);
    if (session != nullptr) SSL_set_session(c.ssl(), session);
    tls::Handshake hs(server.context->ctx());
    tls_testing::handshake(hs, c);
    EXPECT_EQ(hs.state(), tls::Handshake::State::done) << hs.failure();
    tls_testing::Bytes out(hs.pending_output());  // the tickets, after the handshake
    out.resize(hs.take_output(out.data(), out.size()));
    c.receive(out.data(), out.size());
    char b;
    SSL_read(c.ssl(), &b, 1);
    *after = SSL_get1_session(c.ssl());
    reused = SSL_session_reused(hs.ssl()) == 1;
  }
  SSL_CTX_free(cctx);
  return reused;
}

TEST(TlsTables, TicketsOfOneSnapshotResumeOnTheNextWithTheProcessKeys) {
  std::string error;
  auto keys = tls::TicketKeys::create(std::chrono::hours(1), &error);
  ASSERT_TRUE(keys) << error;
  auto v1 = build_tables(snapshot_with({"a.example.com"}), node(), &error, nullptr, 1, {keys.get(), nullptr});
  ASSERT_TRUE(v1) << error;
  SSL_SESSION *first = nullptr, *again = nullptr;
  EXPECT_FALSE(handshake(v1->tls_servers->servers[0], nullptr, &first));
  ASSERT_TRUE(first && SSL_SESSION_has_ticket(first));
  // The next snapshot: its own contexts, a renewed certificate, the same keys.
  auto next = snapshot_with({"a.example.com"});
  next->set_version("v2");
  next->mutable_secrets(0)->set_cert_chain(pki().ecdsa_renewed.cert_pem);
  next->mutable_secrets(0)->set_private_key(pki().ecdsa_renewed.key_pem);
  auto v2 = build_tables(next, node(), &error, nullptr, 1, {keys.get(), nullptr});
  ASSERT_TRUE(v2) << error;
  v1.reset();
  EXPECT_TRUE(handshake(v2->tls_servers->servers[0], first, &again));
  SSL_SESSION_free(again);
  // Tables built without keys give no tickets.
  auto plain = build(snapshot_with({"a.example.com"}), &error);
  ASSERT_TRUE(plain) << error;
  EXPECT_FALSE(handshake(plain->tls_servers->servers[0], first, &again));
  EXPECT_FALSE(SSL_SESSION_has_ticket(again));
  SSL_SESSION_free(again);
  SSL_SESSION_free(first);
}

TEST(TlsTables, CertificateFilesEveryPairOfTlsCertificates) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("lg_tls_tables_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  auto snap = snapshot_with({"a.example.com"});
  pb::ServerTls& tls = *snap->mutable_listeners(0)->mutable_servers(0)->mutable_tls();
  tls.clear_credential_names();
  for (auto [name, c] : {std::pair{"ecdsa", &pki().ecdsa}, {"rsa", &pki().rsa}}) {
    pb::TlsCertificateFiles* f = tls.add_tls_certificates();
    f->set_server_certificate(write(std::string(name) + ".crt", c->cert_pem));
    f->set_private_key(write(std::string(name) + ".key", c->key_pem));
  }
  std::string error;
  auto t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  const TlsServer& srv = t->tls_servers->servers[0];
  ASSERT_TRUE(srv.context) << srv.error;
  // Both pairs are in the context: one chain per key type.
  unsigned chains = 0;
  for (int rc = SSL_CTX_set_current_cert(srv.context->ctx(), SSL_CERT_SET_FIRST); rc == 1;
       rc = SSL_CTX_set_current_cert(srv.context->ctx(), SSL_CERT_SET_NEXT))
    chains += SSL_CTX_get0_certificate(srv.context->ctx()) != nullptr;
  EXPECT_EQ(chains, 2u);

  // The second pair is read too: a missing file is named.
  tls.mutable_tls_certificates(1)->set_private_key((dir / "nowhere.key").string());
  t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_NE(t->tls_servers->servers[0].error.find("nowhere.key"), std::string::npos) << t->tls_servers->servers[0].error;
  std::filesystem::remove_all(dir);
}

pb::UpstreamTls* add_cluster(Snapshot& s, const std::string& host, pb::UpstreamTlsMode mode) {
  pb::Cluster* c = s.add_clusters();
  c->set_name("outbound|443||" + host);
  c->set_host(host);
  c->set_port(443);
  pb::UpstreamTls* tls = c->mutable_policy()->mutable_tls();
  tls->set_mode(mode);
  return tls;
}

TEST(UpstreamTlsTables, ClustersThatOriginateGetAContextAndAnSni) {
  auto snap = std::make_shared<Snapshot>();
  snap->set_version("v1");
  add_secret(*snap, "client", pki().ecdsa);
  pb::Secret* ca = snap->add_secrets();
  ca->set_name("client-cacert");
  ca->set_ca_cert(pki().ca.cert_pem);
  add_cluster(*snap, "plain.example.com", pb::UPSTREAM_TLS_DISABLE);
  add_cluster(*snap, "simple.example.com", pb::UPSTREAM_TLS_SIMPLE)->set_ca_credential_name("client-cacert");
  add_cluster(*snap, "*.wild.example.com", pb::UPSTREAM_TLS_SIMPLE);
  pb::UpstreamTls* named = add_cluster(*snap, "named.example.com", pb::UPSTREAM_TLS_SIMPLE);
  named->set_sni("api.example.com");
  named->set_insecure_skip_verify(true);
  pb::UpstreamTls* mutual = add_cluster(*snap, "mutual.example.com", pb::UPSTREAM_TLS_MUTUAL);
  mutual->set_credential_name("client");
  mutual->set_ca_credential_name("client-cacert");
  add_cluster(*snap, "missing.example.com", pb::UPSTREAM_TLS_MUTUAL)->set_credential_name("nowhere");
  add_cluster(*snap, "nocert.example.com", pb::UPSTREAM_TLS_MUTUAL);
  add_cluster(*snap, "badca.example.com", pb::UPSTREAM_TLS_SIMPLE)->set_ca_credential_name("no-such-cacert");
  add_cluster(*snap, "istio.example.com", pb::UPSTREAM_TLS_ISTIO_MUTUAL);
  add_cluster(*snap, "auto.example.com", pb::UPSTREAM_TLS_ISTIO_MUTUAL)->set_auto_mtls(true);
  std::sort(snap->mutable_secrets()->begin(), snap->mutable_secrets()->end(),
            [](const pb::Secret& a, const pb::Secret& b) { return a.name() < b.name(); });
  std::string error;
  const auto t = build(snap, &error);
  ASSERT_TRUE(t) << error;
  const auto& u = t->upstream_tls->clusters;
  ASSERT_EQ(u.size(), 10u);
  EXPECT_TRUE(!u[0].context && u[0].error.empty()) << "plain text";
  ASSERT_TRUE(u[1].context) << u[1].error;
  EXPECT_EQ(u[1].sni, "simple.example.com") << "Istio's default SNI: the service host";
  ASSERT_TRUE(u[2].context) << u[2].error;
  EXPECT_EQ(u[2].sni, "") << "a wildcard host has no name to send";
  ASSERT_TRUE(u[3].context) << u[3].error;
  EXPECT_EQ(u[3].sni, "api.example.com");
  EXPECT_EQ(SSL_CTX_get_verify_mode(u[3].context->ctx()), SSL_VERIFY_NONE);
  ASSERT_TRUE(u[4].context) << u[4].error;
  EXPECT_NE(SSL_CTX_get0_certificate(u[4].context->ctx()), nullptr) << "MUTUAL presents the credential";
  const std::vector<std::pair<size_t, std::string>> errors = {
      {5, "cluster outbound|443||missing.example.com: credential nowhere not found"},
      {6, "cluster outbound|443||nocert.example.com: MUTUAL without a client certificate"},
      {7, "cluster outbound|443||badca.example.com: CA credential no-such-cacert not found"},
      {8, "cluster outbound|443||istio.example.com: ISTIO_MUTUAL needs the gateway's workload certificate"},
  };
  for (const auto& [i, want] : errors) {
    EXPECT_FALSE(u[i].context);
    EXPECT_EQ(u[i].error.rfind(want, 0), 0u) << u[i].error;
  }
  EXPECT_TRUE(!u[9].context && u[9].error.empty()) << "auto mTLS: plain text until the gateway has an identity";
  EXPECT_EQ(tls_errors(*t).size(), errors.size());
}

// With the gateway's workload identity: ISTIO_MUTUAL servers and clusters
// present it and verify peers against its roots; auto mTLS originates only
// toward endpoints labelled tlsMode istio.
TEST(UpstreamTlsTables, TheWorkloadIdentityServesIstioMutualBothWays) {
  const Credential leaf = tls_testing::issue("gw", KeyType::p256, &pki().ca, "URI:spiffe://cluster.local/ns/a/sa/gw");
  std::string error;
  auto identity =
      tls::WorkloadIdentity::load(leaf.cert_pem, leaf.key_pem, pki().ca.cert_pem, "test", std::chrono::system_clock::now(), &error);
  ASSERT_TRUE(identity) << error;

  auto snap = snapshot_with({"a.example.com"});
  add_server(snap->mutable_listeners(0), "mesh.example.com", pb::SERVER_TLS_ISTIO_MUTUAL, "");
  snap->add_route_tables()->set_name("https.mesh.example.com");
  add_cluster(*snap, "istio.example.com", pb::UPSTREAM_TLS_ISTIO_MUTUAL)->set_sni("outbound_.443_._.istio.example.com");
  pb::UpstreamTls* auto_tls = add_cluster(*snap, "auto.example.com", pb::UPSTREAM_TLS_ISTIO_MUTUAL);
  auto_tls->set_auto_mtls(true);
  pb::Cluster* auto_cluster = snap->mutable_clusters(1);
  for (const char* mode : {"istio", "disabled"}) {
    pb::Endpoint* e = auto_cluster->add_endpoints();
    e->set_address("10.0.0.1");
    e->set_port(80);
    e->set_tls_mode(mode);
  }
  const auto t = build_tables(snap, node(), &error, nullptr, 1, {nullptr, identity});
  ASSERT_TRUE(t) << error;
  EXPECT_TRUE(tls_errors(*t).empty()) << tls_errors(*t)[0];

  const TlsServer& mesh = t->tls_servers->servers[1];
  ASSERT_TRUE(mesh.context) << mesh.error;
  EXPECT_EQ(SSL_CTX_get_verify_mode(mesh.context->ctx()), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  EXPECT_EQ(X509_cmp(SSL_CTX_get0_certificate(mesh.context->ctx()), tls_testing::pem_cert(leaf.cert_pem).get()), 0);

  const UpstreamTlsCluster* istio = origination(*t, 0, kNone);
  ASSERT_TRUE(istio && istio->context) << (istio ? istio->error : "plain text");
  EXPECT_EQ(istio->sni, "outbound_.443_._.istio.example.com");
  EXPECT_EQ(X509_cmp(SSL_CTX_get0_certificate(istio->context->ctx()), tls_testing::pem_cert(leaf.cert_pem).get()), 0);
  const uint32_t first = t->clusters[1].endpoint_first;
  const UpstreamTlsCluster* to_istio = origination(*t, 1, first);
  EXPECT_TRUE(to_istio && to_istio->context) << "tlsMode istio: Istio mTLS";
  EXPECT_EQ(origination(*t, 1, first + 1), nullptr) << "tlsMode disabled: plain text";
}

}  // namespace
}  // namespace lg::config
