// What the built-in applications share: the pattern pump, end-of-stream
// handling, and the per-worker set-up that opens listeners and clients.
#include <arpa/inet.h>

#include "dataplane/apps/test_apps.h"

namespace lg::apps {

void pump_pattern(TestApps& apps, tcp::Conn* c) {
  tcp::TcpStack& s = apps.stack();
  uint64_t& sent = apps.sent[c->index];
  const uint64_t limit = apps.limit[c->index];
  const uint32_t chunk = 2048 - RTE_PKTMBUF_HEADROOM;  // fits a default mbuf's data room
  while (sent < limit) {
    const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(chunk, limit - sent));
    if (s.write_space(c) < len) {
      s.want_writable(c);
      return;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(apps.pool());
    if (m == nullptr) {
      s.want_writable(c);  // retry when ACKs free mbufs
      return;
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
    for (uint32_t i = 0; i < len; ++i) p[i] = pattern_byte(sent + i);
    if (s.write(c, m) != tcp::IoStatus::ok) {
      rte_pktmbuf_free(m);
      return;
    }
    sent += len;
    s.counters().event(c->key.iface, Event::app_bytes_sent, len);
  }
  s.shutdown(c);
}

bool accept_into(void* apps, tcp::Conn* c) {
  c->app = apps;
  return true;
}

void count_abnormal_close(void* apps, tcp::Conn* c, tcp::CloseReason why) {
  if (why != tcp::CloseReason::normal)
    static_cast<TestApps*>(apps)->stack().counters().event(c->key.iface, Event::app_streams_failed);
}

void read_and_drop(TestApps& apps, tcp::Conn* c) {
  tcp::TcpStack& s = apps.stack();
  while (rte_mbuf* m = s.read(c, UINT32_MAX)) {
    s.counters().event(c->key.iface, Event::app_bytes_received, rte_pktmbuf_pkt_len(m));
    rte_pktmbuf_free(m);
  }
}

void finish_if_eof(TestApps& apps, tcp::Conn* c, bool done) {
  tcp::TcpStack& s = apps.stack();
  if (!s.eof(c)) return;
  s.counters().event(c->key.iface, done ? Event::app_streams_completed : Event::app_streams_failed);
  s.close(c);
}

// Source and client: drop what the peer sends; the stream succeeded if all
// our bytes went out before the peer closed.
void readable_pattern_stream(void* app, tcp::Conn* c) {
  TestApps& apps = *static_cast<TestApps*>(app);
  read_and_drop(apps, c);
  finish_if_eof(apps, c, apps.sent[c->index] >= apps.limit[c->index]);
}

void writable_pattern_stream(void* app, tcp::Conn* c) { pump_pattern(*static_cast<TestApps*>(app), c); }

TestApps::TestApps(const std::vector<TestAppConfig>& cfg, unsigned worker, tcp::TcpStack& stack,
                   uint32_t max_connections)
    : sent(max_connections, 0), limit(max_connections, 0), stack_(stack), worker_(worker) {
  for (const TestAppConfig& a : cfg) {
    if (a.kind == "echo") {
      stack_.listen(a.port, &kEchoOps, this);
    } else if (a.kind == "discard") {
      stack_.listen(a.port, &kDiscardOps, this);
    } else if (a.kind == "source") {
      sources_.push_back(std::make_unique<Source>(Source{this, a.bytes}));
      stack_.listen(a.port, &kSourceOps, sources_.back().get());
    } else if (a.kind == "client" && worker_ == 0) {
      auto cl = std::make_unique<Client>();
      cl->self = this;
      cl->cfg = a;
      // connect is validated by the bootstrap parser: "a.b.c.d:port" or "[v6]:port".
      const size_t colon = a.connect.rfind(':');
      std::string host = a.connect.substr(0, colon);
      cl->port = static_cast<uint16_t>(std::stoul(a.connect.substr(colon + 1)));
      if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
      cl->family = host.find(':') == std::string::npos ? 4 : 6;
      inet_pton(cl->family == 4 ? AF_INET : AF_INET6, host.c_str(), cl->addr);
      clients_.push_back(std::move(cl));
    }
  }
}

void TestApps::poll() {
  for (auto& cl : clients_) {
    // Open a few per pass so a large count does not flood one burst.
    for (unsigned burst = 0; burst < 32 && cl->started < cl->cfg.connections; ++burst) {
      const int route = stack_.route(cl->family, cl->addr);
      const unsigned iface = route < 0 ? 0 : static_cast<unsigned>(route);
      tcp::Conn* c = route < 0 ? nullptr : stack_.connect(iface, cl->family, cl->addr, cl->port, &kClientOps, this);
      ++cl->started;
      if (c == nullptr) {
        stack_.counters().event(iface, Event::app_streams_failed);
        continue;
      }
      sent[c->index] = 0;
      limit[c->index] = cl->cfg.bytes;
    }
  }
}

}  // namespace lg::apps
