// One TCP connection (RFC 9293 §3.3.1 variables) and the mbuf queues it owns.
// Connections live in a fixed per-worker pool; only their worker touches them.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/tcp/cc.h"
#include "dataplane/tcp/rtt.h"
#include "dataplane/tcp/sack.h"
#include "dataplane/tcp/seq.h"
#include "dataplane/timer/timer_wheel.h"

namespace lg::tcp {

// RFC 9293 §3.3.2.
enum class State : uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};
const char* state_name(State s);
inline bool synchronized(State s) { return s >= State::established; }

// Both ends of a connection as seen from this side. IPv4 addresses sit in
// the first 4 bytes (network order); the key is hashed as raw bytes.
struct FlowKey {
  uint8_t local[16];
  uint8_t remote[16];
  uint16_t lport;  // host order
  uint16_t rport;
  uint8_t family;  // 4 or 6
  uint8_t iface;
  uint16_t pad;
};
static_assert(sizeof(FlowKey) == 40);

// A byte stream held as a list of mbuf segments (each segment one mbuf, its
// data_len bytes), linked through next. Appending a received chain links its
// segments in without copying.
struct SegQueue {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t bytes = 0;

  bool empty() const { return head == nullptr; }
  void append(rte_mbuf* chain);
  // Drop n bytes from the front (ACKed data), freeing whole segments.
  void trim_front(uint32_t n);
  // Detach up to max bytes from the front as a proper mbuf chain (pkt_len,
  // nb_segs set) for the application; nullptr if empty. A segment is split
  // only if it straddles max.
  rte_mbuf* take(uint32_t max, rte_mempool* pool);
  // Copies up to len bytes from offset `from` without consuming them.
  uint32_t peek(uint32_t from, void* buf, uint32_t len) const;
  // Puts a chain back in front (bytes a consumer took but did not use).
  void prepend(rte_mbuf* chain);
  void clear();
};

// A contiguous out-of-order range waiting for the hole before it.
struct OooRange {
  Seq start;
  uint32_t len;
  rte_mbuf* head;
  rte_mbuf* tail;
};
inline constexpr unsigned kMaxOoo = 12;
inline constexpr uint8_t kMaxKeepaliveProbes = 9;  // like Linux tcp_keepalive_probes

struct AppOps;
struct Listener;
struct Ulp;
class TcpStack;

enum class CloseReason : uint8_t { normal, reset, timeout, refused, aborted };
const char* close_reason_name(CloseReason r);

struct Conn {
  FlowKey key;
  TcpStack* stack;
  State state;
  uint8_t snd_wscale;  // peer's shift (applies to windows it sends)
  uint8_t rcv_wscale;  // our shift
  uint8_t dupacks;
  uint8_t rtx_count;  // consecutive retransmission timeouts
  uint8_t ka_probes;
  bool ts_on : 1, sack_on : 1, ws_on : 1;
  bool in_recovery : 1;
  bool fin_queued : 1;  // the application shut down its side
  bool fin_sent : 1;
  bool fin_rcvd : 1;
  bool ack_now : 1;     // an ACK must go out this pass
  bool ack_delayed : 1; // an ACK is owed, the delayed-ACK timer runs
  bool persist : 1;     // the retransmit timer is probing a zero window
  bool want_writable : 1;
  bool rtt_timing : 1;  // rtt_seq/rtt_start_us time a segment (no timestamps)
  bool fin_pending : 1; // a FIN arrived out of order at fin_seq
  bool app_closed : 1;  // the application let go (tcp_close)
  bool passive : 1;
  bool in_table : 1;
  bool linger : 1;      // closed by the protocol, held until the application reads what is queued

  uint16_t mss;          // payload bytes we send per segment
  uint16_t unacked_segs; // full segments received since our last ACK
  uint32_t index;        // in the pool
  uint32_t gen;          // bumped on every reuse of the slot: detects a conn freed during a callback

  // Send sequence space.
  Seq iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2, recover, high_rxt, rtt_seq, fin_seq;
  Seq rcv_fin_seq;  // where the peer's FIN sits when it arrived out of order
  uint32_t snd_wnd;      // bytes, scaled
  uint32_t max_snd_wnd;
  uint32_t snd_buf;
  // Receive sequence space.
  Seq irs, rcv_nxt, rcv_adv;  // rcv_adv: right edge we advertised
  uint32_t rcv_buf;
  uint32_t ts_recent;
  Seq last_ack_sent;

  uint64_t rtt_start_us;
  uint64_t rtx_first_us;   // first unanswered retransmission (user timeout)
  uint64_t last_rcv_us;    // keepalive idle clock
  uint64_t opened_us;
  // Per-connection settings, from TcpConfig unless the application changes
  // them (a cluster's connectTimeout and tcpKeepalive).
  uint32_t connect_timeout_ms;
  uint32_t ka_idle_ms;      // 0: no keepalive
  uint32_t ka_interval_ms;  // between unanswered probes
  uint8_t ka_max_probes;

  SegQueue sndq;  // from snd_una: sent-unacked then unsent
  // Where the last transmission ended in sndq, so sending new data does not
  // walk the queue from its head. Valid while tx_cursor_seq >= snd_una: ACKs
  // only free or trim segments below snd_una.
  rte_mbuf* tx_cursor;
  Seq tx_cursor_seq;  // sequence number of tx_cursor's first byte
  SegQueue rcvq;  // in order, not yet read
  uint8_t nooo;
  OooRange ooo[kMaxOoo];

  Timer rtx_timer;     // retransmission, SYN, persist, TIME_WAIT
  Timer delack_timer;
  Timer ka_timer;      // keepalive and connect timeout

  RttEstimator rtt;
  CcAlgo cc_algo;
  CcState cc;
  SackScoreboard sb;
  SackReceiverBlocks rsb;

  const AppOps* ops;
  void* app;
  Listener* listener;  // while half-open (passive)
  Ulp* ulp;            // an upper layer protocol (TLS) between the stream and the application, or null

  uint32_t ooo_bytes() const {
    uint32_t n = 0;
    for (uint8_t i = 0; i < nooo; ++i) n += ooo[i].len;
    return n;
  }
  uint32_t flight() const { return snd_max - snd_una; }
  // Payload that fits one segment now: mss already allows for timestamps;
  // SACK blocks we are reporting take more option space (RFC 6691).
  uint32_t seg_max() const {
    const unsigned blocks = sack_on ? rsb.blocks() : 0;
    if (blocks == 0) return mss;
    const unsigned n = blocks < (ts_on ? 3u : 4u) ? blocks : (ts_on ? 3u : 4u);
    return mss - (4u + 8u * n);
  }
};

}  // namespace lg::tcp
