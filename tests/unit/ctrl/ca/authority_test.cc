#include "ctrl/ca/authority.h"

#include "ctrl/ca/csr.h"
#include "ctrl/ca/spiffe.h"
#include "tests/unit/ctrl/ca/ca_fixtures.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace lg::ctrl::ca {
namespace {

using namespace testing;
using std::chrono::hours;
using std::chrono::seconds;

constexpr const char* kId = "spiffe://cluster.local/ns/istio-system/sa/linegate-ingress";

std::shared_ptr<const CertificateAuthority> self_signed(IssuePolicy policy = {}) {
  std::string error;
  auto ca = CertificateAuthority::self_signed(policy, &error);
  EXPECT_TRUE(ca) << error;
  return ca;
}

std::string good_csr(const std::string& id = kId) {
  std::string key, csr, error;
  EXPECT_TRUE(make_key_and_csr(id, &key, &csr, &error)) << error;
  return csr;
}

// ---- self-signed root

TEST(SelfSignedCa, RootIsAP256CaForTheTrustDomainValidTenYears) {
  auto ca = self_signed();
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->source(), "self-signed");
  EXPECT_EQ(ca->ca_cert_pem(), ca->root_cert_pem());
  ASSERT_EQ(ca->roots_pem().size(), 1u);
  X509Ptr root = parse(ca->root_cert_pem());
  ASSERT_TRUE(root);
  EXPECT_EQ(X509_check_issued(root.get(), root.get()), X509_V_OK);
  PkeyPtr pub(X509_get_pubkey(root.get()));
  EXPECT_EQ(EVP_PKEY_get_base_id(pub.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 256);
  // Subject O=cluster.local, as istiod's self-signed root.
  char org[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(root.get()), NID_organizationName, org, sizeof org);
  EXPECT_STREQ(org, "cluster.local");
  EXPECT_TRUE(X509_get_extension_flags(root.get()) & EXFLAG_CA);
  EXPECT_TRUE(ext_critical(root.get(), NID_basic_constraints));
  EXPECT_TRUE(ext_critical(root.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(root.get()), uint32_t(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(root.get()), nullptr);
  const time_t life = asn1_time(X509_get0_notAfter(root.get())) - asn1_time(X509_get0_notBefore(root.get()));
  EXPECT_NEAR(double(life), 10.0 * 365 * 86400, 3600.0);
  EXPECT_EQ(verify({ca->root_cert_pem()}, ca->root_cert_pem(), X509_PURPOSE_ANY), "");  // strict checks pass
}

TEST(SelfSignedCa, EachRootIsNew) {
  EXPECT_NE(self_signed()->root_cert_pem(), self_signed()->root_cert_pem());
}

TEST(SelfSignedCa, RefusesBadTrustDomainAndTtls) {
  std::string error;
  IssuePolicy p;
  p.trust_domain = "Cluster Local";
  EXPECT_FALSE(CertificateAuthority::self_signed(p, &error));
  EXPECT_NE(error.find("trust domain"), std::string::npos) << error;
  p = {};
  p.max_ttl = seconds(60);
  EXPECT_FALSE(CertificateAuthority::self_signed(p, &error));
  EXPECT_NE(error.find("shorter than the default"), std::string::npos) << error;
}

// ---- signing

TEST(CaSign, LeafVerifiesAndCarriesOnlyTheSpiffeId) {
  auto ca = self_signed();
  const auto now = std::chrono::system_clock::now();
  SignResult r = ca->sign(good_csr(), seconds(3600), now);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.chain.size(), 2u);  // leaf, root: the root is not repeated when it is the CA
  EXPECT_EQ(r.chain[1], ca->root_cert_pem());
  EXPECT_EQ(r.identity, kId);
  EXPECT_EQ(r.ttl, seconds(3600));
  EXPECT_EQ(r.serial.size(), 32u);  // 128 bits
  EXPECT_EQ(verify(r.chain, ca->root_cert_pem(), X509_PURPOSE_SSL_CLIENT), "");
  EXPECT_EQ(verify(r.chain, ca->root_cert_pem(), X509_PURPOSE_SSL_SERVER), "");

  X509Ptr leaf = parse(r.chain[0]);
  ASSERT_TRUE(leaf);
  int others = -1;
  EXPECT_EQ(san_uris(leaf.get(), &others), std::vector<std::string>{kId});
  EXPECT_EQ(others, 0);
  EXPECT_TRUE(ext_critical(leaf.get(), NID_subject_alt_name));  // empty subject (RFC 5280 §4.2.1.6)
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf.get())), 0);
  EXPECT_FALSE(X509_get_extension_flags(leaf.get()) & EXFLAG_CA);
  EXPECT_TRUE(ext_critical(leaf.get(), NID_basic_constraints));
  EXPECT_TRUE(ext_critical(leaf.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), uint32_t(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), uint32_t(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  // AKI names the root's SKI.
  X509Ptr root = parse(ca->root_cert_pem());
  ASSERT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  ASSERT_NE(X509_get0_subject_key_id(leaf.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf.get()), X509_get0_subject_key_id(root.get())), 0);
  const time_t t = std::chrono::system_clock::to_time_t(now);
  EXPECT_EQ(asn1_time(X509_get0_notBefore(leaf.get())), t - 60);  // clock skew allowance
  EXPECT_EQ(asn1_time(X509_get0_notAfter(leaf.get())), t + 3600);
}

