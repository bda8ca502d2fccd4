// What both TLS table builders (Gateway servers, upstream clusters) read
// from a snapshot: Secrets by name, PEM files on the node, versions.
#pragma once

#include <string>

#include "dataplane/config/runtime_tables.h"
#include "tls/record/suite.h"
#include "tls/session/context_util.h"
#include "tls/session/workload_identity.h"

namespace lg::config {

// The snapshot's Secret of that name (credentialName), or null.
const linegate::snapshot::v1::Secret* find_secret(const Snapshot& s, const std::string& name);
// A whole file, or false with *error naming it.
bool read_file(const std::string& path, std::string* out, std::string* error);
// ISTIO_MUTUAL servers and clusters: the gateway's workload certificate as
// the credential they present, or false with *error while it has none.
bool workload_certificate(const tls::WorkloadIdentity* id, tls::CertificateKey* out, std::string* error);
// TLS 1.2 or 1.3; TLS_AUTO (and 1.0/1.1, never offered) give `fallback`.
tls::Version tls_version(linegate::snapshot::v1::TlsVersion v, tls::Version fallback);

}  // namespace lg::config
