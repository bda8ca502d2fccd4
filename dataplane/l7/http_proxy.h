// The L7 gateway of one worker (Envoy's HTTP connection manager with the
// router filter, for HTTP/1.1): accepts on the HTTP listeners of the current
// tables, parses each request head strictly (l7/http1), routes it
// (l7/router), answers locally where the route says so (redirect, direct
// response, fault abort, CORS preflight, httpsRedirect, and every failure
// with Envoy's answer and response flag), and otherwise forwards it over a
// pooled keep-alive connection (upstream/http_pool) to the endpoint the
// cluster's balancer picks. Heads are rewritten (hop-by-hop headers,
// x-forwarded-*, x-request-id, header operations, rewrites); bodies move
// between the connections as mbuf chains without copying, chunked framing
// checked as it passes. One request at a time per downstream connection:
// pipelined requests wait in the receive queue, so responses stay in order.
//
// A request keeps the tables it was routed with until it ends (pinned, see
// TablePublisher::pinned), so a config push never changes a request midway.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/config/publisher.h"
#include "dataplane/config/runtime_tables.h"
#include "dataplane/config/upstream_tls.h"
#include "dataplane/tcp/port_set.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "dataplane/tls/tls_worker.h"
#include "dataplane/upstream/cluster_manager.h"
#include "dataplane/upstream/http_pool.h"
#include "l7/http1/http1.h"
#include "l7/router/router.h"

namespace lg::access_log {
class Sink;
}

namespace lg::l7 {

struct HttpProxyConfig {
  uint32_t max_streams = 8192;         // downstream connections per worker
  uint32_t max_upstream_conns = 8192;  // pooled + active upstream connections per worker
  uint32_t max_mirrors = 1024;         // mirror requests in flight per worker
  uint32_t max_body_bytes = 0;         // request bodies above this get 413 (0: unlimited)
  uint32_t buffer_body_bytes = 64 * 1024;  // complete bodies up to this are held for retries and mirrors
  http1::Limits limits;
  access_log::Sink* access_log = nullptr;  // records for the access log writer (null: never logged)
};

struct Stream;
struct Mirror;

class HttpProxy {
 public:
  HttpProxy(const HttpProxyConfig& cfg, unsigned worker, tcp::TcpStack& stack, TimerWheel& timers,
            upstream::ClusterManager& clusters, upstream::UpstreamRegistry& registry,
            config::TablePublisher* publisher, uint64_t tsc_hz, tlsterm::TlsWorker* tls = nullptr);
  ~HttpProxy();
  HttpProxy(const HttpProxy&) = delete;
  HttpProxy& operator=(const HttpProxy&) = delete;

  // Once per pass with the tables the worker read.
  void set_tables(const config::RuntimeTables* t);
  // Draining: stop accepting, finish in-flight requests with
  // `Connection: close`, close idle keep-alive connections.
  void drain();
  uint32_t active_streams() const { return active_; }

  // AppOps entry points.
  bool accept(tcp::Conn* c);
  void down_readable(Stream* s);
  void down_writable(Stream* s);
  void down_closed(Stream* s, tcp::CloseReason why);
  void up_connected(Stream* s);
  void up_readable(Stream* s);
  void up_writable(Stream* s);
  void up_closed(Stream* s, tcp::CloseReason why);
  void timer_fired(Stream* s);
  void idle_ended(upstream::PooledConn* p, bool timed_out);
  void discard_idle(upstream::PooledConn* p);  // taken from the pool but unfit: closed
  void mirror_event(Mirror* m, bool connected, bool closed);

 public:
  // What failed in a try, for the route's retry policy.
  enum class RetryReason : uint8_t { status, connect_failure, no_response };

 private:
  static constexpr size_t kScratchBytes = 16 * 1024;
  static constexpr uint64_t kDrainIdleMs = 1000;

