#include "dataplane/config/tls_inputs.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace lg::config {
namespace pb = linegate::snapshot::v1;

const pb::Secret* find_secret(const Snapshot& s, const std::string& name) {
  // Sorted by name (snapshot.proto).
  const auto& v = s.secrets();
  const auto it = std::lower_bound(v.begin(), v.end(), name, [](const pb::Secret& a, const std::string& n) {
    return a.name() < n;
  });
  return it != v.end() && it->name() == name ? &*it : nullptr;
}

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool workload_certificate(const tls::WorkloadIdentity* id, tls::CertificateKey* out, std::string* error) {
  if (id == nullptr) {
    *error = "ISTIO_MUTUAL needs the gateway's workload certificate, which it does not have (yet)";
    return false;
  }
  *out = {"workload certificate " + id->spiffe_id, id->cert_chain_pem, id->private_key_pem};
  return true;
}

tls::Version tls_version(pb::TlsVersion v, tls::Version fallback) {
  switch (v) {
    case pb::TLSV1_2:
      return tls::Version::tls12;
    case pb::TLSV1_3:
      return tls::Version::tls13;
    default:
      return fallback;
  }
}

}  // namespace lg::config
