// Client: connect out, send `bytes` of the pattern, half-close, and read
// (dropping) until the server closes. Counts completed and failed streams.
#include <arpa/inet.h>

#include "dataplane/apps/test_apps.h"

namespace lg::apps {
namespace {

void connected(void* app, tcp::Conn* c) { pump_pattern(*static_cast<TestApps*>(app), c); }

void readable(void* app, tcp::Conn* c) {
  TestApps& apps = *static_cast<TestApps*>(app);
  tcp::TcpStack& s = apps.stack();
  while (rte_mbuf* m = s.read(c, UINT32_MAX)) {
    s.counters().event(c->key.iface, Event::app_bytes_received, rte_pktmbuf_pkt_len(m));
    rte_pktmbuf_free(m);
  }
  if (s.eof(c)) {
    const bool done = apps.sent[c->index] >= apps.limit[c->index];
    s.counters().event(c->key.iface, done ? Event::app_streams_completed : Event::app_streams_failed);
    s.close(c);
  }
}

void writable(void* app, tcp::Conn* c) { pump_pattern(*static_cast<TestApps*>(app), c); }

void closed(void* app, tcp::Conn* c, tcp::CloseReason why) {
  if (why != tcp::CloseReason::normal)
    static_cast<TestApps*>(app)->stack().counters().event(c->key.iface, Event::app_streams_failed);
}

}  // namespace

const tcp::AppOps kClientOps = {nullptr, connected, readable, writable, closed};

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
