// SYN cookies (RFC 4987 §3.6): past a listener's backlog, the SYN-ACK's
// sequence number carries what the connection needs, and the handshake's
// final ACK brings it back. Layout of the cookie (our ISN):
//   bits 31..27  a 64-second counter (mod 32): cookies live up to ~2 minutes
//   bits 26..24  an index into kMssTable (the peer's MSS, rounded down)
//   bits 23..0   keyed hash of the 4-tuple, the peer's ISN and the counter
// Window scale and SACK ride in the low 5 bits of our timestamp when the
// peer uses timestamps (as Linux does); without them they are lost.
#include <rte_jhash.h>

#include "dataplane/tcp/stack.h"

namespace lg::tcp {
namespace {

constexpr uint16_t kMssTable[8] = {536, 1200, 1220, 1380, 1440, 1460, 4312, 8960};
constexpr uint64_t kPeriodUs = 64'000'000;

uint32_t cookie_hash(const FlowKey& key, Seq peer_isn, uint32_t counter, const uint64_t secret[2]) {
  const uint32_t h = rte_jhash(&key, offsetof(FlowKey, pad), static_cast<uint32_t>(secret[0]) ^ counter);
  return rte_jhash_3words(h, peer_isn, counter, static_cast<uint32_t>(secret[0] >> 32));
}

}  // namespace

void TcpStack::syncookie_reply(const FlowKey& key, const Segment& seg) {
  const uint16_t peer_mss = seg.opt.has_mss ? seg.opt.mss : 536;
  uint8_t idx = 0;
  while (idx + 1 < 8 && kMssTable[idx + 1] <= peer_mss) ++idx;
  const uint32_t counter = static_cast<uint32_t>(now_us_ / kPeriodUs);
  const Seq isn = ((counter & 0x1f) << 27) | (uint32_t{idx} << 24) |
                  (cookie_hash(key, seg.seq, counter, cfg_.syncookie_secret) & 0xffffff);
  const net::Iface& f = ifaces_[key.iface];
  uint8_t ws = 0;
  while (ws < kMaxWscale && (uint64_t{0xffff} << ws) < cfg_.rcv_buffer) ++ws;
  OptionsOut o;
  o.mss = true;
  o.mss_value = static_cast<uint16_t>(f.mtu - (key.family == 4 ? 40 : 60));
  if (seg.opt.has_ts) {
    o.ts = true;
    const uint32_t flags = (seg.opt.sack_permitted ? 0x10u : 0u) | (seg.opt.has_wscale ? seg.opt.wscale : 0xfu);
    // The flags ride in the low bits; never let that put our clock ahead of
    // itself, or the peer's PAWS would drop our next segments (as Linux does).
    const uint32_t now_ts = ts_now();
    o.ts_val = (now_ts & ~0x1fu) | flags;
    if (static_cast<int32_t>(o.ts_val - now_ts) > 0) o.ts_val -= 0x20;
    o.ts_ecr = seg.opt.ts_val;
    o.wscale = seg.opt.has_wscale;
    o.wscale_value = ws;
    o.sack_permitted = seg.opt.sack_permitted;
  }
  counters_.event(key.iface, Event::tcp_syncookies_sent);
  send_raw(key, isn, seg.seq + 1, kSyn | kAck, static_cast<uint16_t>(std::min<uint32_t>(cfg_.rcv_buffer, 0xffff)), o);
}

Conn* TcpStack::syncookie_accept(Listener& l, const FlowKey& key, const Segment& seg) {
  if (seg.has(kRst) || seg.has(kSyn)) return nullptr;
  const Seq isn = seg.ack - 1;
  const uint32_t now_counter = static_cast<uint32_t>(now_us_ / kPeriodUs);
  const uint32_t age = (now_counter - (isn >> 27)) & 0x1f;
  if (age > 1) return nullptr;
  const uint32_t counter = now_counter - age;
  if ((cookie_hash(key, seg.seq - 1, counter, cfg_.syncookie_secret) & 0xffffff) != (isn & 0xffffff)) return nullptr;

  TcpOptions opt;
  opt.has_mss = true;
  opt.mss = kMssTable[(isn >> 24) & 7];
  if (seg.opt.has_ts) {
    const uint32_t flags = seg.opt.ts_ecr & 0x1f;
    opt.has_ts = true;
    opt.ts_val = seg.opt.ts_val;
    opt.sack_permitted = flags & 0x10;
    opt.has_wscale = (flags & 0xf) != 0xf;
    opt.wscale = static_cast<uint8_t>(flags & 0xf);
  }
  Conn* c = alloc_conn(key);
  if (c == nullptr) return nullptr;
  c->ops = l.ops;
  c->passive = true;
  c->iss = isn;
  c->irs = seg.seq - 1;
  c->rcv_nxt = seg.seq;
  c->snd_una = seg.ack;
  c->snd_nxt = seg.ack;
  c->snd_max = seg.ack;
  negotiate(c, opt);
  c->snd_wnd = static_cast<uint32_t>(seg.wnd) << c->snd_wscale;
  c->max_snd_wnd = c->snd_wnd;
  c->snd_wl1 = seg.seq;
  c->snd_wl2 = seg.ack;
  c->last_ack_sent = c->rcv_nxt;
  enter_established(c);
  counters_.event(key.iface, Event::tcp_syncookies_accepted);
  counters_.event(key.iface, Event::tcp_connections_accepted);
  return c;
}

}  // namespace lg::tcp
