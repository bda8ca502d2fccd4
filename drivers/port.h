// Port bring-up over any DPDK poll-mode driver: an SR-IOV VF by PCI address,
// or a virtual device (net_tap, net_memif, net_af_xdp, ...). One RX and one
// TX queue per worker; symmetric Toeplitz RSS where the device hashes;
// checksum offloads where it has them (the caller falls back to software).
#pragma once

#include <rte_ether.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lg::drv {

struct PortSpec {
  std::string name;     // bootstrap name, for messages
  std::string device;   // devargs: "0000:3b:02.0" or "net_tap0,iface=lg0"
  uint16_t mtu = 1500;
  uint16_t queues = 1;  // RX and TX queues, one per worker
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  rte_mempool* pool = nullptr;
};

struct Offloads {
  bool rx_ipv4_cksum = false;  // NIC validates IPv4 header checksums
  bool rx_l4_cksum = false;    // NIC validates TCP/UDP checksums
  bool tx_ipv4_cksum = false;  // NIC fills IPv4 header checksums
  bool tx_tcp_cksum = false;
  bool tx_udp_cksum = false;
  bool rss = false;            // flows spread over queues by symmetric Toeplitz
  uint16_t reta_size = 0;      // RSS redirection table entries (hash % reta_size picks the entry)
};

struct LinkStatus {
  bool up = false;
  uint32_t speed_mbps = 0;
  bool full_duplex = false;
};

struct QueueStats {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
};

struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0, rx_missed = 0, rx_errors = 0, rx_nombuf = 0;
  uint64_t tx_packets = 0, tx_bytes = 0, tx_errors = 0;
  std::vector<QueueStats> queues;  // the first min(queues, 16) queues
};

// Devices are named in the bootstrap exactly as DPDK's devargs; this tells
// which bus they sit on so EAL can be told which PCI functions to take.
bool is_pci_device(const std::string& devargs);

// The 40-byte symmetric Toeplitz key (0x6d5a repeated): A→B and B→A hash
// alike, so both directions of a flow land on one queue.
const std::array<uint8_t, 52>& symmetric_rss_key();

class Port {
 public:
  // Probes the device, configures queues and offloads, and starts it.
  // nullptr with *error naming the port, device and cause on failure.
  static std::unique_ptr<Port> open(const PortSpec& spec, std::string* error);
  ~Port();  // stops and closes the port; a virtual device is removed (tap interface gone)
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  uint16_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const rte_ether_addr& mac() const { return mac_; }
  const Offloads& offloads() const { return offloads_; }
  uint16_t queues() const { return queues_; }
  const char* driver() const { return driver_.c_str(); }

  // Receive these multicast groups (IPv6 all-nodes, solicited-node); devices
  // without a multicast filter (taps among them) take all multicast instead.
  void set_multicast(std::vector<rte_ether_addr> macs);

  LinkStatus link() const;
  PortStats stats() const;

 private:
  Port() = default;
  uint16_t id_ = 0;
  std::string name_;
  std::string driver_;
  rte_ether_addr mac_{};
  Offloads offloads_;
  uint16_t queues_ = 1;
  bool started_ = false;
  bool pci_ = false;
};

}  // namespace lg::drv
