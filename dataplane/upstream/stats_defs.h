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
  X(lb_healthy_panic, "picks made in panic mode (healthy share below minHealthPercent)")

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
  X(tls_inspector_timeout, "no complete ClientHello within the peek timeout (reset)")
