// Selective acknowledgment, both directions:
//  - SackScoreboard (sender): what the peer has SACKed above snd_una
//    (RFC 2018), D-SACK recognition (RFC 2883), and the RFC 6675 §4 loss
//    recovery helpers IsLost(), SetPipe() and NextSeg().
//  - SackReceiverBlocks (receiver): which out-of-order ranges to report in
//    the SACK option of outgoing ACKs (RFC 2018 §4).
// Both are fixed-size and embedded in every connection: no allocation, no
// clock, O(number of blocks) per operation.
//
// Conventions: every range and bound is half-open, [start, end), in sequence
// space (seq.h). That includes high_rxt, which is one past RFC 6675's HighRxt
// (the RFC's sequence numbers name octets inclusively); see pipe().
#pragma once

#include <cstdint>

#include "dataplane/tcp/seq.h"

namespace lg::tcp {

// One SACK block as carried in the option (RFC 2018 §3): [start, end).
struct SackBlock {
  Seq start;
  Seq end;
  friend constexpr bool operator==(const SackBlock&, const SackBlock&) = default;
};

// Result of feeding one ACK to the scoreboard.
struct SackAckResult {
  // Octets this ACK reported as SACKed that were neither SACKed before nor
  // below snd_una. Non-zero makes the ACK a "duplicate acknowledgment" in
  // the sense of RFC 6675 §2 (it "identifies previously unacknowledged and
  // un-SACKed octets"), which is what counts towards DupThresh.
  uint32_t newly_sacked = 0;
  // RFC 2883: the first block reported a duplicate segment (D-SACK); it was
  // not inserted. dsack_block is meaningful only when dsack is set.
  bool dsack = false;
  SackBlock dsack_block{0, 0};
};

// Which NextSeg() rule of RFC 6675 §4 produced a retransmission candidate.
enum class NextSegRule : uint8_t {
  none = 0,
  lost = 1,      // rule (1): lowest lost hole octet above HighRxt
  unsacked = 3,  // rule (3): lowest un-SACKed octet above HighRxt, not (yet) lost
};

struct NextSeg {
  Seq seq = 0;       // first octet to retransmit (S2 of rule 1, S3 of rule 3)
  uint32_t len = 0;  // up to SMSS, never into SACKed data or past snd_max
  NextSegRule rule = NextSegRule::none;
};

class SackScoreboard {
 public:
  static constexpr unsigned kMaxBlocks = 16;

  // Forget everything: new connection, or after an RTO, where RFC 2018 §8 has
  // the sender turn off all SACKed bits because the timeout may mean the
  // receiver reneged (discarded SACKed data).
  void reset();

  // Processes the SACK blocks of one incoming ACK. snd_una is the cumulative
  // ACK after this segment (the connection's current SND.UNA; it must not go
  // backwards), snd_max the highest sequence number ever sent + 1.
  //  - Ranges below snd_una are dropped: cumulatively acked data needs no
  //    SACK state.
  //  - blocks[0] is a D-SACK (RFC 2883) if it starts below snd_una or lies
  //    within blocks[1]; it is reported, not inserted.
  //  - Other blocks that are empty, reach beyond snd_max or lie entirely at
  //    or below snd_una are ignored (RFC 2018 gives the sender no reason to
  //    trust them); a block straddling snd_una is trimmed to it.
  //  - When all kMaxBlocks slots are used the highest range is dropped
  //    (dropped_ranges() counts them): the lowest holes are what recovery
  //    retransmits first, and forgetting a SACK only makes the sender more
  //    conservative (that data counts as in flight, never as delivered).
  // blocks may be null when n == 0.
  SackAckResult on_ack(Seq snd_una, Seq snd_max, const SackBlock* blocks, unsigned n);

  bool is_sacked(Seq s) const;
  // Total SACKed octets above snd_una.
  uint32_t sacked_bytes() const { return sacked_; }
  // One past the highest SACKed octet (RFC 6675's "highest SACKed sequence"
  // + 1, as used by NextSeg() rule (1.b)); snd_una when nothing is SACKed.
  Seq highest_sacked() const { return n_ ? blk_[n_ - 1].end : una_; }
  bool empty() const { return n_ == 0; }
  unsigned blocks() const { return n_; }
  // i-th range in ascending sequence order, i < blocks().
  const SackBlock& block(unsigned i) const { return blk_[i]; }
  // Ranges forgotten because the scoreboard was full, since reset().
  uint32_t dropped_ranges() const { return dropped_; }

  // RFC 6675 §4 IsLost(seq): true if at least dup_thresh discontiguous SACKed
  // ranges, or more than (dup_thresh - 1) * smss SACKed octets, lie above
  // seq. The RFC counts "discontiguous SACKed sequences", i.e. segments; the
  // scoreboard only keeps merged ranges, so each range counts once. That
  // undercounts only when several SACKed segments are contiguous, and then
  // the byte rule usually fires instead (it is exact).
  bool is_lost(Seq seq, uint32_t smss, unsigned dup_thresh = 3) const;

