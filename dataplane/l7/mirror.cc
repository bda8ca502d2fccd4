// Request mirroring (Istio mirror / mirrorPercentage, Envoy's
// request_mirror_policies): a copy of a bodiless request goes to the mirror
// cluster with "-shadow" appended to its Host, on its own connection that
// closes after the answer; the answer is read and dropped.
#include "dataplane/l7/head_writer.h"
#include "dataplane/l7/heads.h"
#include "dataplane/l7/http_proxy.h"
#include "dataplane/l7/stream.h"

namespace lg::l7 {
using upstream::ListenerStat;

namespace {
Mirror* mirror(void* app) { return static_cast<Mirror*>(app); }
void m_connected(void* app, tcp::Conn*) { mirror(app)->proxy->mirror_event(mirror(app), true, false); }
void m_readable(void* app, tcp::Conn*) { mirror(app)->proxy->mirror_event(mirror(app), false, false); }
void m_closed(void* app, tcp::Conn*, tcp::CloseReason) { mirror(app)->proxy->mirror_event(mirror(app), false, true); }
const tcp::AppOps kMirrorOps = {nullptr, m_connected, m_readable, nullptr, m_closed};
}  // namespace

void HttpProxy::send_mirror(Stream* s, const http1::MessageHead& h, const RequestView& rv, std::string_view path) {
  for (const MirrorTarget& target : s->t->http_routes->mirrors(*s->route)) {
    if (target.ppm < 1000000 && rand64() % 1000000 >= target.ppm) continue;
    if (target.cluster == UINT32_MAX || free_mirrors_ == nullptr) continue;
    const uint32_t ci = t_->cluster_for_stats_id(s->t->clusters[target.cluster].stats_id);
    upstream::HostRef host;
    if (ci == config::kNone || clusters_.pick(ci, rand64(), 0, {}, &host) != upstream::PickStatus::ok) continue;
    MbufWriter w(stack_.pool());
    Destination none{};
    if (!write_request_head(w, *s, h, rv, none, path, rand64(), rand64(), true)) {
      clusters_.connection_closed(host);
      continue;
    }
    Mirror* m = free_mirrors_;
    tcp::Conn* c = stack_.connect_routed(host.family, host.ip(), host.port, &kMirrorOps, m);
    if (c == nullptr) {
      clusters_.connection_closed(host);
      continue;
    }
    free_mirrors_ = m->next_free;
    m->conn = c;
    m->head = w.finish();
    if (m->head != nullptr && s->body != nullptr) {
      rte_mbuf* b = rte_pktmbuf_clone(s->body, stack_.pool());
      if (b == nullptr || rte_pktmbuf_chain(m->head, b) != 0) rte_pktmbuf_free(b);
    }
    m->host = host;
    lcount(s, ListenerStat::rq_mirror);
  }
}

void HttpProxy::mirror_event(Mirror* m, bool connected, bool closed) {
  if (connected && m->head != nullptr) {
    rte_mbuf* head = std::exchange(m->head, nullptr);
    if (stack_.write(m->conn, head) != tcp::IoStatus::ok) rte_pktmbuf_free(head);
    return;
  }
  if (!closed) {
    // The answer is not wanted.
    while (rte_mbuf* b = stack_.read(m->conn, stack_.readable(m->conn))) rte_pktmbuf_free(b);
    if (stack_.eof(m->conn)) stack_.close(m->conn);
    else return;
  }
  rte_pktmbuf_free(std::exchange(m->head, nullptr));
  clusters_.connection_closed(m->host);
  m->conn = nullptr;
  m->next_free = free_mirrors_;
  free_mirrors_ = m;
}

}  // namespace lg::l7