  // Requests (http_proxy.cc).
  Stream* alloc();
  void release(Stream* s);
  void reset_request(Stream* s);
  void free_request_buffers(Stream* s);
  bool read_request(Stream* s);
  void process_request(Stream* s, const http1::MessageHead& h);
  // The server (ordinal within l) a plain-text request's Host selects, as an
  // SNI would; kNone if none terminates TLS there.
  uint32_t plaintext_server(const config::ListenerSlot& l, const http1::MessageHead& h);
  void forward(Stream* s, const http1::MessageHead& h, const RequestView& rv);
  uint64_t hash_key(Stream* s, const http1::MessageHead& h, const linegate::snapshot::v1::Cluster& c);
  bool acquire_upstream(Stream* s);
  void bind_upstream(Stream* s, upstream::PooledConn* p);
  void connect_failed(Stream* s);
  void send_request(Stream* s);
  bool move(tcp::Conn* from, tcp::Conn* to, uint32_t n);
  enum class Pump : uint8_t { done, blocked, framing_error, io_error };
  // `moved` counts the body bytes (not chunk framing) that went across.
  Pump pump_body(tcp::Conn* src, tcp::Conn* dst, http1::BodyKind kind, uint64_t& left, http1::ChunkedDecoder& chunks,
                 uint64_t& moved);
  void pump_request_body(Stream* s);
  bool buffer_small_body(Stream* s);
  bool chunked_prefix_valid(Stream* s);
  void drop_upstream(Stream* s, bool reset);
  void end_stream(Stream* s, bool reset);
  void queue_pending(Stream* s);
  void unqueue_pending(Stream* s);
  bool serve_pending(uint32_t cluster_stats, upstream::PooledConn* p);
  // Responses (response.cc).
  void read_response(Stream* s);
  void forward_response(Stream* s, const http1::MessageHead& h);
  void pump_response_body(Stream* s);
  void finish_exchange(Stream* s);
  bool retry(Stream* s, RetryReason why, uint16_t status = 0);
  void upstream_failed(Stream* s);
  void tunnel(Stream* s);
  void next_request(Stream* s, uint32_t serial);
  void handle_timer(Stream* s);
  // Local answers and the end of a request (local_reply.cc).
  void local_reply(Stream* s, uint16_t status, std::string_view body, std::string_view location = {},
                   bool close = false, std::string_view extra_headers = {});
  void end_request(Stream* s);
  void close_request(Stream* s);
  bool cors(Stream* s, const http1::MessageHead& h, const Route& route);
  void count_status(Stream* s, uint16_t status);
  // Access log records (access_log.cc); each does nothing for a request not logged.
  void log_request(Stream* s, const http1::MessageHead* h);  // h null: the head did not parse
  void log_request_id(Stream* s, uint64_t hi, uint64_t lo);  // the x-request-id added upstream, if it was
  void log_sent(Stream* s);
  void log_response(Stream* s, const http1::MessageHead& h);
  void log_local_reply(Stream* s, uint16_t status, size_t body_bytes);
  void log_end(Stream* s);
  // Mirrors (mirror.cc).
  void send_mirror(Stream* s, const http1::MessageHead& h, const RequestView& rv, std::string_view path);
  // Table pins.
  bool pin(Stream* s);
  void unpin(Stream* s);
  void publish_pins();

  upstream::ListenerStats& lstats(const Stream* s);
  void lcount(const Stream* s, upstream::ListenerStat st, uint64_t n = 1);
  void ccount(const Stream* s, upstream::ClusterStat st, uint64_t n = 1);
  void arm(Stream* s, uint64_t ms);
  uint64_t rand64();

  HttpProxyConfig cfg_;
  unsigned worker_;
  tcp::TcpStack& stack_;
  TimerWheel& timers_;
  upstream::ClusterManager& clusters_;
  upstream::UpstreamRegistry& registry_;
  config::TablePublisher* publisher_;
  tlsterm::TlsWorker* tls_;  // TLS channels: HTTPS listeners, TLS toward upstreams (null: no TLS)
  uint64_t cycles_per_ms_;
  const config::RuntimeTables* t_ = nullptr;
  uint64_t generation_ = 0;
  std::unique_ptr<Stream[]> streams_;
  Stream* free_ = nullptr;
  uint32_t active_ = 0;
  upstream::HttpPool pool_;
  std::unique_ptr<Mirror[]> mirrors_;
  Mirror* free_mirrors_ = nullptr;
  // Requests waiting for a connection, per cluster stats id (FIFO).
  std::unique_ptr<Stream*[]> pending_head_, pending_tail_;
  std::unique_ptr<uint32_t[]> pending_count_;
  uint32_t pending_slots_ = 0;
  // Generations with requests in flight on them.
  struct Pin {
    uint64_t generation;
    uint32_t count;
  };
  Pin pins_[8] = {};
  uint64_t published_pin_ = UINT64_MAX;
  std::unique_ptr<http1::MessageHead> head_;  // the head being handled (one at a time per worker)
  std::unique_ptr<char[]> buf_;  // heads peeked from receive queues
  std::unique_ptr<char[]> scratch_;  // rewritten paths, locations
  uint64_t rng_;
  uint64_t weyl_ = 0;
  uint64_t connections_ = 0;  // accepted so far (connection ids)
  bool draining_ = false;
  tcp::PortSet ports_;  // the listeners this proxy opened
};

}  // namespace lg::l7
