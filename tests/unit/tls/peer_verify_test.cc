// Client certificate checks beyond the chain (Istio's subjectAltNames,
// verifyCertificateSpki, verifyCertificateHash) on certificates issued
// here; digests cross-checked with OpenSSL's own.
#include "tls/session/peer_verify.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "tls/testing/peers.h"

namespace lg::tls {
namespace {

using tls_testing::KeyType;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr x(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  return x;
}

std::string hex(const uint8_t* d, size_t n, bool colons) {
  static const char* digits = "0123456789ABCDEF";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (colons && i != 0) s += ':';
    s += digits[d[i] >> 4];
    s += digits[d[i] & 15];
  }
  return s;
}

std::string cert_hash(X509* x, bool colons) {
  uint8_t d[32];
  unsigned n = 0;
  X509_digest(x, EVP_sha256(), d, &n);
  return hex(d, n, colons);
}

std::string spki_b64(X509* x) {
  uint8_t d[32];
  unsigned n = 0;
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
  EVP_Digest(der, static_cast<size_t>(len), d, &n, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  unsigned char out[64];
  EVP_EncodeBlock(out, d, 32);
  return reinterpret_cast<char*>(out);
}

class PeerVerifyTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = tls_testing::issue("test CA", KeyType::p256);
    client_ = tls_testing::issue("client", KeyType::p256, &ca_,
                                 "URI:spiffe://cluster.local/ns/prod/sa/web,DNS:*.svc.example.com,IP:10.0.0.7");
    other_ = tls_testing::issue("other", KeyType::p256, &ca_, "URI:spiffe://cluster.local/ns/prod/sa/db");
    bare_ = tls_testing::issue("bare", KeyType::p256, &ca_);
  }
  static PeerRequirements req(std::vector<std::string> sans, std::vector<std::string> spki = {},
                              std::vector<std::string> hashes = {}) {
    PeerRequirements r;
    std::string error;
    EXPECT_TRUE(parse_peer_requirements(sans, spki, hashes, &r, &error)) << error;
    return r;
  }
  static inline tls_testing::Credential ca_, client_, other_, bare_;
};

TEST_F(PeerVerifyTest, SubjectAltNamesMatchAnyKindOfName) {
  X509Ptr c = parse(client_.cert_pem);
  EXPECT_EQ(check_peer(c.get(), req({"spiffe://cluster.local/ns/prod/sa/web"})), PeerFailure::none);
  EXPECT_EQ(check_peer(c.get(), req({"nope", "10.0.0.7"})), PeerFailure::none);
  // A wildcard DNS SAN stands for one label.
  EXPECT_EQ(check_peer(c.get(), req({"api.svc.example.com"})), PeerFailure::none);
  EXPECT_EQ(check_peer(c.get(), req({"a.b.svc.example.com"})), PeerFailure::subject_alt_name);
  EXPECT_EQ(check_peer(c.get(), req({"svc.example.com"})), PeerFailure::subject_alt_name);
  // URIs are exact: no prefix, no case folding.
  EXPECT_EQ(check_peer(c.get(), req({"spiffe://cluster.local/ns/prod/sa/we"})), PeerFailure::subject_alt_name);
  EXPECT_EQ(check_peer(c.get(), req({"SPIFFE://cluster.local/ns/prod/sa/web"})), PeerFailure::subject_alt_name);
  X509Ptr b = parse(bare_.cert_pem);
  EXPECT_EQ(check_peer(b.get(), req({"bare"})), PeerFailure::subject_alt_name) << "the CN is not a SAN";
  EXPECT_EQ(check_peer(b.get(), PeerRequirements{}), PeerFailure::none);
}

TEST_F(PeerVerifyTest, HashAndSpkiPinsEitherListAccepts) {
  X509Ptr c = parse(client_.cert_pem), o = parse(other_.cert_pem);
  for (const bool colons : {true, false}) {
    EXPECT_EQ(check_peer(c.get(), req({}, {}, {cert_hash(c.get(), colons)})), PeerFailure::none);
    EXPECT_EQ(check_peer(o.get(), req({}, {}, {cert_hash(c.get(), colons)})), PeerFailure::hash);
  }
  std::string lower = cert_hash(c.get(), false);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
  EXPECT_EQ(check_peer(c.get(), req({}, {}, {lower})), PeerFailure::none);
  EXPECT_EQ(check_peer(c.get(), req({}, {spki_b64(c.get())})), PeerFailure::none);
  EXPECT_EQ(check_peer(o.get(), req({}, {spki_b64(c.get())})), PeerFailure::hash);
  // Either list: the SPKI matches although the hash list names another certificate.
  EXPECT_EQ(check_peer(c.get(), req({}, {spki_b64(c.get())}, {cert_hash(o.get(), true)})), PeerFailure::none);
  // Pins and names both apply.
  EXPECT_EQ(check_peer(c.get(), req({"spiffe://cluster.local/ns/prod/sa/db"}, {spki_b64(c.get())})),
            PeerFailure::subject_alt_name);
}

TEST_F(PeerVerifyTest, MalformedPinsAreRefusedByName) {
  PeerRequirements r;
  std::string error;
  const std::string good = cert_hash(parse(client_.cert_pem).get(), true);
  struct Case {
    std::vector<std::string> sans, spki, hashes;
    std::string error;
  };
  const Case cases[] = {
      {{""}, {}, {}, "subjectAltNames: an empty name"},
      {{}, {"AAAA"}, {}, "verifyCertificateSpki: \"AAAA\" is not the base64 of a SHA-256 digest"},
      {{}, {std::string(44, '=')}, {}, "verifyCertificateSpki: \"" + std::string(44, '=') +
                                           "\" is not the base64 of a SHA-256 digest"},
      {{}, {}, {good.substr(3)}, "verifyCertificateHash: \"" + good.substr(3) + "\" is not a hex SHA-256 digest"},
      {{}, {}, {good + ":00"}, "verifyCertificateHash: \"" + good + ":00\" is not a hex SHA-256 digest"},
      {{}, {}, {":" + good}, "verifyCertificateHash: \":" + good + "\" is not a hex SHA-256 digest"},
      {{}, {}, {"zz" + good.substr(2)}, "verifyCertificateHash: \"zz" + good.substr(2) +
                                            "\" is not a hex SHA-256 digest"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(parse_peer_requirements(c.sans, c.spki, c.hashes, &r, &error));
    EXPECT_EQ(error, c.error);
  }
}

}  // namespace
}  // namespace lg::tls
