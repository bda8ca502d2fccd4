// A channel before its records: on a server, the ClientHello picks the
// Gateway server (SNI); a client sends its ClientHello once TCP connects.
// Then OpenSSL runs the handshake over the bytes TCP received, and at its
// end the records go to linegate's record layer or stay on OpenSSL's.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

#include "dataplane/config/tls_servers.h"
#include "dataplane/tls/tls_worker.h"
#include "tls/client_hello.h"
#include "tls/session/client_cert_details.h"
#include "tls/session/peer_verify.h"

namespace lg::tlsterm {
using upstream::ListenerStat;

Channel* TlsWorker::take_channel(tcp::Conn* c) {
  Channel* ch = free_;
  if (ch == nullptr) return nullptr;
  free_ = ch->next_free;
  ch->ops = &kOps;
  ch->conn = c;
  ch->offload = false;
  ch->rx_marked = ch->tx_marked = false;
  ch->peer_closed = ch->shutdown_wanted = ch->close_wanted = ch->notify_sent = ch->app_blocked = false;
  ch->tls13 = ch->rx_redo = ch->key_update_owed = ch->tx_rekey_after = false;
  ch->client = false;
  ch->server = config::kNone;
  ch->xfcc_len = 0;
  ch->version = 0;
  ch->sni_len = 0;
  stack_.install_ulp(c, ch);
  return ch;
}

bool TlsWorker::attach(tcp::Conn* c, const config::RuntimeTables* t, const config::ListenerSlot& l) {
  if (t == nullptr || t->tls_servers == nullptr) return false;
  Channel* ch = take_channel(c);
  if (ch == nullptr) return false;
  ch->phase = Phase::hello;
  ch->stats_id = l.stats_id;
  timers_.arm_after(ch->timer, uint64_t{cfg_.hello_timeout_ms} * cycles_per_ms_);
  return true;
}

bool TlsWorker::attach_client(tcp::Conn* c, const tls::ClientContext& ctx, const std::string& sni,
                              uint32_t cluster_stats, uint32_t timeout_ms) {
  Channel* ch = take_channel(c);
  if (ch == nullptr) return false;
  ch->phase = Phase::handshake;
  ch->client = true;
  ch->stats_id = cluster_stats;
  ch->handshake_timeout_ms = timeout_ms;
  ch->hs = std::make_unique<tls::Handshake>(ctx.ctx(), tls::Handshake::Role::client, sni);
  return true;
}

void TlsWorker::stream_connected(Channel* ch) {
  if (ch->phase != Phase::handshake || !ch->client) return;
  timers_.arm_after(ch->timer, uint64_t{ch->handshake_timeout_ms} * cycles_per_ms_);
  ch->hs->input(nullptr, 0);  // the ClientHello
  handshake(ch);
}

void TlsWorker::on_timeout(Timer*, void* arg) {
  auto* ch = static_cast<Channel*>(arg);
  ch->worker->count_stat(ch, ListenerStat::ssl_handshake_timeout);
  // Out of connectTimeout, for an upstream (Envoy's connect timeout runs
  // until the TLS handshake is done).
  ch->worker->end(ch, ch->client ? tcp::CloseReason::timeout : tcp::CloseReason::reset);
}

void TlsWorker::hello(Channel* ch, const config::RuntimeTables* t) {
  tcp::Conn* c = ch->conn;
  static_assert(kScratchBytes >= tls::kMaxClientHello);
  const uint32_t have = stack_.raw_peek(c, 0, scratch_.get(), tls::kMaxClientHello);
  tls::ClientHelloInfo info;
  uint32_t need = 0;
  const config::ListenerSlot* l = t ? t->find_listener(c->key.lport) : nullptr;
  // PERMISSIVE: TLS begins with a handshake record (RFC 8446 §5.1); no
  // HTTP/1 request or h2c preface does. Anything else is served as it came.
  if (have != 0 && scratch_[0] != kTlsHandshakeRecord && l != nullptr && l->accepts_plaintext)
    return plaintext(ch);
  const tls::HelloStatus st = tls::parse_client_hello({scratch_.get(), have}, &info, &need);
  if (st == tls::HelloStatus::need_more) {
    // A client that leaves before its hello is complete is not a TLS error
    // (Envoy sees a remote close, not an SSL failure).
    if (c->fin_rcvd) end(ch);
    return;
  }
  if (st != tls::HelloStatus::done) return handshake_failed(ch);  // plain text, or not a ClientHello
  const config::TlsServers* servers = t ? t->tls_servers.get() : nullptr;
  ch->server = l && servers ? servers->select(*l, info.sni_view()) : config::kNone;
  const std::string_view sni = info.sni_view();
  ch->sni_len = static_cast<uint8_t>(std::min(sni.size(), kMaxSni));
  std::copy_n(sni.data(), ch->sni_len, ch->sni);
  const config::TlsServer* srv =
      ch->server != config::kNone ? &servers->servers[size_t{l->server_first} + ch->server] : nullptr;
  if (srv == nullptr || srv->context == nullptr) return handshake_failed(ch);
  ch->hs = std::make_unique<tls::Handshake>(srv->context->ctx());
  ch->phase = Phase::handshake;
  handshake(ch);
}

void TlsWorker::plaintext(Channel* ch) {
  tcp::Conn* c = ch->conn;
  count_stat(ch, ListenerStat::tls_inspector_tls_not_found);
  stack_.install_ulp(c, nullptr);
  release(ch);
  // The bytes that told wait in TCP's queue: the application reads them now.
  if (c->ops != nullptr && c->ops->on_readable != nullptr) c->ops->on_readable(c->app, c);
}

void TlsWorker::handshake(Channel* ch) {
  tcp::Conn* c = ch->conn;
  while (rte_mbuf* m = stack_.raw_read(c, UINT32_MAX)) {
    for (rte_mbuf* s = m; s != nullptr; s = s->next) {
      const auto* data = rte_pktmbuf_mtod(s, const uint8_t*);
      // Bytes behind the peer's last flight are records: they wait in the
      // BIO for the record layer (hand_over's leftover, or SSL_read).
      if (ch->hs->state() == tls::Handshake::State::in_progress) {
        ch->hs->input(data, s->data_len);
      } else {
        ch->hs->feed(data, s->data_len);
      }
    }
    rte_pktmbuf_free(m);
  }
  // Flights (and, on failure, the alert) go out as they are.
  send_output(ch);
  switch (ch->hs->state()) {
    case tls::Handshake::State::in_progress:
      if (c->fin_rcvd) end(ch);  // the peer left mid-handshake: no TLS error either
      return;
    case tls::Handshake::State::failed:
      return handshake_failed(ch);
    case tls::Handshake::State::done:
      break;
  }
  timers_.cancel(ch->timer);
  SSL* ssl = ch->hs->ssl();
  count_stat(ch, ListenerStat::ssl_handshake);
  if (SSL_session_reused(ssl)) count_stat(ch, ListenerStat::ssl_session_reused);
  ch->version = static_cast<uint16_t>(SSL_version(ssl));
  ch->tls13 = ch->version == TLS1_3_VERSION;
  if (!ch->client) ch->xfcc_len = static_cast<uint16_t>(tls::client_cert_details(ssl, ch->xfcc, kMaxXfcc));
  if (!start_records(ch)) return;
  ch->phase = Phase::records;
  mark_rx(ch);  // records may have come behind the peer's last flight
  if (ch->client && c->ops != nullptr && c->ops->on_connected != nullptr) c->ops->on_connected(c->app, c);
}

bool TlsWorker::start_records(Channel* ch) {
  tls::HandOver ho;
  std::vector<uint8_t> leftover;
  std::string why;
  if (engine_ == nullptr || !cfg_.record_offload || !ch->hs->hand_over(&ho, &leftover, &why)) return true;
  ch->offload = true;
  count_stat(ch, ListenerStat::ssl_offloaded);
  ch->aead = ho.aead;
  ch->hash = ho.hash;
  ch->rx.emplace(ho.version, *engine_, ho.rx, ho.rx_sequence);
  ch->tx.emplace(ho.version, *engine_, ho.tx, ho.tx_sequence);
  // TLS 1.2 has no KeyUpdate (its secrets stay empty).
  ch->secret_len = static_cast<uint8_t>(std::min(ho.rx_secret.size(), sizeof ch->rx_secret));
  if (ch->secret_len != 0) {  // (an empty vector's data() may be null)
    std::memcpy(ch->rx_secret, ho.rx_secret.data(), ch->secret_len);
    std::memcpy(ch->tx_secret, ho.tx_secret.data(), ch->secret_len);
  }
  if (!leftover.empty()) {
    // Records behind the Finished that OpenSSL read: back in front of the
    // receive queue, for our record layer.
    rte_mbuf* m = record_buffer();
    if (m == nullptr || leftover.size() > rte_pktmbuf_tailroom(m)) {
      if (m) rte_pktmbuf_free(m);
      fail(ch, tls::Alert::internal_error);
      return false;
    }
    memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(leftover.size())), leftover.data(), leftover.size());
    ch->conn->rcvq.prepend(m);
  }
  return true;
}

void TlsWorker::handshake_failed(Channel* ch) {
  // Envoy's ssl.no_certificate, ssl.fail_verify_san, ssl.fail_verify_cert_hash
  // and ssl.fail_verify_error, for a handshake OpenSSL refused.
  if (ch->hs != nullptr && ch->hs->state() == tls::Handshake::State::failed) {
    const tls::PeerFailure pinned = tls::peer_failure(ch->hs->ssl());
    const int reason = ch->hs->failure_reason();
    if (pinned == tls::PeerFailure::subject_alt_name) {
      count_stat(ch, ListenerStat::ssl_fail_verify_san);
    } else if (pinned == tls::PeerFailure::hash) {
      count_stat(ch, ListenerStat::ssl_fail_verify_cert_hash);
    } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      count_stat(ch, ListenerStat::ssl_no_certificate);
    } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || SSL_get_verify_result(ch->hs->ssl()) != X509_V_OK) {
      count_stat(ch, ListenerStat::ssl_fail_verify_error);
    }
  }
  fail(ch);  // OpenSSL's alert, if any, is already on its way
}

}  // namespace lg::tlsterm
