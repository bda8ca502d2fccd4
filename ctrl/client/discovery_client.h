// The gateway side of the discovery stream (ctrl/proto/discovery.proto).
// linegate's control thread owns one DiscoveryClient: start() spawns the
// client's own thread, which connects to the agent, says who the gateway is,
// hands every snapshot to the handler and ACKs or NACKs it, and reconnects
// with backoff while the agent is away. The handler's last good snapshot
// keeps serving meanwhile; that is the caller's business, the client only
// reports.
//
// Nothing here throws; problems are logged through the log callback and
// visible in state().
#pragma once

#include "ctrl/proto/snapshot.pb.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace grpc {
class ClientContext;
}

namespace lg::ctrl {

struct DiscoveryNode {
  std::string id;       // unique per gateway process
  std::string cluster;  // e.g. "Kubernetes"
  std::string network;  // e.g. "network1"
  std::string ns;       // namespace the gateway runs in; "" = the agent's root namespace
  std::map<std::string, std::string> labels;  // sent sorted by key
  std::string build_version;
};

struct DiscoveryClientOptions {
  std::string agent;  // "127.0.0.1:15010" (any gRPC target)
  DiscoveryNode node;
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // One line per event (connected, applied, rejected, disconnected); may be
  // called from the client's thread. Empty: silent.
  std::function<void(std::string_view)> log;
};

// Applies one snapshot. nullopt = applied (ACK); a string = rejected, the
// reason goes back to the agent (NACK) and the previous snapshot stays.
// Called on the client's thread, one snapshot at a time.
using SnapshotHandler =
    std::function<std::optional<std::string>(const linegate::snapshot::v1::GatewaySnapshot&)>;

struct DiscoveryClientState {
  bool running = false;          // between start() and stop()
  bool connected = false;        // a stream to the agent is open
  std::string applied_version;   // last snapshot the handler accepted ("" = none)
  std::string last_error;        // last NACK reason or stream error ("" = none)
  uint64_t reconnects = 0;       // streams started after the first
  uint64_t snapshots_received = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;
};

class DiscoveryClient {
 public:
  DiscoveryClient(DiscoveryClientOptions options, SnapshotHandler handler);
  ~DiscoveryClient();  // stop()
  DiscoveryClient(const DiscoveryClient&) = delete;
  DiscoveryClient& operator=(const DiscoveryClient&) = delete;

  // Starts the client's thread. False (and logged) when already running,
  // when the options are unusable (no agent address, no node id) or when no
  // thread could be made. A stopped client can be started again.
  bool start();
  // Cancels the open stream and joins the thread. Returns once the handler,
  // if it was running, has returned. Idempotent.
  void stop();

  DiscoveryClientState state() const;

 private:
  void run();
  // One stream: open, send the node, apply snapshots until it ends. True
  // when the stream got as far as the agent answering.
  bool run_stream();
  void sleep_for(std::chrono::milliseconds d);
  void log(const std::string& line) const;

  DiscoveryClientOptions options_;
  SnapshotHandler handler_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<grpc::ClientContext> context_;  // of the open stream, for TryCancel
  DiscoveryClientState state_;
  std::thread thread_;
};

}  // namespace lg::ctrl
