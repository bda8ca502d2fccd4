#include "ctrl/ca/authority.h"

#include "ctrl/ca/spiffe.h"

#include <openssl/err.h>

#include <algorithm>
#include <ctime>

namespace lg::ctrl::ca {

namespace {

using std::chrono::seconds;

constexpr time_t kClockSkew = 60;                     // notBefore this far back, as istiod
constexpr time_t kRootValidity = 10L * 365 * 86400;   // istiod's self-signed root: 10 years

std::shared_ptr<const CertificateAuthority> fail(std::string* error, std::string why) {
  std::string detail = ossl_errors();
  if (error) *error = detail.empty() ? std::move(why) : why + " (" + detail + ")";
  return nullptr;
}

bool check_policy(const IssuePolicy& p, std::string* error) {
  std::string why;
  if (!valid_trust_domain(p.trust_domain)) why = "trust domain \"" + p.trust_domain + "\" is not a valid SPIFFE trust domain";
  else if (p.default_ttl <= seconds(0)) why = "default certificate TTL must be positive";
  else if (p.max_ttl < p.default_ttl) why = "maximum certificate TTL is shorter than the default";
  if (why.empty()) return true;
  if (error) *error = why;
  return false;
}

bool add_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  return ext && X509_add_ext(x, ext.get(), -1) == 1;
}

std::string name_text(const X509_NAME* name) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || X509_NAME_print_ex(b.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string("(empty)");
}

time_t to_time_t(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

std::string utc(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The key of a CSR: what istiod accepts for workloads.
std::string check_key(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return "csr: EC key without a named curve";
      std::string_view g(group, len);
      if (g == "prime256v1" || g == "secp384r1") return "";
      return "csr: EC curve " + std::string(g) + " not accepted; use P-256 or P-384";
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) >= 2048) return "";
      return "csr: RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) + " bits; at least 2048 required";
    default:
      return "csr: key type " + std::string(OBJ_nid2sn(EVP_PKEY_get_base_id(key))) +
             " not accepted; use ECDSA P-256/P-384 or RSA >= 2048";
  }
}

// The one URI of the CSR's subjectAltName, or an error.
std::string csr_uri(X509_REQ* req, std::string* uri) {
  ExtStackPtr exts(X509_REQ_get_extensions(req));
  int at = exts ? X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, -1) : -1;
  if (at < 0) return "csr: no subjectAltName; expected one URI SAN spiffe://<trust-domain>/ns/<ns>/sa/<sa>";
  if (X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, at) >= 0) return "csr: more than one subjectAltName extension";
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(X509v3_get_ext(exts.get(), at))));
  if (!names) return "csr: subjectAltName does not parse";
  int uris = 0, others = 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), i), &type));
    if (type != GEN_URI) {
      ++others;
      continue;
    }
    ++uris;
    uri->assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)), static_cast<size_t>(ASN1_STRING_length(value)));
  }
  if (uris == 1 && others == 0) return "";
  return "csr: subjectAltName must hold exactly one URI (the SPIFFE ID) and nothing else; it holds " +
         std::to_string(uris) + " URI(s) and " + std::to_string(others) + " other name(s)";
}

}  // namespace

