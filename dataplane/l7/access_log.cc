// The worker's half of the access log: while the serving tables have a log,
// each request takes a record from the Sink when its head is read, copies
// in what the formats name as it goes (the request's buffers do not live
// until the writer renders it), and hands it to the writer thread when it
// ends. Nothing here when no log is configured.
#include <arpa/inet.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "dataplane/access_log/sink.h"
#include "dataplane/l7/heads.h"
#include "dataplane/l7/http_proxy.h"
#include "dataplane/l7/stream.h"
#include "tls/session/client_cert_details.h"

namespace lg::l7 {

namespace {

using access_log::Field;
using access_log::Record;

void set_address(access_log::Address& a, uint8_t family, const uint8_t* ip, uint16_t port) {
  a.family = family;
  a.port = port;
  std::copy(ip, ip + (family == 4 ? 4 : 16), a.ip);
}

uint64_t unix_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + uint64_t(ts.tv_nsec);
}

// The client certificate's URI SANs (the SPIFFE principal for
// ISTIO_MUTUAL) and our own, from the XFCC element its handshake left.
void add_uri_sans(Record& r, std::string_view xfcc) {
  char v[512];
  if (const size_t n = tls::xfcc_values(xfcc, "URI", v, sizeof v)) r.add(Field::peer_uri_san, {v, n});
  if (const size_t n = tls::xfcc_values(xfcc, "By", v, sizeof v)) r.add(Field::local_uri_san, {v, n});
}

}  // namespace

void HttpProxy::log_request(Stream* s, const http1::MessageHead* h) {
  if (cfg_.access_log == nullptr || t_ == nullptr || !t_->access_log.on) return;
  if (s->log == nullptr) {
    s->log = cfg_.access_log->take(worker_);
    if (s->log == nullptr) return;  // no record free: counted by the sink
    Record& r = *s->log;
    r.start_unix_ns = unix_ns();
    r.begin_us = clusters_.now_us();
    r.connection_id = s->conn_id;
    const tcp::FlowKey& k = s->down->key;
    set_address(r.downstream_local, k.family, k.local, k.lport);
    set_address(r.downstream_remote, k.family, k.remote, k.rport);
    const tlsterm::TlsWorker::Facts tls = tlsterm::TlsWorker::facts(s->down);
    r.tls_version = tls.version;
    r.mtls = !tls.xfcc.empty();
    if (!tls.sni.empty()) r.add(Field::requested_server_name, tls.sni);
    add_uri_sans(r, tls.xfcc);
  } else if (s->log->http_minor != 0xff) {
    return;  // back from a fault delay: already captured
  }
  if (h == nullptr) return;
  Record& r = *s->log;
  r.http_minor = h->version_minor;
  using Source = config::RuntimeTables::AccessLogCapture::Source;
  for (const auto& [name, source] : t_->access_log.request_headers) {
    std::string_view v;
    char xff[512];
    switch (source) {
      case Source::method:
        v = h->method_text;
        break;
      case Source::target:
        v = h->target;
        break;
      case Source::authority:
        v = h->authority.empty() ? h->host : h->authority;
        break;
      case Source::scheme:
        v = tlsterm::TlsWorker::server_of(s->down) != config::kNone ? "https" : "http";
        break;
      case Source::forwarded_for: {
        const http1::Header* hd = http1::find_header(*h, name);
        const tcp::FlowKey& k = s->down->key;
        size_t n = 0;
        if (hd != nullptr && hd->value.size() + 2 + INET6_ADDRSTRLEN <= sizeof xff) {
          n = hd->value.copy(xff, hd->value.size());
          xff[n++] = ',';
          xff[n++] = ' ';
        } else if (hd != nullptr) {
          r.truncated = true;  // the received part left out: counted, not silent
        }
        inet_ntop(k.family == 4 ? AF_INET : AF_INET6, k.remote, xff + n, static_cast<socklen_t>(sizeof xff - n));
        v = {xff, n + std::strlen(xff + n)};
        break;
      }
      case Source::header:
        if (const http1::Header* hd = http1::find_header(*h, name)) {
          v = hd->value;
          break;
        }
        continue;
    }
    r.add(Field::request_header, v, name);
  }
}

void HttpProxy::log_request_id(Stream* s, uint64_t hi, uint64_t lo) {
  std::string_view id;
  if (s->log == nullptr || s->log->find(Field::request_header, "x-request-id", &id)) return;
  char b[kUuidLength];
  format_uuid(hi, lo, b);
  s->log->add(Field::request_header, {b, sizeof b}, "x-request-id");
}

void HttpProxy::log_sent(Stream* s) {
  if (s->log == nullptr) return;
  Record& r = *s->log;
  const upstream::HostRef& h = s->up->host;
  set_address(r.upstream_host, h.family, h.ip(), h.port);
  const tcp::FlowKey& k = s->up->conn->key;
  set_address(r.upstream_local, k.family, k.local, k.lport);
  r.attempts = static_cast<uint8_t>(s->retries + 1);
  r.sent_us = clusters_.now_us();
}

void HttpProxy::log_response(Stream* s, const http1::MessageHead& h) {
  if (s->log == nullptr) return;
  Record& r = *s->log;
  const uint64_t now = clusters_.now_us();
  r.response_code = h.status;
  r.details = access_log::Details::via_upstream;
  r.response_start_us = now - r.begin_us;
  if (r.sent_us != 0) r.upstream_service_us = now - r.sent_us;
  for (const std::string& name : t_->access_log.response_headers)
    if (const http1::Header* hd = http1::find_header(h, name)) r.add(Field::response_header, hd->value, name);
}

void HttpProxy::log_local_reply(Stream* s, uint16_t status, size_t body_bytes) {
  if (s->log == nullptr) return;
  Record& r = *s->log;
  r.response_code = status;
  if (r.details == access_log::Details::none) r.details = access_log::Details::local;
  r.response_start_us = clusters_.now_us() - r.begin_us;
  s->tx_body += body_bytes;
}

void HttpProxy::log_end(Stream* s) {
  Record* r = std::exchange(s->log, nullptr);
  if (r == nullptr) return;
  const uint64_t now = clusters_.now_us();
  r->duration_us = now - r->begin_us;
  r->flags = s->flags;
  r->bytes_received = s->rx_body;
  r->bytes_sent = s->tx_body;
  if (s->route != nullptr) {
    r->add(Field::route_name, s->route->spec->name());
    if (const uint32_t ci = s->t->cluster_for_stats_id(s->cluster_stats); ci != config::kNone)
      r->add(Field::upstream_cluster, s->t->snapshot->clusters(static_cast<int>(ci)).name());
  }
  cfg_.access_log->submit(worker_, r);
}

}  // namespace lg::l7
