#include "tls/session/client_cert_details.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace lg::tls {

namespace {

std::string_view ia5(const ASN1_IA5STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s))};
}

// The SANs of one type, each as its own "key=value" pair (Envoy repeats the key).
std::string sans(X509* cert, int type, std::string_view key) {
  std::string out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != type) continue;
    std::string_view v = ia5(type == GEN_URI ? n->d.uniformResourceIdentifier : n->d.dNSName);
    // A value with the element's separators would let a certificate forge
    // fields: such a name is left out.
    if (v.find_first_of(";,=\"\r\n") != std::string_view::npos) continue;
    out.append(";").append(key).append("=").append(v);
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string subject(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string out;
  for (long i = 0; i < n; ++i) {
    if (data[i] == '"' || data[i] == '\\') out += '\\';  // quoted-string escapes (RFC 7230 §3.2.6)
    if (data[i] != '\r' && data[i] != '\n') out += data[i];
  }
  return out;
}

}  // namespace

size_t client_cert_details(SSL* ssl, char* out, size_t cap) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return 0;
  std::string e;
  if (X509* own = SSL_get_certificate(ssl)) {
    const std::string by = sans(own, GEN_URI, "By");
    if (!by.empty()) e = by.substr(1);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(peer, EVP_sha256(), md, &md_len) != 1) return 0;
  static constexpr char kHex[] = "0123456789abcdef";
  e += e.empty() ? "Hash=" : ";Hash=";
  for (unsigned i = 0; i < md_len; ++i) e += kHex[md[i] >> 4], e += kHex[md[i] & 15];
  const std::string uri = sans(peer, GEN_URI, "URI"), dns = sans(peer, GEN_DNS, "DNS");
  const std::string subj = ";Subject=\"" + subject(peer) + "\"";
  // Envoy's order: By, Hash, Subject, URI, DNS.
  if (e.size() + subj.size() + uri.size() + dns.size() <= cap) {
    e += subj + uri + dns;
  } else if (e.size() + uri.size() + dns.size() <= cap) {
    e += uri + dns;
  } else {
    e += uri;
  }
  if (e.size() > cap) return 0;
  e.copy(out, e.size());
  return e.size();
}

size_t xfcc_values(std::string_view element, std::string_view key, char* out, size_t cap) {
  size_t n = 0;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= element.size(); ++i) {
    if (i < element.size()) {
      const char c = element[i];
      if (quoted && c == '\\') {
        ++i;  // an escaped character, quote or backslash
      } else if (c == '"') {
        quoted = !quoted;
      }
      if (quoted || c != ';') continue;
    }
    const std::string_view field = element.substr(start, i - start);
    start = i + 1;
    if (field.size() <= key.size() || !field.starts_with(key) || field[key.size()] != '=') continue;
    const std::string_view v = field.substr(key.size() + 1);
    if (n + (n != 0) + v.size() > cap) continue;
    if (n != 0) out[n++] = ',';
    n += v.copy(out + n, v.size());
  }
  return n;
}

}  // namespace lg::tls
