// Records after the handshake: the per-pass open and seal bursts on the
// worker's AeadEngine (RFC 8446 §5, RFC 5288), post-handshake messages and
// alerts, and OpenSSL's record layer for what is not offloaded.
#include <rte_lcore.h>

#include <cstdio>
#include <cstring>
#include <utility>

#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/tls/tls_worker.h"

namespace lg::tlsterm {
using tls::Alert;
using tls::AlertLevel;
using upstream::ListenerStat;

namespace {

constexpr uint8_t kNewSessionTicket = 4;  // RFC 8446 §4.6.1
constexpr uint8_t kKeyUpdate = 24;  // RFC 8446 §4.6.3

// A record's largest form on the wire: TLS 1.3 allows 2^14 + 256 of
// ciphertext (§5.2); TLS 1.2 AEAD 2^14 + 2048 (RFC 5246 §6.2.3), though
// no AEAD suite expands by more than an explicit nonce and a tag.
constexpr uint32_t kMaxCiphertext = tls::kMaxPlaintext + 256;
constexpr uint32_t kRecordRoom = tls::kHeaderLen + kMaxCiphertext;
static_assert(RTE_PKTMBUF_HEADROOM + kRecordRoom <= TlsSettings::kRecordBufferBytes,
              "the bootstrap sizes memory for record buffers by kRecordBufferBytes");
// Per-record expansion when sealing: header, explicit nonce, inner type, tag.
constexpr uint32_t kSealOverhead = tls::kHeaderLen + 8 + 1 + tls::kTagLen;
constexpr uint32_t kMinRecord = 1024;  // smaller records only when that is all there is

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

Alert alert_for(tls::OpenStatus st) {
  switch (st) {
    case tls::OpenStatus::bad_record_mac:
      return Alert::bad_record_mac;
    case tls::OpenStatus::record_overflow:
      return Alert::record_overflow;
    case tls::OpenStatus::unexpected_message:
      return Alert::unexpected_message;
    default:
      return Alert::decode_error;
  }
}

}  // namespace

TlsWorker::TlsWorker(const TlsWorkerConfig& cfg, unsigned worker, tcp::TcpStack& stack, TimerWheel& timers,
                     upstream::UpstreamRegistry& registry, uint64_t tsc_hz)
    : cfg_(cfg),
      worker_(worker),
      stack_(stack),
      timers_(timers),
      registry_(registry),
      cycles_per_ms_(tsc_hz / 1000),
      channels_(new Channel[cfg.max_connections]()),
      scratch_(new uint8_t[kScratchBytes]),
      xfcc_(new char[size_t{cfg.max_connections} * kMaxXfcc]),
      sni_(new char[size_t{cfg.max_connections} * kMaxSni]) {
  std::string why;
  if (cfg.record_offload) engine_ = tls::AeadEngine::create(&why);  // null: OpenSSL's record layer for all
  char name[RTE_MEMPOOL_NAMESIZE];
  std::snprintf(name, sizeof name, "lg_tls_records_%u", worker);
  records_ = rte_pktmbuf_pool_create(name, cfg.record_buffers, 64, 0,
                                     static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + kRecordRoom),
                                     static_cast<int>(rte_socket_id()));
  for (uint32_t i = cfg.max_connections; i-- > 0;) {
    Channel& ch = channels_[i];
    ch.worker = this;
    ch.phase = Phase::failed;
    ch.xfcc = &xfcc_[size_t{i} * kMaxXfcc];
    ch.sni = &sni_[size_t{i} * kMaxSni];
    ch.timer.cb = on_timeout;
    ch.timer.arg = &ch;
    ch.next_free = free_;
    free_ = &ch;
  }
}

TlsWorker::~TlsWorker() {
  for (uint32_t i = 0; i < cfg_.max_connections; ++i) {
    timers_.cancel(channels_[i].timer);
    channels_[i].plain_in.clear();
    channels_[i].plain_out.clear();
  }
  rte_mempool_free(records_);
}

rte_mbuf* TlsWorker::record_buffer() { return records_ != nullptr ? rte_pktmbuf_alloc(records_) : nullptr; }

