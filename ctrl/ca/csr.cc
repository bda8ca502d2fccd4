#include "ctrl/ca/csr.h"

#include "ctrl/ca/ossl.h"

#include <openssl/err.h>

namespace lg::ctrl::ca {

bool make_key_and_csr(const std::string& spiffe_id, std::string* key_pem, std::string* csr_pem, std::string* error) {
  ERR_clear_error();
  auto fail = [&](const char* what) {
    if (error) *error = std::string(what) + ": " + ossl_errors();
    return false;
  };
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail("cannot generate a P-256 key");
  X509ReqPtr req(X509_REQ_new());
  GeneralNamesPtr san = uri_names({spiffe_id});
  ExtStackPtr exts(sk_X509_EXTENSION_new_null());
  if (!req || !san || !exts || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1)
    return fail("cannot build the CSR");
  // Critical: the subject is empty (RFC 5280 §4.2.1.6).
  X509ExtPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, 1, san.get()));
  if (!ext || sk_X509_EXTENSION_push(exts.get(), ext.get()) == 0) return fail("cannot build the CSR");
  ext.release();  // the stack owns it now
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1 || X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0)
    return fail("cannot sign the CSR");
  std::string k = key_to_pem(key.get()), c = to_pem(req.get());
  if (k.empty() || c.empty()) return fail("cannot encode the key or CSR");
  *key_pem = std::move(k);
  *csr_pem = std::move(c);
  return true;
}

}  // namespace lg::ctrl::ca
