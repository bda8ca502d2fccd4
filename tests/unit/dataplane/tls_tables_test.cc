// The TLS side of the runtime tables (dataplane/config/tls_servers.h): an
// OpenSSL context per terminating Gateway server, built from Secrets or
// files, and SNI selection among a listener's servers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/config/tls_servers.h"
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

}  // namespace
}  // namespace lg::config
