#include "tls/testing/openssl_pair.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>

namespace lg::tls_testing {

Bytes from_hex(std::string s) {
  std::erase(s, ' ');
  Bytes b(s.size() / 2);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(std::stoi(s.substr(2 * i, 2), nullptr, 16));
  return b;
}

namespace {

X509* self_signed(EVP_PKEY* key) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("linegate.test"), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509_sign(x, key, EVP_sha256());
  return x;
}

void pump(BIO* from, BIO* to) {
  char buf[16384];
  for (int n; (n = BIO_read(from, buf, sizeof(buf))) > 0;) BIO_write(to, buf, n);
}

Bytes drain(BIO* from) {
  Bytes out;
  char buf[16384];
  for (int n; (n = BIO_read(from, buf, sizeof(buf))) > 0;) out.insert(out.end(), buf, buf + n);
  return out;
}

SSL_CTX* pinned_context(const SSL_METHOD* method, const PairOptions& o, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  const int v = o.version == tls::Version::tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, v);
  SSL_CTX_set_max_proto_version(ctx, v);
  const int ok = o.version == tls::Version::tls13 ? SSL_CTX_set_ciphersuites(ctx, o.suite.c_str())
                                                  : SSL_CTX_set_cipher_list(ctx, o.suite.c_str());
  if (ok != 1) {
    *error = "unknown suite " + o.suite;
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

Bytes seal_one(tls::RecordProtection& tx, tls::AeadEngine& engine, tls::ContentType type, const Bytes& plain) {
  Bytes rec(tx.prefix_len() + plain.size() + tx.suffix_len());
  std::copy(plain.begin(), plain.end(), rec.begin() + static_cast<long>(tx.prefix_len()));
  tls::AeadOp op;
  rec.resize(tx.prepare_seal(type, rec.data(), plain.size(), &op));
  engine.seal({&op, 1});
  return rec;
}

tls::OpenStatus open_one(tls::RecordProtection& rx, tls::AeadEngine& engine, Bytes record, tls::ContentType* type,
                         Bytes* plain) {
  tls::AeadOp op;
  tls::OpenStatus st = rx.prepare_open(record.data(), record.size(), &op);
  if (st != tls::OpenStatus::ok) return st;
  engine.open({&op, 1});
  const uint8_t* p = nullptr;
  size_t n = 0;
  st = rx.finish_open(record.data(), op, type, &p, &n);
  if (st == tls::OpenStatus::ok) plain->assign(p, p + n);
  return st;
}

SSL_CTX* server_context(const PairOptions& o, std::string* error) {
  SSL_CTX* ctx = pinned_context(TLS_server_method(), o, error);
  if (ctx == nullptr) return nullptr;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = self_signed(key);
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  SSL_CTX_set_num_tickets(ctx, 0);  // nothing under the application keys before the hand-over
  tls::capture_key_log(ctx);
  return ctx;
}

SSL_CTX* client_context(const PairOptions& o, std::string* error) { return pinned_context(TLS_client_method(), o, error); }

std::unique_ptr<OpenSslPair> OpenSslPair::connect(const PairOptions& o, std::string* error) {
  std::unique_ptr<OpenSslPair> p(new OpenSslPair());
  p->sctx_ = server_context(o, error);
  p->cctx_ = client_context(o, error);
  if (p->sctx_ == nullptr || p->cctx_ == nullptr) return nullptr;
  p->server_ = SSL_new(p->sctx_);
  p->client_ = SSL_new(p->cctx_);
  tls::attach_key_log(p->server_, &p->key_log_);
  p->to_server_ = BIO_new(BIO_s_mem());
  p->from_server_ = BIO_new(BIO_s_mem());
  p->to_client_ = BIO_new(BIO_s_mem());
  p->from_client_ = BIO_new(BIO_s_mem());
  SSL_set_bio(p->server_, p->to_server_, p->from_server_);
  SSL_set_bio(p->client_, p->to_client_, p->from_client_);
  SSL_set_accept_state(p->server_);
  SSL_set_connect_state(p->client_);
  for (int i = 0; i < 20 && !(SSL_is_init_finished(p->server_) && SSL_is_init_finished(p->client_)); ++i) {
    SSL_do_handshake(p->client_);
    p->client_to_server();
    SSL_do_handshake(p->server_);
    p->server_to_client();
  }
  if (!SSL_is_init_finished(p->server_) || !SSL_is_init_finished(p->client_)) {
    *error = std::string("handshake: ") + ERR_error_string(ERR_get_error(), nullptr);
    return nullptr;
  }
  if (!tls::hand_over(p->server_, p->key_log_, &p->server_keys, error)) return nullptr;
  if (p->server_keys.aead != o.aead) {
    *error = std::string("negotiated ") + tls::aead_name(p->server_keys.aead) + ", not " + tls::aead_name(o.aead);
    return nullptr;
  }
  return p;
}

OpenSslPair::~OpenSslPair() {
  SSL_free(client_);
  SSL_free(server_);
  SSL_CTX_free(cctx_);
  SSL_CTX_free(sctx_);
}

void OpenSslPair::to_client(const uint8_t* p, size_t n) const { BIO_write(to_client_, p, static_cast<int>(n)); }
Bytes OpenSslPair::from_client() const { return drain(from_client_); }
Bytes OpenSslPair::from_server() const { return drain(from_server_); }
void OpenSslPair::server_to_client() const { pump(from_server_, to_client_); }
void OpenSslPair::client_to_server() const { pump(from_client_, to_server_); }

void OpenSslPair::discard_server_output() {
  from_server_ = BIO_new(BIO_s_null());
  SSL_set0_wbio(server_, from_server_);  // frees the memory BIO
}

}  // namespace lg::tls_testing
