#include "dataplane/tcp/sack.h"

#include <algorithm>

namespace lg::tcp {

// ---------------------------------------------------------------------------
// SackScoreboard

void SackScoreboard::reset() {
  n_ = 0;
  sacked_ = 0;
  dropped_ = 0;
  una_ = 0;
}

uint32_t SackScoreboard::covered(Seq s, Seq e) const {
  uint32_t c = 0;
  for (unsigned i = 0; i < n_; ++i) {
    const Seq lo = seq_max(s, blk_[i].start);
    const Seq hi = seq_min(e, blk_[i].end);
    if (seq_lt(lo, hi)) c += hi - lo;
  }
  return c;
}

void SackScoreboard::trim_below(Seq una) {
  unsigned k = 0;
  for (unsigned i = 0; i < n_; ++i) {
    if (seq_leq(blk_[i].end, una)) continue;  // cumulatively acked: done with it
    blk_[k] = blk_[i];
    blk_[k].start = seq_max(blk_[k].start, una);
    ++k;
  }
  n_ = static_cast<uint8_t>(k);
}

void SackScoreboard::insert(Seq s, Seq e) {
  // Ranges [i, j) overlap or touch [s, e): they collapse into one. Touching
  // ranges are merged too, so the invariant "disjoint and non-adjacent" makes
  // blocks() the number of holes-worth of SACKed data, which IsLost counts.
  unsigned i = 0;
  while (i < n_ && seq_lt(blk_[i].end, s)) ++i;
  unsigned j = i;
  while (j < n_ && seq_leq(blk_[j].start, e)) ++j;

  if (i < j) {
    blk_[i].start = seq_min(s, blk_[i].start);
    blk_[i].end = seq_max(e, blk_[j - 1].end);
    const unsigned gone = j - i - 1;
    for (unsigned k = j; k < n_; ++k) blk_[k - gone] = blk_[k];
    n_ = static_cast<uint8_t>(n_ - gone);
    return;
  }

  if (n_ == kMaxBlocks) {
    // Full: keep the lowest ranges. They border the holes recovery fills
    // first; losing a high range only makes pipe() and IsLost() more
    // conservative until the peer reports it again.
    ++dropped_;
    if (i == kMaxBlocks) return;  // the new range is the highest one
    --n_;
  }
  for (unsigned k = n_; k > i; --k) blk_[k] = blk_[k - 1];
  blk_[i] = {s, e};
  ++n_;
}

SackAckResult SackScoreboard::on_ack(Seq snd_una, Seq snd_max, const SackBlock* blocks,
                                     unsigned n) {
  SackAckResult res;
  una_ = snd_una;
  trim_below(snd_una);

  for (unsigned b = 0; b < n; ++b) {
    const Seq s = blocks[b].start;
    const Seq e = blocks[b].end;
    const bool valid = seq_lt(s, e);
    if (b == 0 && valid) {
      // RFC 2883 §4: a D-SACK goes first, and a duplicate of data above the
      // cumulative ACK is followed by the block that holds it. So the sender
      // recognizes one by the first block lying below the cumulative ACK, or
      // inside the second block (the test Linux's tcp_check_dsack() makes).
      // It reports a duplicate, not new data, so it must not count towards
      // DupThresh or enter the scoreboard.
      bool dsack = seq_lt(s, snd_una);
      if (!dsack && n >= 2) {
        const SackBlock& b1 = blocks[1];
        dsack = seq_lt(b1.start, b1.end) && seq_geq(s, b1.start) && seq_leq(e, b1.end);
      }
      if (dsack) {
        res.dsack = true;
        res.dsack_block = blocks[0];
        continue;
      }
    }
    // RFC 2018 §5 / RFC 6675 §3: only ranges of data actually sent and not
    // yet cumulatively acked carry information; anything else is stale,
    // corrupt or forged.
    if (!valid || seq_gt(e, snd_max) || seq_leq(e, snd_una)) continue;
    const Seq s2 = seq_max(s, snd_una);
    res.newly_sacked += (e - s2) - covered(s2, e);
    insert(s2, e);
  }

  uint32_t total = 0;
  for (unsigned i = 0; i < n_; ++i) total += blk_[i].end - blk_[i].start;
  sacked_ = total;
  return res;
}

bool SackScoreboard::is_sacked(Seq s) const {
  for (unsigned i = 0; i < n_; ++i) {
    if (seq_in(s, blk_[i].start, blk_[i].end)) return true;
    if (seq_lt(s, blk_[i].start)) break;  // sorted: nothing further can hold s
  }
  return false;
}

bool SackScoreboard::hole_lost(unsigned ranges_above, uint64_t bytes_above, uint32_t smss,
                               unsigned dup_thresh) {
  // RFC 6675 §4 IsLost(). DupThresh 0 would make every octet lost; treat it
  // as 1 (the most aggressive meaningful setting).
  const unsigned dt = dup_thresh ? dup_thresh : 1;
  return ranges_above >= dt || bytes_above > uint64_t{dt - 1} * smss;
}

bool SackScoreboard::is_lost(Seq seq, uint32_t smss, unsigned dup_thresh) const {
  unsigned ranges = 0;
  uint64_t bytes = 0;
  const Seq above = seq + 1;  // "sequence numbers greater than SeqNum"
  for (unsigned i = 0; i < n_; ++i) {
    if (!seq_gt(blk_[i].end, above)) continue;
    ++ranges;
    bytes += blk_[i].end - seq_max(blk_[i].start, above);
  }
  return hole_lost(ranges, bytes, smss, dup_thresh);
}

namespace {

// The scoreboard's ranges clipped to [una, max), visited in ascending order
// together with the hole below each, plus the final hole up to max. For a hole
// the callback gets the number of ranges and SACKed octets above it, which is
// all IsLost() needs: a hole holds no SACKed octet, so every octet of it has
// the same SACKed data above it.
template <typename HoleFn>
void walk_holes(const SackBlock* blk, unsigned n, Seq una, Seq max, HoleFn&& fn) {
  unsigned ranges = 0;
  uint64_t bytes = 0;
  for (unsigned i = 0; i < n; ++i) {
    const Seq s = seq_max(blk[i].start, una), e = seq_min(blk[i].end, max);
    if (seq_lt(s, e)) {
      ++ranges;
      bytes += e - s;
    }
  }
  Seq pos = una;
  for (unsigned i = 0; i < n; ++i) {
    const Seq s = seq_max(blk[i].start, una), e = seq_min(blk[i].end, max);
    if (!seq_lt(s, e)) continue;
    if (seq_lt(pos, s) && fn(pos, s, ranges, bytes)) return;
    --ranges;
    bytes -= e - s;
    pos = e;
  }
  if (seq_lt(pos, max)) fn(pos, max, 0u, uint64_t{0});
}

}  // namespace

uint32_t SackScoreboard::pipe(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss,
                              unsigned dup_thresh) const {
  uint64_t pipe = 0;
  walk_holes(blk_, n_, snd_una, snd_max, [&](Seq hs, Seq he, unsigned ranges, uint64_t bytes) {
    // RFC 6675 §4 SetPipe(), per octet S1 of the hole:
    //  (a) not IsLost(S1): it may still be in the network, +1
    //  (b) S1 <= HighRxt, i.e. S1 < high_rxt: its retransmission may be in
    //      the network, +1
    const uint32_t len = he - hs;
    if (!hole_lost(ranges, bytes, smss, dup_thresh)) pipe += len;
    if (seq_gt(high_rxt, hs)) pipe += seq_lt(high_rxt, he) ? high_rxt - hs : len;
    return false;
  });
  return static_cast<uint32_t>(std::min<uint64_t>(pipe, UINT32_MAX));
}

bool SackScoreboard::next_seg(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss,
                              NextSeg* out, unsigned dup_thresh) const {
  *out = NextSeg{};
  const uint32_t seg = smss ? smss : 1;
  walk_holes(blk_, n_, snd_una, snd_max, [&](Seq hs, Seq he, unsigned ranges, uint64_t bytes) {
    // (1.b): only holes with SACKed data above them; the final hole (above
    // the highest SACK) is new-ish data whose fate nothing tells us yet.
    if (ranges == 0) return true;
    // (1.a): S2 > HighRxt, i.e. S2 >= high_rxt: what is below was resent.
    const Seq c = seq_geq(hs, high_rxt) ? hs : high_rxt;
    if (!seq_lt(c, he)) return false;
    // The lowest candidate decides: IsLost() only weakens going up (less
    // SACKed data above), so if it fails here no higher hole is lost either,
    // and this same octet is then rule (3)'s S3.
    out->seq = c;
    out->len = std::min<uint32_t>(seg, he - c);
    out->rule = hole_lost(ranges, bytes, smss, dup_thresh) ? NextSegRule::lost
                                                           : NextSegRule::unsacked;
    return true;
  });
  return out->rule != NextSegRule::none;
}

bool SackScoreboard::next_seg(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss,
                              Seq* out) const {
  NextSeg ns;
  if (!next_seg(snd_una, snd_max, high_rxt, smss, &ns)) return false;
  *out = ns.seq;
  return true;
}

// ---------------------------------------------------------------------------
// SackReceiverBlocks

void SackReceiverBlocks::on_ooo_data(Seq start, Seq end) {
  if (!seq_lt(start, end)) return;
  SackBlock merged{start, end};
  bool absorbed[kMaxBlocks] = {};
  // Tracked ranges never overlap or touch each other (each was merged this
  // way when it arrived), so every range touching the final union touches
  // [start, end) itself: one pass finds them all.
  for (unsigned i = 0; i < n_; ++i) {
    if (seq_leq(blk_[i].start, merged.end) && seq_geq(blk_[i].end, merged.start)) {
      merged.start = seq_min(merged.start, blk_[i].start);
      merged.end = seq_max(merged.end, blk_[i].end);
      absorbed[i] = true;
    }
  }
  // RFC 2018 §4: the range holding the newest segment goes first, the others
  // keep their recency order; the least recent one drops off when full.
  SackBlock out[kMaxBlocks];
  unsigned k = 0;
  out[k++] = merged;
  for (unsigned i = 0; i < n_ && k < kMaxBlocks; ++i)
    if (!absorbed[i]) out[k++] = blk_[i];
  std::copy(out, out + k, blk_);
  n_ = static_cast<uint8_t>(k);
}

void SackReceiverBlocks::on_rcv_nxt(Seq rcv_nxt) {
  unsigned k = 0;
  for (unsigned i = 0; i < n_; ++i) {
    if (seq_leq(blk_[i].end, rcv_nxt)) continue;
    blk_[k] = blk_[i];
    blk_[k].start = seq_max(blk_[k].start, rcv_nxt);
    ++k;
  }
  n_ = static_cast<uint8_t>(k);
}

unsigned SackReceiverBlocks::fill(SackBlock* out, unsigned max) const {
  const unsigned k = std::min<unsigned>(n_, max);
  std::copy(blk_, blk_ + k, out);
  return k;
}

}  // namespace lg::tcp
