// One gateway's discovery stream on the agent, on gRPC's callback API: no
// thread per gateway, so hundreds of idle streams cost a few KB each. At most
// one write is in flight; a push that arrives meanwhile replaces any push
// still waiting (state of the world: only the newest snapshot matters).
#pragma once

#include "ctrl/agent/gateway_registry.h"
#include "ctrl/proto/discovery.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>

namespace lg::ctrl {

class GatewayStream final : public grpc::ServerBidiReactor<dv1::SnapshotRequest, dv1::SnapshotResponse>,
                            public SnapshotSink {
 public:
  // `opened` runs (without locks held) once the gateway said who it is.
  GatewayStream(grpc::CallbackServerContext* ctx, GatewayRegistry& registry, std::function<void()> opened);

  void send(std::shared_ptr<const dv1::SnapshotResponse> response) override;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  void request_finish(grpc::Status status);

  grpc::CallbackServerContext* ctx_;
  GatewayRegistry& registry_;
  std::function<void()> opened_;
  uint64_t conn_ = 0;  // registry connection, once open
  dv1::SnapshotRequest request_;

  std::mutex mu_;
  bool writing_ = false;
  std::shared_ptr<const dv1::SnapshotResponse> in_flight_, waiting_;
  bool finish_requested_ = false, finished_ = false;
  grpc::Status finish_status_;
};

// The GatewayDiscovery service: one GatewayStream per call.
class DiscoveryService final : public dv1::GatewayDiscovery::CallbackService {
 public:
  DiscoveryService(GatewayRegistry& registry, std::function<void()> opened)
      : registry_(registry), opened_(std::move(opened)) {}
  grpc::ServerBidiReactor<dv1::SnapshotRequest, dv1::SnapshotResponse>* StreamSnapshots(
      grpc::CallbackServerContext* ctx) override {
    return new GatewayStream(ctx, registry_, opened_);
  }

 private:
  GatewayRegistry& registry_;
  std::function<void()> opened_;
};

// Initial metadata key of every stream (see discovery.proto).
inline constexpr const char* kAgentMetadataKey = "x-linegate-agent";

}  // namespace lg::ctrl
