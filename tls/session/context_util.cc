#include "tls/session/context_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace lg::tls {

namespace {

// Envoy's (and so Istio's) default TLS 1.2 suites: forward-secret AEADs only.
constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

int openssl_version(Version v) { return v == Version::tls13 ? TLS1_3_VERSION : TLS1_2_VERSION; }

}  // namespace

std::vector<X509Ptr> read_certificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (bio == nullptr) return out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the loop ends on "no start line"
  return out;
}

PkeyPtr read_private_key(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (bio == nullptr) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")));
}

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return r != nullptr ? r : "unknown error";
}

bool use_certificate_key(SSL_CTX* ctx, const CertificateKey& ck, std::string* error) {
  const std::vector<X509Ptr> chain = read_certificates(ck.cert_chain_pem);
  if (chain.empty()) {
    *error = ck.name + ": no PEM certificate";
    return false;
  }
  bool ok = SSL_CTX_use_certificate(ctx, chain.front().get()) == 1;
  for (size_t i = 1; ok && i < chain.size(); ++i) ok = SSL_CTX_add1_chain_cert(ctx, chain[i].get()) == 1;
  if (!ok) {
    *error = ck.name + ": certificate refused (" + openssl_reason() + ")";
    return false;
  }
  const PkeyPtr key = read_private_key(ck.private_key_pem);
  if (key == nullptr) {
    *error = ck.name + ": no PEM private key (" + openssl_reason() + ")";
    return false;
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    *error = ck.name + ": the private key does not match the certificate (" + openssl_reason() + ")";
    return false;
  }
  return true;
}

bool trust_cas(SSL_CTX* ctx, const std::string& pem, const char* what, STACK_OF(X509_NAME) * names,
               std::string* error) {
  const std::vector<X509Ptr> cas = read_certificates(pem);
  if (cas.empty()) {
    *error = std::string(what) + ": no PEM certificate";
    return false;
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& ca : cas) {
    X509_STORE_add_cert(store, ca.get());
    if (names != nullptr) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca.get())));
  }
  return true;
}

bool common_settings(SSL_CTX* ctx, Version min, Version max, const std::vector<std::string>& cipher_suites,
                     std::string* error) {
  if (openssl_version(min) > openssl_version(max)) {
    *error = "minProtocolVersion is above maxProtocolVersion";
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx, openssl_version(min));
  SSL_CTX_set_max_proto_version(ctx, openssl_version(max));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  std::string ciphers;
  for (const std::string& name : cipher_suites) {
    if (!ciphers.empty()) ciphers += ':';
    ciphers += name;
  }
  if (SSL_CTX_set_cipher_list(ctx, ciphers.empty() ? kDefaultCiphers : ciphers.c_str()) != 1) {
    *error = "cipherSuites: none is known (" + openssl_reason() + ")";
    return false;
  }
  return true;
}

bool alpn_wire(const std::vector<std::string>& protocols, std::vector<uint8_t>* out, std::string* error) {
  out->clear();
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      *error = "ALPN protocol names are 1 to 255 bytes";
      return false;
    }
    out->push_back(static_cast<uint8_t>(p.size()));
    out->insert(out->end(), p.begin(), p.end());
  }
  return true;
}

}  // namespace lg::tls
