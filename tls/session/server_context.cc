#include "tls/session/server_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls/session/hand_over.h"

namespace lg::tls {

namespace {

// Envoy's (and so Istio's) default TLS 1.2 suites: forward-secret AEADs only.
constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return r != nullptr ? r : "unknown error";
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::unique_ptr<BIO, BioFree> pem_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

bool use_certificate_key(SSL_CTX* ctx, const CertificateKey& ck, std::string* error) {
  auto bio = pem_bio(ck.cert_chain_pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) {
    *error = ck.name + ": no PEM certificate (" + openssl_reason() + ")";
    return false;
  }
  // Leaf, then its chain; the context keeps one chain per key type.
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

bool use_client_ca(SSL_CTX* ctx, const std::string& pem, std::string* error) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  auto bio = pem_bio(pem);
  int n = 0;
  for (X509* ca; (ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) != nullptr; ++n) {
    X509_STORE_add_cert(store, ca);
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
    X509_free(ca);
  }
  ERR_clear_error();
  if (n == 0) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    *error = "client CA: no PEM certificate";
    return false;
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  return true;
}

int version_of(Version v) { return v == Version::tls13 ? TLS1_3_VERSION : TLS1_2_VERSION; }

// RFC 7301 §3.2: the server picks from the client's list by its own
// preference; no overlap → no_application_protocol alert.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void* arg) {
  const auto* ours = static_cast<const std::vector<uint8_t>*>(arg);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, ours->data(), static_cast<unsigned>(ours->size()), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::unique_ptr<ServerContext> ServerContext::build(const ServerTlsConfig& c, std::string* error) {
  if (c.certificates.empty()) {
    *error = "no certificate";
    return nullptr;
  }
  if (version_of(c.min_version) > version_of(c.max_version)) {
    *error = "minProtocolVersion is above maxProtocolVersion";
    return nullptr;
  }
  std::unique_ptr<ServerContext> s(new ServerContext());
  s->ctx_ = SSL_CTX_new(TLS_server_method());
  if (s->ctx_ == nullptr) {
    *error = "cannot create an OpenSSL context";
    return nullptr;
  }
  SSL_CTX* ctx = s->ctx_;
  SSL_CTX_set_min_proto_version(ctx, version_of(c.min_version));
  SSL_CTX_set_max_proto_version(ctx, version_of(c.max_version));
  // Renegotiation would move keys under the record layer's feet; compression is CRIME.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  std::string ciphers;
  for (const std::string& name : c.cipher_suites) {
    if (!ciphers.empty()) ciphers += ':';
    ciphers += name;
  }
  if (SSL_CTX_set_cipher_list(ctx, ciphers.empty() ? kDefaultCiphers : ciphers.c_str()) != 1) {
    *error = "cipherSuites: none is known (" + openssl_reason() + ")";
    return nullptr;
  }
  for (const CertificateKey& ck : c.certificates)
    if (!use_certificate_key(ctx, ck, error)) return nullptr;
  if (c.client_certificate != ClientCertificate::none) {
    if (!use_client_ca(ctx, c.client_ca_pem, error)) return nullptr;
    SSL_CTX_set_verify(ctx,
                       SSL_VERIFY_PEER | (c.client_certificate == ClientCertificate::required
                                              ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                              : 0),
                       nullptr);
    s->client_requirements_ = c.client_requirements;
    if (!s->client_requirements_.empty()) require_peer(ctx, &s->client_requirements_);
  }
  for (const std::string& p : c.alpn) {
    if (p.empty() || p.size() > 255) {
      *error = "ALPN protocol names are 1 to 255 bytes";
      return nullptr;
    }
    s->alpn_wire_.push_back(static_cast<uint8_t>(p.size()));
    s->alpn_wire_.insert(s->alpn_wire_.end(), p.begin(), p.end());
  }
  if (!s->alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &s->alpn_wire_);
  capture_key_log(ctx);  // the record layer's keys
  return s;
}

ServerContext::~ServerContext() { SSL_CTX_free(ctx_); }

}  // namespace lg::tls
