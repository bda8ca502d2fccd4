// Source (like RFC 864 chargen, but finite): on accept, send `bytes` of the
// pattern, then close our side; whatever the peer sends is read and dropped.
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

namespace {

void drain(TestApps& apps, tcp::Conn* c) {
  tcp::TcpStack& s = apps.stack();
  while (rte_mbuf* m = s.read(c, UINT32_MAX)) {
    s.counters().event(c->key.iface, Event::app_bytes_received, rte_pktmbuf_pkt_len(m));
    rte_pktmbuf_free(m);
  }
}

bool accept(void* ctx, tcp::Conn* c) {
  auto* src = static_cast<TestApps::Source*>(ctx);
  c->app = src->self;
  src->self->sent[c->index] = 0;
  src->self->limit[c->index] = src->bytes;
  pump_pattern(*src->self, c);
  return true;
}

void readable(void* app, tcp::Conn* c) {
  TestApps& apps = *static_cast<TestApps*>(app);
  drain(apps, c);
  if (apps.stack().eof(c)) {
    const bool done = apps.sent[c->index] >= apps.limit[c->index];
    apps.stack().counters().event(c->key.iface, done ? Event::app_streams_completed : Event::app_streams_failed);
    apps.stack().close(c);
  }
}

void writable(void* app, tcp::Conn* c) { pump_pattern(*static_cast<TestApps*>(app), c); }

void closed(void* app, tcp::Conn* c, tcp::CloseReason why) {
  if (why != tcp::CloseReason::normal)
    static_cast<TestApps*>(app)->stack().counters().event(c->key.iface, Event::app_streams_failed);
}

}  // namespace

const tcp::AppOps kSourceOps = {accept, nullptr, readable, writable, closed};

}  // namespace lg::apps
