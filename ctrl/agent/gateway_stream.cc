#include "ctrl/agent/gateway_stream.h"

#ifndef LG_VERSION
#define LG_VERSION "dev"
#endif

namespace lg::ctrl {

// gRPC calls StartWrite/Finish reactions on its own threads; they may even run
// inline, so neither is called with mu_ held.

GatewayStream::GatewayStream(grpc::CallbackServerContext* ctx, GatewayRegistry& registry,
                             std::function<void()> opened)
    : ctx_(ctx), registry_(registry), opened_(std::move(opened)) {
  // Sent at once so the gateway knows it is connected before any snapshot.
  ctx_->AddInitialMetadata(kAgentMetadataKey, LG_VERSION);
  StartSendInitialMetadata();
  StartRead(&request_);
}

void GatewayStream::send(std::shared_ptr<const dv1::SnapshotResponse> response) {
  const dv1::SnapshotResponse* msg;
  {
    std::lock_guard lk(mu_);
    if (finish_requested_) return;
    if (writing_) {
      waiting_ = std::move(response);
      return;
    }
    writing_ = true;
    in_flight_ = std::move(response);
    msg = in_flight_.get();  // kept alive by in_flight_ until OnWriteDone
  }
  StartWrite(msg);
}

void GatewayStream::OnWriteDone(bool ok) {
  const dv1::SnapshotResponse* next = nullptr;
  bool finish = false;
  grpc::Status status;
  {
    std::lock_guard lk(mu_);
    in_flight_.reset();
    if (ok && waiting_ && !finish_requested_) {
      in_flight_ = std::move(waiting_);
      next = in_flight_.get();
    } else {
      writing_ = false;
      waiting_.reset();
      if (!ok && !finish_requested_) {  // the gateway is gone; the read side will notice too
        finish_requested_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
      if (finish_requested_ && !finished_) {
        finished_ = finish = true;
        status = finish_status_;
      }
    }
  }
  if (next) StartWrite(next);
  if (finish) Finish(status);
}

void GatewayStream::request_finish(grpc::Status status) {
  {
    std::lock_guard lk(mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    finish_status_ = status;
    waiting_.reset();
    if (writing_) return;  // OnWriteDone finishes
    finished_ = true;
  }
  Finish(status);
}

void GatewayStream::OnReadDone(bool ok) {
  if (!ok) {  // the gateway closed its side, or the call was cancelled
    request_finish(grpc::Status::OK);
    return;
  }
  if (conn_ == 0) {
    std::string error;
    conn_ = registry_.open(request_.node(), request_.version_info(), ctx_->peer(), this, error);
    if (conn_ == 0) {
      request_finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, error));
      return;
    }
    if (opened_) opened_();
  } else {
    registry_.reply(conn_, request_);
  }
  StartRead(&request_);
}

void GatewayStream::OnDone() {
  // After this no push can reach us: the registry forgets the sink under its lock.
  if (conn_ != 0) registry_.close(conn_);
  delete this;
}

}  // namespace lg::ctrl