  // RFC 6675 §4 SetPipe(): octets estimated in flight. For every un-SACKed
  // octet in [snd_una, snd_max): +1 if it is not IsLost(), and +1 more if it
  // was retransmitted in this recovery, i.e. octet < high_rxt.
  // high_rxt: one past the highest octet retransmitted in this recovery
  // (RFC 6675's "S1 <= HighRxt" becomes "S1 < high_rxt"): set it to snd_una
  // when recovery starts and to seq + len after each retransmission; any
  // value at or below snd_una (less than 2^31 behind) means "none".
  // Exact to the octet, not per segment: IsLost() is the same for every octet
  // of a hole (no SACKed data inside it), so the walk is over the at most
  // kMaxBlocks + 1 holes, O(blocks), with no cap needed.
  uint32_t pipe(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss,
                unsigned dup_thresh = 3) const;

  // RFC 6675 §4 NextSeg(), rules (1) and (3); rule (2), new data, and rule
  // (4), the rescue retransmission, are the caller's. Rule (3) may only be
  // used when rule (2) cannot send, so the candidate says which rule found it:
  //   if (sb.next_seg(..., &ns)) {
  //     if (ns.rule == NextSegRule::unsacked && can_send_new_data) send new data;
  //     else retransmit [ns.seq, ns.seq + ns.len), then high_rxt = ns.seq + ns.len
  //   }
  // Rule (1): the lowest un-SACKed octet S2 not yet retransmitted (RFC
  // 6675's S2 > HighRxt, here S2 >= high_rxt), below the highest SACKed octet,
  // with IsLost(S2). Rule (3): the same without IsLost.
  // Candidates lie in holes below highest_sacked(), so nothing above the last
  // SACK is ever proposed. Returns false (and rule none) if no candidate.
  bool next_seg(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss, NextSeg* out,
                unsigned dup_thresh = 3) const;
  // The same, only the start: rule (1) if it finds one, else rule (3). Note
  // that this form cannot let new data (rule 2) go before a rule (3)
  // candidate, nor tell how much may be resent before SACKed data begins.
  bool next_seg(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss, Seq* out) const;

 private:
  // Octets of [s, e) already covered by ranges.
  uint32_t covered(Seq s, Seq e) const;
  void insert(Seq s, Seq e);
  void trim_below(Seq una);
  // IsLost() for an octet lying in the hole just below range i (i == n_:
  // above all ranges), given the SACKed octets in ranges i..n_-1.
  static bool hole_lost(unsigned ranges_above, uint64_t bytes_above, uint32_t smss,
                        unsigned dup_thresh);

  SackBlock blk_[kMaxBlocks];  // sorted, disjoint, non-adjacent, all above una_
  Seq una_ = 0;
  uint32_t sacked_ = 0;
  uint32_t dropped_ = 0;
  uint8_t n_ = 0;
};

static_assert(sizeof(SackScoreboard) == 144, "SackScoreboard is embedded in every connection");

// Receiver side, RFC 2018 §4: the out-of-order ranges to report, most
// recently changed first. The first block of an ACK MUST be the range holding
// the segment that triggered it, and the following ones SHOULD repeat the
// most recently reported ranges, so that several ACKs together convey more
// than 3-4 ranges even if some are lost.
class SackReceiverBlocks {
 public:
  static constexpr unsigned kMaxBlocks = 4;  // 40 option bytes: 4 blocks without timestamps

  void reset() { n_ = 0; }
  // Out-of-order data [start, end) arrived. Pass the whole contiguous range
  // the reassembly queue now holds around the segment if known; passing just
  // the segment is safe (it may under-report, never over-report). The
  // range is merged with any tracked range it overlaps or touches and moved
  // to the front; the oldest range falls off when more than 4 are tracked.
  void on_ooo_data(Seq start, Seq end);
  // RCV.NXT advanced: ranges now at or below it are no longer "out of order"
  // and must not be reported (RFC 2018 §4), those straddling it are trimmed.
  void on_rcv_nxt(Seq rcv_nxt);
  // Copies up to max blocks, most recent first, into out. Returns the count.
  // The caller decides max from option space (e.g. 3 with timestamps).
  unsigned fill(SackBlock* out, unsigned max) const;
  unsigned blocks() const { return n_; }

 private:
  SackBlock blk_[kMaxBlocks];  // blk_[0] is the most recently changed
  uint8_t n_ = 0;
};

static_assert(sizeof(SackReceiverBlocks) == 36, "SackReceiverBlocks is embedded in every connection");

}  // namespace lg::tcp
