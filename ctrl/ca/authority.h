// A certificate authority for workload identities, as istiod's: it signs a
// workload's CSR for spiffe://<trust-domain>/ns/<ns>/sa/<sa> and returns the
// chain up to its root. Its key and certificate come either from a root it
// generates itself (istiod's self-signed CA) or from Istio's plug-in CA
// layout (the `cacerts` Secret: ca-cert.pem, ca-key.pem, cert-chain.pem,
// root-cert.pem).
//
// A CertificateAuthority is immutable once built; sign() is const and safe
// to call from several threads at once. Nothing here throws.
#pragma once

#include "ctrl/ca/ossl.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl::ca {

// What the CA issues. istiod's defaults: 24 h, at most 90 days.
struct IssuePolicy {
  std::string trust_domain = "cluster.local";
  std::chrono::seconds default_ttl{24 * 3600};
  std::chrono::seconds max_ttl{90 * 24 * 3600};
};

struct SignResult {
  std::vector<std::string> chain;  // PEM: leaf, CA certificate, intermediates, root last
  std::string error;               // why the CSR was refused; empty on success
  std::string identity;            // the SPIFFE ID issued
  std::string serial;              // upper-case hex
  std::chrono::seconds ttl{0};     // notAfter - now, after clamping
  // The refusal is the CA's (it expired, OpenSSL failed), not the request's.
  bool ca_fault = false;

  bool ok() const { return error.empty() && !chain.empty(); }
};

class CertificateAuthority {
 public:
  // A new ECDSA P-256 root, valid 10 years: subject O=<trust domain> as
  // istiod's self-signed root, CA:TRUE and keyCertSign|cRLSign, both
  // critical. Null with `*error` set when the trust domain is invalid or
  // OpenSSL fails.
  static std::shared_ptr<const CertificateAuthority> self_signed(const IssuePolicy& policy, std::string* error);

  // Istio's plug-in CA. `ca_cert_pem` (first certificate) and `ca_key_pem`
  // sign; `cert_chain_pem` holds the intermediates between them and the
  // root (it may also repeat ca-cert and the root, as Istio's tooling
  // writes it, or be empty when ca-cert is the root); `root_cert_pem` holds
  // the trusted root(s). Refused, with `*error` naming the file, when the
  // key does not match, ca-cert is not a CA, or it does not verify up to a
  // root now.
  static std::shared_ptr<const CertificateAuthority> from_cacerts(std::string_view ca_cert_pem,
                                                                  std::string_view ca_key_pem,
                                                                  std::string_view cert_chain_pem,
                                                                  std::string_view root_cert_pem,
                                                                  const IssuePolicy& policy, std::string* error);

  // Signs `csr_pem` for the one URI SAN it carries. `requested_ttl` <= 0
  // takes the default; longer than the maximum is cut to the maximum, and
  // notAfter never passes the CA certificate's own. notBefore is a minute
  // before `now` for clock skew between the CA and the peers.
  SignResult sign(std::string_view csr_pem, std::chrono::seconds requested_ttl,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  const IssuePolicy& policy() const { return policy_; }
  // The signing certificate and the root the chains end with, as PEM.
  const std::string& ca_cert_pem() const { return chain_pem_.front(); }
  const std::string& root_cert_pem() const { return chain_pem_.back(); }
  // Every root of root-cert.pem (the self-signed CA: its own), PEM, for
  // distributing trust; a rotation can hold an old and a new root.
  const std::vector<std::string>& roots_pem() const { return roots_pem_; }
  // "self-signed" or "cacerts"; for logs.
  const std::string& source() const { return source_; }
  // One line: the CA certificate's subject, its root's subject, notAfter.
  const std::string& describe() const { return description_; }

  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;

 private:
  CertificateAuthority() = default;

  IssuePolicy policy_;
  PkeyPtr key_;
  X509Ptr cert_;
  std::vector<std::string> chain_pem_;  // the CA certificate up to the root, each once
  std::vector<std::string> roots_pem_;
  std::string source_;
  std::string description_;
  time_t not_after_ = 0;  // the CA certificate's; leaves never outlive it
};

}  // namespace lg::ctrl::ca
