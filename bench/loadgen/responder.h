// The responder role: an HTTP/1.1 upstream with configurable answers (body
// size fixed or uniform random, delay, weighted status codes), keep-alive and
// pipelining in order; and a source port that sends an endless stream for
// bulk-throughput runs. Request heads are parsed with the dataplane's codec,
// bodies skipped without copying.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench/loadgen/live.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/payload.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "l7/http1/http1.h"

namespace lg::bench {

struct ResponderResults {
  uint64_t requests = 0, bytes_sent = 0, bad_requests = 0, connections = 0;
};

class Responder {
 public:
  Responder(const ResponderOptions& o, tcp::TcpStack& s, TimerWheel& timers, Live& live, uint64_t tsc_hz,
            uint32_t max_connections);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  bool init(std::string* error);
  const ResponderResults& results() const { return r_; }

  enum class Body : uint8_t { head, length, chunked };
  struct Peer {
    Responder* owner = nullptr;
    tcp::Conn* conn = nullptr;
    Body body = Body::head;
    bool close_after = false;  // this request ends the connection
    bool delayed = false;      // an answer waits for its timer; later requests wait behind it
    bool source = false;       // the endless-stream port
    uint16_t status = 200;
    uint64_t body_left = 0;    // request body still to skip
    uint64_t owed = 0;         // response body still to send
    uint32_t head_len = 0;
    uint32_t stash_len = 0;  // bytes read past a request whose answer is still pending
    http1::ChunkedDecoder chunked;
    Timer timer;
    char* head = nullptr;   // kHeadBuffer: a head arriving in pieces
    char* stash = nullptr;  // kHeadBuffer: pipelined bytes behind a pending answer
    bool blocked() const { return delayed || owed > 0; }
  };

 private:
  static constexpr uint32_t kHeadBuffer = 4 * 1024;  // bigger request heads get 431

  Peer* accept(tcp::Conn* c, bool source);
  void readable(Peer& p);
  void writable(Peer& p);
  bool consume(Peer& p, const char* data, uint32_t n, uint32_t* used);
  bool feed(Peer& p, const char* data, uint32_t n);  // false: the connection was dropped
  bool parse_head(Peer& p, const char* data, uint32_t n, uint32_t* used);
  void request_done(Peer& p);
  void respond(Peer& p);
  void bad_request(Peer& p);
  void drop(Peer& p);
  uint64_t pick(const Range& r);

  static bool on_accept_http(void* ctx, tcp::Conn* c);
  static bool on_accept_source(void* ctx, tcp::Conn* c);
  static void on_readable(void* app, tcp::Conn* c);
  static void on_writable(void* app, tcp::Conn* c);
  static void on_closed(void* app, tcp::Conn* c, tcp::CloseReason why);
  static void on_timer(Timer* t, void* arg);
  static const tcp::AppOps kHttpOps, kSourceOps;

  ResponderOptions o_;
  tcp::TcpStack& s_;
  TimerWheel& timers_;
  Live& live_;
  uint64_t hz_;
  uint32_t max_connections_;
  uint64_t rng_ = 0x9e3779b97f4a7c15ull;
  uint32_t weight_total_ = 0;
  std::unique_ptr<Peer[]> peers_;  // by Conn::index (Timer is not movable: a fixed array)
  std::unique_ptr<char[]> heads_;
  std::unique_ptr<http1::MessageHead> parsed_;
  Payload body_;
  ResponderResults r_;
};

}  // namespace lg::bench
