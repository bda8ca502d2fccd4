// Two complete TCP stacks in one process, joined by an in-memory link.
//
//   stack A (10.0.0.1, worker 0)                 stack B (10.0.0.2, worker 1)
//   NetWorker + TcpStack + TimerWheel            NetWorker + TcpStack + TimerWheel
//   ring ethdev A: TX -> ring_ab ------------->  ring ethdev B: RX
//                  RX <- ring_ba <-------------                TX
//
// Each side has its own mbuf pool, counters and timing wheel, exactly as a
// worker owns them. One thread drives both: every pass sets the clock, then
// runs A's part (RX burst -> input -> timers -> application -> flush) and B's
// part the same way, timing each part separately with the TSC so cycles are
// attributed to the stack that spent them (see TcpPair::pass).
//
// Frames cross the link by pointer: what A transmits (a header mbuf with
// indirect mbufs onto A's send queue) is what B receives. There is no copy,
// no DMA and no descriptor ring write-back, so the link itself is cheaper
// than any NIC; the figures are the stack's cost, not a wire's.
#pragma once

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/counters/counters.h"
#include "dataplane/net/iface.h"
#include "dataplane/net/net_worker.h"
#include "dataplane/tcp/stack.h"
#include "dataplane/timer/timer_wheel.h"
#include "drivers/impair.h"

namespace lg::bench {

inline constexpr unsigned kTimerTicksPerSecond = 10000;  // as the runtime: 100 us ticks

struct PairConfig {
  tcp::TcpConfig tcp;            // both stacks
  bool offload = false;          // emulate checksum offload (TX flags set, RX marked good)
  drv::ImpairConfig impair;      // applied to both sides' transmit (both directions of the link)
  unsigned pool_mbufs = 32767;   // per side
  unsigned ring_size = 8192;     // per direction
};

// TSC cycles one side spent in its part of the loop passes.
struct SideTime {
  uint64_t passes = 0;
  uint64_t busy_passes = 0;   // passes where this side had work (RX, timers, app, TX)
  uint64_t total_cycles = 0;  // all its parts
  uint64_t busy_cycles = 0;   // its parts in busy passes only (the worker's accounting)
};

class Side {
 public:
  Side() = default;
  Side(const Side&) = delete;
  Side& operator=(const Side&) = delete;
  ~Side() { finish(); }

  // worker: 0 for A, 1 for B. The NetWorker names its neighbor hash after its
  // worker index, so two NetWorkers in one process need distinct indices; the
  // worker index is also the TX queue it uses (B's port has two TX queues,
  // both onto the same ring).
  bool init(const std::string& tag, unsigned worker, const rte_ether_addr& mac, const char* ip, rte_ring* rx,
            rte_ring* tx, const PairConfig& cfg, std::string* error) {
    const uint64_t hz = rte_get_tsc_hz();
    const int socket = static_cast<int>(rte_socket_id());
    offload_ = cfg.offload;
    pool = rte_pktmbuf_pool_create(("lgb_pool_" + tag).c_str(), cfg.pool_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   socket);
    if (pool == nullptr) return fail(error, "mempool " + tag);
    pool_size_ = cfg.pool_mbufs;
    prefault_pool();
    rte_ring* txq[2] = {tx, tx};
    const uint16_t ntx = static_cast<uint16_t>(worker + 1);
    const int port = rte_eth_from_rings(("net_ring_lgb_" + tag).c_str(), &rx, 1, txq, ntx, static_cast<unsigned>(socket));
    if (port < 0) return fail(error, "rte_eth_from_rings " + tag);
    port_id = static_cast<uint16_t>(port);
    port_open_ = true;
    // A port that is not started has dummy burst functions that move nothing.
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port_id, 1, ntx, &conf) != 0) return fail(error, "configure " + tag);
    if (rte_eth_rx_queue_setup(port_id, 0, 1024, static_cast<unsigned>(socket), nullptr, pool) != 0)
      return fail(error, "rx queue " + tag);
    for (uint16_t q = 0; q < ntx; ++q)
      if (rte_eth_tx_queue_setup(port_id, q, 1024, static_cast<unsigned>(socket), nullptr) != 0)
        return fail(error, "tx queue " + tag);
    if (rte_eth_dev_start(port_id) != 0) return fail(error, "start " + tag);

