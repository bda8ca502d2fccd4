#include "tls/session/client_context.h"

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tls/session/hand_over.h"

namespace lg::tls {

std::unique_ptr<ClientContext> ClientContext::build(const ClientTlsConfig& c, std::string* error) {
  std::unique_ptr<ClientContext> s(new ClientContext());
  s->ctx_ = SSL_CTX_new(TLS_client_method());
  if (s->ctx_ == nullptr) {
    *error = "cannot create an OpenSSL context";
    return nullptr;
  }
  SSL_CTX* ctx = s->ctx_;
  if (!common_settings(ctx, c.min_version, c.max_version, c.cipher_suites, error)) return nullptr;
  // Tickets from upstreams are not kept (each connection is pooled for
  // reuse instead), so none is asked for.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (c.certificate && !use_certificate_key(ctx, *c.certificate, error)) return nullptr;
  if (c.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    if (c.ca_pem.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        *error = "no caCertificates and no system trust store (" + openssl_reason() + ")";
        return nullptr;
      }
    } else if (!trust_cas(ctx, c.ca_pem, "caCertificates", nullptr, error)) {
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!c.server_requirements.empty()) {
      require_peer(ctx, c.server_requirements);
    } else if (!c.verify_host.empty()) {
      // RFC 6125 §6.4: DNS SANs (the CN only without them), "*" matching one
      // whole left-most label.
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (X509_VERIFY_PARAM_set1_host(param, c.verify_host.c_str(), c.verify_host.size()) != 1) {
        *error = "cannot verify the upstream against the name " + c.verify_host;
        return nullptr;
      }
    }
  }
  std::vector<uint8_t> alpn;
  if (!alpn_wire(c.alpn, &alpn, error)) return nullptr;
  // (SSL_CTX_set_alpn_protos returns 0 on success.)
  if (!alpn.empty() && SSL_CTX_set_alpn_protos(ctx, alpn.data(), static_cast<unsigned>(alpn.size())) != 0) {
    *error = "ALPN refused";
    return nullptr;
  }
  capture_key_log(ctx);  // the record layer's keys
  return s;
}

ClientContext::~ClientContext() { SSL_CTX_free(ctx_); }

}  // namespace lg::tls
