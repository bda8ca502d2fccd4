// Discard (RFC 863 over TCP): read and drop; close when the peer does.
#include "dataplane/apps/test_apps.h"

namespace lg::apps {
namespace {

void readable(void* app, tcp::Conn* c) {
  tcp::TcpStack& s = static_cast<TestApps*>(app)->stack();
  while (rte_mbuf* m = s.read(c, UINT32_MAX)) {
    s.counters().event(c->key.iface, Event::app_bytes_received, rte_pktmbuf_pkt_len(m));
    rte_pktmbuf_free(m);
  }
  if (s.eof(c)) {
    s.counters().event(c->key.iface, Event::app_streams_completed);
    s.close(c);
  }
}

bool accept(void* ctx, tcp::Conn* c) {
  c->app = ctx;
  return true;
}

void closed(void* app, tcp::Conn* c, tcp::CloseReason why) {
  if (why != tcp::CloseReason::normal)
    static_cast<TestApps*>(app)->stack().counters().event(c->key.iface, Event::app_streams_failed);
}

}  // namespace

const tcp::AppOps kDiscardOps = {accept, nullptr, readable, nullptr, closed};

}  // namespace lg::apps
