// Publishes read-only runtime tables to the workers with QSBR RCU
// (rte_rcu_qsbr): the control plane swaps the pointer, waits until every
// worker has passed a quiescent point (one loop iteration), then frees the
// old tables. Workers never lock and never see a table being freed.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/config/runtime_tables.h"

namespace lg::config {

class TablePublisher {
 public:
  // One QSBR reader slot per worker.
  static std::unique_ptr<TablePublisher> create(unsigned workers, std::string* error);
  ~TablePublisher();
  TablePublisher(const TablePublisher&) = delete;
  TablePublisher& operator=(const TablePublisher&) = delete;

  // Worker side (fast path). register_reader/unregister_reader bracket the
  // worker's loop; quiescent() is called once per iteration, after which the
  // worker holds no pointer obtained from tables().
  void register_reader(unsigned worker);
  void unregister_reader(unsigned worker);
  void quiescent(unsigned worker) { rte_rcu_qsbr_quiescent(qs_, worker); }
  // The worker has moved its state into the tables of `generation` (see
  // upstream::ClusterManager): until every online worker says so, the tables
  // they moved from stay alive.
  void adopted(unsigned worker, uint64_t generation) {
    readers_[worker].adopted.store(generation, std::memory_order_release);
  }
  // The oldest generation the worker still has requests in flight on
  // (UINT64_MAX: none). Replaced tables stay alive while a worker pins them,
  // so a request keeps the routes it was matched with until it ends.
  void pinned(unsigned worker, uint64_t generation) {
    readers_[worker].pinned.store(generation, std::memory_order_release);
  }
  const RuntimeTables* tables() const { return current_.load(std::memory_order_acquire); }

  // Control side: installs `next` (generation assigned here), waits for the
  // grace period and frees what it replaced. Blocks for at most one worker
  // loop iteration (plus its idle nap). Never call from a worker.
  void publish(std::unique_ptr<RuntimeTables> next);
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  // Frees replaced tables no worker pins any more (also done by publish).
  void reclaim();
  size_t retired() const;

 private:
  TablePublisher() = default;
  struct alignas(64) Reader {
    std::atomic<uint64_t> adopted{0};
    std::atomic<uint64_t> pinned{UINT64_MAX};
    std::atomic<bool> online{false};
  };
  rte_rcu_qsbr* qs_ = nullptr;
  std::unique_ptr<Reader[]> readers_;
  unsigned workers_ = 0;
  std::atomic<const RuntimeTables*> current_{nullptr};
  std::atomic<uint64_t> generation_{0};
  mutable std::mutex retired_mu_;  // control threads only
  std::vector<std::unique_ptr<const RuntimeTables>> retired_;
};

}  // namespace lg::config