TEST(CaSign, TtlDefaultsWhenNotPositiveAndIsCutToTheMaximum) {
  IssuePolicy p;
  p.default_ttl = hours(2);
  p.max_ttl = hours(48);
  auto ca = self_signed(p);
  EXPECT_EQ(ca->sign(good_csr(), seconds(0)).ttl, hours(2));
  EXPECT_EQ(ca->sign(good_csr(), seconds(-5)).ttl, hours(2));
  EXPECT_EQ(ca->sign(good_csr(), hours(24 * 365)).ttl, hours(48));
  EXPECT_EQ(ca->sign(good_csr(), seconds(90)).ttl, seconds(90));
  // istiod's defaults.
  auto d = self_signed();
  EXPECT_EQ(d->sign(good_csr(), seconds(0)).ttl, hours(24));
  EXPECT_EQ(d->sign(good_csr(), hours(24 * 365)).ttl, hours(24 * 90));
}

TEST(CaSign, SerialsAreRandom) {
  auto ca = self_signed();
  std::set<std::string> serials;
  for (int i = 0; i < 8; ++i) serials.insert(ca->sign(good_csr(), seconds(60)).serial);
  EXPECT_EQ(serials.size(), 8u);
}

TEST(CaSign, AcceptsP384AndRsa2048) {
  auto ca = self_signed();
  PkeyPtr p384 = ec_key("P-384");
  SignResult r = ca->sign(csr_pem(p384.get(), std::string("URI:") + kId), seconds(60));
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(verify(r.chain, ca->root_cert_pem()), "");
  PkeyPtr rsa = rsa_key(2048);
  r = ca->sign(csr_pem(rsa.get(), std::string("URI:") + kId), seconds(60));
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(verify(r.chain, ca->root_cert_pem()), "");
}

// What a refusal says: the error holds `needle`, and nothing is issued.
void expect_refused(const CertificateAuthority& ca, const std::string& csr, const std::string& needle) {
  SignResult r = ca.sign(csr, seconds(60));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.chain.empty());
  EXPECT_FALSE(r.ca_fault);
  EXPECT_NE(r.error.find(needle), std::string::npos) << "error: " << r.error << "\nexpected: " << needle;
}

