// Per-cluster and per-listener counters, named as Envoy names them so
// dashboards built for Istio gateways read ours: cluster.<name>.<stat>,
// listener.<address>_<port>.<stat>, tcp.<listener>.<stat> and
// tls_inspector.<stat>. Add a row; nothing else needs editing.
#pragma once

// X(name, help). Gauges (ending in _active) are deltas summed over lcores.
#define LG_CLUSTER_STATS(X)                                                                          \
  X(upstream_cx_total, "upstream connections opened")                                               \
  X(upstream_cx_active, "upstream connections open (gauge)")                                        \
  X(upstream_cx_connect_fail, "upstream connections refused or unreachable")                        \
  X(upstream_cx_connect_timeout, "upstream connections that did not complete within connectTimeout") \
  X(upstream_cx_connect_attempts_exceeded, "sessions that ran out of endpoints to try")              \
  X(upstream_cx_overflow, "connections refused by connectionPool.tcp.maxConnections")               \
  X(upstream_cx_none_healthy, "connections refused: no healthy endpoint")                           \
  X(upstream_cx_destroy_remote, "upstream connections the upstream closed or reset")                 \
  X(upstream_cx_destroy_local, "upstream connections the gateway closed or reset")                   \
  X(upstream_cx_rx_bytes_total, "bytes received from upstreams")                                    \
  X(upstream_cx_tx_bytes_total, "bytes sent to upstreams")                                          \
  X(outlier_detection_ejections_enforced_total, "endpoints ejected by outlier detection")           \
  X(outlier_detection_ejections_active, "endpoints ejected now, summed over lcores (gauge)")        \
  X(outlier_detection_ejections_overflow, "ejections refused by maxEjectionPercent")               \
  X(lb_healthy_panic, "picks made in panic mode (healthy share below minHealthPercent)")            \
  X(upstream_rq_total, "requests sent upstream (each try)")                                         \
  X(upstream_rq_1xx, "upstream responses 1xx (101 upgrades)")                                        \
  X(upstream_rq_2xx, "upstream responses 2xx")                                                      \
  X(upstream_rq_3xx, "upstream responses 3xx")                                                      \
  X(upstream_rq_4xx, "upstream responses 4xx")                                                      \
  X(upstream_rq_5xx, "upstream responses 5xx")                                                      \
  X(upstream_rq_timeout, "requests answered 504: no response within the route timeout (UT)")       \
  X(upstream_rq_per_try_timeout, "tries abandoned at perTryTimeout")                                \
  X(upstream_rq_retry, "retries sent")                                                              \
  X(upstream_rq_pending_total, "requests that waited for a connection (maxConnections reached)")   \
  X(upstream_rq_pending_overflow, "requests answered 503: http1MaxPendingRequests exceeded (UO)")   \
  X(upstream_rq_rx_reset, "upstream connections closed or reset before a full response (UR)")      \
  X(upstream_cx_max_requests, "connections closed at maxRequestsPerConnection")                     \
  X(upstream_cx_idle_timeout, "pooled connections closed by idleTimeout")                           \
  X(upstream_cx_protocol_error, "upstream responses that broke HTTP/1.1 (502, UPE)")                \
  X(ssl_handshake, "TLS handshakes completed toward upstreams (DestinationRule tls)")               \
  X(ssl_connection_error, "upstream TLS errors: failed handshakes, bad records, fatal alerts")       \
  X(ssl_fail_verify_error, "upstream certificates that did not verify (chain or SNI name)")         \
  X(ssl_fail_verify_san, "upstream certificates without a SAN in subjectAltNames")                  \
  X(ssl_handshake_timeout, "upstream TLS handshakes not done within connectTimeout")                \
  X(ssl_offloaded, "upstream TLS connections whose records went to the IPsec-MB record layer")     \
  X(ssl_key_updates, "TLS 1.3 KeyUpdates received from upstreams")                                  \
  X(ssl_record_buffers_exhausted, "times an upstream record waited for a free record buffer")