namespace {

// The TLS stats an upstream cluster has (ClusterStat::count: none).
upstream::ClusterStat cluster_stat(ListenerStat st) {
  using upstream::ClusterStat;
  switch (st) {
    case ListenerStat::ssl_handshake: return ClusterStat::ssl_handshake;
    case ListenerStat::ssl_connection_error: return ClusterStat::ssl_connection_error;
    case ListenerStat::ssl_fail_verify_error: return ClusterStat::ssl_fail_verify_error;
    case ListenerStat::ssl_fail_verify_san: return ClusterStat::ssl_fail_verify_san;
    case ListenerStat::ssl_handshake_timeout: return ClusterStat::ssl_handshake_timeout;
    case ListenerStat::ssl_offloaded: return ClusterStat::ssl_offloaded;
    case ListenerStat::ssl_key_updates: return ClusterStat::ssl_key_updates;
    case ListenerStat::ssl_record_buffers_exhausted: return ClusterStat::ssl_record_buffers_exhausted;
    default: return ClusterStat::count;
  }
}

}  // namespace

void TlsWorker::count_stat(const Channel* ch, ListenerStat st) {
  if (!ch->client) return registry_.listener(worker_, ch->stats_id).add(static_cast<unsigned>(st));
  const upstream::ClusterStat cs = cluster_stat(st);
  if (cs != upstream::ClusterStat::count) registry_.cluster(worker_, ch->stats_id).add(static_cast<unsigned>(cs));
}

void TlsWorker::mark_rx(Channel* ch) {
  if (ch->rx_marked) return;
  ch->rx_marked = true;
  ch->next_rx = rx_head_;
  rx_head_ = ch;
}

void TlsWorker::mark_tx(Channel* ch) {
  if (ch->tx_marked) return;
  ch->tx_marked = true;
  ch->next_tx = tx_head_;
  tx_head_ = ch;
}

void TlsWorker::release(Channel* ch) {
  timers_.cancel(ch->timer);
  ch->plain_in.clear();
  ch->plain_out.clear();
  ch->hs.reset();
  ch->rx.reset();
  ch->tx.reset();
  ch->phase = Phase::failed;
  ch->conn = nullptr;
  // Back to the free list once no pass list holds it (reclaim()).
  ch->next_free = dead_;
  dead_ = ch;
}

void TlsWorker::reclaim() {
  for (Channel** p = &dead_; *p != nullptr;) {
    Channel* ch = *p;
    if (ch->rx_marked || ch->tx_marked) {
      p = &ch->next_free;
      continue;
    }
    *p = ch->next_free;
    ch->next_free = free_;
    free_ = ch;
  }
}

unsigned TlsWorker::flush(const config::RuntimeTables* t) {
  unsigned work = 0;
  Channel* batch[kMaxBurst];
  // Reading may make the application write, and sealing may free room it
  // waits for: a few rounds settle a pass.
  for (unsigned round = 0; round < 4 && (rx_head_ != nullptr || tx_head_ != nullptr); ++round) {
    Channel* list = std::exchange(rx_head_, nullptr);
    unsigned n = 0;
    while (list != nullptr) {
      Channel* ch = list;
      list = ch->next_rx;
      ch->rx_marked = false;
      if (ch->conn == nullptr) continue;
      ++work;
      switch (ch->phase) {
        case Phase::hello:
          hello(ch, t);
          break;
        case Phase::handshake:
          handshake(ch);
          break;
        case Phase::records:
          if (!ch->offload) {
            if (openssl_rx(ch)) deliver(ch);
          } else {
            batch[n++] = ch;
            if (n == kMaxBurst) {
              open_burst(batch, n);
              n = 0;
            }
          }
          break;
        case Phase::failed:
          break;
      }
    }
    if (n != 0) open_burst(batch, n);

    list = std::exchange(tx_head_, nullptr);
    n = 0;
    while (list != nullptr) {
      Channel* ch = list;
      list = ch->next_tx;
      ch->tx_marked = false;
      if (ch->conn == nullptr || ch->phase != Phase::records) continue;
      ++work;
      if (!ch->offload) {
        openssl_tx(ch);
      } else {
        batch[n++] = ch;
        if (n == kMaxBurst) {
          seal_burst(batch, n);
          n = 0;
        }
      }
    }
    if (n != 0) seal_burst(batch, n);
  }
  reclaim();
  return work;
}

// ------------------------------------------------------------------ open

