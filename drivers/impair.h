// Test-only packet impairment: the kernel on our test machines has no netem,
// so the dataplane degrades its own traffic. One stage per (port, queue,
// direction), applied to RX bursts after rte_eth_rx_burst and to TX bursts
// before rte_eth_tx_burst. Runs on the worker lcore: after construction no
// heap, no locks, no syscalls, no logging, no exceptions.
//
// Per packet, in this order: loss, duplication (a deep copy right after the
// original), corruption (each copy on its own), the fixed delay line, then
// reordering (hold one packet back until a later one has gone out).
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>

namespace lg::drv {

inline constexpr uint32_t kImpairMaxDelayUs = 1'000'000;

struct ImpairConfig {
  double loss = 0, reorder = 0, duplicate = 0, corrupt = 0;  // each 0..1
  uint32_t delay_us = 0;  // every packet held this long (fixed delay); 0..kImpairMaxDelayUs
  uint64_t seed = 1;
  bool enabled() const { return loss > 0 || reorder > 0 || duplicate > 0 || corrupt > 0 || delay_us > 0; }
};

struct ImpairStats {
  uint64_t dropped = 0, duplicated = 0, reordered = 0, corrupted = 0, delayed = 0, overflow = 0;
};

class ImpairStage {
 public:
  // Delay-line capacity per stage; beyond it packets go through undelayed.
  static constexpr uint32_t kDelayCapacity = 4096;

  // tsc_hz converts delay_us into TSC cycles. pool supplies duplicates (and a
  // private copy when a packet to corrupt shares its data); nullptr disables
  // both. stream_id is mixed into the seed so queues and directions differ.
  ImpairStage(const ImpairConfig& cfg, uint64_t tsc_hz, rte_mempool* pool, uint64_t stream_id);
  ~ImpairStage();  // frees any held mbufs
  // Held mbufs make copies ambiguous; keep stages in place (e.g. unique_ptr).
  ImpairStage(const ImpairStage&) = delete;
  ImpairStage& operator=(const ImpairStage&) = delete;

  // Impairs pkts[0..n) in place; returns how many are now in pkts, at most
  // cap (the array's capacity, taken as n if smaller). Delayed packets come
  // out of drain(); one held back for reordering follows the next packet out.
  uint16_t apply(rte_mbuf** pkts, uint16_t n, uint16_t cap, uint64_t now_tsc) {
    if (!active_) [[likely]]
      return n;
    return apply_active(pkts, n, cap, now_tsc);
  }

  // Appends held packets that are due (delay) or have waited too long for a
  // later packet (reorder, 1 ms) at pkts[n..cap); returns the new count. The
  // worker calls it every loop pass so nothing is stranded.
  uint16_t drain(rte_mbuf** pkts, uint16_t n, uint16_t cap, uint64_t now_tsc) {
    if (held_ == nullptr && ring_head_ == ring_tail_) [[likely]]
      return n;
    return drain_held(pkts, n, cap, now_tsc);
  }

  // Frees everything held (shutdown).
  void flush_all();

  const ImpairStats& stats() const { return stats_; }

 private:
  struct Out;
  struct Delayed {
    rte_mbuf* m;
    uint64_t due_tsc;
  };

  uint16_t apply_active(rte_mbuf** pkts, uint16_t n, uint16_t cap, uint64_t now_tsc);
  uint16_t drain_held(rte_mbuf** pkts, uint16_t n, uint16_t cap, uint64_t now_tsc);
  void admit(rte_mbuf* m, Out& out, uint16_t reserve, uint64_t now_tsc);
  void emit(rte_mbuf* m, Out& out, uint16_t reserve, uint64_t now_tsc);
  bool corrupt_one_byte(rte_mbuf*& m);
  bool hit(uint64_t threshold);
  uint64_t next();

  // Hot state first: read on every active burst.
  bool active_ = false;
  bool may_grow_ = false;  // duplication or reordering can emit more than came in
  uint64_t loss_thr_ = 0, duplicate_thr_ = 0, corrupt_thr_ = 0, reorder_thr_ = 0;
  uint64_t rng_[4] = {};
  rte_mbuf* held_ = nullptr;  // the packet held back for reordering
  bool held_overtaken_ = false;  // a later packet went out while held_ waited for room
  uint64_t held_since_ = 0;
  uint64_t hold_limit_ = 0;   // TSC cycles a held packet waits for a later one
  uint64_t delay_cycles_ = 0;
  uint32_t ring_head_ = 0, ring_tail_ = 0;  // free-running; index & (kDelayCapacity - 1)
  std::unique_ptr<Delayed[]> ring_;         // only when delay_us > 0
  rte_mempool* pool_ = nullptr;
  ImpairStats stats_;
};

// For the bootstrap parser: "" if cfg is valid, else one message naming the
// first bad field and its range ("impair.loss: expected a fraction from 0 to
// 1, got 1.5").
std::string validate(const ImpairConfig& cfg);

}  // namespace lg::drv
