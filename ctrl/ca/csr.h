// The gateway's half of certificate issuance: a fresh key and a CSR for its
// workload identity, to send to the agent's (or istiod's)
// IstioCertificateService (ctrl/client/certificate_client.h).
#pragma once

#include <string>

namespace lg::ctrl::ca {

// An ECDSA P-256 key (PEM, unencrypted PKCS#8) and a CSR signed by it whose
// only name is the URI SAN `spiffe_id` (subject empty, as Istio's agents
// send). The ID is not checked here; the CA does that. False with `*error`
// set when OpenSSL fails.
bool make_key_and_csr(const std::string& spiffe_id, std::string* key_pem, std::string* csr_pem, std::string* error);

}  // namespace lg::ctrl::ca
