// The TLS side of the clusters: an OpenSSL client context per cluster whose
// DestinationRule originates TLS (trafficPolicy.tls SIMPLE or MUTUAL), with
// the SNI it sends. Built on the control thread with the other tables and
// freed with them; a handshake holds its SSL_CTX (SSL_new takes a
// reference), so one that spans a config change finishes as it started.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/runtime_tables.h"
#include "tls/session/client_context.h"

namespace lg::config {

struct UpstreamTlsCluster {
  // Null for a cluster that does not originate TLS, or cannot (why in
  // `error`: its requests are answered 503 until a snapshot fixes it).
  std::unique_ptr<tls::ClientContext> context;
  std::string sni;  // tls.sni, else the service host (Istio's default); "" sends none
  std::string error;
};

struct UpstreamTls {
  std::vector<UpstreamTlsCluster> clusters;  // by cluster index
};

// Contexts for the clusters of `s` that originate TLS. A credential or CA
// that does not load leaves that cluster without a context (in `error`),
// as an ISTIO_MUTUAL cluster waits for the gateway's workload certificate.
std::shared_ptr<const UpstreamTls> build_upstream_tls(const Snapshot& s);

// Cluster ci's TLS origination, or null when it sends plain text. A cluster
// whose context did not build has an entry with no context (refuse its
// requests rather than send them in plain text).
const UpstreamTlsCluster* origination(const RuntimeTables& t, uint32_t ci);

// Every TLS context of these tables that could not be built (servers and
// clusters), one line each.
std::vector<std::string> tls_errors(const RuntimeTables& t);

}  // namespace lg::config
