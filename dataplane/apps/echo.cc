// Echo (RFC 862 over TCP). No buffer of its own: it reads only as much as it
// can write, so a slow reader on the far side closes our receive window and
// back-pressure reaches the sender.
#include "dataplane/apps/test_apps.h"

namespace lg::apps {
namespace {

void pump(void* app, tcp::Conn* c) {
  tcp::TcpStack& s = static_cast<TestApps*>(app)->stack();
  const unsigned port = c->key.iface;
  for (;;) {
    const uint32_t n = std::min(s.readable(c), s.write_space(c));
    if (n == 0) break;
    rte_mbuf* m = s.read(c, n);
    if (m == nullptr) break;
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    s.counters().event(port, Event::app_bytes_received, len);
    if (s.write(c, m) != tcp::IoStatus::ok) {
      rte_pktmbuf_free(m);
      s.abort(c);
      return;
    }
    s.counters().event(port, Event::app_bytes_sent, len);
  }
  if (s.readable(c) > 0)
    s.want_writable(c);
  else
    finish_if_eof(*static_cast<TestApps*>(app), c, true);  // half-close propagated: our FIN follows the echo
}

}  // namespace

const tcp::AppOps kEchoOps = {accept_into, nullptr, pump, pump, count_abnormal_close};

}  // namespace lg::apps