void TlsWorker::open_burst(Channel** chans, unsigned count) {
  struct Pending {
    Channel* ch;
    rte_mbuf* m;
    uint32_t wire;
  };
  Pending pend[kMaxBurst];
  tls::AeadOp ops[kMaxBurst];
  unsigned n = 0;
  for (unsigned k = 0; k < count; ++k) {
    Channel* ch = chans[k];
    tcp::Conn* c = ch->conn;
    uint32_t off = 0, planned = 0;
    while (ch->plain_in.bytes + planned < kMaxPlainIn) {
      if (n == kMaxBurst) {
        mark_rx(ch);  // the rest next round
        break;
      }
      uint8_t hdr[tls::kHeaderLen];
      if (c->rcvq.peek(off, hdr, sizeof hdr) < sizeof hdr) break;
      const uint32_t len = u16(hdr + 3);
      if (len > kMaxCiphertext) {
        fail(ch, Alert::record_overflow);
        break;
      }
      const uint32_t wire = tls::kHeaderLen + len;
      if (c->rcvq.bytes < off + wire) break;
      rte_mbuf* m = record_buffer();
      if (m == nullptr) {
        count_stat(ch, ListenerStat::ssl_record_buffers_exhausted);
        mark_rx(ch);  // try again next pass
        break;
      }
      uint8_t* rec = rte_pktmbuf_mtod(m, uint8_t*);
      c->rcvq.peek(off, rec, wire);
      m->data_len = static_cast<uint16_t>(wire);
      m->pkt_len = wire;
      if (const tls::OpenStatus st = ch->rx->prepare_open(rec, wire, &ops[n]); st != tls::OpenStatus::ok) {
        rte_pktmbuf_free(m);
        fail(ch, alert_for(st));
        break;
      }
      pend[n++] = {ch, m, wire};
      off += wire;
      planned += len;
    }
  }
  if (n != 0) engine_->open({ops, n});

  for (unsigned i = 0; i < n; ++i) {
    Channel* ch = pend[i].ch;
    rte_mbuf* m = pend[i].m;
    // A channel that failed, or whose keys changed (KeyUpdate) after these
    // were prepared: its later records stay queued, for the new keys.
    if (ch->conn == nullptr || ch->phase != Phase::records || ch->rx_redo) {
      rte_pktmbuf_free(m);
      continue;
    }
    rte_pktmbuf_free(stack_.raw_read(ch->conn, pend[i].wire));  // the ciphertext is consumed
    if (!ops[i].ok) {
      rte_pktmbuf_free(m);
      fail(ch, Alert::bad_record_mac);
      continue;
    }
    uint8_t* rec = rte_pktmbuf_mtod(m, uint8_t*);
    tls::ContentType type;
    const uint8_t* pt = nullptr;
    size_t len = 0;
    if (const tls::OpenStatus st = ch->rx->finish_open(rec, ops[i], &type, &pt, &len); st != tls::OpenStatus::ok) {
      rte_pktmbuf_free(m);
      fail(ch, alert_for(st));
      continue;
    }
    switch (type) {
      case tls::ContentType::application_data:
        if (len == 0 || ch->peer_closed) {
          rte_pktmbuf_free(m);  // data after close_notify is ignored (RFC 8446 §6.1)
        } else {
          m->data_off = static_cast<uint16_t>(m->data_off + (pt - rec));
          m->data_len = static_cast<uint16_t>(len);
          m->pkt_len = static_cast<uint32_t>(len);
          ch->plain_in.append(m);
        }
        break;
      case tls::ContentType::alert:
        if (len == 2 && pt[1] == static_cast<uint8_t>(Alert::close_notify)) {
          ch->peer_closed = true;
        } else if (!(len == 2 && pt[0] == static_cast<uint8_t>(AlertLevel::warning))) {
          fail(ch);  // the peer's fatal alert ends the connection; none goes back
        }
        rte_pktmbuf_free(m);
        break;
      case tls::ContentType::handshake:
        post_handshake(ch, pt, len);
        rte_pktmbuf_free(m);
        break;
      default:
        rte_pktmbuf_free(m);
        fail(ch, Alert::unexpected_message);
    }
  }
  for (unsigned i = 0; i < n; ++i) {
    Channel* ch = pend[i].ch;
    if (ch->rx_redo) {
      ch->rx_redo = false;
      mark_rx(ch);
    }
  }
  for (unsigned k = 0; k < count; ++k) deliver(chans[k]);
}

