// An ethdev backed by two rte_rings, for unit tests that drive the network
// layer in one process: what the code under test transmits lands in a ring
// the test reads back. The port is configured and started, because a port
// that is not started has dummy burst functions that send nothing.
#pragma once

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <string>
#include <vector>

namespace lg::test {

class RingPort {
 public:
  RingPort(const std::string& tag, rte_mempool* pool) {
    static int n = 0;
    const std::string id = tag + std::to_string(n++);
    rx_ = rte_ring_create((id + "_rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ = rte_ring_create((id + "_tx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (rx_ == nullptr || tx_ == nullptr) return;
    const int port = rte_eth_from_rings((id + "_port").c_str(), &rx_, 1, &tx_, 1, 0);
    if (port < 0) return;
    id_ = static_cast<uint16_t>(port);
    created_ = true;
    rte_eth_conf conf{};
    started_ = rte_eth_dev_configure(id_, 1, 1, &conf) == 0 &&
               rte_eth_rx_queue_setup(id_, 0, 256, 0, nullptr, pool) == 0 &&
               rte_eth_tx_queue_setup(id_, 0, 256, 0, nullptr) == 0 && rte_eth_dev_start(id_) == 0;
  }
  ~RingPort() {
    if (tx_ != nullptr) drain();
    if (started_) rte_eth_dev_stop(id_);
    if (created_) rte_eth_dev_close(id_);
    rte_ring_free(rx_);
    rte_ring_free(tx_);
  }
  RingPort(const RingPort&) = delete;
  RingPort& operator=(const RingPort&) = delete;

  bool ok() const { return started_; }
  uint16_t id() const { return id_; }

  // Every frame transmitted since the last call, as bytes; the mbufs are freed.
  std::vector<std::vector<uint8_t>> drain() {
    std::vector<std::vector<uint8_t>> out;
    void* obj;
    while (rte_ring_dequeue(tx_, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      std::vector<uint8_t> b(rte_pktmbuf_pkt_len(m));
      const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(b.size()), b.data());
      if (p != b.data()) std::memcpy(b.data(), p, b.size());
      out.push_back(std::move(b));
      rte_pktmbuf_free(m);
    }
    return out;
  }

 private:
  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  uint16_t id_ = 0;
  bool created_ = false;
  bool started_ = false;
};

}  // namespace lg::test
