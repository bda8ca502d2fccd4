// Owning handles for the OpenSSL 3 objects ctrl/ca uses, and the few PEM and
// error helpers every file of the module needs. Control plane only.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl::ca {

template <auto Free>
struct OsslDeleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OsslDeleter<X509_REQ_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslDeleter<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, OsslDeleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslDeleter<GENERAL_NAMES_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OsslDeleter<ASN1_INTEGER_free>>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

struct ExtStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
};
using ExtStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtStackFree>;

struct OpensslStringFree {
  void operator()(char* s) const { OPENSSL_free(s); }
};
using OsslString = std::unique_ptr<char, OpensslStringFree>;

// Drains OpenSSL's error queue of this thread into "; reason"-style text
// (empty when it was empty), so one failure's errors never leak into the
// next message.
std::string ossl_errors();

// Every certificate in `pem`, in order; empty when it holds none or a block
// does not parse (`*bad` then says so).
std::vector<X509Ptr> read_certs(std::string_view pem, bool* bad = nullptr);
// The first private key in `pem` (unencrypted PEM: PKCS#8, SEC1 or PKCS#1;
// an encrypted one reads as none).
PkeyPtr read_key(std::string_view pem);
X509ReqPtr read_csr(std::string_view pem);

std::string to_pem(X509* cert);
std::string to_pem(X509_REQ* csr);
// Unencrypted PKCS#8.
std::string key_to_pem(EVP_PKEY* key);

// A random positive 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets,
// positive; CA/B forum: at least 64 bits of randomness).
Asn1IntegerPtr random_serial();
// Upper-case hex of a serial, as `openssl x509 -serial` prints it.
std::string serial_hex(const ASN1_INTEGER* serial);

// The digest to sign with a key of this type: SHA-384 for EC keys over
// 256 bits, none for EdDSA (it hashes itself), SHA-256 otherwise.
const EVP_MD* signing_digest(EVP_PKEY* key);

// GeneralNames of URIs, for a subjectAltName extension. Null on allocation failure.
GeneralNamesPtr uri_names(const std::vector<std::string>& uris);

}  // namespace lg::ctrl::ca
