#include "drivers/impair.h"

#include <rte_ether.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace lg::drv {
namespace {

constexpr uint32_t kRingMask = ImpairStage::kDelayCapacity - 1;
static_assert((ImpairStage::kDelayCapacity & kRingMask) == 0, "delay ring index wraps by masking");

// Decisions compare the top 53 bits of a draw against p * 2^53: exact for
// p = 0 (never) and p = 1 (always), and no floating point per packet.
constexpr int kFractionBits = 53;
constexpr uint64_t kFractionOne = uint64_t{1} << kFractionBits;

uint64_t threshold(double p) {
  if (!(p > 0)) return 0;  // also NaN: validate() rejects it, the stage ignores it
  if (p >= 1) return kFractionOne;
  return static_cast<uint64_t>(std::ldexp(p, kFractionBits));
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Uniform in [0, n) from 32 random bits, without a division.
uint32_t below(uint32_t random, uint32_t n) {
  return static_cast<uint32_t>((uint64_t{random} * n) >> 32);
}

// Ceil, so a packet is never released before delay_us has fully passed.
uint64_t us_to_cycles(uint32_t us, uint64_t hz) {
  const uint64_t per_us = hz / 1'000'000, rest = hz % 1'000'000;
  return us * per_us + (uint64_t{us} * rest + 999'999) / 1'000'000;
}

// Another holder (a clone for flooding, an external buffer) would see our
// corruption too.
bool exclusively_owned(const rte_mbuf* m) {
  for (; m != nullptr; m = m->next)
    if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1) return false;
  return true;
}

// A verdict other than "bad" (good, or "none": data intact, field not filled)
// predates the corruption; "unknown" sends the packet to a software check.
uint64_t forget_verdict(uint64_t flags, uint64_t mask, uint64_t bad) {
  return (flags & mask) == bad ? flags : flags & ~mask;
}

// The point of corruption is that checksums catch it. On RX the NIC's
// verdict is stale, so software must look again. On TX a NIC asked to fill
// checksums would bless the corrupted bytes, so the frame leaves with the
// checksum fields as they stand. Segmentation keeps its checksum requests:
// the NIC cannot segment without them.
void forget_checksum_verdicts(rte_mbuf* m) {
  uint64_t f = m->ol_flags;
  f = forget_verdict(f, RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_BAD);
  f = forget_verdict(f, RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_BAD);
  f = forget_verdict(f, RTE_MBUF_F_RX_OUTER_L4_CKSUM_MASK, RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD);
  if ((f & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) == 0)
    f &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_OUTER_IP_CKSUM | RTE_MBUF_F_TX_OUTER_UDP_CKSUM);
  m->ol_flags = f;
}

}  // namespace

// Where a burst's output goes: pkts[w..limit) may be written.
struct ImpairStage::Out {
  rte_mbuf** pkts;
  uint16_t w;
  uint16_t limit;
  uint16_t room() const { return static_cast<uint16_t>(limit - w); }
  void put(rte_mbuf* m) { pkts[w++] = m; }
};

ImpairStage::ImpairStage(const ImpairConfig& cfg, uint64_t tsc_hz, rte_mempool* pool, uint64_t stream_id)
    : loss_thr_(threshold(cfg.loss)),
      duplicate_thr_(threshold(cfg.duplicate)),
      corrupt_thr_(threshold(cfg.corrupt)),
      reorder_thr_(threshold(cfg.reorder)),
      hold_limit_(tsc_hz / 1000 > 0 ? tsc_hz / 1000 : 1),
      delay_cycles_(us_to_cycles(cfg.delay_us, tsc_hz)),
      pool_(pool) {
  active_ = loss_thr_ != 0 || duplicate_thr_ != 0 || corrupt_thr_ != 0 || reorder_thr_ != 0 || cfg.delay_us > 0;
  may_grow_ = duplicate_thr_ != 0 || reorder_thr_ != 0;
  if (cfg.delay_us > 0) ring_ = std::make_unique<Delayed[]>(kDelayCapacity);

  uint64_t stream = stream_id;
  uint64_t x = cfg.seed ^ splitmix64(stream);
  for (uint64_t& s : rng_) s = splitmix64(x);
  if ((rng_[0] | rng_[1] | rng_[2] | rng_[3]) == 0) rng_[0] = 1;  // xoshiro's one fixed point
}

ImpairStage::~ImpairStage() { flush_all(); }

void ImpairStage::flush_all() {
  for (; ring_head_ != ring_tail_; ++ring_head_) rte_pktmbuf_free(ring_[ring_head_ & kRingMask].m);
  rte_pktmbuf_free(held_);  // accepts nullptr
  held_ = nullptr;
}

// xoshiro256**
uint64_t ImpairStage::next() {
  const uint64_t result = rotl(rng_[1] * 5, 7) * 9;
  const uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = rotl(rng_[3], 45);
  return result;
}

// Draws only for impairments that are on, so turning one on does not
// reshuffle a seed's pattern for configs that leave it off.
bool ImpairStage::hit(uint64_t thr) { return thr != 0 && (next() >> (64 - kFractionBits)) < thr; }

