// TLS on one worker: termination on HTTPS listeners and origination toward
// upstreams whose DestinationRule asks for it. Each TLS connection gets a
// Channel, the TCP connection's ULP (tcp/ulp.h): the HTTP proxy reads and
// writes plaintext through the usual TcpStack calls and never sees a record.
//
// A server channel goes: hello (wait for the ClientHello, pick the Gateway
// server by SNI as Envoy's tls_inspector does, so that server's versions,
// suites and certificates apply) → handshake (OpenSSL over memory BIOs,
// tls/session) → records. A client channel starts its handshake when TCP
// connects and tells the application "connected" when the handshake is
// done; a handshake that fails reads to the application as a connect that
// failed (as Envoy's upstream TLS does). Records of offloaded suites are opened and sealed
// by the worker's AeadEngine: every channel with work marks itself, and
// flush() — once a pass, before the TX flush — opens all their records in
// one IPsec-MB burst, hands the plaintext to the application, then seals
// everything the applications wrote in a second burst. Other suites, and
// all records when offload is off, go through OpenSSL's record layer.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "dataplane/config/runtime_tables.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "dataplane/upstream/registry.h"
#include "tls/record/aead_engine.h"
#include "tls/record/protection.h"
#include "tls/session/hand_over.h"
#include "tls/session/client_context.h"
#include "tls/session/handshake.h"

namespace lg::tlsterm {

struct TlsWorkerConfig {
  bool record_offload = true;
  uint32_t record_buffers = 2048;
  uint32_t max_connections = 8192;
  uint32_t hello_timeout_ms = 15000;  // ClientHello and handshake, together
};

enum class Phase : uint8_t { hello, handshake, records, failed };

class TlsWorker;

struct Channel : tcp::Ulp {  // Conn::ulp points here
  TlsWorker* worker;
  tcp::Conn* conn;
  Phase phase;
  bool offload;            // records on the AeadEngine (else OpenSSL's record layer)
  bool rx_marked, tx_marked;
  bool peer_closed;        // close_notify received
  bool shutdown_wanted;    // the application shut down: close_notify after what is queued
  bool close_wanted;       // ... and let go: close the connection after it
  bool notify_sent;        // our close_notify is out
  bool app_blocked;        // the application was refused a write: tell it when there is room
  bool tls13;
  bool rx_redo;            // KeyUpdate: records prepared under the old keys are opened again
  bool key_update_owed;    // the peer asked for our KeyUpdate
  bool tx_rekey_after;     // ours is sealed: switch keys after this burst
  bool client;             // originated: the gateway is the TLS client
  uint32_t server;         // the Gateway server within the listener (SNI selection)
  uint32_t stats_id;       // the listener's (server channels) or the cluster's (client channels)
  uint32_t handshake_timeout_ms;
  uint16_t xfcc_len;       // server channels: the client certificate's XFCC element (0: none)
  uint16_t version;        // SSL_version() once the handshake is done (0 before)
  uint8_t sni_len;         // server channels: the ClientHello's server name (0: none)
  char* xfcc;              // kMaxXfcc bytes of the worker's slab
  char* sni;               // kMaxSni bytes of the worker's slab
  Channel* next_rx;
  Channel* next_tx;
  Channel* next_free;
  tcp::SegQueue plain_in;   // opened, not yet read by the application
  tcp::SegQueue plain_out;  // written by the application, not yet sealed
  std::unique_ptr<tls::Handshake> hs;  // kept for the OpenSSL record layer
  std::optional<tls::RecordProtection> rx, tx;
  // TLS 1.3: the current traffic secrets, for KeyUpdate (§7.2).
  uint8_t rx_secret[tls::kMaxSecretLen], tx_secret[tls::kMaxSecretLen];
  uint8_t secret_len;
  const EVP_MD* hash;
  tls::Aead aead;
  Timer timer;  // hello + handshake timeout
};

class TlsWorker {
 public:
  TlsWorker(const TlsWorkerConfig& cfg, unsigned worker, tcp::TcpStack& stack, TimerWheel& timers,
            upstream::UpstreamRegistry& registry, uint64_t tsc_hz);
  ~TlsWorker();
  TlsWorker(const TlsWorker&) = delete;
  TlsWorker& operator=(const TlsWorker&) = delete;
  bool ok() const { return records_ != nullptr; }  // the record buffer pool exists

  // Puts a channel under a connection accepted on a TLS listener of `t`.
  // false: no channel free (refuse the connection).
  bool attach(tcp::Conn* c, const config::RuntimeTables* t, const config::ListenerSlot& l);
  // Puts a client channel under a connection just opened toward an upstream
  // of cluster `cluster_stats`: it handshakes with ctx (sending sni) once
  // TCP connects, within timeout_ms. ctx must outlive the handshake (the
  // tables holding it outlive their pass). false: no channel free.
  bool attach_client(tcp::Conn* c, const tls::ClientContext& ctx, const std::string& sni, uint32_t cluster_stats,
                     uint32_t timeout_ms);
  // Once a pass, before the TX flush: the pending opens and seals. Returns
  // the records handled (work done).
  unsigned flush(const config::RuntimeTables* t);
  // The Gateway server (ordinal within its listener) a TLS connection was
  // selected for, or kNone when c has no channel.
  static uint32_t server_of(const tcp::Conn* c);
  // The x-forwarded-client-cert element of the client certificate c's
  // handshake verified (tls/session/client_cert_details.h); empty without one.
  static std::string_view client_cert_details(const tcp::Conn* c);
  static constexpr size_t kMaxXfcc = 1024;
  // What the access log records of a server connection's TLS (all empty
  // or 0 for plain text): the server name asked for, the version, and the
  // client certificate's XFCC element.
  struct Facts {
    std::string_view sni, xfcc;
    uint16_t version = 0;
  };
  static Facts facts(const tcp::Conn* c);
  static constexpr size_t kMaxSni = 255;

