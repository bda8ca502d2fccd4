// The gateway side of Istio's certificate service (ctrl/proto/ca.proto):
// one blocking CreateCertificate call to linegate-agent (or istiod on a
// plaintext port). The key and CSR come from ctrl/ca/csr.h. Control thread
// only; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lg::ctrl {

// Sends `csr_pem` to `target` ("HOST:PORT", any gRPC target) asking for
// `ttl_s` seconds of validity (<= 0: the CA's default) and waits at most
// `deadline`. True with `chain` = the PEM certificates, leaf first and root
// last, each checked to be one parseable certificate. False with `error`
// saying what failed: the gRPC status (code and the CA's message, e.g. why
// the CSR was refused), an empty chain, or an element that is not a
// certificate.
bool request_certificate(const std::string& target, const std::string& csr_pem, int64_t ttl_s,
                         std::chrono::milliseconds deadline, std::vector<std::string>& chain, std::string& error);

}  // namespace lg::ctrl
