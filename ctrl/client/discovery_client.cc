#include "ctrl/client/discovery_client.h"

#include "ctrl/client/backoff.h"
#include "ctrl/proto/discovery.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <exception>
#include <random>

namespace lg::ctrl {

namespace dv1 = linegate::discovery::v1;

namespace {

// Present in the agent's initial metadata (see discovery.proto).
constexpr const char* kAgentMetadataKey = "x-linegate-agent";

std::shared_ptr<grpc::Channel> make_channel(const std::string& target, const DiscoveryClientOptions& o) {
  grpc::ChannelArguments args;
  // gRPC's own subchannel backoff (1 s → 120 s by default) would stretch our
  // reconnects far past backoff_max; keep it inside the same bounds. Not
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: that is also the connect timeout
  // (20 s), and an agent busy accepting hundreds of gateways needs it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(o.backoff_initial.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(o.backoff_max.count()));
  // The global subchannel pool would share that backoff state between every
  // client in the process (and between tests).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // An agent that vanished without a FIN (host down, partition) is noticed
  // within ~40 s instead of the kernel's hours; the agent permits these pings.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // the stream is idle between changes
  // Snapshots of large meshes exceed gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(256 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

dv1::Node to_proto(const DiscoveryNode& n) {
  dv1::Node out;
  out.set_id(n.id);
  out.set_cluster(n.cluster);
  out.set_network(n.network);
  out.set_namespace_(n.ns);
  out.set_build_version(n.build_version);
  for (const auto& [k, v] : n.labels) {  // std::map: sorted by key
    auto* l = out.add_labels();
    l->set_key(k);
    l->set_value(v);
  }
  return out;
}

}  // namespace

DiscoveryClient::DiscoveryClient(DiscoveryClientOptions options, SnapshotHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

DiscoveryClient::~DiscoveryClient() { stop(); }

void DiscoveryClient::log(const std::string& line) const {
  if (!options_.log) return;
  try {
    options_.log("discovery: " + line);
  } catch (...) {
    // A failing logger must not take the config stream down with it.
  }
}

bool DiscoveryClient::start() {
  if (options_.agent.empty() || options_.node.id.empty() || !handler_) {
    log("not started: agent address, node id and handler are required");
    return false;
  }
  std::lock_guard lk(mu_);
  if (state_.running || thread_.joinable()) {
    return false;
  }
  stopping_ = false;
  state_.running = true;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::exception& e) {
    state_.running = false;
    log(std::string("not started: cannot create thread: ") + e.what());
    return false;
  }
  return true;
}

void DiscoveryClient::stop() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    if (context_) context_->TryCancel();
    t = std::move(thread_);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
  std::lock_guard lk(mu_);
  state_.running = false;
  state_.connected = false;
}

DiscoveryClientState DiscoveryClient::state() const {
  std::lock_guard lk(mu_);
  return state_;
}

void DiscoveryClient::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, d, [this] { return stopping_; });
}

void DiscoveryClient::run() {
  try {
    std::random_device rd;
    Backoff backoff(options_.backoff_initial, options_.backoff_max, (uint64_t(rd()) << 32) ^ rd());
    bool first = true;
    while (true) {
      {
        std::lock_guard lk(mu_);
        if (stopping_) break;
        if (!first) ++state_.reconnects;
      }
      first = false;
      if (run_stream()) backoff.reset();
      {
        std::lock_guard lk(mu_);
        if (stopping_) break;
      }
      auto delay = backoff.next();
      log("reconnecting to " + options_.agent + " in " + std::to_string(delay.count()) + " ms");
      sleep_for(delay);
    }
  } catch (const std::exception& e) {
    log(std::string("client thread stopped: ") + e.what());
  } catch (...) {
    log("client thread stopped: unknown exception");
  }
  std::lock_guard lk(mu_);
  state_.connected = false;
}

bool DiscoveryClient::run_stream() {
  // A fresh channel per stream: cheap next to a reconnect, and no state from
  // a dead agent (resolved address, failed subchannel) carries over.
  auto channel = make_channel(options_.agent, options_);
  auto stub = dv1::GatewayDiscovery::NewStub(channel);
  auto context = std::make_shared<grpc::ClientContext>();
  std::string applied;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    context_ = context;
    applied = state_.applied_version;
  }
  bool answered = false;
  auto stream = stub->StreamSnapshots(context.get());

  dv1::SnapshotRequest hello;
  *hello.mutable_node() = to_proto(options_.node);
  hello.set_version_info(applied);  // so the agent knows what we already run
  if (stream->Write(hello)) {
    stream->WaitForInitialMetadata();
    if (context->GetServerInitialMetadata().count(kAgentMetadataKey)) {
      answered = true;
      {
        std::lock_guard lk(mu_);
        state_.connected = true;
      }
      log("connected to " + options_.agent + " as " + options_.node.id);
    }
    dv1::SnapshotResponse resp;
    while (stream->Read(&resp)) {
      answered = true;
      {
        std::lock_guard lk(mu_);
        state_.connected = true;
        ++state_.snapshots_received;
      }
      std::optional<std::string> rejected;
      try {
        rejected = handler_(resp.snapshot());
      } catch (const std::exception& e) {
        rejected = std::string("snapshot handler failed: ") + e.what();
      } catch (...) {
        rejected = "snapshot handler failed";
      }
      dv1::SnapshotRequest reply;
      reply.set_response_nonce(resp.nonce());
      {
        std::lock_guard lk(mu_);
        if (!rejected) {
          state_.applied_version = resp.version_info();
          state_.last_error.clear();
          ++state_.acks;
        } else {
          state_.last_error = *rejected;
          ++state_.nacks;
        }
        // ACK carries the new version, NACK the one still running (xDS).
        reply.set_version_info(state_.applied_version);
      }
      if (rejected) {
        reply.mutable_error_detail()->set_message(*rejected);
        log("rejected snapshot " + resp.version_info() + ": " + *rejected);
      } else {
        log("applied snapshot " + resp.version_info());
      }
      if (!stream->Write(reply)) break;
    }
  }
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  bool stopping;
  {
    std::lock_guard lk(mu_);
    context_.reset();
    state_.connected = false;
    stopping = stopping_;
    if (!stopping && !st.ok()) state_.last_error = "stream: " + st.error_message();
  }
  if (!stopping) {
    log("stream to " + options_.agent + " ended: " +
        (st.ok() ? std::string("closed by agent") : st.error_message() + " (code " + std::to_string(st.error_code()) + ")"));
  }
  return answered;
}

}  // namespace lg::ctrl
