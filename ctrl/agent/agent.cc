#include "ctrl/agent/agent.h"

#include "ctrl/agent/ca_service.h"
#include "ctrl/agent/dir_watcher.h"
#include "ctrl/agent/gateway_registry.h"
#include "ctrl/agent/gateway_stream.h"
#include "ctrl/compile/compiler.h"
#include "ctrl/crd/loader.h"

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace lg::ctrl {

namespace {

dv1::Diagnostic to_proto(const Diagnostic& d) {
  dv1::Diagnostic out;
  switch (d.severity) {
    case Severity::error: out.set_severity(dv1::Diagnostic::ERROR); break;
    case Severity::warning: out.set_severity(dv1::Diagnostic::WARNING); break;
    case Severity::info: out.set_severity(dv1::Diagnostic::INFO); break;
  }
  out.set_text(d.format());
  out.set_file(d.src.file);
  out.set_doc(d.src.doc);
  out.set_kind(d.kind);
  out.set_namespace_(d.ns);
  out.set_name(d.name);
  out.set_path(d.path);
  out.set_message(d.message);
  return out;
}

}  // namespace

struct Agent::Impl {
  explicit Impl(AgentOptions o)
      : opts(std::move(o)),
        store(opts.analyze),
        registry(opts.root_namespace, [this](std::string_view l) { log(l); }),
        discovery(registry, [this] { wake(); }),
        admin(*this),
        ca(ca_options()) {}

  CaService::Options ca_options() {
    CaService::Options o;
    o.enabled = opts.ca != AgentOptions::CaMode::off;
    o.policy.trust_domain = opts.trust_domain;
    o.policy.default_ttl = opts.workload_cert_ttl;
    o.policy.max_ttl = opts.max_workload_cert_ttl;
    o.root_namespace = opts.root_namespace;
    o.log = [this](std::string_view l) { log(l); };
    return o;
  }

  // AgentAdmin over the in-process API. Both calls are short (analysis of
  // the candidate, a status copy); pushes happen on the pusher thread.
  class AdminService final : public dv1::AgentAdmin::CallbackService {
   public:
    explicit AdminService(Impl& impl) : impl_(impl) {}
    grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx, const dv1::ApplyRequest* req,
                                    dv1::ApplyResponse* resp) override {
      *resp = impl_.apply(*req);
      auto* r = ctx->DefaultReactor();
      r->Finish(grpc::Status::OK);
      return r;
    }
    grpc::ServerUnaryReactor* ProxyStatus(grpc::CallbackServerContext* ctx, const dv1::ProxyStatusRequest*,
                                          dv1::ProxyStatusResponse* resp) override {
      *resp = impl_.proxy_status();
      auto* r = ctx->DefaultReactor();
      r->Finish(grpc::Status::OK);
      return r;
    }

   private:
    Impl& impl_;
  };

  void log(std::string_view line) {
    if (!opts.log) return;
    std::lock_guard lk(log_mu);
    try {
      opts.log(line);
    } catch (...) {
    }
  }

  void wake() {
    {
      std::lock_guard lk(push_mu);
      dirty = true;
    }
    push_cv.notify_one();
  }

  void report(const std::string& origin, const ConfigChange& ch) {
    std::string serving = ch.config ? "config version " + ch.config->version : "nothing (no valid config yet)";
    if (!ch.accepted) {
      log("config from " + origin + " rejected: " + std::to_string(ch.diags.error_count()) + " error(s); still serving " +
          serving);
    } else if (ch.changed) {
      log("config from " + origin + " accepted: config version " + ch.config->version + " generation " +
          std::to_string(ch.config->generation) + " (" + std::to_string(ch.config->resources.size()) +
          " resources, " + std::to_string(ch.diags.warning_count()) + " warning(s))");
    } else {
      log("config from " + origin + " unchanged: " + serving);
    }
    if (!ch.accepted || ch.changed) {
      for (const Diagnostic& d : ch.diags.items()) log("  " + d.format());
    }
  }

  void reload_watched() {
    if (opts.watch_dirs.empty()) return;
    Diagnostics d;
    auto resources = load_paths(opts.watch_dirs, d);
    ConfigChange ch = store.set_watched(std::move(resources), d);
    report("watched directories", ch);
    if (ch.changed) config_changed();
  }

  void config_changed() {
    ca.config_changed(store.current());
    wake();
  }

  dv1::ApplyResponse apply(const dv1::ApplyRequest& req) {
    dv1::ApplyResponse out;
    Diagnostics load_diags;
    std::vector<Resource> resources;
    if (req.files_size() == 0) load_diags.file_error(Source{"<apply>", "", 0}, "no files in the request");
    for (const auto& f : req.files()) {
      auto more = load_text(f.content(), f.name().empty() ? "<apply>" : f.name(), load_diags);
      for (auto& r : more) resources.push_back(std::move(r));
    }
    ConfigChange ch = store.apply(resources, load_diags, req.dry_run());
    out.set_accepted(ch.accepted);
    out.set_changed(ch.changed);
    for (const Diagnostic& d : ch.diags.items()) *out.add_diagnostics() = to_proto(d);
    if (ch.config) {
      out.set_config_version(ch.config->version);
      out.set_generation(ch.config->generation);
      out.set_resources(static_cast<uint32_t>(ch.config->resources.size()));
    }
    if (req.dry_run()) {
      log(std::string("dry-run apply of ") + std::to_string(req.files_size()) + " file(s): " +
          (ch.accepted ? "would be accepted" : "would be rejected"));
    } else {
      report("apply (" + std::to_string(req.files_size()) + " file(s))", ch);
      if (ch.changed) config_changed();
    }
    return out;
  }

  dv1::ProxyStatusResponse proxy_status() const {
    dv1::ProxyStatusResponse out = registry.status();
    if (auto cfg = store.current()) {
      out.set_config_version(cfg->version);
      out.set_generation(cfg->generation);
    }
    return out;
  }

  // Compiles once per node group (compile_key) and config generation, and
  // pushes to every connection that has not seen this generation yet.
  void push_round() {
    auto cfg = store.current();
    if (!cfg) return;
    auto targets = registry.pending(cfg->generation);
    if (targets.empty()) return;
    if (cache_generation != cfg->generation) {
      cache.clear();
      cache_generation = cfg->generation;
    }
    for (const auto& t : targets) {
      auto it = cache.find(t.key);
      if (it == cache.end()) {
        std::shared_ptr<const dv1::SnapshotResponse> resp;
        try {
          auto r = std::make_shared<dv1::SnapshotResponse>();
          *r->mutable_snapshot() = compile_snapshot(cfg->resources, t.node);
          r->set_version_info(r->snapshot().version());
          r->set_nonce(next_nonce(cfg->generation));
          resp = std::move(r);
        } catch (const std::exception& e) {
          log("compile for gateway " + t.node.id + " failed: " + e.what());
          continue;
        }
        it = cache.emplace(t.key, std::move(resp)).first;
      }
      // One compilation per identity group: the snapshot has no per-node field.
      registry.deliver(t.conn, cfg->generation, it->second);
    }
  }

  std::string next_nonce(uint64_t generation) {
    return std::to_string(generation) + "-" + std::to_string(++nonce_counter);
  }

  void pusher() {
    std::unique_lock lk(push_mu);
    while (true) {
      push_cv.wait(lk, [this] { return dirty || stopping; });
      if (stopping) return;
      dirty = false;
      lk.unlock();
      push_round();
      lk.lock();
    }
  }

  bool start(std::string& error) {
    if (server) return true;
    // The CA first: the first config read may plug in a cacerts Secret.
    if (!ca_started) {
      if (!ca.start(error)) return false;
      ca_started = true;
    }
    reload_watched();
    if (!opts.watch_dirs.empty()) {
      watcher = std::make_unique<DirWatcher>(
          opts.watch_dirs, opts.debounce, [this] { reload_watched(); }, [this](std::string_view l) { log(l); });
      if (!watcher->start(error)) {
        watcher.reset();
        return false;
      }
    }
    grpc::ServerBuilder b;
    b.AddListeningPort(opts.listen, grpc::InsecureServerCredentials(), &bound_port);
    // gRPC sets SO_REUSEPORT by default: a second agent on the same port
    // would silently share the gateways. Make it fail instead.
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // Gateways ping every 30 s (ctrl/client); allow it, and ping them too so
    // a vanished gateway shows as disconnected.
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    b.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
    b.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
    b.SetMaxReceiveMessageSize(64 << 20);
    b.SetMaxSendMessageSize(256 << 20);
    b.RegisterService(&discovery);
    b.RegisterService(&admin);
    b.RegisterService(&ca);
    server = b.BuildAndStart();
    if (!server || bound_port == 0) {
      error = "cannot listen on " + opts.listen + " (address in use, or not HOST:PORT?)";
      server.reset();
      if (watcher) watcher->stop();
      watcher.reset();
      return false;
    }
    {
      std::lock_guard lk(push_mu);
      stopping = false;
    }
    push_thread = std::thread([this] { pusher(); });
    log("listening on " + listen_host() + ":" + std::to_string(bound_port));
    return true;
  }

  std::string listen_host() const {
    auto colon = opts.listen.rfind(':');
    return colon == std::string::npos ? opts.listen : opts.listen.substr(0, colon);
  }

  void stop() {
    if (watcher) watcher->stop();
    {
      std::lock_guard lk(push_mu);
      stopping = true;
    }
    push_cv.notify_all();
    if (push_thread.joinable()) push_thread.join();
    if (server) {
      // Deadline now: cancel the (never-ending) streams instead of waiting.
      server->Shutdown(std::chrono::system_clock::now());
      server->Wait();
      server.reset();
      log("stopped");
    }
    watcher.reset();
  }

  AgentOptions opts;
  std::mutex log_mu;
  ConfigStore store;
  GatewayRegistry registry;
  DiscoveryService discovery;
  AdminService admin;
  CaService ca;
  bool ca_started = false;
  std::unique_ptr<DirWatcher> watcher;
  std::unique_ptr<grpc::Server> server;  // after the services: destroyed before them
  int bound_port = 0;

  std::mutex push_mu;
  std::condition_variable push_cv;
  bool dirty = false, stopping = false;
  std::thread push_thread;
  // Pusher thread only.
  uint64_t cache_generation = 0;
  std::unordered_map<std::string, std::shared_ptr<const dv1::SnapshotResponse>> cache;
  uint64_t nonce_counter = 0;
};

Agent::Agent(AgentOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Agent::~Agent() { stop(); }
bool Agent::start(std::string& error) { return impl_->start(error); }
void Agent::stop() { impl_->stop(); }
int Agent::port() const { return impl_->bound_port; }
dv1::ApplyResponse Agent::apply(const dv1::ApplyRequest& request) { return impl_->apply(request); }
dv1::ProxyStatusResponse Agent::proxy_status() const { return impl_->proxy_status(); }
std::shared_ptr<const ConfigState> Agent::config() const { return impl_->store.current(); }
void Agent::reload_watched() { impl_->reload_watched(); }
std::shared_ptr<const ca::CertificateAuthority> Agent::certificate_authority() const { return impl_->ca.current(); }

}  // namespace lg::ctrl
