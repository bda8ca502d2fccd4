// Shared pieces of the agent tests: realistic manifests, a gateway made of a
// real DiscoveryClient that records what it was sent, and polling.
#pragma once

#include "ctrl/agent/agent.h"
#include "ctrl/client/discovery_client.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lg::ctrl::testing {

using namespace std::chrono_literals;
namespace dv1 = linegate::discovery::v1;
using linegate::snapshot::v1::GatewaySnapshot;

// The agent's log lines (AgentOptions::log), kept for the test to search;
// LG_AGENT_TEST_LOG=1 also prints them.
class AgentLog {
 public:
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view l) {
      std::lock_guard lk(mu_);
      lines_.emplace_back(l);
      if (std::getenv("LG_AGENT_TEST_LOG")) std::fprintf(stderr, "agent: %.*s\n", int(l.size()), l.data());
    };
  }
  size_t count(const std::string& needle) {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// Bookinfo-style: an ingress gateway (istio=ingressgateway) on 80 routing to
// an external API, and an internal gateway (istio=internalgateway) on 8080.
inline const char* kBaseConfig = R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "httpbin.example.com"
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: internal
  namespace: istio-system
spec:
  selector:
    istio: internalgateway
  servers:
  - port:
      number: 8080
      name: http
      protocol: HTTP
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin-ext
  namespace: istio-system
spec:
  hosts:
  - httpbin.example.com
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 80
    name: http
    protocol: HTTP
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
  namespace: istio-system
spec:
  hosts:
  - httpbin.example.com
  gateways:
  - public
  http:
  - route:
    - destination:
        host: httpbin.example.com
        port:
          number: 80
)";

// Adds a second server (port 8443, plain HTTP) to the public gateway.
inline const char* kPublicWith8443 = R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "httpbin.example.com"
  - port:
      number: 8443
      name: http-alt
      protocol: HTTP
    hosts:
    - "httpbin.example.com"
)";

// Weights summing to 90: Istio's validation rejects it.
inline const char* kBadWeights = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
  namespace: istio-system
spec:
  hosts:
  - httpbin.example.com
  gateways:
  - public
  http:
  - route:
    - destination:
        host: httpbin.example.com
        port:
          number: 80
      weight: 50
    - destination:
        host: httpbin.example.com
        port:
          number: 80
      weight: 40
)";

inline dv1::ApplyRequest apply_request(std::vector<std::pair<std::string, std::string>> files, bool dry_run = false) {
  dv1::ApplyRequest req;
  for (auto& [name, content] : files) {
    auto* f = req.add_files();
    f->set_name(name);
    f->set_content(content);
  }
  req.set_dry_run(dry_run);
  return req;
}

inline std::set<uint32_t> listener_ports(const GatewaySnapshot& s) {
  std::set<uint32_t> out;
  for (const auto& l : s.listeners()) out.insert(l.port());
  return out;
}

// A gateway: a DiscoveryClient whose handler records snapshots and rejects
// the ones `reject` objects to.
class TestGateway {
 public:
  TestGateway(int agent_port, std::string id, std::map<std::string, std::string> labels,
              std::function<std::optional<std::string>(const GatewaySnapshot&)> reject = {}) {
    DiscoveryClientOptions o;
    o.agent = "127.0.0.1:" + std::to_string(agent_port);
    o.node.id = std::move(id);
    o.node.cluster = "Kubernetes";
    o.node.network = "network1";
    o.node.labels = std::move(labels);
    o.backoff_initial = 20ms;
    o.backoff_max = 300ms;
    if (std::getenv("LG_AGENT_TEST_LOG")) {
      o.log = [id = o.node.id](std::string_view l) {
        std::fprintf(stderr, "%s: %.*s\n", id.c_str(), int(l.size()), l.data());
      };
    }
    client_ = std::make_unique<DiscoveryClient>(o, [this, reject](const GatewaySnapshot& s) {
      std::optional<std::string> verdict;
      if (reject) verdict = reject(s);
      std::lock_guard lk(mu_);
      received_.push_back(s);
      if (!verdict) applied_ = s;
      return verdict;
    });
  }
  bool start() { return client_->start(); }
  void stop() { client_->stop(); }
  DiscoveryClientState state() const { return client_->state(); }
  size_t received() const {
    std::lock_guard lk(mu_);
    return received_.size();
  }
  std::optional<GatewaySnapshot> applied() const {
    std::lock_guard lk(mu_);
    return applied_;
  }
  std::optional<GatewaySnapshot> last_received() const {
    std::lock_guard lk(mu_);
    if (received_.empty()) return std::nullopt;
    return received_.back();
  }

 private:
  mutable std::mutex mu_;
  std::vector<GatewaySnapshot> received_;
  std::optional<GatewaySnapshot> applied_;
  std::unique_ptr<DiscoveryClient> client_;
};

inline const dv1::GatewayStatus* find_gateway(const dv1::ProxyStatusResponse& st, const std::string& id) {
  for (const auto& g : st.gateways()) {
    if (g.node_id() == id) return &g;
  }
  return nullptr;
}

}  // namespace lg::ctrl::testing
