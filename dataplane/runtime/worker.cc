#include "dataplane/runtime/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

namespace lg {

Worker::Worker(const WorkerConfig& cfg, LcoreCounters& counters)
    : cfg_(cfg),
      counters_(counters),
      timers_(cfg.timer_tick_cycles, rte_rdtsc()),
      net_(cfg_.net, counters, timers_),
      tcp_(cfg_.tcp, cfg_.index, cfg_.net.ifaces, net_, timers_, counters, cfg_.net.pool, cfg_.net.socket_id,
           cfg_.tsc_hz),
      apps_(cfg_.apps, cfg_.index, tcp_, cfg_.tcp.max_connections),
      clusters_(cfg_.index, cfg_.registry),
      tls_(cfg_.tls, cfg_.index, tcp_, timers_, *cfg_.registry, cfg_.tsc_hz),
      proxy_(cfg_.proxy, cfg_.index, tcp_, timers_, clusters_, *cfg_.registry, cfg_.tsc_hz, &tls_),
      http_(cfg_.http, cfg_.index, tcp_, timers_, clusters_, *cfg_.registry, cfg_.config, cfg_.tsc_hz, &tls_) {
  impair_seen_.resize(cfg_.impair.size());
  if (cfg_.link_ups != nullptr) announced_.resize(cfg_.net.ifaces.size());
  for (size_t p = 0; p < cfg_.impair.size(); ++p) {
    const drv::ImpairConfig& ic = cfg_.impair[p];
    if (!ic.enabled()) {
      rx_impair_.emplace_back();
      tx_impair_.emplace_back();
      continue;
    }
    // Distinct streams per port, direction and worker, all from one seed.
    const uint64_t stream = (uint64_t{cfg_.index} << 32) | (p << 1);
    rx_impair_.push_back(std::make_unique<drv::ImpairStage>(ic, cfg_.tsc_hz, cfg_.net.pool, stream));
    tx_impair_.push_back(std::make_unique<drv::ImpairStage>(ic, cfg_.tsc_hz, cfg_.net.pool, stream | 1));
    net_.set_tx_impair(static_cast<unsigned>(p), tx_impair_.back().get());
  }
}

void Worker::export_impair_counters() {
  for (size_t p = 0; p < rx_impair_.size(); ++p) {
    if (!rx_impair_[p]) continue;
    const drv::ImpairStats& a = rx_impair_[p]->stats();
    const drv::ImpairStats& b = tx_impair_[p]->stats();
    drv::ImpairStats& seen = impair_seen_[p];
    const auto port = static_cast<unsigned>(p);
    const auto add = [&](Event e, uint64_t now_total, uint64_t& last) {
      if (now_total != last) counters_.event(port, e, now_total - last);
      last = now_total;
    };
    add(Event::impair_dropped, a.dropped + b.dropped, seen.dropped);
    add(Event::impair_duplicated, a.duplicated + b.duplicated, seen.duplicated);
    add(Event::impair_reordered, a.reordered + b.reordered, seen.reordered);
    add(Event::impair_corrupted, a.corrupted + b.corrupted, seen.corrupted);
    add(Event::impair_delayed, a.delayed + b.delayed, seen.delayed);
  }
}

void Worker::announce_link_ups() {
  for (size_t p = 0; p < announced_.size(); ++p) {
    const uint32_t ups = cfg_.link_ups[p].load(std::memory_order_relaxed);
    if (ups == announced_[p]) continue;
    announced_[p] = ups;
    net_.announce(static_cast<unsigned>(p));
  }
}

int Worker::main(void* self) { return static_cast<Worker*>(self)->run(); }

int Worker::run() {
  const auto& ifaces = cfg_.net.ifaces;
  const auto queue = static_cast<uint16_t>(cfg_.index);
  LoopCounters& loop = counters_.loop;
  constexpr uint16_t kCap = 2 * net::kBurst;  // room for impairment duplicates
  rte_mbuf* pkts[kCap];
  cfg_.config->register_reader(cfg_.index);
  cfg_.pollers->online(cfg_.index);
  uint64_t seen_generation = 0;

  while (!cfg_.stop->load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    // One read per pass: everything this pass does sees one config.
    const config::RuntimeTables* tables = cfg_.config->tables();
    tcp_.set_clock(start);
    // New tables: upstream state moves over and listeners follow, before
    // anything this pass uses them.
    clusters_.set_tables(tables, tcp_.now_us());
    proxy_.set_tables(tables);
    http_.set_tables(tables);
    if (cfg_.drain != nullptr && !draining_ && cfg_.drain->load(std::memory_order_relaxed)) {
      draining_ = true;
      proxy_.drain();
      http_.drain();
    }
    if (tables != nullptr && tables->generation != seen_generation) {
      seen_generation = tables->generation;
      cfg_.seen_generation->store(seen_generation, std::memory_order_relaxed);
      cfg_.config->adopted(cfg_.index, seen_generation);
    }
    unsigned work = 0;
    for (const net::Iface& f : ifaces) {
      uint16_t n = rte_eth_rx_burst(f.port_id, queue, pkts, net::kBurst);
      if (f.index < rx_impair_.size() && rx_impair_[f.index]) {
        n = rx_impair_[f.index]->apply(pkts, n, kCap, start);
        n = rx_impair_[f.index]->drain(pkts, n, kCap, start);
      }
      if (n == 0) continue;
      net_.input(f.index, pkts, n);
      work += n;
    }
    work += net_.poll_inbox();
    if (cfg_.index == 0) announce_link_ups();
    work += timers_.advance(start);
    apps_.poll();
    clusters_.poll(tcp_.now_us());
    // TLS records of the pass, opened and sealed in bursts, before TX.
    work += tls_.flush(tables);
    if (cfg_.active != nullptr) cfg_.active->store(http_.active_streams() + proxy_.active_sessions(), std::memory_order_relaxed);
    net_.flush();
    export_impair_counters();
    // No pointer from tables() is held past here: the old tables may go.
    cfg_.config->quiescent(cfg_.index);
    cfg_.pollers->quiescent(cfg_.index);

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
  cfg_.pollers->offline(cfg_.index);
  cfg_.config->unregister_reader(cfg_.index);
  return 0;
}

}  // namespace lg
