#include "tls/session/server_context.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdint>

#include "tls/session/context_util.h"
#include "tls/session/hand_over.h"

namespace lg::tls {

namespace {

bool use_client_ca(SSL_CTX* ctx, const std::string& pem, std::string* error) {
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  if (!trust_cas(ctx, pem, "client CA", names, error)) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return false;
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  return true;
}

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

// Which sessions this context may resume: those of a server that proved
// the same names and checks clients the same way. A resumed handshake
// re-checks neither side's certificate (RFC 5246 §7.3, RFC 8446 §2.2), and
// the ticket keys are process-wide, so without this a ticket from a SIMPLE
// server would skip a MUTUAL server's client check, or one from another
// host's server would open here. OpenSSL answers a ticket from another
// context id with a full handshake. Names rather than certificates, as
// Envoy's session context id: a renewed certificate keeps the sessions.
bool set_session_context(SSL_CTX* ctx, const ServerTlsConfig& c) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (md == nullptr || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return false;
  bool ok = true;
  const auto field = [&](const void* p, size_t n) {  // length-prefixed: fields cannot run into each other
    const uint64_t len = n;
    ok = ok && EVP_DigestUpdate(md.get(), &len, sizeof len) == 1 && (n == 0 || EVP_DigestUpdate(md.get(), p, n) == 1);
  };
  const auto text = [&](const std::string& s) { field(s.data(), s.size()); };
  text("linegate server session context 1");
  for (const CertificateKey& ck : c.certificates) {
    const std::vector<X509Ptr> chain = read_certificates(ck.cert_chain_pem);
    if (chain.empty()) return false;
    X509* leaf = chain.front().get();
    unsigned char* der = nullptr;
    const int n = i2d_X509_NAME(X509_get_subject_name(leaf), &der);
    field(der, n > 0 ? static_cast<size_t>(n) : 0);
    OPENSSL_free(der);
    const int san = X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1);
    const ASN1_OCTET_STRING* names = san >= 0 ? X509_EXTENSION_get_data(X509_get_ext(leaf, san)) : nullptr;
    field(names ? ASN1_STRING_get0_data(names) : nullptr, names ? static_cast<size_t>(ASN1_STRING_length(names)) : 0);
  }
  const auto mode = static_cast<uint8_t>(c.client_certificate);
  field(&mode, 1);
  if (c.client_certificate != ClientCertificate::none) {
    text(c.client_ca_pem);
    const PeerRequirements& r = c.client_requirements;
    const uint64_t counts[] = {r.subject_alt_names.size(), r.spki_sha256.size(), r.cert_sha256.size()};
    field(counts, sizeof counts);  // so that a name cannot pass for a pin
    for (const std::string& n : r.subject_alt_names) text(n);
    for (const Sha256& h : r.spki_sha256) field(h.data(), h.size());
    for (const Sha256& h : r.cert_sha256) field(h.data(), h.size());
  }
  unsigned char id[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static_assert(SSL_MAX_SID_CTX_LENGTH >= 32);
  return ok && EVP_DigestFinal_ex(md.get(), id, &len) == 1 &&
         SSL_CTX_set_session_id_context(ctx, id, std::min<unsigned>(len, SSL_MAX_SID_CTX_LENGTH)) == 1;
}

// Resumption by tickets only: OpenSSL's server-side session cache belongs to
// one context (lost with each snapshot) and takes that context's lock on
// every handshake of every worker. The tickets are sealed with keys that
// outlive contexts (TicketKeys); without keys there are none, in TLS 1.2
// (RFC 5077) and TLS 1.3 (no NewSessionTicket, RFC 8446 §4.6.1).
void use_tickets(SSL_CTX* ctx, TicketKeys* keys) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (keys != nullptr) {
    keys->install(ctx);
    return;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
}

}  // namespace

std::unique_ptr<ServerContext> ServerContext::build(const ServerTlsConfig& c, std::string* error) {
  if (c.certificates.empty()) {
    *error = "no certificate";
    return nullptr;
  }
  std::unique_ptr<ServerContext> s(new ServerContext());
  s->ctx_ = SSL_CTX_new(TLS_server_method());
  if (s->ctx_ == nullptr) {
    *error = "cannot create an OpenSSL context";
    return nullptr;
  }
  SSL_CTX* ctx = s->ctx_;
  if (!common_settings(ctx, c.min_version, c.max_version, c.cipher_suites, error)) return nullptr;
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  for (const CertificateKey& ck : c.certificates)
    if (!use_certificate_key(ctx, ck, error)) return nullptr;
  if (c.client_certificate != ClientCertificate::none) {
    if (!use_client_ca(ctx, c.client_ca_pem, error)) return nullptr;
    SSL_CTX_set_verify(ctx,
                       SSL_VERIFY_PEER | (c.client_certificate == ClientCertificate::required
                                              ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                              : 0),
                       nullptr);
    if (!c.client_requirements.empty()) require_peer(ctx, c.client_requirements);
  }
  if (!alpn_wire(c.alpn, &s->alpn_wire_, error)) return nullptr;
  if (!s->alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &s->alpn_wire_);
  if (!set_session_context(ctx, c)) {
    *error = "cannot derive the session context id (" + openssl_reason() + ")";
    return nullptr;
  }
  use_tickets(ctx, c.ticket_keys);
  capture_key_log(ctx);  // the record layer's keys
  return s;
}

ServerContext::~ServerContext() { SSL_CTX_free(ctx_); }

}  // namespace lg::tls
