// Per-connection state of the HTTP proxy (internal to dataplane/l7).
#pragma once

#include <rte_mbuf.h>

#include "dataplane/l7/http_proxy.h"
#include "l7/access_log/record.h"

namespace lg::l7 {

enum class Phase : uint8_t {
  head,      // waiting for a complete request head
  delayed,   // fault delay running; the request waits in the receive queue
  pending,   // waiting for an upstream connection (maxConnections reached)
  upstream,  // exchange with the upstream: request body and/or response
  tunnel,    // upgraded (101): bytes both ways
  closing,   // answered; the connection closes once the answer is sent
};

// Envoy's response flags, kept per request for counters and the access log.
using namespace access_log::flags;

struct Stream {
  HttpProxy* proxy;
  tcp::Conn* down;
  upstream::PooledConn* up;       // the connection of the current try
  const config::RuntimeTables* t; // tables this request was routed with (pinned)
  const Route* route;
  uint32_t dest;                  // destination index within the route
  uint32_t cluster_stats;         // the destination cluster's stable id (kNone: none yet)
  uint32_t listener_stats;
  uint64_t hash_key;              // consistent hashing
  uint64_t timeout_at_us;         // the route timeout (0: none)
  rte_mbuf* up_head;              // serialized request head, kept while a retry may resend it
  rte_mbuf* body;                 // a small complete body, held for retries and mirrors (else null)
  Stream* next;                   // free list / pending list
  http1::Method method;
  Phase phase;
  uint8_t retries;                // tries after the first (connect failures included)
  uint32_t tried[4];              // endpoints tried (next endpoint after a failure)
  uint16_t flags;                 // ResponseFlag bits, counted when the request ends
  bool keep_alive;                // downstream connection may carry another request
  bool delay_done;                // fault delay already served for this request
  bool replayable;                // request head (and no body) can be sent again
  bool upgrade;                   // websocket (or other) upgrade requested
  bool req_done, resp_started, resp_done, head_sent;
  bool pending_queued;
  bool in_request;                // counted in downstream_rq_active
  bool up_keep_alive;             // the upstream's response allows reuse
  uint32_t head_bytes;            // request head still queued (not yet consumed)
  uint64_t rx_body, tx_body;      // body bytes of this request and of its response
  uint64_t conn_id;               // the downstream connection's (access log CONNECTION_ID)
  access_log::Record* log;        // this request's access log record (null: not logged)
  uint32_t serial;                // bumped on release: detects a stream that ended during a call
  // Request body framing (downstream → upstream).
  http1::BodyKind req_body;
  uint64_t req_left;
  http1::ChunkedDecoder req_chunks;
  // Response body framing (upstream → downstream).
  http1::BodyKind resp_body;
  uint64_t resp_left;
  http1::ChunkedDecoder resp_chunks;
  uint8_t origin_len;             // CORS: the allowed Origin to echo (0: none)
  uint8_t cookie_len;             // consistent hash: a cookie to issue (0: none)
  char origin[200];
  char cookie[24];
  Timer timer;
};

// The snapshot's cluster of the destination a forwarded request went to
// (its policies: connection pool, hashing).
inline const linegate::snapshot::v1::Cluster& destination_cluster(const Stream& s) {
  return s.t->snapshot->clusters(static_cast<int>(s.t->http_routes->destinations(*s.route)[s.dest].cluster));
}

// Callbacks of a pooled connection while it is idle (http_proxy.cc).
extern const tcp::AppOps kIdleOps;

struct Mirror {
  HttpProxy* proxy;
  tcp::Conn* conn;
  rte_mbuf* head;  // the copy, sent once connected
  upstream::HostRef host;
  Mirror* next_free;
};

}  // namespace lg::l7
