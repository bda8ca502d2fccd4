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

}  // namespace

void OpenSslPair::keylog(const SSL* ssl, const char* line) {
  auto* self = static_cast<OpenSslPair*>(SSL_get_app_data(ssl));
  const std::string l(line);
  const size_t a = l.find(' '), b = l.find(' ', a + 1);
  if (self != nullptr && a != std::string::npos && b != std::string::npos)
    self->secrets_[l.substr(0, a)] = from_hex(l.substr(b + 1));
}

std::unique_ptr<OpenSslPair> OpenSslPair::connect(const PairOptions& o, std::string* error) {
  std::unique_ptr<OpenSslPair> p(new OpenSslPair());
  p->key_ = EVP_EC_gen("P-256");
  p->cert_ = self_signed(p->key_);
  p->sctx_ = SSL_CTX_new(TLS_server_method());
  p->cctx_ = SSL_CTX_new(TLS_client_method());
  const int v = o.version == tls::Version::tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  for (SSL_CTX* ctx : {p->sctx_, p->cctx_}) {
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_max_proto_version(ctx, v);
    const int ok = o.version == tls::Version::tls13 ? SSL_CTX_set_ciphersuites(ctx, o.suite.c_str())
                                               : SSL_CTX_set_cipher_list(ctx, o.suite.c_str());
    if (ok != 1) {
      *error = "unknown suite " + o.suite;
      return nullptr;
    }
  }
  SSL_CTX_use_certificate(p->sctx_, p->cert_);
  SSL_CTX_use_PrivateKey(p->sctx_, p->key_);
  SSL_CTX_set_num_tickets(p->sctx_, 0);  // nothing under the application keys before the hand-over
  SSL_CTX_set_keylog_callback(p->sctx_, keylog);
  p->server_ = SSL_new(p->sctx_);
  p->client_ = SSL_new(p->cctx_);
  SSL_set_app_data(p->server_, p.get());
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
  if (!p->derive_keys(o, error)) return nullptr;
  return p;
}

bool OpenSslPair::derive_keys(const PairOptions& o, std::string* error) {
  hash_ = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(server_));
  if (o.version == tls::Version::tls13) {
    if (!secrets_.contains("CLIENT_TRAFFIC_SECRET_0") || !secrets_.contains("SERVER_TRAFFIC_SECRET_0")) {
      *error = "no traffic secrets in the key log";
      return false;
    }
    client_secret = secrets_["CLIENT_TRAFFIC_SECRET_0"];
    server_secret = secrets_["SERVER_TRAFFIC_SECRET_0"];
    first_sequence = 0;
    return (tls::tls13_traffic_keys(o.aead, hash_, client_secret, &client_write) &&
            tls::tls13_traffic_keys(o.aead, hash_, server_secret, &server_write)) ||
           (*error = "HKDF failed", false);
  }
  uint8_t cr[32], sr[32];
  SSL_get_client_random(server_, cr, sizeof(cr));
  SSL_get_server_random(server_, sr, sizeof(sr));
  if (!secrets_.contains("CLIENT_RANDOM")) {
    *error = "no master secret in the key log";
    return false;
  }
  first_sequence = 1;  // each side's Finished was record 0 under the new keys (RFC 5246 §7.1)
  return tls::tls12_key_block(o.aead, hash_, secrets_["CLIENT_RANDOM"], cr, sr, &client_write, &server_write) ||
         (*error = "TLS PRF failed", false);
}

OpenSslPair::~OpenSslPair() {
  SSL_free(client_);
  SSL_free(server_);
  SSL_CTX_free(cctx_);
  SSL_CTX_free(sctx_);
  X509_free(cert_);
  EVP_PKEY_free(key_);
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
