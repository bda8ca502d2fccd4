#include "ctrl/ca/ossl.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

namespace lg::ctrl::ca {

std::string ossl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

namespace {

BioPtr mem_bio(std::string_view s) {
  // BIO_new_mem_buf reads in place: `s` outlives the BIO in every caller.
  return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

std::string drain(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::vector<X509Ptr> read_certs(std::string_view pem, bool* bad) {
  std::vector<X509Ptr> out;
  if (bad) *bad = false;
  BioPtr b = mem_bio(pem);
  if (!b) return out;
  while (true) {
    X509Ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (!x) break;
    out.push_back(std::move(x));
  }
  // The loop ends on "no start line" at the end of the input; anything else
  // is a block that did not parse.
  unsigned long e = ERR_peek_last_error();
  if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    if (bad) *bad = true;
    out.clear();
  }
  ERR_clear_error();
  return out;
}

PkeyPtr read_key(std::string_view pem) {
  BioPtr b = mem_bio(pem);
  if (!b) return nullptr;
  // An empty passphrase: an encrypted key fails here instead of OpenSSL
  // asking for one on the terminal.
  PkeyPtr k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, const_cast<char*>("")));
  ERR_clear_error();
  return k;
}

X509ReqPtr read_csr(std::string_view pem) {
  BioPtr b = mem_bio(pem);
  if (!b) return nullptr;
  X509ReqPtr r(PEM_read_bio_X509_REQ(b.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return r;
}

std::string to_pem(X509* cert) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), cert) != 1) return "";
  return drain(b.get());
}

std::string to_pem(X509_REQ* csr) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509_REQ(b.get(), csr) != 1) return "";
  return drain(b.get());
}

std::string key_to_pem(EVP_PKEY* key) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return "";
  return drain(b.get());
}

Asn1IntegerPtr random_serial() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return nullptr;
  bytes[0] &= 0x7f;  // positive as a DER INTEGER
  bytes[0] |= 0x40;  // and never short: always 127 significant bits
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn) return nullptr;
  return Asn1IntegerPtr(BN_to_ASN1_INTEGER(bn.get(), nullptr));
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  OsslString hex(BN_bn2hex(bn.get()));
  return hex ? std::string(hex.get()) : std::string();
}

const EVP_MD* signing_digest(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return nullptr;
    case EVP_PKEY_EC:
      return EVP_PKEY_get_bits(key) > 256 ? EVP_sha384() : EVP_sha256();
    default:
      return EVP_sha256();
  }
}

GeneralNamesPtr uri_names(const std::vector<std::string>& uris) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return nullptr;
  for (const std::string& u : uris) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || !ia5 || ASN1_STRING_set(ia5, u.data(), static_cast<int>(u.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(ia5);
      return nullptr;
    }
    GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      return nullptr;
    }
  }
  return names;
}

}  // namespace lg::ctrl::ca