TEST(CaSign, RefusesWhatIsNotACsr) {
  auto ca = self_signed();
  expect_refused(*ca, "", "not a PEM certificate request");
  expect_refused(*ca, "hello", "not a PEM certificate request");
  expect_refused(*ca, ca->root_cert_pem(), "not a PEM certificate request");
  std::string csr = good_csr();
  csr[csr.size() / 2] = csr[csr.size() / 2] == 'A' ? 'B' : 'A';  // base64 still, DER broken or altered
  SignResult r = ca->sign(csr, seconds(60));
  EXPECT_FALSE(r.ok());
}

TEST(CaSign, RefusesACsrWhoseSignatureDoesNotMatch) {
  auto ca = self_signed();
  PkeyPtr signer = ec_key(), other = ec_key();
  X509ReqPtr req = csr(signer.get(), std::string("URI:") + kId);
  X509_REQ_set_pubkey(req.get(), other.get());  // swapped key, old signature
  expect_refused(*ca, to_pem(req.get()), "signature does not verify");
}

TEST(CaSign, RefusesWrongSubjectAltNames) {
  auto ca = self_signed();
  PkeyPtr k = ec_key();
  expect_refused(*ca, csr_pem(k.get(), ""), "no subjectAltName");
  expect_refused(*ca, csr_pem(k.get(), "URI:spiffe://cluster.local/ns/a/sa/b,URI:spiffe://cluster.local/ns/c/sa/d"),
                 "holds 2 URI(s) and 0 other");
  expect_refused(*ca, csr_pem(k.get(), "DNS:gateway.example.com"), "holds 0 URI(s) and 1 other");
  expect_refused(*ca, csr_pem(k.get(), std::string("URI:") + kId + ",DNS:gateway.example.com"),
                 "holds 1 URI(s) and 1 other");
}

TEST(CaSign, RefusesIdentitiesOutsideTheTrustDomainOrOfAnotherShape) {
  auto ca = self_signed();
  PkeyPtr k = ec_key();
  auto refused = [&](const std::string& uri, const std::string& needle) {
    SCOPED_TRACE(uri);
    expect_refused(*ca, csr_pem(k.get(), "URI:" + uri), needle);
  };
  refused("spiffe://example.org/ns/default/sa/bookinfo", "is not this CA's (\"cluster.local\")");
  refused("https://cluster.local/ns/default/sa/bookinfo", "not a spiffe:// URI");
  refused("spiffe://cluster.local", "no path");
  refused("spiffe://cluster.local/ns/default", "path must be /ns/<namespace>/sa/<service-account>");
  refused("spiffe://cluster.local/sa/x/ns/y", "path must be");
  refused("spiffe://cluster.local/ns//sa/x", "namespace \"\": a lowercase RFC 1123 label");
  refused("spiffe://cluster.local/ns/Default/sa/x", "namespace \"Default\"");
  refused("spiffe://cluster.local/ns/default/sa/", "service account \"\"");
  refused("spiffe://cluster.local/ns/default/sa/a/b", "service account \"a/b\"");
  refused("spiffe://cluster.local/ns/default/sa/x?y", "service account");
  refused("spiffe://Cluster.Local/ns/default/sa/x", "invalid trust domain");
}

TEST(CaSign, RefusesWeakOrUnsupportedKeys) {
  auto ca = self_signed();
  PkeyPtr rsa1024 = rsa_key(1024);
  expect_refused(*ca, csr_pem(rsa1024.get(), std::string("URI:") + kId), "RSA key of 1024 bits; at least 2048");
  PkeyPtr p521 = ec_key("P-521");
  expect_refused(*ca, csr_pem(p521.get(), std::string("URI:") + kId), "EC curve secp521r1 not accepted");
  PkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  expect_refused(*ca, csr_pem(ed.get(), std::string("URI:") + kId), "key type ED25519 not accepted");
}

TEST(CaSign, OtherTrustDomain) {
  IssuePolicy p;
  p.trust_domain = "prod.example.org";
  auto ca = self_signed(p);
  EXPECT_TRUE(ca->sign(good_csr("spiffe://prod.example.org/ns/a/sa/b"), seconds(60)).ok());
  expect_refused(*ca, good_csr(kId), "is not this CA's (\"prod.example.org\")");
}

