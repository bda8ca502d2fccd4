// The plaintext byte stream a TLS channel gives its application: the
// TcpStack calls of a connection with a channel land here (tcp/ulp.h).
#include <algorithm>

#include "dataplane/tls/tls_worker.h"

namespace lg::tlsterm {

namespace {

Channel* chan(const tcp::Conn* c) { return static_cast<Channel*>(c->ulp); }

uint32_t ulp_readable(const tcp::Conn* c) { return chan(c)->worker->readable(chan(c)); }
uint32_t ulp_peek(const tcp::Conn* c, uint32_t from, void* buf, uint32_t len) {
  return chan(c)->worker->peek(chan(c), from, buf, len);
}
rte_mbuf* ulp_read(tcp::Conn* c, uint32_t max) { return chan(c)->worker->read(chan(c), max); }
bool ulp_eof(const tcp::Conn* c) { return chan(c)->worker->eof(chan(c)); }
tcp::IoStatus ulp_write(tcp::Conn* c, rte_mbuf* m) { return chan(c)->worker->write(chan(c), m); }
uint32_t ulp_write_space(const tcp::Conn* c) { return chan(c)->worker->write_space(chan(c)); }
void ulp_want_writable(tcp::Conn* c) { chan(c)->worker->want_writable(chan(c)); }
void ulp_shutdown(tcp::Conn* c) { chan(c)->worker->shutdown(chan(c)); }
void ulp_close(tcp::Conn* c) { chan(c)->worker->close(chan(c)); }
void ulp_abort(tcp::Conn* c) { chan(c)->worker->abort(chan(c)); }
uint32_t ulp_unread(const tcp::Conn* c) { return chan(c)->worker->unread(chan(c)); }
void ulp_on_connected(tcp::Conn* c) { chan(c)->worker->stream_connected(chan(c)); }
void ulp_on_readable(tcp::Conn* c) { chan(c)->worker->stream_readable(chan(c)); }
void ulp_on_writable(tcp::Conn* c) { chan(c)->worker->stream_writable(chan(c)); }
void ulp_release(tcp::Conn* c) { chan(c)->worker->release(chan(c)); }

}  // namespace

const tcp::UlpOps TlsWorker::kOps = {ulp_readable,  ulp_peek,         ulp_read,          ulp_eof,
                                     ulp_write,     ulp_write_space,  ulp_want_writable, ulp_shutdown,
                                     ulp_close,     ulp_abort,        ulp_unread,        ulp_on_connected,
                                     ulp_on_readable, ulp_on_writable, ulp_release};

uint32_t TlsWorker::server_of(const tcp::Conn* c) {
  return c->ulp != nullptr && c->ulp->ops == &kOps ? chan(c)->server : config::kNone;
}

std::string_view TlsWorker::client_cert_details(const tcp::Conn* c) {
  if (c->ulp == nullptr || c->ulp->ops != &kOps) return {};
  const Channel* ch = chan(c);
  return {ch->xfcc, ch->xfcc_len};
}

TlsWorker::Facts TlsWorker::facts(const tcp::Conn* c) {
  if (c->ulp == nullptr || c->ulp->ops != &kOps) return {};
  const Channel* ch = chan(c);
  return {{ch->sni, ch->sni_len}, {ch->xfcc, ch->xfcc_len}, ch->version};
}

uint32_t TlsWorker::peek(const Channel* ch, uint32_t from, void* buf, uint32_t len) const {
  return ch->plain_in.peek(from, buf, len);
}

rte_mbuf* TlsWorker::read(Channel* ch, uint32_t max) {
  const uint32_t before = ch->plain_in.bytes;
  rte_mbuf* m = ch->plain_in.take(max, stack_.pool());
  // Room again: open what waits in the receive queue, or in OpenSSL's.
  const bool waiting = ch->conn->rcvq.bytes != 0 || openssl_held(ch) != 0;
  if (before >= kMaxPlainIn / 2 && ch->plain_in.bytes < kMaxPlainIn / 2 && waiting) mark_rx(ch);
  if (ch->plain_in.empty()) stack_.reader_drained(ch->conn);
  return m;
}

bool TlsWorker::eof(const Channel* ch) const {
  if (!ch->plain_in.empty()) return false;
  if (ch->peer_closed || ch->phase == Phase::failed) return true;
  // A FIN without close_notify ends the stream too (truncation is the
  // application protocol's to notice, as every HTTP/1.1 server does);
  // a partial record left behind is discarded.
  return ch->conn->fin_rcvd && !ch->rx_marked;
}

uint32_t TlsWorker::write_space(const Channel* ch) const {
  if (ch->phase == Phase::failed || ch->shutdown_wanted) return 0;
  const uint32_t raw = stack_.raw_write_space(ch->conn);
  const uint32_t queued = ch->plain_out.bytes;
  const uint32_t room = std::min(raw, kMaxPlainOut);
  return room > queued ? room - queued : 0;
}

tcp::IoStatus TlsWorker::write(Channel* ch, rte_mbuf* chain) {
  if (ch->phase == Phase::failed || ch->shutdown_wanted) return tcp::IoStatus::closed;
  if (rte_pktmbuf_pkt_len(chain) > write_space(ch)) {
    want_writable(ch);
    return tcp::IoStatus::would_block;
  }
  ch->plain_out.append(chain);
  mark_tx(ch);
  return tcp::IoStatus::ok;
}

void TlsWorker::want_writable(Channel* ch) {
  // Told once there is room: after the next seal (deliver) or TCP's next ACK.
  ch->app_blocked = true;
  stack_.raw_want_writable(ch->conn);
}

void TlsWorker::shutdown(Channel* ch) {
  if (ch->shutdown_wanted) return;
  ch->shutdown_wanted = true;
  mark_tx(ch);
}

void TlsWorker::close(Channel* ch) {
  tcp::Conn* c = ch->conn;
  if (ch->phase == Phase::failed) return stack_.raw_close(c);  // after the alert already queued
  // Unread plaintext, or a handshake cut short: reset, as closing a TCP
  // connection with unread data does.
  if (ch->phase != Phase::records || !ch->plain_in.empty()) return stack_.raw_abort(c);
  c->ops = nullptr;  // no more callbacks: the application let go
  c->app_closed = true;
  ch->shutdown_wanted = ch->close_wanted = true;
  mark_tx(ch);
}

void TlsWorker::abort(Channel* ch) { stack_.raw_abort(ch->conn); }

void TlsWorker::stream_readable(Channel* ch) {
  if (ch->phase == Phase::failed) return;
  mark_rx(ch);
}

void TlsWorker::stream_writable(Channel* ch) {
  if (ch->phase == Phase::failed) return;
  const bool openssl_output = ch->hs != nullptr && ch->hs->pending_output() != 0;
  if (ch->phase == Phase::handshake && openssl_output) mark_rx(ch);  // the rest of a flight
  if (!ch->plain_out.empty() || ch->shutdown_wanted || (!ch->offload && openssl_output)) mark_tx(ch);
  notify_app_writable(ch);
}

void TlsWorker::notify_app_writable(Channel* ch) {
  tcp::Conn* c = ch->conn;
  if (!ch->app_blocked || write_space(ch) == 0 || c->ops == nullptr || c->ops->on_writable == nullptr) return;
  ch->app_blocked = false;
  c->ops->on_writable(c->app, c);
}

}  // namespace lg::tlsterm