uint16_t ImpairStage::apply_active(rte_mbuf** pkts, uint16_t n, uint16_t cap, uint64_t now_tsc) {
  if (cap < n) cap = n;
  // Duplicates and released held packets can make the output outrun the
  // input; parking the input at the tail keeps unread packets out of reach
  // of the writes from the head.
  const uint16_t base = may_grow_ ? static_cast<uint16_t>(cap - n) : 0;
  if (base != 0) std::memmove(pkts + base, pkts, n * sizeof(*pkts));

  Out out{pkts, 0, 0};
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[base + i];
    out.limit = static_cast<uint16_t>(base + i + 1);  // m's own slot is free now
    if (hit(loss_thr_)) {
      rte_pktmbuf_free(m);
      ++stats_.dropped;
      continue;
    }
    rte_mbuf* copy = nullptr;
    if (hit(duplicate_thr_) && pool_ != nullptr && out.room() >= 2) {
      // A deep copy, so corrupting one leaves the other intact.
      copy = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
      if (copy != nullptr) ++stats_.duplicated;
    }
    admit(m, out, copy != nullptr ? 1 : 0, now_tsc);
    if (copy != nullptr) admit(copy, out, 0, now_tsc);
  }
  return out.w;
}

// Corruption, then the delay line, then out through the reorder slot.
// `reserve` slots must stay free for packets still to come from this input.
void ImpairStage::admit(rte_mbuf* m, Out& out, uint16_t reserve, uint64_t now_tsc) {
  if (hit(corrupt_thr_) && corrupt_one_byte(m)) ++stats_.corrupted;
  if (ring_ != nullptr) {
    if (ring_tail_ - ring_head_ < kDelayCapacity) {
      ring_[ring_tail_++ & kRingMask] = Delayed{m, now_tsc + delay_cycles_};
      ++stats_.delayed;
      return;
    }
    ++stats_.overflow;  // better late order than a drop nobody asked for
  }
  emit(m, out, reserve, now_tsc);
}

// A held packet goes out right behind the next one; with one slot of
// holding, reordering swaps neighbours and never starves a packet.
void ImpairStage::emit(rte_mbuf* m, Out& out, uint16_t reserve, uint64_t now_tsc) {
  if (reorder_thr_ != 0) {
    if (held_ == nullptr) {
      if (hit(reorder_thr_)) {
        held_ = m;
        held_overtaken_ = false;
        held_since_ = now_tsc;
        return;
      }
    } else if (out.room() >= reserve + 2) {
      out.put(m);
      out.put(held_);
      held_ = nullptr;
      ++stats_.reordered;
      return;
    } else {
      held_overtaken_ = true;  // no room for both: m passes, held_ waits for the next one
    }
  }
  out.put(m);
}

bool ImpairStage::corrupt_one_byte(rte_mbuf*& m) {
  const uint64_t r = next();  // drawn first: the stream stays independent of packet sizes
  const uint32_t len = rte_pktmbuf_pkt_len(m);
  if (len <= RTE_ETHER_HDR_LEN) return false;
  if (!exclusively_owned(m)) {
    if (pool_ == nullptr) return false;
    rte_mbuf* own = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
    if (own == nullptr) return false;
    rte_pktmbuf_free(m);
    m = own;
  }
  uint32_t off = RTE_ETHER_HDR_LEN + below(static_cast<uint32_t>(r), len - RTE_ETHER_HDR_LEN);
  const auto flip = static_cast<uint8_t>(1 + below(static_cast<uint32_t>(r >> 32), 255));
  rte_mbuf* seg = m;
  while (seg != nullptr && off >= seg->data_len) {
    off -= seg->data_len;
    seg = seg->next;
  }
  if (seg == nullptr) return false;  // pkt_len claims more than the segments hold
  *rte_pktmbuf_mtod_offset(seg, uint8_t*, off) ^= flip;
  forget_checksum_verdicts(m);
  return true;
}

uint16_t ImpairStage::drain_held(rte_mbuf** pkts, uint16_t n, uint16_t cap, uint64_t now_tsc) {
  if (n >= cap) return n;
  Out out{pkts, n, cap};
  // Due times rise with arrival (fixed delay), so the first not-yet-due
  // packet ends the scan.
  while (ring_head_ != ring_tail_ && out.room() > 0) {
    const Delayed& d = ring_[ring_head_ & kRingMask];
    if (now_tsc < d.due_tsc) break;
    ++ring_head_;
    emit(d.m, out, 0, now_tsc);
  }
  if (held_ != nullptr && out.room() > 0 && now_tsc >= held_since_ + hold_limit_) {
    out.put(held_);
    held_ = nullptr;
    if (held_overtaken_) ++stats_.reordered;
  }
  return out.w;
}

std::string validate(const ImpairConfig& cfg) {
  const struct {
    const char* name;
    double value;
  } fractions[] = {{"loss", cfg.loss}, {"reorder", cfg.reorder}, {"duplicate", cfg.duplicate}, {"corrupt", cfg.corrupt}};
  char buf[128];
  for (const auto& f : fractions) {
    if (f.value >= 0 && f.value <= 1) continue;  // false for NaN too
    std::snprintf(buf, sizeof buf, "impair.%s: expected a fraction from 0 to 1, got %g", f.name, f.value);
    return buf;
  }
  if (cfg.delay_us > kImpairMaxDelayUs) {
    std::snprintf(buf, sizeof buf, "impair.delay_us: expected microseconds from 0 to %u, got %u", kImpairMaxDelayUs,
                  cfg.delay_us);
    return buf;
  }
  return "";
}

}  // namespace lg::drv