// ---- Istio's plug-in CA (cacerts)

std::shared_ptr<const CertificateAuthority> plugged(const std::string& ca_cert, const std::string& ca_key,
                                                    const std::string& chain, const std::string& root,
                                                    std::string* error) {
  return CertificateAuthority::from_cacerts(ca_cert, ca_key, chain, root, IssuePolicy{}, error);
}

TEST(CacertsCa, IntermediateUnderARootChainsLeafIntermediateRoot) {
  TestCa root = make_cert("root", nullptr);
  TestCa inter = make_cert("intermediate", &root);
  std::string error;
  // Istio's tooling writes cert-chain.pem as intermediate + root.
  auto ca = plugged(inter.cert_pem(), inter.key_pem(), inter.cert_pem() + root.cert_pem(), root.cert_pem(), &error);
  ASSERT_TRUE(ca) << error;
  EXPECT_EQ(ca->source(), "cacerts");
  EXPECT_EQ(ca->ca_cert_pem(), inter.cert_pem());
  EXPECT_EQ(ca->root_cert_pem(), root.cert_pem());
  SignResult r = ca->sign(good_csr(), seconds(600));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.chain.size(), 3u);
  EXPECT_EQ(r.chain[1], inter.cert_pem());
  EXPECT_EQ(r.chain[2], root.cert_pem());
  EXPECT_EQ(verify(r.chain, root.cert_pem()), "");
  // Not without the intermediate.
  EXPECT_NE(verify({r.chain[0]}, root.cert_pem()), "");
}

TEST(CacertsCa, CertChainMayBeEmptyOrListOnlyIntermediates) {
  TestCa root = make_cert("root", nullptr);
  TestCa i1 = make_cert("intermediate 1", &root);
  TestCa i2 = make_cert("intermediate 2", &i1);
  std::string error;
  auto ca = plugged(i2.cert_pem(), i2.key_pem(), i1.cert_pem(), root.cert_pem(), &error);
  ASSERT_TRUE(ca) << error;
  SignResult r = ca->sign(good_csr(), seconds(600));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.chain.size(), 4u);
  EXPECT_EQ(r.chain[1], i2.cert_pem());
  EXPECT_EQ(r.chain[2], i1.cert_pem());
  EXPECT_EQ(r.chain[3], root.cert_pem());
  EXPECT_EQ(verify(r.chain, root.cert_pem()), "");

  // ca-cert is the root: cert-chain.pem empty, the chain is leaf + root.
  ca = plugged(root.cert_pem(), root.key_pem(), "", root.cert_pem(), &error);
  ASSERT_TRUE(ca) << error;
  r = ca->sign(good_csr(), seconds(600));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.chain.size(), 2u);
  EXPECT_EQ(verify(r.chain, root.cert_pem()), "");
}

TEST(CacertsCa, RootBundleOfTwoRoots) {
  TestCa old_root = make_cert("old root", nullptr), new_root = make_cert("new root", nullptr);
  TestCa inter = make_cert("intermediate", &new_root);
  std::string error;
  auto ca = plugged(inter.cert_pem(), inter.key_pem(), "", old_root.cert_pem() + new_root.cert_pem(), &error);
  ASSERT_TRUE(ca) << error;
  EXPECT_EQ(ca->roots_pem().size(), 2u);
  EXPECT_EQ(ca->root_cert_pem(), new_root.cert_pem());  // the one the chain ends with
}