    PortConfig pc;
    pc.name = tag;
    in_addr a{};
    inet_pton(AF_INET, ip, &a);
    pc.ipv4 = Ipv4Prefix{ntohl(a.s_addr), 24};
    drv::Offloads off;
    if (cfg.offload) off.tx_ipv4_cksum = off.tx_tcp_cksum = off.rx_ipv4_cksum = off.rx_l4_cksum = true;
    ifaces.push_back(net::make_iface(0, port_id, mac, pc, off));

    timers = std::make_unique<TimerWheel>(std::max<uint64_t>(1, hz / kTimerTicksPerSecond), rte_rdtsc());
    counters = std::make_unique<LcoreCounters>();
    net::NetWorkerConfig nc;
    nc.worker = worker;
    nc.ifaces = ifaces;
    nc.pool = pool;
    nc.neigh = net::NeighParams::defaults(hz);
    nc.socket_id = socket;
    net = std::make_unique<net::NetWorker>(nc, *counters, *timers);
    if (!net->ok()) return fail(error, "NetWorker " + tag);
    tcp = std::make_unique<tcp::TcpStack>(cfg.tcp, worker, ifaces, *net, *timers, *counters, pool, socket, hz);
    if (!tcp->ok()) return fail(error, "TcpStack " + tag);
    if (cfg.impair.enabled()) {
      impair = std::make_unique<drv::ImpairStage>(cfg.impair, hz, pool, (uint64_t{worker} << 32) | 1);
      net->set_tx_impair(0, impair.get());
    }
    return true;
  }

  uint64_t event(Event e) const { return counters->events[0][static_cast<unsigned>(e)]; }
  uint64_t drop(Drop d) const { return counters->drops[0][static_cast<unsigned>(d)]; }
  int64_t gauge(Gauge g) const { return static_cast<int64_t>(counters->gauges[0][static_cast<unsigned>(g)]); }
  // Nonzero drop counters as "name=n ...".
  std::string drops() const {
    std::string s;
    for (unsigned d = 0; d < kDropCount; ++d)
      if (counters->drops[0][d] != 0)
        s += std::string(drop_name(static_cast<Drop>(d))) + "=" + std::to_string(counters->drops[0][d]) + " ";
    return s;
  }

  // This side's part of one loop pass. Returns the TSC at its end.
  template <class App>
  uint64_t part(uint64_t now, uint64_t start, App&& app) {
    const uint64_t tx_before = counters->events[0][static_cast<unsigned>(Event::tx_frames)];
    rte_mbuf* pkts[net::kBurst];
    const uint16_t n = rte_eth_rx_burst(port_id, 0, pkts, net::kBurst);
    if (n != 0) {
      if (offload_) {
        // What a NIC with checksum offload reports: verified, whatever was
        // (or was not) filled in by the sender's offload request.
        for (uint16_t i = 0; i < n; ++i) pkts[i]->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
      }
      net->input(0, pkts, n);
    }
    const unsigned fired = timers->advance(now);
    const unsigned app_work = app();
    net->flush();
    const uint64_t end = rte_rdtsc();
    const uint64_t tx = counters->events[0][static_cast<unsigned>(Event::tx_frames)] - tx_before;
    ++time.passes;
    time.total_cycles += end - start;
    if (n + fired + app_work + tx != 0) {
      ++time.busy_passes;
      time.busy_cycles += end - start;
    }
    return end;
  }

  // Teardown in two steps so that mbufs of one side's pool held by the other
  // (B's receive queue references A's send buffers; each ring holds the
  // other side's frames) are all back before either pool is checked.
  // Step 1: the stack, network layer and impairment stage let go of their
  // mbufs, and this side's RX ring is drained.
  void release() {
    tcp.reset();
    net.reset();
    if (impair) impair->flush_all();
    impair.reset();
    timers.reset();
    if (port_open_) {
      rte_mbuf* pkts[net::kBurst];
      uint16_t n;
      while ((n = rte_eth_rx_burst(port_id, 0, pkts, net::kBurst)) != 0) rte_pktmbuf_free_bulk(pkts, n);
    }
  }
  // Step 2: the port closes and every mbuf must be back (false: a leak).
  bool finish() {
    if (done_) return leak_free_;
    done_ = true;
    release();
    if (port_open_) {
      rte_eth_dev_stop(port_id);
      rte_eth_dev_close(port_id);
      port_open_ = false;
    }
    leak_free_ = true;
    if (pool != nullptr) {
      const unsigned avail = rte_mempool_avail_count(pool);
      in_use_at_teardown = pool_size_ - avail;
      leak_free_ = avail == pool_size_;
      // A pool with mbufs still out (a leak) is kept: freeing it would turn
      // the leak into a use-after-free elsewhere.
      if (leak_free_) rte_mempool_free(pool);
      pool = nullptr;
    }
    return leak_free_;
  }

  rte_mempool* pool = nullptr;
  uint16_t port_id = 0;
  std::vector<net::Iface> ifaces;
  std::unique_ptr<TimerWheel> timers;
  std::unique_ptr<LcoreCounters> counters;
  std::unique_ptr<net::NetWorker> net;
  std::unique_ptr<tcp::TcpStack> tcp;
  std::unique_ptr<drv::ImpairStage> impair;
  SideTime time;
  unsigned in_use_at_teardown = 0;

 private:
  // Without hugepages the pool's data rooms are 4 KiB pages nobody touched
  // yet; the first use of each would page-fault inside a timed pass.
  void prefault_pool() {
    std::vector<rte_mbuf*> all(pool_size_);
    if (rte_pktmbuf_alloc_bulk(pool, all.data(), pool_size_) != 0) return;
    for (rte_mbuf* m : all) std::memset(m->buf_addr, 0, m->buf_len);
    rte_pktmbuf_free_bulk(all.data(), pool_size_);
  }
  static bool fail(std::string* error, const std::string& what) {
    *error = what + " failed";
    return false;
  }
  bool offload_ = false;
  bool port_open_ = false;
  bool done_ = false;
  bool leak_free_ = true;
  unsigned pool_size_ = 0;
};

