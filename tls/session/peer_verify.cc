#include "tls/session/peer_verify.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <strings.h>

#include <cstring>
#include <memory>
#include <string_view>

namespace lg::tls {

namespace {

// The context owns its requirements: a handshake holds its SSL_CTX (SSL_new
// takes a reference) and may verify after the tables that built the context
// are gone.
void free_requirements(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<PeerRequirements*>(ptr);
}

int ctx_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_requirements);
  return index;
}

int failure_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
using Names = std::unique_ptr<GENERAL_NAMES, NamesFree>;

Names alt_names(X509* cert) {
  return Names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
}

std::string_view ia5(const ASN1_IA5STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s))};
}

std::string ip_text(const ASN1_OCTET_STRING* s) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int len = ASN1_STRING_length(s);
  const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof buf) == nullptr) return {};
  return buf;
}

// A DNS SAN "*.example.com" stands for exactly one label (RFC 6125 §6.4.3,
// as Envoy's dnsNameMatch applies it).
bool dns_matches(std::string_view san, std::string_view wanted) {
  if (san.size() == wanted.size() && strncasecmp(san.data(), wanted.data(), san.size()) == 0) return true;
  if (san.size() < 3 || san.substr(0, 2) != "*.") return false;
  const size_t dot = wanted.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const std::string_view rest = wanted.substr(dot);
  return rest.size() == san.size() - 1 && strncasecmp(rest.data(), san.data() + 1, rest.size()) == 0;
}

bool san_matches(const GENERAL_NAME* n, const std::string& wanted) {
  switch (n->type) {
    case GEN_DNS:
      return dns_matches(ia5(n->d.dNSName), wanted);
    case GEN_URI:
      return ia5(n->d.uniformResourceIdentifier) == wanted;
    case GEN_EMAIL:
      return ia5(n->d.rfc822Name) == wanted;
    case GEN_IPADD:
      return ip_text(n->d.iPAddress) == wanted;
    default:
      return false;
  }
}

bool any_san_matches(X509* cert, const std::vector<std::string>& wanted) {
  Names names = alt_names(cert);
  if (!names) return false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    for (const std::string& w : wanted)
      if (san_matches(n, w)) return true;
  }
  return false;
}

bool spki_digest(X509* cert, Sha256* out) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return false;
  unsigned int n = 0;
  const bool ok = EVP_Digest(der, static_cast<size_t>(len), out->data(), &n, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  return ok && n == out->size();
}

bool cert_digest(X509* cert, Sha256* out) {
  unsigned int n = 0;
  return X509_digest(cert, EVP_sha256(), out->data(), &n) == 1 && n == out->size();
}

bool contains(const std::vector<Sha256>& list, const Sha256& d) {
  for (const Sha256& x : list)
    if (x == d) return true;
  return false;
}

bool parse_base64_sha256(const std::string& s, Sha256* out) {
  if (s.size() != 44 || s[43] != '=' || s[42] == '=') return false;  // 32 bytes: 43 digits and one pad
  uint8_t buf[33];
  if (EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(s.data()), 44) != 33) return false;
  std::memcpy(out->data(), buf, out->size());
  return true;
}

bool parse_hex_sha256(const std::string& s, Sha256* out) {
  size_t n = 0;
  int high = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':') {
      if (high >= 0 || i == 0 || i + 1 == s.size() || s[i + 1] == ':') return false;  // colons only between bytes
      continue;
    }
    const int v = OPENSSL_hexchar2int(static_cast<unsigned char>(s[i]));
    if (v < 0) return false;
    if (high < 0) {
      high = v;
    } else {
      if (n == out->size()) return false;
      (*out)[n++] = static_cast<uint8_t>(high << 4 | v);
      high = -1;
    }
  }
  return high < 0 && n == out->size();
}

int verify_leaf(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* req = static_cast<const PeerRequirements*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index()));
  if (req == nullptr) return 1;
  const PeerFailure f = check_peer(X509_STORE_CTX_get_current_cert(store), *req);
  if (f == PeerFailure::none) return 1;
  SSL_set_ex_data(ssl, failure_index(), reinterpret_cast<void*>(static_cast<uintptr_t>(f)));
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);  // alert: bad_certificate
  return 0;
}

}  // namespace

bool parse_peer_requirements(const std::vector<std::string>& subject_alt_names,
                             const std::vector<std::string>& spki_base64, const std::vector<std::string>& cert_hex,
                             PeerRequirements* out, std::string* error) {
  PeerRequirements r;
  for (const std::string& san : subject_alt_names) {
    if (san.empty()) {
      *error = "subjectAltNames: an empty name";
      return false;
    }
    r.subject_alt_names.push_back(san);
  }
  for (const std::string& s : spki_base64) {
    if (!parse_base64_sha256(s, &r.spki_sha256.emplace_back())) {
      *error = "verifyCertificateSpki: \"" + s + "\" is not the base64 of a SHA-256 digest";
      return false;
    }
  }
  for (const std::string& s : cert_hex) {
    if (!parse_hex_sha256(s, &r.cert_sha256.emplace_back())) {
      *error = "verifyCertificateHash: \"" + s + "\" is not a hex SHA-256 digest";
      return false;
    }
  }
  *out = std::move(r);
  return true;
}

PeerFailure check_peer(X509* leaf, const PeerRequirements& req) {
  if (!req.spki_sha256.empty() || !req.cert_sha256.empty()) {
    Sha256 d;
    const bool pinned = (!req.spki_sha256.empty() && spki_digest(leaf, &d) && contains(req.spki_sha256, d)) ||
                        (!req.cert_sha256.empty() && cert_digest(leaf, &d) && contains(req.cert_sha256, d));
    if (!pinned) return PeerFailure::hash;
  }
  if (!req.subject_alt_names.empty() && !any_san_matches(leaf, req.subject_alt_names))
    return PeerFailure::subject_alt_name;
  return PeerFailure::none;
}

void require_peer(SSL_CTX* ctx, PeerRequirements req) {
  delete static_cast<PeerRequirements*>(SSL_CTX_get_ex_data(ctx, ctx_index()));
  SSL_CTX_set_ex_data(ctx, ctx_index(), new PeerRequirements(std::move(req)));
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_leaf);
}

PeerFailure peer_failure(const SSL* ssl) {
  return static_cast<PeerFailure>(reinterpret_cast<uintptr_t>(SSL_get_ex_data(ssl, failure_index())));
}

}  // namespace lg::tls
