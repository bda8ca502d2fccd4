#include "tls/testing/peers.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace lg::tls_testing {

namespace {

std::string pem_of(int (*write)(BIO*, void*), void* obj) {
  BIO* b = BIO_new(BIO_s_mem());
  write(b, obj);
  char* p = nullptr;
  const long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

void add_ext(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
}

}  // namespace

X509Ptr pem_cert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr x(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  return x;
}

void use_credential(SSL_CTX* ctx, const Credential& c) {
  X509Ptr x = pem_cert(c.cert_pem);
  BIO* kb = BIO_new_mem_buf(c.key_pem.data(), static_cast<int>(c.key_pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  SSL_CTX_use_certificate(ctx, x.get());
  SSL_CTX_use_PrivateKey(ctx, k);
  EVP_PKEY_free(k);
  BIO_free(kb);
}

Credential issue(const std::string& cn, KeyType type, const Credential* issuer, const std::string& san, bool ca) {
  static long serial = 1;
  EVP_PKEY* key = type == KeyType::p256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = x;
  EVP_PKEY* signer = key;
  if (issuer != nullptr) {
    BIO* cb = BIO_new_mem_buf(issuer->cert_pem.data(), static_cast<int>(issuer->cert_pem.size()));
    BIO* kb = BIO_new_mem_buf(issuer->key_pem.data(), static_cast<int>(issuer->key_pem.size()));
    issuer_cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    signer = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO_free(kb);
    add_ext(x, issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    if (ca) add_ext(x, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (!san.empty()) add_ext(x, issuer_cert, NID_subject_alt_name, san.c_str());
  X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
  X509_sign(x, signer, EVP_sha256());
  Credential c;
  c.cert_pem = pem_of([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
  c.key_pem = pem_of(
      [](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
      },
      key);
  if (issuer != nullptr) {
    X509_free(issuer_cert);
    EVP_PKEY_free(signer);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return c;
}

MemoryClient::MemoryClient(SSL_CTX* ctx) : ssl_(SSL_new(ctx)), in_(BIO_new(BIO_s_mem())), out_(BIO_new(BIO_s_mem())) {
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_connect_state(ssl_);
}

MemoryClient::~MemoryClient() {
  // A client that leaves without close_notify loses its session (OpenSSL
  // marks it not resumable), as a browser's would.
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  SSL_free(ssl_);
}

Bytes MemoryClient::written() const {
  Bytes b(BIO_ctrl_pending(out_));
  if (!b.empty()) BIO_read(out_, b.data(), static_cast<int>(b.size()));
  return b;
}

void MemoryClient::receive(const uint8_t* p, size_t n) const { BIO_write(in_, p, static_cast<int>(n)); }

void handshake(tls::Handshake& server, MemoryClient& client, const std::function<void()>& after_client_step) {
  for (int i = 0; i < 10 && server.state() == tls::Handshake::State::in_progress; ++i) {
    SSL_do_handshake(client.ssl());
    after_client_step();
    const Bytes b = client.written();
    server.input(b.data(), b.size());
    Bytes out(server.pending_output());
    out.resize(server.take_output(out.data(), out.size()));
    client.receive(out.data(), out.size());
  }
  // The client reads the server's last flight (or its alert).
  SSL_do_handshake(client.ssl());
}

}  // namespace lg::tls_testing
