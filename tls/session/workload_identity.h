// The gateway's own mesh identity for Istio mTLS (ISTIO_MUTUAL servers and
// clusters, auto mTLS): a SPIFFE certificate chain, its key, and the mesh's
// roots that peers' certificates must chain to. It comes from linegate-agent
// (a CSR signed by the agent's CA, renewed before expiry) or from files
// mounted as Istio mounts them; either way it is checked here once, before
// any context is built from it.
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>

namespace lg::tls {

struct WorkloadIdentity {
  std::string cert_chain_pem;   // leaf first, then intermediates
  std::string private_key_pem;  // the leaf's
  std::string roots_pem;        // trust anchors for peers (one or more)
  std::string spiffe_id;        // the leaf's URI SAN: spiffe://<trust-domain>/ns/<ns>/sa/<sa>
  std::string trust_domain;
  std::string source;           // for messages: "agent HOST:PORT", "files /etc/certs/..."
  std::chrono::system_clock::time_point not_before, not_after;

  // Checks the parts fit together: the chain parses, its leaf carries exactly
  // one spiffe:// URI SAN, the key is the leaf's, and the chain verifies to
  // one of the roots at `now`. nullptr with *error saying which part is wrong.
  static std::shared_ptr<const WorkloadIdentity> load(std::string cert_chain_pem, std::string private_key_pem,
                                                      std::string roots_pem, std::string source,
                                                      std::chrono::system_clock::time_point now, std::string* error);
};

// The certificate's single spiffe:// URI SAN ("" when it has none, or more
// than one: SPIFFE X.509-SVID §2 allows exactly one).
std::string spiffe_id(X509* cert);

// "spiffe://td/ns/x/sa/y" → "td"; "" when id is not of that form.
std::string spiffe_trust_domain(const std::string& id);

}  // namespace lg::tls