std::shared_ptr<const CertificateAuthority> CertificateAuthority::self_signed(const IssuePolicy& policy,
                                                                              std::string* error) {
  ERR_clear_error();
  if (!check_policy(policy, error)) return nullptr;
  std::shared_ptr<CertificateAuthority> ca(new CertificateAuthority());
  ca->policy_ = policy;
  ca->source_ = "self-signed";
  ca->key_.reset(EVP_EC_gen("P-256"));
  if (!ca->key_) return fail(error, "cannot generate the root key");
  X509Ptr x(X509_new());
  Asn1IntegerPtr serial = random_serial();
  const time_t now = std::time(nullptr);
  if (!x || !serial || X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(x.get(), serial.get()) != 1 ||
      X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(policy.trust_domain.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) != 1 ||
      !ASN1_TIME_set(X509_getm_notBefore(x.get()), now - kClockSkew) ||
      !ASN1_TIME_set(X509_getm_notAfter(x.get()), now + kRootValidity) ||
      X509_set_pubkey(x.get(), ca->key_.get()) != 1) {
    return fail(error, "cannot build the root certificate");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  if (!add_ext(x.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash") ||
      X509_sign(x.get(), ca->key_.get(), signing_digest(ca->key_.get())) <= 0) {
    return fail(error, "cannot sign the root certificate");
  }
  std::string pem = to_pem(x.get());
  if (pem.empty()) return fail(error, "cannot encode the root certificate");
  ca->chain_pem_ = {pem};
  ca->roots_pem_ = {pem};
  ca->not_after_ = now + kRootValidity;
  ca->description_ = "self-signed root " + name_text(X509_get_subject_name(x.get())) + ", serial " +
                     serial_hex(X509_get0_serialNumber(x.get())) + ", valid until " + utc(ca->not_after_);
  ca->cert_ = std::move(x);
  return ca;
}

std::shared_ptr<const CertificateAuthority> CertificateAuthority::from_cacerts(
    std::string_view ca_cert_pem, std::string_view ca_key_pem, std::string_view cert_chain_pem,
    std::string_view root_cert_pem, const IssuePolicy& policy, std::string* error) {
  ERR_clear_error();
  if (!check_policy(policy, error)) return nullptr;
  std::shared_ptr<CertificateAuthority> ca(new CertificateAuthority());
  ca->policy_ = policy;
  ca->source_ = "cacerts";

  std::vector<X509Ptr> certs = read_certs(ca_cert_pem);
  if (certs.empty()) return fail(error, "ca-cert.pem: no PEM certificate");
  ca->cert_ = std::move(certs.front());
  X509* cert = ca->cert_.get();
  ca->key_ = read_key(ca_key_pem);
  if (!ca->key_) return fail(error, "ca-key.pem: no unencrypted PEM private key");
  if (X509_check_private_key(cert, ca->key_.get()) != 1) return fail(error, "ca-key.pem does not match ca-cert.pem");
  // basicConstraints CA:TRUE itself, not X509_check_ca's looser v1/Netscape cases.
  if (!(X509_get_extension_flags(cert) & EXFLAG_CA))
    return fail(error, "ca-cert.pem is not a CA certificate (no basicConstraints CA:TRUE)");
  if (uint32_t ku = X509_get_key_usage(cert); ku != UINT32_MAX && !(ku & KU_KEY_CERT_SIGN))
    return fail(error, "ca-cert.pem: its keyUsage does not allow keyCertSign");

  std::vector<X509Ptr> roots = read_certs(root_cert_pem);
  if (roots.empty()) return fail(error, "root-cert.pem: no PEM certificate");
  bool bad_chain = false;
  std::vector<X509Ptr> intermediates = read_certs(cert_chain_pem, &bad_chain);
  if (bad_chain) return fail(error, "cert-chain.pem: a certificate does not parse");

  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr vctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !vctx) return fail(error, "out of memory");
  for (auto& r : roots)
    if (X509_STORE_add_cert(store.get(), r.get()) != 1) return fail(error, "root-cert.pem: cannot use a root");
  for (auto& i : intermediates) {
    if (sk_X509_push(untrusted.get(), i.get()) == 0) return fail(error, "out of memory");
    i.release();  // the stack owns it now
  }
  for (size_t k = 1; k < certs.size(); ++k) {  // more certificates after ca-cert: intermediates too
    if (sk_X509_push(untrusted.get(), certs[k].get()) == 0) return fail(error, "out of memory");
    certs[k].release();
  }
  if (X509_STORE_CTX_init(vctx.get(), store.get(), cert, untrusted.get()) != 1) return fail(error, "out of memory");
  if (X509_verify_cert(vctx.get()) != 1) {
    std::string why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx.get()));
    ERR_clear_error();
    return fail(error, "ca-cert.pem does not verify up to root-cert.pem (through cert-chain.pem): " + why);
  }
  // ca-cert, its intermediates, the root: each once, whatever cert-chain.pem repeats.
  X509StackPtr path(X509_STORE_CTX_get1_chain(vctx.get()));
  for (int i = 0; path && i < sk_X509_num(path.get()); ++i) ca->chain_pem_.push_back(to_pem(sk_X509_value(path.get(), i)));
  for (auto& r : roots) ca->roots_pem_.push_back(to_pem(r.get()));
  if (ca->chain_pem_.empty()) return fail(error, "cannot encode the CA chain");
  for (const auto& p : ca->chain_pem_)
    if (p.empty()) return fail(error, "cannot encode the CA chain");

  ca->not_after_ = to_time_t(X509_get0_notAfter(cert));
  const X509* top = sk_X509_value(path.get(), sk_X509_num(path.get()) - 1);
  ca->description_ = "plugged-in CA " + name_text(X509_get_subject_name(cert)) + ", serial " +
                     serial_hex(X509_get0_serialNumber(cert)) + ", root " + name_text(X509_get_subject_name(top)) +
                     ", " + std::to_string(ca->chain_pem_.size()) + " certificate(s) to the root, valid until " +
                     utc(ca->not_after_);
  return ca;
}

