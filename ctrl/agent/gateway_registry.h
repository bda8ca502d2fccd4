// Who is connected, what each gateway was sent, what it answered. One entry
// per open stream (a connection) and one status record per node id, which
// outlives the connection so `proxy-status` can show a gateway that went away.
//
// Sync state follows xDS: a reply's version_info is what the gateway runs;
// a reply whose nonce is the last one sent decides ACK or NACK for that push;
// replies with older nonces are stale (still update the running version).
#pragma once

#include "ctrl/compile/compiler.h"
#include "ctrl/proto/discovery.pb.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl {

namespace dv1 = linegate::discovery::v1;

// Where pushes go: one stream. send() must not block and must not call back
// into the registry.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void send(std::shared_ptr<const dv1::SnapshotResponse> response) = 0;
};

// The fields of a node that compile_snapshot() reads; nodes that agree on
// them get the same snapshot, so it is compiled once and shared.
std::string compile_key(const GatewayNode& node);

class GatewayRegistry {
 public:
  using Clock = std::chrono::system_clock;
  GatewayRegistry(std::string root_namespace, std::function<void(std::string_view)> log)
      : root_ns_(std::move(root_namespace)), log_(std::move(log)) {}

  // A stream said who it is. 0 (and `error` set) when the node is unusable.
  uint64_t open(const dv1::Node& node, const std::string& version_running, std::string peer, SnapshotSink* sink,
                std::string& error);
  void reply(uint64_t conn, const dv1::SnapshotRequest& req);
  // The stream is gone; `sink` is never used again after this returns.
  void close(uint64_t conn);

  struct Target {
    uint64_t conn;
    GatewayNode node;
    std::string key;  // compile_key(node)
  };
  // Connections that have not yet been considered for config `generation`.
  std::vector<Target> pending(uint64_t generation) const;
  // Sends `response` to `conn` unless that connection last received the same
  // version; either way marks the connection as up to date with `generation`.
  // False when the connection is gone.
  bool deliver(uint64_t conn, uint64_t generation, const std::shared_ptr<const dv1::SnapshotResponse>& response);

  dv1::ProxyStatusResponse status() const;
  size_t connections() const;

  // Records of gateways disconnected longer than this are dropped.
  static constexpr std::chrono::hours kForgetAfter{1};

 private:
  struct Conn {
    SnapshotSink* sink;
    std::string node_id;
    GatewayNode node;
    std::string key;
    uint64_t generation_seen = 0;
    std::string version_sent;
  };
  struct Record {
    dv1::Node node;
    uint64_t conn = 0;  // current (or last) connection
    bool connected = false;
    std::string peer;
    bool sent = false;
    std::string version_sent, nonce_sent;
    std::string version_acked;
    std::string nonce_answered;
    bool nacked = false;
    std::string last_error;
    Clock::time_point last_seen{}, connected_since{};
  };
  void log(const std::string& line) const;
  void forget_old_locked(Clock::time_point now);

  const std::string root_ns_;
  std::function<void(std::string_view)> log_;
  mutable std::mutex mu_;
  uint64_t next_conn_ = 1;
  std::map<uint64_t, Conn> conns_;
  std::map<std::string, Record> records_;  // by node id
};

}  // namespace lg::ctrl
