// `linegatectl proxy-config` tables.
#include "ctrl/compile/describe.h"
#include "tests/unit/ctrl/compile/test_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <sstream>

namespace lg::ctrl::testing {
namespace {

// A self-signed P-256 certificate for "CN=shop.example.com,O=Shop" with a DNS SAN.
struct TestCert {
  std::string cert_pem, key_pem, sha256;
};

TestCert make_cert() {
  TestCert out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  ASN1_TIME_set_string(X509_getm_notAfter(x), "20991231235959Z");
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Shop"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("shop.example.com"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:shop.example.com,URI:spiffe://cluster.local/ns/shop/sa/web");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_set_pubkey(x, key);
  X509_sign(x, key, EVP_sha256());
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  out.cert_pem.assign(data, static_cast<size_t>(n));
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(b, &data);
  out.key_pem.assign(data, static_cast<size_t>(n));
  BIO_free(b);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(x, EVP_sha256(), md, &len);
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    snprintf(hex, sizeof hex, "%02x", md[i]);
    out.sha256 += hex;
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

std::string indent(const std::string& pem) {
  std::string out;
  std::stringstream ss(pem);
  for (std::string l; std::getline(ss, l);) out += "    " + l + "\n";
  return out;
}

pb::GatewaySnapshot sample(const TestCert& cert) {
  const std::string yaml = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
  - port: {number: 5432, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: ["shop.example.com", "*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /api}, headers: {x-canary: {exact: "yes"}}}]
    route:
    - {destination: {host: web, subset: v2}, weight: 25}
    - {destination: {host: web, subset: v1}, weight: 75}
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, redirectCode: 302}
  tcp:
  - route: [{destination: {host: db, port: {number: 5432}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: shop}
spec:
  host: web
  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: session, ttl: 60s}, maglev: {}}}}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: web-1, namespace: shop}
spec: {address: 10.0.0.1, labels: {app: web, version: v1}, locality: eu/eu-1a, network: net-a, weight: 5}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{name: tcp, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: shop}
subsets:
- addresses: [{ip: 10.0.1.1}]
  notReadyAddresses: [{ip: 10.0.1.2}]
  ports: [{name: tcp, port: 5432}]
---
apiVersion: v1
kind: Secret
metadata: {name: shop-cert, namespace: istio-system}
type: kubernetes.io/tls
stringData:
  tls.crt: |
)" + indent(cert.cert_pem) + "  tls.key: |\n" + indent(cert.key_pem);
  return compile(yaml);
}

std::vector<std::string> rows(const std::string& table) {
  std::vector<std::string> out;
  std::stringstream ss(table);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

bool has_row_with(const std::string& table, std::initializer_list<const char*> cells) {
  for (const std::string& r : rows(table)) {
    bool all = true;
    for (const char* c : cells) all &= r.find(c) != std::string::npos;
    if (all) return true;
  }
  return false;
}

class Describe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cert_ = new TestCert(make_cert());
    snap_ = new pb::GatewaySnapshot(sample(*cert_));
  }
  static void TearDownTestSuite() {
    delete snap_;
    delete cert_;
  }
  static std::string table(const char* section) {
    std::string out;
    EXPECT_TRUE(describe_table(*snap_, section, out));
    return out;
  }
  static TestCert* cert_;
  static pb::GatewaySnapshot* snap_;
};
TestCert* Describe::cert_ = nullptr;
pb::GatewaySnapshot* Describe::snap_ = nullptr;

TEST_F(Describe, UnknownSectionIsRejected) {
  std::string out = "stale";
  EXPECT_FALSE(describe_table(*snap_, "bogus", out));
  EXPECT_TRUE(out.empty());
}

