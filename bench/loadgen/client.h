// The client role: --connections slots, each a connection (or, for
// http-close and tcp-connect, a series of them) that sends one request at a
// time. Closed loop sends the next request as soon as an answer is complete.
// Open loop gives every slot its own schedule at rate/connections (as wrk2
// does): slot i's k-th request is due at t0 + (k*N + i)/rate, and its latency
// runs from that intended time, so a stalled server cannot hide its queueing
// delay by slowing the generator down (coordinated omission).
#pragma once

#include <rte_mbuf.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/live.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/payload.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "l7/http1/http1.h"

namespace lg::tlsterm {
class TlsWorker;
}
namespace lg::tls {
class ClientContext;
}

namespace lg::bench {

// --tls: a client TLS channel under each connection; the handshake is part
// of connecting (the client hears "connected" once it is done).
struct ClientTls {
  tlsterm::TlsWorker* worker = nullptr;
  const tls::ClientContext* context = nullptr;
  std::string sni;
  uint32_t stats_id = 0;  // the counters its handshakes go to
};

struct ClientResults {
  Histogram latency;  // measured window only, ns
  uint64_t requests = 0;        // completed in the measured window
  uint64_t requests_total = 0;  // every phase
  uint64_t bytes_received = 0, bytes_sent = 0;  // measured window
  uint64_t conn_opened = 0, conn_failed = 0, conn_closed = 0;
  uint64_t err_connect = 0, err_timeout = 0, err_reset = 0, err_protocol = 0;
  uint64_t status[6] = {};  // by class: [1] 1xx … [5] 5xx, [0] unknown
  struct Second {
    uint64_t requests = 0, errors = 0, bytes = 0;
  };
  std::vector<Second> timeline;  // per second of the measured window
  uint64_t window_start = 0, window_end = 0;  // TSC
  uint64_t busy_at_start = 0, busy_at_end = 0;
};

class Client {
 public:
  // tls: null for plain TCP; else it outlives the client.
  Client(const ClientOptions& o, tcp::TcpStack& s, TimerWheel& timers, Live& live, uint64_t tsc_hz,
         const ClientTls* tls = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool init(std::string* error);

  // Opens one connection before the clock starts: its SYN resolves the
  // target's next hop (ARP/ND), so no measured request waits for that (the
  // stack holds only a few packets per unresolved neighbor; the rest would
  // wait for a 1 s SYN retransmission).
  void prime(uint64_t now);
  bool primed() const { return nslots_ == 0 || slots_[0].state != SlotState::connecting; }
  void start(uint64_t now);
  // Once per loop pass: phase changes and due sends. Returns work done.
  unsigned poll(uint64_t now);
  bool done() const { return phase_ == Phase::done; }
  // Interrupted (SIGINT): the window ends now, so the report covers what ran.
  void interrupt(uint64_t now) {
    if (phase_ == Phase::measure) enter(Phase::finishing, now);
  }
  const ClientResults& results() const { return r_; }

  struct Slot;

 private:
  enum class SlotState : uint8_t { idle, connecting, ready, waiting, backoff };
  enum class Body : uint8_t { head, length, chunked, until_close };

 public:
  struct Slot {
    Client* owner = nullptr;
    uint32_t index = 0;
    SlotState state = SlotState::idle;
    Body body = Body::head;
    bool close_after = false;  // the answer said Connection: close
    tcp::Conn* conn = nullptr;
    uint64_t sent = 0;          // requests (connections) started: the schedule's k
    uint64_t intended = 0;      // TSC the current request was due
    uint64_t body_left = 0;     // response body (length) or request body still to send
    uint64_t response_bytes = 0;
    uint16_t status = 0;
    uint32_t head_len = 0;
    http1::ChunkedDecoder chunked;
    Timer timer;  // request/connect timeout, reconnect backoff
    char* head = nullptr;  // kHeadBuffer bytes
  };

 private:
  static constexpr uint32_t kHeadBuffer = 8 * 1024;

  uint64_t schedule_index(const Slot& s) const;  // open loop: s's next request in the whole schedule
  uint64_t due_index(uint64_t now) const;        // open loop: the last schedule index due by now
  bool may_send() const { return phase_ == Phase::warmup || phase_ == Phase::measure; }
  bool kick(Slot& s, uint64_t now);      // start the next request if due and possible; true if it did
  void begin(Slot& s, uint64_t intended);
  void connect(Slot& s);
  void send_request(Slot& s);
  void finish_request(Slot& s, uint64_t now);  // complete answer
  enum class LetGo : uint8_t { close, abort, gone };  // FIN, RST, already freed by the stack
  void let_go(Slot& s, LetGo how);
  void fail(Slot& s, uint64_t* counter);       // error: drop the connection, count, recover
  void lost(Slot& s, tcp::CloseReason why);    // the stack closed the connection
  void count_error(uint64_t* counter, uint64_t now);
  bool consume(Slot& s, const char* p, uint32_t n, uint64_t now);  // response bytes; false: error (slot reset)
  bool parse_head(Slot& s, const char* p, uint32_t n, uint32_t* used);
  void on_bytes(uint64_t n, uint64_t now);
  void enter(Phase p, uint64_t now);
  unsigned schedule(uint64_t now);  // open loop: due slots started
  unsigned finish(uint64_t now);

  static void on_connected(void* app, tcp::Conn* c);
  static void on_readable(void* app, tcp::Conn* c);
  static void on_writable(void* app, tcp::Conn* c);
  static void on_closed(void* app, tcp::Conn* c, tcp::CloseReason why);
  static void on_timer(Timer* t, void* arg);
  static const tcp::AppOps kOps;

  ClientOptions o_;
  tcp::TcpStack& s_;
  const ClientTls* tls_;
  TimerWheel& timers_;
  Live& live_;
  uint64_t hz_;
  Phase phase_ = Phase::starting;
  uint64_t t0_ = 0, warmup_end_ = 0, measure_end_ = 0, finish_deadline_ = 0;
  double cycles_per_request_ = 0;  // open loop: 1/rate in cycles
  uint64_t next_due_ = 0;          // open loop: the next global schedule index to wake
  uint64_t timeout_cycles_ = 0;
  double ns_per_cycle_ = 0;
  std::vector<std::string> templates_;
  uint64_t next_template_ = 0;
  Payload body_;
  std::unique_ptr<Slot[]> slots_;  // Timer is not movable: a fixed array
  uint32_t nslots_ = 0;
  std::unique_ptr<char[]> heads_;
  std::unique_ptr<http1::MessageHead> parsed_;  // scratch (large: 100 header views)
  ClientResults r_;
};

}  // namespace lg::bench