void TlsWorker::post_handshake(Channel* ch, const uint8_t* rec, size_t len) {
  if (!ch->tls13) {
    // TLS 1.2: a renegotiation attempt (ClientHello or HelloRequest),
    // refused (RFC 5246 §7.2.2; renegotiation is off both ways).
    send_alert(ch, AlertLevel::warning, Alert::no_renegotiation);
    return;
  }
  // One record may carry several messages (a server's session tickets);
  // linegate's own peers never split one across records.
  for (size_t off = 0; off < len;) {
    if (len - off < 4) return fail(ch, Alert::unexpected_message);
    const uint8_t* msg = rec + off;
    const size_t body = size_t{msg[1]} << 16 | size_t{msg[2]} << 8 | msg[3];
    if (body > len - off - 4) return fail(ch, Alert::unexpected_message);
    off += 4 + body;
    if (msg[0] == kNewSessionTicket && ch->client) continue;  // §4.6.1: upstream sessions are not resumed
    // §4.6.3: KeyUpdate is the other post-handshake message either side
    // takes (no client certificates after the handshake here).
    if (msg[0] != kKeyUpdate || body != 1 || msg[4] > 1) return fail(ch, Alert::unexpected_message);
    tls::TrafficKeys keys;
    if (!next_keys(ch, ch->rx_secret, &keys)) return fail(ch, Alert::internal_error);
    ch->rx->rekey(keys);
    ch->rx_redo = true;  // records already prepared under the old keys are opened again
    if (msg[4] == 1) {
      ch->key_update_owed = true;  // ours goes out under the current keys, then we switch
      mark_tx(ch);
    }
    count_stat(ch, ListenerStat::ssl_key_updates);
  }
}

bool TlsWorker::next_keys(Channel* ch, uint8_t* secret, tls::TrafficKeys* keys) {
  uint8_t next[tls::kMaxSecretLen];
  const std::span<uint8_t> out{next, ch->secret_len};
  if (!tls::tls13_next_secret(ch->hash, {secret, ch->secret_len}, out) ||
      !tls::tls13_traffic_keys(ch->aead, ch->hash, out, keys))
    return false;
  std::memcpy(secret, next, ch->secret_len);
  return true;
}

// ------------------------------------------------------------------ seal

