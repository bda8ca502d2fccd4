// Built-in TCP applications for tests and benchmarks, one set per worker:
//   echo     writes back what it reads (back-pressure instead of buffering)
//   discard  reads and drops
//   source   sends `bytes` of a known pattern, then closes its side
//   client   connects out (worker 0 only), sends `bytes` of the pattern on
//            each of `connections` streams, half-closes, reads until EOF
// The pattern byte at stream offset k is k % 251, so a peer can verify the
// stream (tests compare sha256).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/tcp/stack.h"

namespace lg::apps {

inline uint8_t pattern_byte(uint64_t offset) { return static_cast<uint8_t>(offset % 251); }

class TestApps {
 public:
  // Listeners are opened on every worker (RSS may bring a SYN to any of
  // them); clients run on worker 0.
  TestApps(const std::vector<TestAppConfig>& cfg, unsigned worker, tcp::TcpStack& stack, uint32_t max_connections);
  // Called once per loop pass: starts client connections when due.
  void poll();

  struct Source {
    TestApps* self;
    uint64_t bytes;
  };
  struct Client {
    TestApps* self;
    TestAppConfig cfg;
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
    uint32_t started = 0;
  };

  tcp::TcpStack& stack() { return stack_; }
  rte_mempool* pool() { return stack_.pool(); }
  // Per-connection progress (bytes written so far), indexed by Conn::index.
  std::vector<uint64_t> sent;
  std::vector<uint64_t> limit;

 private:
  tcp::TcpStack& stack_;
  unsigned worker_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::unique_ptr<Client>> clients_;
};

// Writes the pattern from sent[c] up to limit[c] while there is send space;
// shuts the stream down when done. Shared by source and client.
void pump_pattern(TestApps& apps, tcp::Conn* c);

// Callback pieces the applications share.
bool accept_into(void* apps, tcp::Conn* c);                      // c->app = the TestApps
void count_abnormal_close(void* apps, tcp::Conn* c, tcp::CloseReason why);
void read_and_drop(TestApps& apps, tcp::Conn* c);                 // consume what is readable
// At end of stream: count the stream (completed if `done`) and close our side.
void finish_if_eof(TestApps& apps, tcp::Conn* c, bool done);
// Source and client streams: send the pattern, drop what comes back.
void readable_pattern_stream(void* apps, tcp::Conn* c);
void writable_pattern_stream(void* apps, tcp::Conn* c);

extern const tcp::AppOps kEchoOps;
extern const tcp::AppOps kDiscardOps;
extern const tcp::AppOps kSourceOps;
extern const tcp::AppOps kClientOps;

}  // namespace lg::apps
