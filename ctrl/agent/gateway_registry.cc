#include "ctrl/agent/gateway_registry.h"

namespace lg::ctrl {

namespace {

int64_t unix_ms(GatewayRegistry::Clock::time_point t) {
  if (t == GatewayRegistry::Clock::time_point{}) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Log lines are one per event: a multi-line NACK reason is folded.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string labels_text(const dv1::Node& n) {
  std::string out;
  for (const auto& l : n.labels()) out += (out.empty() ? "" : ",") + l.key() + "=" + l.value();
  return out;
}

}  // namespace

std::string compile_key(const GatewayNode& node) {
  // Length-prefixed so no choice of values can make two nodes collide.
  std::string key;
  auto add = [&key](const std::string& s) { key += std::to_string(s.size()) + ":" + s; };
  add(node.cluster);
  add(node.network);
  add(node.ns);
  for (const auto& [k, v] : node.labels) {
    add(k);
    add(v);
  }
  return key;
}

void GatewayRegistry::log(const std::string& line) const {
  if (log_) log_(line);
}

uint64_t GatewayRegistry::open(const dv1::Node& node, const std::string& version_running, std::string peer,
                               SnapshotSink* sink, std::string& error) {
  if (node.id().empty()) {
    error = "the first request must carry node.id";
    return 0;
  }
  GatewayNode gn;
  gn.id = node.id();
  gn.cluster = node.cluster();
  gn.network = node.network();
  gn.ns = node.namespace_().empty() ? root_ns_ : node.namespace_();
  for (const auto& l : node.labels()) {
    if (l.key().empty()) {
      error = "node.labels: empty label key";
      return 0;
    }
    if (!gn.labels.emplace(l.key(), l.value()).second) {
      error = "node.labels: duplicate key " + l.key();
      return 0;
    }
  }
  auto now = Clock::now();
  std::lock_guard lk(mu_);
  uint64_t id = next_conn_++;
  Conn c{sink, node.id(), std::move(gn), {}, 0, {}};
  c.key = compile_key(c.node);
  conns_.emplace(id, std::move(c));

  Record& r = records_[node.id()];
  bool duplicate = r.connected;
  r = Record{};
  r.node = node;
  r.conn = id;
  r.connected = true;
  r.peer = peer;
  r.version_acked = version_running;
  r.last_seen = r.connected_since = now;
  log("gateway " + node.id() + " connected from " + peer + " (cluster=" + node.cluster() +
      " network=" + node.network() + " labels=" + labels_text(node) + ")" +
      (duplicate ? "; another stream with this node id is still open (duplicate id?)" : ""));
  forget_old_locked(now);
  return id;
}

void GatewayRegistry::reply(uint64_t conn, const dv1::SnapshotRequest& req) {
  std::lock_guard lk(mu_);
  auto c = conns_.find(conn);
  if (c == conns_.end()) return;
  auto rec = records_.find(c->second.node_id);
  if (rec == records_.end() || rec->second.conn != conn) return;  // superseded by a newer stream
  Record& r = rec->second;
  r.last_seen = Clock::now();
  r.version_acked = req.version_info();
  if (req.response_nonce().empty() || req.response_nonce() != r.nonce_sent) return;  // stale
  r.nonce_answered = req.response_nonce();
  if (req.has_error_detail()) {
    r.nacked = true;
    r.last_error = req.error_detail().message();
    log("gateway " + c->second.node_id + " NACK version " + r.version_sent + " (runs " +
        (req.version_info().empty() ? "nothing" : req.version_info()) + "): " + one_line(r.last_error));
  } else {
    r.nacked = false;
    r.last_error.clear();
    log("gateway " + c->second.node_id + " ACK version " + req.version_info());
  }
}

void GatewayRegistry::close(uint64_t conn) {
  std::lock_guard lk(mu_);
  auto c = conns_.find(conn);
  if (c == conns_.end()) return;
  auto rec = records_.find(c->second.node_id);
  if (rec != records_.end() && rec->second.conn == conn) {
    rec->second.connected = false;
    rec->second.last_seen = Clock::now();
    log("gateway " + c->second.node_id + " disconnected");
  }
  conns_.erase(c);
}

std::vector<GatewayRegistry::Target> GatewayRegistry::pending(uint64_t generation) const {
  std::lock_guard lk(mu_);
  std::vector<Target> out;
  for (const auto& [id, c] : conns_) {
    if (c.generation_seen != generation) out.push_back(Target{id, c.node, c.key});
  }
  return out;
}

bool GatewayRegistry::deliver(uint64_t conn, uint64_t generation,
                              const std::shared_ptr<const dv1::SnapshotResponse>& response) {
  std::lock_guard lk(mu_);
  auto c = conns_.find(conn);
  if (c == conns_.end()) return false;
  c->second.generation_seen = generation;
  if (c->second.version_sent == response->version_info()) return true;
  c->second.version_sent = response->version_info();
  auto rec = records_.find(c->second.node_id);
  if (rec != records_.end() && rec->second.conn == conn) {
    rec->second.sent = true;
    rec->second.version_sent = response->version_info();
    rec->second.nonce_sent = response->nonce();
  }
  c->second.sink->send(response);
  return true;
}

size_t GatewayRegistry::connections() const {
  std::lock_guard lk(mu_);
  return conns_.size();
}

void GatewayRegistry::forget_old_locked(Clock::time_point now) {
  for (auto it = records_.begin(); it != records_.end();) {
    if (!it->second.connected && now - it->second.last_seen > kForgetAfter) {
      it = records_.erase(it);
    } else {
      ++it;
    }
  }
}

dv1::ProxyStatusResponse GatewayRegistry::status() const {
  dv1::ProxyStatusResponse out;
  std::lock_guard lk(mu_);
  for (const auto& [id, r] : records_) {  // std::map: sorted by node id
    auto* g = out.add_gateways();
    g->set_node_id(id);
    g->set_cluster(r.node.cluster());
    g->set_network(r.node.network());
    g->set_namespace_(r.node.namespace_().empty() ? root_ns_ : r.node.namespace_());
    *g->mutable_labels() = r.node.labels();
    g->set_build_version(r.node.build_version());
    g->set_connected(r.connected);
    g->set_version_sent(r.version_sent);
    g->set_version_acked(r.version_acked);
    g->set_last_error(r.last_error);
    g->set_last_seen_unix_ms(unix_ms(r.last_seen));
    g->set_connected_since_unix_ms(unix_ms(r.connected_since));
    g->set_peer(r.peer);
    dv1::GatewayStatus::Status st;
    if (!r.sent) {
      st = dv1::GatewayStatus::NOT_SENT;
    } else if (r.nonce_answered != r.nonce_sent) {
      st = dv1::GatewayStatus::STALE;
    } else if (r.nacked) {
      st = dv1::GatewayStatus::NACKED;
    } else {
      st = r.version_acked == r.version_sent ? dv1::GatewayStatus::SYNCED : dv1::GatewayStatus::STALE;
    }
    g->set_status(st);
  }
  return out;
}

}  // namespace lg::ctrl