void TlsWorker::seal_burst(Channel** chans, unsigned count) {
  struct Pending {
    Channel* ch;
    rte_mbuf* m;
  };
  Pending pend[kMaxBurst];
  tls::AeadOp ops[kMaxBurst];
  unsigned n = 0;
  for (unsigned k = 0; k < count; ++k) {
    Channel* ch = chans[k];
    uint32_t space = stack_.raw_write_space(ch->conn);
    while (true) {
      if (n == kMaxBurst) {
        mark_tx(ch);
        break;
      }
      tls::ContentType type = tls::ContentType::application_data;
      uint32_t take = 0;
      uint8_t close_notify[2];
      const uint8_t* fixed = nullptr;
      if (ch->key_update_owed) {
        // KeyUpdate(update_not_requested), the last record under these keys this burst.
        static constexpr uint8_t kMsg[5] = {kKeyUpdate, 0, 0, 1, 0};
        type = tls::ContentType::handshake;
        fixed = kMsg;
        take = sizeof kMsg;
      } else if (!ch->plain_out.empty()) {
        // A full record, or what TCP has room for (not less than a segment's worth).
        take = std::min<uint32_t>(ch->plain_out.bytes, tls::kMaxPlaintext);
        if (space >= kSealOverhead + kMinRecord && take + kSealOverhead > space) take = space - kSealOverhead;
      } else if (ch->shutdown_wanted && !ch->notify_sent) {
        close_notify[0] = static_cast<uint8_t>(AlertLevel::warning);
        close_notify[1] = static_cast<uint8_t>(Alert::close_notify);
        type = tls::ContentType::alert;
        fixed = close_notify;
        take = sizeof close_notify;
      } else {
        break;
      }
      if (space < take + kSealOverhead) {
        stack_.raw_want_writable(ch->conn);  // the stream's room, not the application's
        break;
      }
      rte_mbuf* m = record_buffer();
      if (m == nullptr) {
        count_stat(ch, ListenerStat::ssl_record_buffers_exhausted);
        mark_tx(ch);
        break;
      }
      uint8_t* rec = rte_pktmbuf_mtod(m, uint8_t*);
      uint8_t* body = rec + ch->tx->prefix_len();
      if (fixed != nullptr) {
        std::memcpy(body, fixed, take);
      } else {
        ch->plain_out.peek(0, body, take);
        ch->plain_out.trim_front(take);
      }
      const size_t wire = ch->tx->prepare_seal(type, rec, take, &ops[n]);
      m->data_len = static_cast<uint16_t>(wire);
      m->pkt_len = static_cast<uint32_t>(wire);
      pend[n++] = {ch, m};
      space -= static_cast<uint32_t>(wire);
      if (type == tls::ContentType::alert) ch->notify_sent = true;
      if (type == tls::ContentType::handshake) {
        ch->key_update_owed = false;
        ch->tx_rekey_after = true;
        mark_tx(ch);  // the rest under the new keys, next round
        break;
      }
    }
  }
  if (n != 0) engine_->seal({ops, n});
  for (unsigned i = 0; i < n; ++i) {
    Channel* ch = pend[i].ch;
    if (ch->conn == nullptr || stack_.raw_write(ch->conn, pend[i].m) != tcp::IoStatus::ok) rte_pktmbuf_free(pend[i].m);
  }
  for (unsigned k = 0; k < count; ++k) {
    Channel* ch = chans[k];
    if (ch->conn == nullptr) continue;
    if (ch->tx_rekey_after) {
      ch->tx_rekey_after = false;
      tls::TrafficKeys keys;
      if (!next_keys(ch, ch->tx_secret, &keys)) {
        fail(ch);  // the KeyUpdate is out: nothing more can be sealed that the peer would open
        continue;
      }
      ch->tx->rekey(keys);
    }
    finish_tx(ch);
  }
}

// After a channel's records went out: the FIN behind our close_notify, and
// room for an application that was refused.
void TlsWorker::finish_tx(Channel* ch) {
  tcp::Conn* c = ch->conn;
  if (ch->notify_sent && ch->plain_out.empty()) {
    if (ch->close_wanted) {
      ch->close_wanted = false;
      return stack_.raw_close(c);  // may free c (and release ch)
    }
    stack_.raw_shutdown(c);
  }
  deliver(ch);
}

// ------------------------------------------------------------------ OpenSSL's record layer

bool TlsWorker::openssl_rx(Channel* ch) {
  tcp::Conn* c = ch->conn;
  // Ciphertext moves into OpenSSL only while it holds less than the plaintext
  // bound; the rest stays in TCP's receive queue (and so in its window).
  const uint32_t held = openssl_held(ch);
  if (ch->plain_in.bytes < kMaxPlainIn && held < kMaxPlainIn) {
    if (rte_mbuf* m = stack_.raw_read(c, kMaxPlainIn - held)) {
      for (rte_mbuf* s = m; s != nullptr; s = s->next) ch->hs->feed(rte_pktmbuf_mtod(s, const uint8_t*), s->data_len);
      rte_pktmbuf_free(m);
    }
  }
  while (ch->plain_in.bytes < kMaxPlainIn && !ch->peer_closed) {
    rte_mbuf* m = record_buffer();
    if (m == nullptr) {
      count_stat(ch, ListenerStat::ssl_record_buffers_exhausted);
      mark_rx(ch);
      break;
    }
    const long got = ch->hs->read_plain(rte_pktmbuf_mtod(m, uint8_t*), tls::kMaxPlaintext);
    if (got <= 0) {
      rte_pktmbuf_free(m);
      if (got == tls::Handshake::kClosed) ch->peer_closed = true;
      if (got == tls::Handshake::kFailed) {
        send_output(ch);  // OpenSSL's alert
        fail(ch);
        return false;
      }
      break;
    }
    m->data_len = static_cast<uint16_t>(got);
    m->pkt_len = static_cast<uint32_t>(got);
    ch->plain_in.append(m);
  }
  // More to open than the bound let through (partial records left in OpenSSL
  // wait for the client's next segment, which marks the channel itself).
  if (c->rcvq.bytes != 0 && ch->plain_in.bytes < kMaxPlainIn) mark_rx(ch);
  // What reading made OpenSSL send (its KeyUpdate answer).
  send_output(ch);
  return true;
}