SignResult CertificateAuthority::sign(std::string_view csr_pem, seconds requested_ttl,
                                      std::chrono::system_clock::time_point now) const {
  SignResult r;
  ERR_clear_error();
  X509ReqPtr req = read_csr(csr_pem);
  if (!req) {
    r.error = "csr: not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)";
    return r;
  }
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (!pub) {
    r.error = "csr: no usable public key";
    ERR_clear_error();
    return r;
  }
  if (X509_REQ_verify(req.get(), pub) != 1) {
    ERR_clear_error();
    r.error = "csr: its signature does not verify with its own key (altered, or signed by another key)";
    return r;
  }
  if (r.error = check_key(pub); !r.error.empty()) return r;
  std::string uri;
  if (r.error = csr_uri(req.get(), &uri); !r.error.empty()) return r;
  std::optional<SpiffeId> id = parse_spiffe_id(uri, &r.error);
  if (!id) return r;
  if (id->trust_domain != policy_.trust_domain) {
    r.error = "identity \"" + uri + "\": trust domain \"" + id->trust_domain + "\" is not this CA's (\"" +
              policy_.trust_domain + "\")";
    return r;
  }

  const time_t t_now = std::chrono::system_clock::to_time_t(now);
  seconds ttl = requested_ttl <= seconds(0) ? policy_.default_ttl : std::min(requested_ttl, policy_.max_ttl);
  time_t not_after = std::min<time_t>(t_now + static_cast<time_t>(ttl.count()), not_after_);
  if (not_after <= t_now) {
    r.error = "the CA certificate expired at " + utc(not_after_);
    r.ca_fault = true;
    return r;
  }

  X509Ptr x(X509_new());
  Asn1IntegerPtr serial = random_serial();
  GeneralNamesPtr san = uri_names({id->uri()});
  X509V3_CTX ctx;
  bool ok = x && serial && san && X509_set_version(x.get(), X509_VERSION_3) == 1 &&
            X509_set_serialNumber(x.get(), serial.get()) == 1 &&
            X509_set_issuer_name(x.get(), X509_get_subject_name(cert_.get())) == 1 &&
            ASN1_TIME_set(X509_getm_notBefore(x.get()), t_now - kClockSkew) &&
            ASN1_TIME_set(X509_getm_notAfter(x.get()), not_after) && X509_set_pubkey(x.get(), pub) == 1;
  if (ok) {
    // Subject left empty, as istiod issues: the identity is the URI SAN,
    // which RFC 5280 §4.2.1.6 then requires to be critical.
    X509V3_set_ctx(&ctx, cert_.get(), x.get(), nullptr, nullptr, 0);
    ok = add_ext(x.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         add_ext(x.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth") &&
         add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash") &&
         // keyid from the CA's SKI; issuer+serial only for a CA without one.
         add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid,issuer") &&
         X509_add1_ext_i2d(x.get(), NID_subject_alt_name, san.get(), 1, X509V3_ADD_DEFAULT) == 1 &&
         X509_sign(x.get(), key_.get(), signing_digest(key_.get())) > 0;
  }
  std::string leaf = ok ? to_pem(x.get()) : "";
  if (leaf.empty()) {
    r.error = "cannot issue the certificate: " + ossl_errors();
    r.ca_fault = true;
    return r;
  }
  r.chain.reserve(chain_pem_.size() + 1);
  r.chain.push_back(std::move(leaf));
  r.chain.insert(r.chain.end(), chain_pem_.begin(), chain_pem_.end());
  r.identity = id->uri();
  r.serial = serial_hex(serial.get());
  r.ttl = seconds(not_after - t_now);
  return r;
}

}  // namespace lg::ctrl::ca