TEST(CacertsCa, RefusesMismatchedKeyNonCaAndUnverifiableChains) {
  TestCa root = make_cert("root", nullptr);
  TestCa inter = make_cert("intermediate", &root);
  TestCa other = make_cert("other root", nullptr);
  TestCa leaf = make_cert("not a ca", &root, /*ca=*/false);
  std::string error;
  auto refused = [&](const std::string& cert, const std::string& key, const std::string& chain,
                     const std::string& roots, const std::string& needle) {
    error.clear();
    EXPECT_FALSE(plugged(cert, key, chain, roots, &error));
    EXPECT_NE(error.find(needle), std::string::npos) << "error: " << error << "\nexpected: " << needle;
  };
  refused(inter.cert_pem(), other.key_pem(), "", root.cert_pem(), "ca-key.pem does not match ca-cert.pem");
  refused(leaf.cert_pem(), leaf.key_pem(), "", root.cert_pem(), "ca-cert.pem is not a CA certificate");
  refused(inter.cert_pem(), inter.key_pem(), "", other.cert_pem(), "ca-cert.pem does not verify up to root-cert.pem");
  refused("", inter.key_pem(), "", root.cert_pem(), "ca-cert.pem: no PEM certificate");
  refused(inter.cert_pem(), "", "", root.cert_pem(), "ca-key.pem: no unencrypted PEM private key");
  refused(inter.cert_pem(), inter.key_pem(), "", "", "root-cert.pem: no PEM certificate");
  refused(inter.cert_pem(), inter.key_pem(), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
          root.cert_pem(), "cert-chain.pem: a certificate does not parse");
  // An intermediate two levels down without the one between it and the root.
  TestCa deeper = make_cert("intermediate 2", &inter);
  refused(deeper.cert_pem(), deeper.key_pem(), "", root.cert_pem(), "does not verify");
}

TEST(CacertsCa, LeavesNeverOutliveTheCa) {
  TestCa root = make_cert("root", nullptr);
  TestCa inter = make_cert("short intermediate", &root, true, /*days=*/1);
  std::string error;
  auto ca = plugged(inter.cert_pem(), inter.key_pem(), "", root.cert_pem(), &error);
  ASSERT_TRUE(ca) << error;
  SignResult r = ca->sign(good_csr(), hours(48));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_LE(r.ttl, hours(24));
  EXPECT_GT(r.ttl, hours(23));
}

// ---- the gateway's CSR

TEST(MakeKeyAndCsr, KeyMatchesTheCsrWhichCarriesTheId) {
  std::string key, csr_text, error;
  ASSERT_TRUE(make_key_and_csr(kId, &key, &csr_text, &error)) << error;
  PkeyPtr k = read_key(key);
  X509ReqPtr req = read_csr(csr_text);
  ASSERT_TRUE(k);
  ASSERT_TRUE(req);
  EXPECT_EQ(EVP_PKEY_eq(k.get(), X509_REQ_get0_pubkey(req.get())), 1);
  EXPECT_EQ(X509_REQ_verify(req.get(), k.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(k.get()), 256);
  // The certificate issued for it pairs with the key.
  auto ca = self_signed();
  SignResult r = ca->sign(csr_text, seconds(60));
  ASSERT_TRUE(r.ok()) << r.error;
  X509Ptr leaf = parse(r.chain[0]);
  EXPECT_EQ(X509_check_private_key(leaf.get(), k.get()), 1);
}

TEST(SpiffeId, ParsesIstioIdentities) {
  std::string error;
  auto id = parse_spiffe_id("spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account", &error);
  ASSERT_TRUE(id) << error;
  EXPECT_EQ(id->trust_domain, "cluster.local");
  EXPECT_EQ(id->ns, "istio-system");
  EXPECT_EQ(id->service_account, "istio-ingressgateway-service-account");
  EXPECT_EQ(id->uri(), "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account");
  EXPECT_TRUE(parse_spiffe_id("spiffe://td/ns/a/sa/b.c", &error));
  EXPECT_FALSE(parse_spiffe_id("spiffe://td/ns/-a/sa/b", &error));
  EXPECT_FALSE(parse_spiffe_id("spiffe://td/ns/a/sa/b..c", &error));
}

}  // namespace
}  // namespace lg::ctrl::ca