void TlsWorker::openssl_tx(Channel* ch) {
  // OpenSSL's records take at most what TCP has room for; the rest waits
  // (in plain_out, and in OpenSSL's output) for the next writable event.
  while (!ch->plain_out.empty() && ch->hs->pending_output() < stack_.raw_write_space(ch->conn)) {
    const rte_mbuf* m = ch->plain_out.head;
    ch->hs->write_plain(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    ch->plain_out.trim_front(m->data_len);
  }
  if (ch->plain_out.empty() && ch->shutdown_wanted && !ch->notify_sent) {
    ch->hs->close_notify();
    ch->notify_sent = true;
  }
  send_output(ch);
  if (ch->hs->pending_output() != 0 || !ch->plain_out.empty()) {
    stack_.raw_want_writable(ch->conn);
    return;
  }
  finish_tx(ch);
}

void TlsWorker::send_output(Channel* ch) {
  while (ch->hs->pending_output() != 0) {
    const uint32_t room = std::min(stack_.raw_write_space(ch->conn), kScratchBytes);
    if (room == 0) break;
    const size_t n = ch->hs->take_output(scratch_.get(), room);
    if (n == 0 || !send_raw(ch, scratch_.get(), n)) break;
  }
}

// ------------------------------------------------------------------ out

bool TlsWorker::send_raw(Channel* ch, const uint8_t* data, size_t len) {
  rte_mbuf* head = nullptr;
  size_t off = 0;
  while (off < len) {
    rte_mbuf* m = record_buffer();
    if (m == nullptr) {
      count_stat(ch, ListenerStat::ssl_record_buffers_exhausted);
      rte_pktmbuf_free(head);
      return false;
    }
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(len - off, rte_pktmbuf_tailroom(m)));
    std::memcpy(rte_pktmbuf_append(m, n), data + off, n);
    off += n;
    if (head == nullptr) {
      head = m;
    } else {
      rte_pktmbuf_chain(head, m);
    }
  }
  if (head == nullptr) return true;
  if (stack_.raw_write(ch->conn, head) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(head);
    return false;
  }
  return true;
}

bool TlsWorker::send_alert(Channel* ch, AlertLevel level, Alert alert) {
  if (!ch->offload || !ch->tx) return false;
  rte_mbuf* m = record_buffer();
  if (m == nullptr) return false;
  uint8_t* rec = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t* body = rec + ch->tx->prefix_len();
  body[0] = static_cast<uint8_t>(level);
  body[1] = static_cast<uint8_t>(alert);
  tls::AeadOp op;
  const size_t wire = ch->tx->prepare_seal(tls::ContentType::alert, rec, 2, &op);
  engine_->seal({&op, 1});
  m->data_len = static_cast<uint16_t>(wire);
  m->pkt_len = static_cast<uint32_t>(wire);
  if (stack_.raw_write(ch->conn, m) != tcp::IoStatus::ok) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

void TlsWorker::fail(Channel* ch, std::optional<Alert> alert) {
  if (ch->phase == Phase::failed || ch->conn == nullptr) return;
  count_stat(ch, ListenerStat::ssl_connection_error);
  if (alert) send_alert(ch, AlertLevel::fatal, *alert);
  end(ch);
}

void TlsWorker::end(Channel* ch, tcp::CloseReason why) {
  if (ch->phase == Phase::failed || ch->conn == nullptr) return;
  timers_.cancel(ch->timer);
  ch->phase = Phase::failed;
  tcp::Conn* c = ch->conn;
  stack_.notify_closed(c, why);
  stack_.raw_close(c);  // FIN behind the alert (RST if anything is unread)
}

void TlsWorker::deliver(Channel* ch) {
  tcp::Conn* c = ch->conn;
  if (c == nullptr || ch->phase != Phase::records || c->ops == nullptr) return;
  if ((ch->plain_in.bytes != 0 || eof(ch)) && c->ops->on_readable) {
    c->ops->on_readable(c->app, c);
    if (ch->conn != c) return;
  }
  notify_app_writable(ch);
}

}  // namespace lg::tlsterm
