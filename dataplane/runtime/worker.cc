#include "dataplane/runtime/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

namespace lg {

Worker::Worker(const WorkerConfig& cfg, LcoreCounters& counters)
    : cfg_(cfg), counters_(counters), timers_(cfg.timer_tick_cycles, rte_rdtsc()), net_(cfg.net, counters, timers_) {}

int Worker::main(void* self) { return static_cast<Worker*>(self)->run(); }

int Worker::run() {
  const auto& ifaces = cfg_.net.ifaces;
  const auto queue = static_cast<uint16_t>(cfg_.index);
  LoopCounters& loop = counters_.loop;
  rte_mbuf* pkts[net::kBurst];

  while (!cfg_.stop->load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    unsigned work = 0;
    for (const net::Iface& f : ifaces) {
      const uint16_t n = rte_eth_rx_burst(f.port_id, queue, pkts, net::kBurst);
      if (n == 0) continue;
      net_.input(f.index, pkts, n);
      work += n;
    }
    work += net_.poll_inbox();
    work += timers_.advance(start);
    net_.flush();

    counter_add(loop.iterations);
    if (work != 0) {
      counter_add(loop.busy_iterations);
      counter_add(loop.busy_cycles, rte_rdtsc() - start);
    } else if (cfg_.idle_sleep_us != 0) {
      counter_add(loop.idle_sleeps);
      rte_delay_us_sleep(cfg_.idle_sleep_us);
    }
  }
  net_.flush();
  return 0;
}

}  // namespace lg