  // ULP entry points (channel.cc).
  static const tcp::UlpOps kOps;
  uint32_t readable(const Channel* ch) const { return ch->plain_in.bytes; }
  // Received and not yet read by the application: opened plaintext, and on
  // OpenSSL's record layer what OpenSSL holds (a connection lingers for it).
  uint32_t unread(const Channel* ch) const { return ch->plain_in.bytes + openssl_held(ch); }
  uint32_t peek(const Channel* ch, uint32_t from, void* buf, uint32_t len) const;
  rte_mbuf* read(Channel* ch, uint32_t max);
  bool eof(const Channel* ch) const;
  tcp::IoStatus write(Channel* ch, rte_mbuf* chain);
  uint32_t write_space(const Channel* ch) const;
  void want_writable(Channel* ch);
  void shutdown(Channel* ch);
  void close(Channel* ch);
  void abort(Channel* ch);
  void stream_connected(Channel* ch);
  void stream_readable(Channel* ch);
  void stream_writable(Channel* ch);
  void release(Channel* ch);

 private:
  static constexpr uint32_t kMaxPlainIn = 64 * 1024;    // opened ahead of the application
  static constexpr uint32_t kMaxPlainOut = 64 * 1024;   // written ahead of sealing
  static constexpr unsigned kMaxBurst = tls::AeadEngine::kMaxBurst;
  static constexpr uint32_t kScratchBytes = 16 * 1024 + 64;  // a ClientHello (tls::kMaxClientHello), flights

  void mark_rx(Channel* ch);
  void mark_tx(Channel* ch);
  // Bytes OpenSSL's record layer took from TCP and has not handed over yet
  // (none once the channel failed: what is left is not for the application).
  static uint32_t openssl_held(const Channel* ch) {
    return ch->phase == Phase::records && !ch->offload ? static_cast<uint32_t>(ch->hs->pending_input()) : 0;
  }
  // The application was refused a write and there is room now: tell it.
  void notify_app_writable(Channel* ch);
  // Handshake phase (handshake.cc).
  void hello(Channel* ch, const config::RuntimeTables* t);
  // PERMISSIVE: the connection began in plain text. The channel lets go of
  // it and the application reads TCP directly.
  void plaintext(Channel* ch);
  static constexpr uint8_t kTlsHandshakeRecord = 22;  // ContentType handshake
  void handshake(Channel* ch);
  bool start_records(Channel* ch);
  void handshake_failed(Channel* ch);
  static void on_timeout(Timer* t, void* arg);
  // Records (records.cc).
  void open_burst(Channel** chans, unsigned n);
  void seal_burst(Channel** chans, unsigned n);
  void finish_tx(Channel* ch);
  void reclaim();
  bool openssl_rx(Channel* ch);  // false: the channel failed
  void openssl_tx(Channel* ch);
  void post_handshake(Channel* ch, const uint8_t* rec, size_t len);  // one record's messages
  // TLS 1.3 KeyUpdate: secret becomes the next generation, keys from it. false: cannot derive.
  bool next_keys(Channel* ch, uint8_t* secret, tls::TrafficKeys* keys);
  bool send_raw(Channel* ch, const uint8_t* data, size_t len);
  void send_output(Channel* ch);  // OpenSSL's output (flights, its records), as far as TCP has room
  bool send_alert(Channel* ch, tls::AlertLevel level, tls::Alert alert);  // under the record layer's keys
  // A TLS error (ssl_connection_error): our fatal alert when we have one to
  // send and the keys to send it, then end().
  void fail(Channel* ch, std::optional<tls::Alert> alert = std::nullopt);
  // The connection ends: the application hears a reset (or, for a client
  // handshake out of time, a timeout), TCP closes.
  void end(Channel* ch, tcp::CloseReason why = tcp::CloseReason::reset);
  void deliver(Channel* ch);  // application readable / writable after a flush
  // Counts under the channel's listener, or its cluster's names for the
  // stats a client channel has (Envoy's cluster.<name>.ssl.*).
  void count_stat(const Channel* ch, upstream::ListenerStat st);
  Channel* take_channel(tcp::Conn* c);
  rte_mbuf* record_buffer();

  TlsWorkerConfig cfg_;
  unsigned worker_;
  tcp::TcpStack& stack_;
  TimerWheel& timers_;
  upstream::UpstreamRegistry& registry_;
  uint64_t cycles_per_ms_;
  std::unique_ptr<tls::AeadEngine> engine_;
  rte_mempool* records_ = nullptr;
  std::unique_ptr<Channel[]> channels_;
  Channel* free_ = nullptr;
  Channel* dead_ = nullptr;  // released, waiting to leave the pass lists
  Channel* rx_head_ = nullptr;
  Channel* tx_head_ = nullptr;
  std::unique_ptr<uint8_t[]> scratch_;  // handshake bytes, ClientHellos
  std::unique_ptr<char[]> xfcc_;        // kMaxXfcc per channel
  std::unique_ptr<char[]> sni_;         // kMaxSni per channel
};

}  // namespace lg::tlsterm