class TcpPair {
 public:
  static constexpr const char* kIpA = "10.0.0.1";
  static constexpr const char* kIpB = "10.0.0.2";

  TcpPair() = default;
  TcpPair(const TcpPair&) = delete;
  TcpPair& operator=(const TcpPair&) = delete;
  ~TcpPair() { teardown(); }

  bool init(const PairConfig& cfg, std::string* error) {
    static unsigned instance = 0;
    const std::string id = std::to_string(instance++);
    ring_ab_ = rte_ring_create(("lgb_ab_" + id).c_str(), cfg.ring_size, static_cast<int>(rte_socket_id()),
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
    ring_ba_ = rte_ring_create(("lgb_ba_" + id).c_str(), cfg.ring_size, static_cast<int>(rte_socket_id()),
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring_ab_ == nullptr || ring_ba_ == nullptr) {
      *error = "rte_ring_create failed";
      return false;
    }
    const rte_ether_addr mac_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
    const rte_ether_addr mac_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};
    if (!a.init("a" + id, 0, mac_a, kIpA, ring_ba_, ring_ab_, cfg, error)) return false;
    if (!b.init("b" + id, 1, mac_b, kIpB, ring_ab_, ring_ba_, cfg, error)) return false;
    // Pre-learned neighbors: no ARP on the link.
    a.net->neighbors().learn(0, net::NeighAddr::v4(b.ifaces[0].ip4), mac_b, net::NeighLearn::confirmed);
    b.net->neighbors().learn(0, net::NeighAddr::v4(a.ifaces[0].ip4), mac_a, net::NeighLearn::confirmed);
    return true;
  }

  // One pass of the single-threaded loop: both clocks, then A's part, then
  // B's. A's part is timed from the pass start (so the clock reads count as
  // A's), B's from the end of A's.
  template <class AppA, class AppB>
  void pass(AppA&& app_a, AppB&& app_b) {
    const uint64_t t0 = rte_rdtsc();
    a.tcp->set_clock(t0);
    b.tcp->set_clock(t0);
    const uint64_t t1 = a.part(t0, t0, app_a);
    b.part(t0, t1, app_b);
  }

  rte_be32_t ip_b() const { return b.ifaces[0].ip4; }

  // Frees everything; true when no mbuf leaked on either side.
  bool teardown() {
    if (torn_down_) return leak_free_;
    torn_down_ = true;
    a.release();
    b.release();
    const bool la = a.finish();
    const bool lb = b.finish();
    rte_ring_free(ring_ab_);
    rte_ring_free(ring_ba_);
    leak_free_ = la && lb;
    return leak_free_;
  }

  Side a, b;

 private:
  rte_ring* ring_ab_ = nullptr;
  rte_ring* ring_ba_ = nullptr;
  bool torn_down_ = false;
  bool leak_free_ = true;
};

}  // namespace lg::bench
