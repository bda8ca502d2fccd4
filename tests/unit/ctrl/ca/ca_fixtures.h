// Test-side PKI for the CA tests: keys, CSRs with arbitrary names, CA
// certificates at any level, and chain verification with OpenSSL's own
// verifier. Built from plain OpenSSL calls, not from ctrl/ca, so the code
// under test does not check itself.
#pragma once

#include "ctrl/ca/ossl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>
#include <string>
#include <vector>

namespace lg::ctrl::ca::testing {

inline PkeyPtr ec_key(const char* curve = "P-256") { return PkeyPtr(EVP_EC_gen(curve)); }
inline PkeyPtr rsa_key(unsigned bits) { return PkeyPtr(EVP_RSA_gen(bits)); }

// A CSR signed by `key` whose subjectAltName is `san` in openssl.cnf syntax
// ("URI:spiffe://...,DNS:x"); no SAN at all when `san` is empty.
inline X509ReqPtr csr(EVP_PKEY* key, const std::string& san, const std::string& cn = "") {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  if (!san.empty()) {
    ExtStackPtr exts(sk_X509_EXTENSION_new_null());
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
    sk_X509_EXTENSION_push(exts.get(), ext);
    X509_REQ_add_extensions(req.get(), exts.get());
  }
  X509_REQ_sign(req.get(), key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256());
  return req;
}

inline std::string csr_pem(EVP_PKEY* key, const std::string& san) { return to_pem(csr(key, san).get()); }

struct TestCa {
  PkeyPtr key;
  X509Ptr cert;
  std::string cert_pem() const { return to_pem(cert.get()); }
  std::string key_pem() const { return key_to_pem(key.get()); }
};

// A certificate for a new P-256 key with subject CN=`cn`, signed by `issuer`
// (self-signed when null). `ca` false: an end-entity certificate.
inline TestCa make_cert(const std::string& cn, const TestCa* issuer, bool ca = true, long days = 365) {
  TestCa out{ec_key(), X509Ptr(X509_new())};
  X509* x = out.cert.get();
  X509_set_version(x, X509_VERSION_3);
  Asn1IntegerPtr serial = random_serial();
  X509_set_serialNumber(x, serial.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("linegate test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
  const time_t now = std::time(nullptr);
  ASN1_TIME_set(X509_getm_notBefore(x), now - 3600);
  ASN1_TIME_set(X509_getm_notAfter(x), now + days * 86400);
  X509_set_pubkey(x, out.key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const char* v) {
    X509_EXTENSION* e = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, v);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  if (issuer) add(NID_authority_key_identifier, "keyid:always");
  X509_sign(x, issuer ? issuer->key.get() : out.key.get(), EVP_sha256());
  return out;
}

inline X509Ptr parse(const std::string& pem) {
  auto certs = read_certs(pem);
  return certs.empty() ? nullptr : std::move(certs.front());
}

// Verifies chain[0] against `root_pem` as the only trust anchor, with the
// rest of `chain` as untrusted intermediates, for `purpose`
// (X509_PURPOSE_SSL_CLIENT / _SERVER). "" when it verifies, else OpenSSL's reason.
inline std::string verify(const std::vector<std::string>& chain, const std::string& root_pem,
                          int purpose = X509_PURPOSE_SSL_CLIENT) {
  if (chain.empty()) return "empty chain";
  X509Ptr leaf = parse(chain.front());
  X509Ptr root = parse(root_pem);
  if (!leaf || !root) return "unparseable";
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root.get());
  X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), parse(chain[i]).release());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get());
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_X509_STRICT);
  int ok = X509_verify_cert(ctx.get());
  std::string why = ok == 1 ? "" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  ERR_clear_error();
  return why;
}

// The URIs and the count of other names in a certificate's subjectAltName.
inline std::vector<std::string> san_uris(X509* x, int* others = nullptr) {
  std::vector<std::string> out;
  if (others) *others = 0;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    int type = 0;
    auto* v = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), i), &type));
    if (type == GEN_URI) out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)), ASN1_STRING_length(v));
    else if (others) ++*others;
  }
  return out;
}

inline bool ext_critical(X509* x, int nid) {
  int at = X509_get_ext_by_NID(x, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, at)) == 1;
}

inline time_t asn1_time(const ASN1_TIME* t) {
  struct tm tm {};
  ASN1_TIME_to_tm(t, &tm);
  return timegm(&tm);
}

}  // namespace lg::ctrl::ca::testing
