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

std::unique_ptr<BIO, BioFree> pem_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return r != nullptr ? r : "unknown error";
}

bool use_certificate_key(SSL_CTX* ctx, const CertificateKey& ck, std::string* error) {
  auto bio = pem_bio(ck.cert_chain_pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) {
    *error = ck.name + ": no PEM certificate (" + openssl_reason() + ")";
    return false;
  }
  bool ok = SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  while (ok) {
    X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (ca == nullptr) break;
    ok = SSL_CTX_add1_chain_cert(ctx, ca) == 1;
    X509_free(ca);
  }
  ERR_clear_error();  // the end of the PEM list reads as an error
  if (!ok) {
    *error = ck.name + ": certificate refused (" + openssl_reason() + ")";
    return false;
  }
  auto kbio = pem_bio(ck.private_key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    *error = ck.name + ": no PEM private key (" + openssl_reason() + ")";
    return false;
  }
  ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  if (!ok) {
    *error = ck.name + ": the private key does not match the certificate (" + openssl_reason() + ")";
    return false;
  }
  return true;
}

bool trust_cas(SSL_CTX* ctx, const std::string& pem, const char* what, STACK_OF(X509_NAME) * names,
               std::string* error) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  auto bio = pem_bio(pem);
  int n = 0;
  for (X509* ca; (ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) != nullptr; ++n) {
    X509_STORE_add_cert(store, ca);
    if (names != nullptr) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
    X509_free(ca);
  }
  ERR_clear_error();
  if (n == 0) {
    *error = std::string(what) + ": no PEM certificate";
    return false;
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