TEST_F(Describe, Listeners) {
  const std::string t = table("listeners");
  const auto r = rows(t);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].substr(0, r[0].find("PORT")), "ADDRESS  ");
  EXPECT_NE(r[0].find("SERVERS/HOSTS"), std::string::npos);
  EXPECT_TRUE(has_row_with(t, {"0.0.0.0", "443", "HTTPS", "shop.example.com", "SIMPLE cred=shop-cert", "https.443.https.gw.shop"}));
  EXPECT_TRUE(has_row_with(t, {"80", "HTTP", "http.80"}));
  EXPECT_TRUE(has_row_with(t, {"5432", "TCP", "outbound|5432||db.shop.svc.cluster.local"}));
  // Columns line up: every row has the PORT column at the same offset.
  const size_t port_col = r[0].find("PORT");
  for (size_t i = 1; i < r.size(); ++i) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(r[i][port_col]))) << r[i];
}

TEST_F(Describe, Routes) {
  const std::string t = table("routes");
  EXPECT_EQ(rows(t)[0].substr(0, 4), "NAME");
  EXPECT_TRUE(has_row_with(t, {"http.80", "shop.example.com:80", "/api* x-canary=yes",
                               "outbound|8080|v2|web.shop.svc.cluster.local 25%, outbound|8080|v1|web.shop.svc.cluster.local 75%"}));
  EXPECT_TRUE(has_row_with(t, {"https.443.https.gw.shop", "/old", "redirect 302 /new"}));
}

TEST_F(Describe, Clusters) {
  const std::string t = table("clusters");
  EXPECT_NE(rows(t)[0].find("ENDPOINTS"), std::string::npos);
  EXPECT_TRUE(has_row_with(t, {"outbound|8080|v1|web.shop.svc.cluster.local", "8080", "v1", "MAGLEV(cookie:session)",
                               "AUTO(ISTIO_MUTUAL)", "1"}));
  EXPECT_TRUE(has_row_with(t, {"outbound|8080|v2|web.shop.svc.cluster.local", "v2", "0"}));
  EXPECT_TRUE(has_row_with(t, {"outbound|5432||db.shop.svc.cluster.local", "-", "LEAST_REQUEST", "2"}));
}

TEST_F(Describe, Endpoints) {
  const std::string t = table("endpoints");
  const std::string header = rows(t)[0];
  size_t at = 0;
  for (const char* col : {"ENDPOINT", "STATUS", "CLUSTER", "LOCALITY", "NETWORK", "WEIGHT", "AUTO_MTLS"}) {
    const size_t next = header.find(col, at);
    ASSERT_NE(next, std::string::npos) << col;
    at = next;
  }
  EXPECT_TRUE(has_row_with(t, {"10.0.0.1:8080", "HEALTHY", "outbound|8080|v1|web.shop.svc.cluster.local", "eu/eu-1a/", "net-a", "5", "istio"}));
  EXPECT_TRUE(has_row_with(t, {"10.0.1.2:5432", "UNHEALTHY", "outbound|5432||db.shop.svc.cluster.local", "-", "1",
                               "plaintext (tlsMode unset)"}));
}

TEST_F(Describe, SecretsShowCertificateFactsNeverKeys) {
  const std::string t = table("secrets");
  EXPECT_TRUE(has_row_with(t, {"shop-cert", "TLS", "CN=shop.example.com,O=Shop",
                               "shop.example.com,spiffe://cluster.local/ns/shop/sa/web", "Dec 31 23:59:59 2099 GMT",
                               cert_->sha256.c_str()}))
      << t;
  EXPECT_EQ(t.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(t.find("BEGIN"), std::string::npos);
}

TEST(DescribeEmpty, EmptySnapshotGivesHeadersOnly) {
  const pb::GatewaySnapshot empty;
  for (const char* s : {"listeners", "routes", "clusters", "endpoints", "secrets"}) {
    std::string out;
    ASSERT_TRUE(describe_table(empty, s, out));
    EXPECT_EQ(rows(out).size(), 1u) << s;
  }
}

}  // namespace
}  // namespace lg::ctrl::testing
