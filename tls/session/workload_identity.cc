#include "tls/session/workload_identity.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string_view>
#include <vector>

#include "tls/session/context_util.h"

namespace lg::tls {

namespace {

bool to_time_point(const ASN1_TIME* t, std::chrono::system_clock::time_point* out) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return false;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace

std::string spiffe_trust_domain(const std::string& id) {
  constexpr std::string_view kScheme = "spiffe://";
  if (!id.starts_with(kScheme)) return {};
  const size_t slash = id.find('/', kScheme.size());
  if (slash == std::string::npos || slash == kScheme.size()) return {};
  return id.substr(kScheme.size(), slash - kScheme.size());
}

std::string spiffe_id(X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return {};
  std::string id;
  int uris = 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    ++uris;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    id.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return uris == 1 && id.starts_with("spiffe://") ? id : std::string();
}

std::shared_ptr<const WorkloadIdentity> WorkloadIdentity::load(std::string cert_chain_pem, std::string private_key_pem,
                                                               std::string roots_pem, std::string source,
                                                               std::chrono::system_clock::time_point now,
                                                               std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = source + ": " + why;
    return nullptr;
  };
  std::vector<X509Ptr> chain = read_certificates(cert_chain_pem);
  if (chain.empty()) return fail("no certificate in the certificate chain");
  std::vector<X509Ptr> roots = read_certificates(roots_pem);
  if (roots.empty()) return fail("no certificate in the root certificates");
  X509* leaf = chain.front().get();

  auto id = std::make_shared<WorkloadIdentity>();
  id->spiffe_id = tls::spiffe_id(leaf);
  id->trust_domain = spiffe_trust_domain(id->spiffe_id);
  if (id->trust_domain.empty()) return fail("the certificate has no single spiffe:// URI SAN");
  if (!to_time_point(X509_get0_notBefore(leaf), &id->not_before) ||
      !to_time_point(X509_get0_notAfter(leaf), &id->not_after))
    return fail("the certificate's validity does not parse");

  const PkeyPtr key = read_private_key(private_key_pem);
  if (!key) return fail("private key: " + openssl_reason());
  if (X509_check_private_key(leaf, key.get()) != 1) return fail("the private key is not the certificate's");

  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  struct StackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // (a macro: no function to point at)
  };
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> vctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!store || !untrusted || !vctx) return fail("out of memory");
  for (const X509Ptr& r : roots) X509_STORE_add_cert(store.get(), r.get());
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  if (X509_STORE_CTX_init(vctx.get(), store.get(), leaf, untrusted.get()) != 1) return fail(openssl_reason());
  X509_STORE_CTX_set_time(vctx.get(), 0, std::chrono::system_clock::to_time_t(now));
  if (X509_verify_cert(vctx.get()) != 1)
    return fail(std::string("the certificate does not verify to the roots: ") +
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx.get())));

  id->cert_chain_pem = std::move(cert_chain_pem);
  id->private_key_pem = std::move(private_key_pem);
  id->roots_pem = std::move(roots_pem);
  id->source = std::move(source);
  return id;
}

}  // namespace lg::tls