#define LG_LISTENER_STATS(X)                                                                 \
  X(downstream_cx_total, "connections accepted")                                             \
  X(downstream_cx_active, "connections open (gauge)")                                        \
  X(downstream_cx_overflow, "connections refused: no session slot on the lcore")             \
  X(downstream_cx_no_route, "connections closed: no route matched (tcp_proxy no route)")      \
  X(downstream_cx_rx_bytes_total, "bytes received from downstream")                          \
  X(downstream_cx_tx_bytes_total, "bytes sent to downstream")                                \
  X(idle_timeout, "sessions closed by the idle timeout")                                     \
  X(upstream_flush_total, "sessions that ended with data still to flush downstream")        \
  X(tls_inspector_sni_found, "ClientHellos with SNI")                                        \
  X(tls_inspector_sni_not_found, "ClientHellos without SNI")                                 \
  X(tls_inspector_client_hello_too_large, "ClientHellos over the size bound (reset)")        \
  X(tls_inspector_client_hello_malformed, "first bytes not a well-formed ClientHello (reset)") \
  X(tls_inspector_timeout, "no complete ClientHello within the peek timeout (reset)")          \
  X(tls_inspector_tls_not_found, "PERMISSIVE mesh port: connections that began in plain text (served)") \
  X(ssl_handshake, "TLS handshakes completed")                                               \
  X(ssl_session_reused, "TLS handshakes that resumed a session (ticket)")                  \
  X(ssl_connection_error, "TLS errors: failed handshakes, bad records, peers' fatal alerts (not a client that leaves)") \
  X(ssl_no_certificate, "MUTUAL handshakes refused: no client certificate")                \
  X(ssl_fail_verify_error, "handshakes refused: the client certificate did not verify")    \
  X(ssl_fail_verify_san, "handshakes refused: no client certificate SAN in subjectAltNames") \
  X(ssl_fail_verify_cert_hash, "handshakes refused: client certificate not pinned (verifyCertificateHash/Spki)") \
  X(ssl_handshake_timeout, "TLS connections without a finished handshake in hello_timeout_ms") \
  X(ssl_offloaded, "TLS connections whose records went to the IPsec-MB record layer")       \
  X(ssl_key_updates, "TLS 1.3 KeyUpdates received")                                        \
  X(ssl_record_buffers_exhausted, "times a record waited for a free record buffer")         \
  X(downstream_rq_total, "HTTP requests received")                                          \
  X(downstream_rq_1xx, "responses 1xx sent downstream")                                     \
  X(downstream_rq_2xx, "responses 2xx sent downstream")                                     \
  X(downstream_rq_3xx, "responses 3xx sent downstream")                                     \
  X(downstream_rq_4xx, "responses 4xx sent downstream")                                     \
  X(downstream_rq_5xx, "responses 5xx sent downstream")                                     \
  X(downstream_rq_active, "HTTP requests in flight (gauge)")                                \
  X(downstream_cx_protocol_error, "connections closed for a malformed request (400/413/414/431/501/505)") \
  X(downstream_cx_drain_close, "connections closed by draining (Connection: close)")        \
  X(downstream_rq_rx_reset, "requests whose client went away before the response ended")   \
  X(no_route, "requests answered 404: no virtual host or route (NR)")                       \
  X(no_cluster, "requests answered 503: the route's cluster is unknown (NC)")               \
  X(no_healthy_upstream, "requests answered 503: no healthy endpoint (UH)")                 \
  X(upstream_connect_fail, "requests answered 503: connect failures used up the tries (UF)") \
  X(rq_redirect, "requests answered with a redirect")                                       \
  X(rq_direct_response, "requests answered by directResponse")                              \
  X(rq_https_redirect, "requests answered 301 by tls.httpsRedirect")                        \
  X(cors_preflight, "CORS preflights answered at the gateway")                              \
  X(fault_aborts_injected, "requests aborted by fault injection (FI)")                      \
  X(fault_delays_injected, "requests delayed by fault injection (DI)")                      \
  X(rq_mirror, "requests copied to a mirror")
