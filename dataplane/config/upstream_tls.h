// The TLS side of the clusters: an OpenSSL client context per cluster whose
// DestinationRule originates TLS (trafficPolicy.tls SIMPLE, MUTUAL or
// ISTIO_MUTUAL) or that speaks Istio mTLS by auto mTLS, with the SNI it
// sends. Built on the control thread with the other tables and
// freed with them; a handshake holds its SSL_CTX (SSL_new takes a
// reference), so one that spans a config change finishes as it started.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/runtime_tables.h"
#include "tls/session/client_context.h"
#include "tls/session/workload_identity.h"

namespace lg::config {

struct UpstreamTlsCluster {
  // Null for a cluster that does not originate TLS, or cannot (why in
  // `error`: its requests are answered 503 until a snapshot fixes it).
  std::unique_ptr<tls::ClientContext> context;
  std::string sni;  // tls.sni, else the service host (Istio's default); "" sends none
  std::string error;
  // Auto mTLS (no DestinationRule tls, an in-mesh service): only endpoints
  // labelled security.istio.io/tlsMode=istio get TLS, the rest plain text,
  // and so do those whose own PeerAuthentication is DISABLE.
  bool auto_mtls = false;
};

struct UpstreamTls {
  std::vector<UpstreamTlsCluster> clusters;  // by cluster index
  std::vector<uint8_t> istio_endpoint;       // by endpoint index: 1 = gets auto mTLS
};

// Contexts for the clusters of `s` that originate TLS. A credential or CA
// that does not load leaves that cluster without a context (in `error`),
// as an ISTIO_MUTUAL cluster waits for the gateway's workload certificate
// (`identity`, null until it has one).
// Without one, auto mTLS sends plain text to every endpoint.
std::shared_ptr<const UpstreamTls> build_upstream_tls(const Snapshot& s, const RuntimeTables& t,
                                                      const tls::WorkloadIdentity* identity);

// The TLS a connection to endpoint `ei` of cluster ci originates, or null
// when it sends plain text. A cluster whose context did not build has an
// entry with no context for every endpoint (refuse its requests rather than
// send them in plain text).
const UpstreamTlsCluster* origination(const RuntimeTables& t, uint32_t ci, uint32_t ei);
// Cluster ci should originate TLS and cannot: the proxies refuse its
// connections before picking an endpoint (no retry would fare better).
bool tls_unavailable(const RuntimeTables& t, uint32_t ci);

// Every TLS context of these tables that could not be built (servers and
// clusters), one line each.
std::vector<std::string> tls_errors(const RuntimeTables& t);

}  // namespace lg::config
