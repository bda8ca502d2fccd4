#include "dataplane/config/publisher.h"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace lg::config {

std::unique_ptr<TablePublisher> TablePublisher::create(unsigned workers, std::string* error) {
  std::unique_ptr<TablePublisher> p(new TablePublisher());
  p->readers_.reset(new Reader[workers]);
  p->workers_ = workers;
  const size_t size = rte_rcu_qsbr_get_memsize(workers);
  p->qs_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("lg_config_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (p->qs_ == nullptr || rte_rcu_qsbr_init(p->qs_, workers) != 0) {
    *error = std::string("cannot allocate the config RCU state: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  return p;
}

TablePublisher::~TablePublisher() {
  delete current_.exchange(nullptr);  // workers are stopped by now
  rte_free(qs_);
}

void TablePublisher::register_reader(unsigned worker) {
  rte_rcu_qsbr_thread_register(qs_, worker);
  rte_rcu_qsbr_thread_online(qs_, worker);
  readers_[worker].online.store(true, std::memory_order_release);
}

void TablePublisher::unregister_reader(unsigned worker) {
  readers_[worker].online.store(false, std::memory_order_release);
  rte_rcu_qsbr_thread_offline(qs_, worker);
  rte_rcu_qsbr_thread_unregister(qs_, worker);
}

void TablePublisher::publish(std::unique_ptr<RuntimeTables> next) {
  next->generation = generation_.load(std::memory_order_relaxed) + 1;
  const RuntimeTables* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  const uint64_t gen = generation_.fetch_add(1, std::memory_order_relaxed) + 1;
  // Workers carry per-connection state over from `old` when they first see
  // the new tables; it must outlive that. A worker does so within one pass.
  for (unsigned w = 0; w < workers_; ++w)
    while (readers_[w].online.load(std::memory_order_acquire) &&
           readers_[w].adopted.load(std::memory_order_acquire) < gen)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  // Offline (stopped or not yet started) workers do not hold up the grace period.
  rte_rcu_qsbr_synchronize(qs_, RTE_QSBR_THRID_INVALID);
  if (old != nullptr) {
    std::lock_guard lock(retired_mu_);
    retired_.emplace_back(old);
  }
  reclaim();
}

void TablePublisher::reclaim() {
  uint64_t oldest = UINT64_MAX;
  for (unsigned w = 0; w < workers_; ++w)
    if (readers_[w].online.load(std::memory_order_acquire))
      oldest = std::min(oldest, readers_[w].pinned.load(std::memory_order_acquire));
  std::lock_guard lock(retired_mu_);
  std::erase_if(retired_, [&](const std::unique_ptr<const RuntimeTables>& t) { return t->generation < oldest; });
}

size_t TablePublisher::retired() const {
  std::lock_guard lock(retired_mu_);
  return retired_.size();
}

}  // namespace lg::config
