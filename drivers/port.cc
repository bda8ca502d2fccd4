#include "drivers/port.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pci.h>

#include <algorithm>
#include <cstring>

#include "drivers/log.h"

RTE_LOG_REGISTER(lg_drivers_logtype, lg.drivers, INFO);

namespace lg::drv {
namespace {

std::string device_name(const std::string& devargs) {
  std::string head = devargs.substr(0, devargs.find(','));
  rte_pci_addr addr{};
  if (rte_pci_addr_parse(head.c_str(), &addr) == 0) {
    char full[PCI_PRI_STR_SIZE];
    rte_pci_device_name(&addr, full, sizeof(full));  // normalize to domain:bus:dev.fn
    return full;
  }
  return head;
}

std::string fail(const PortSpec& s, const std::string& what, int err) {
  return "port " + s.name + " (" + s.device + "): " + what + ": " + rte_strerror(err < 0 ? -err : err);
}

}  // namespace

bool is_pci_device(const std::string& devargs) {
  rte_pci_addr addr{};
  std::string head = devargs.substr(0, devargs.find(','));
  return rte_pci_addr_parse(head.c_str(), &addr) == 0;
}

const std::array<uint8_t, 52>& symmetric_rss_key() {
  static const std::array<uint8_t, 52> key = [] {
    std::array<uint8_t, 52> k{};
    for (size_t i = 0; i < k.size(); ++i) k[i] = (i % 2 == 0) ? 0x6d : 0x5a;
    return k;
  }();
  return key;
}

std::unique_ptr<Port> Port::open(const PortSpec& spec, std::string* error) {
  const std::string name = device_name(spec.device);
  uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
    // Not probed by EAL at start: hot-plug it now (virtual devices always come this way).
    int rc = rte_dev_probe(spec.device.c_str());
    if (rc < 0) {
      *error = fail(spec, "cannot probe device (is the devargs string right? is a PCI function bound to vfio-pci?)", rc);
      return nullptr;
    }
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
      *error = "port " + spec.name + " (" + spec.device + "): device probed but no ethdev named " + name;
      return nullptr;
    }
  }

  std::unique_ptr<Port> port(new Port());
  port->id_ = id;
  port->name_ = spec.name;
  port->queues_ = spec.queues;
  port->pci_ = is_pci_device(spec.device);

  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(id, &info);
  if (rc != 0) {
    *error = fail(spec, "cannot read device info", rc);
    return nullptr;
  }
  port->driver_ = info.driver_name ? info.driver_name : "?";
  if (spec.queues > info.max_rx_queues || spec.queues > info.max_tx_queues) {
    *error = "port " + spec.name + " (" + spec.device + "): device offers " +
             std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)) +
             " queue pairs, workers: " + std::to_string(spec.queues) + " needs one per worker";
    return nullptr;
  }
  if (spec.mtu > info.max_mtu || spec.mtu < info.min_mtu) {
    *error = "port " + spec.name + " (" + spec.device + "): mtu " + std::to_string(spec.mtu) +
             " outside the device's range " + std::to_string(info.min_mtu) + ".." +
             std::to_string(info.max_mtu);
    return nullptr;
  }

  rte_eth_conf conf{};
  conf.rxmode.mtu = spec.mtu;
  const uint64_t rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  std::array<uint8_t, 52> key = symmetric_rss_key();
  if (spec.queues > 1 && rss_hf != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size ? info.hash_key_size : 40;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    port->offloads_.rss = true;
    port->offloads_.reta_size = info.reta_size;
  }
  const uint64_t want_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  const uint64_t want_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                           RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  conf.rxmode.offloads = info.rx_offload_capa & want_rx;
  conf.txmode.offloads = info.tx_offload_capa & want_tx;
  Offloads& o = port->offloads_;
  o.rx_ipv4_cksum = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
  o.rx_l4_cksum = (conf.rxmode.offloads & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) ==
                  (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
  o.tx_ipv4_cksum = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  o.tx_tcp_cksum = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  o.tx_udp_cksum = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

  rc = rte_eth_dev_configure(id, spec.queues, spec.queues, &conf);
  if (rc != 0) {
    *error = fail(spec, "configure failed", rc);
    return nullptr;
  }
  uint16_t rx_desc = spec.rx_desc, tx_desc = spec.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc);
  if (rc != 0) {
    *error = fail(spec, "descriptor counts rejected", rc);
    return nullptr;
  }
  const int socket = rte_eth_dev_socket_id(id) < 0 ? 0 : rte_eth_dev_socket_id(id);
  for (uint16_t q = 0; q < spec.queues; ++q) {
    rte_eth_rxconf rxq = info.default_rxconf;
    rxq.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(id, q, rx_desc, socket, &rxq, spec.pool);
    if (rc != 0) {
      *error = fail(spec, "rx queue " + std::to_string(q) + " setup failed", rc);
      return nullptr;
    }
    rte_eth_txconf txq = info.default_txconf;
    txq.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(id, q, tx_desc, socket, &txq);
    if (rc != 0) {
      *error = fail(spec, "tx queue " + std::to_string(q) + " setup failed", rc);
      return nullptr;
    }
  }
  rc = rte_eth_dev_start(id);
  if (rc != 0) {
    *error = fail(spec, "start failed", rc);
    return nullptr;
  }
  port->started_ = true;

  rte_eth_macaddr_get(id, &port->mac_);
  char mac[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(mac, sizeof(mac), &port->mac_);
  LG_DRV_LOG(INFO, "port %s: %s driver %s, mac %s, %u queue(s), rss %s, mtu %u, offloads rx-cksum %s tx-cksum %s",
             spec.name.c_str(), spec.device.c_str(), port->driver_.c_str(), mac, spec.queues,
             o.rss ? "symmetric-toeplitz" : "none", spec.mtu, o.rx_ipv4_cksum ? "on" : "off",
             o.tx_ipv4_cksum ? "on" : "off");
  return port;
}

Port::~Port() {
  rte_eth_dev_info info{};
  rte_device* dev = rte_eth_dev_info_get(id_, &info) == 0 ? info.device : nullptr;
  if (started_) rte_eth_dev_stop(id_);
  rte_eth_dev_close(id_);
  // Virtual devices (tap) leave nothing behind once removed; PCI functions stay
  // bound to their driver for the next start.
  if (dev != nullptr && !pci_ && rte_dev_is_probed(dev)) rte_dev_remove(dev);
}

void Port::set_multicast(std::vector<rte_ether_addr> macs) {
  if (macs.empty()) return;
  if (rte_eth_dev_set_mc_addr_list(id_, macs.data(), static_cast<uint32_t>(macs.size())) != 0)
    rte_eth_allmulticast_enable(id_);
}

LinkStatus Port::link() const {
  rte_eth_link l{};
  LinkStatus s;
  if (rte_eth_link_get_nowait(id_, &l) == 0) {
    s.up = l.link_status == RTE_ETH_LINK_UP;
    s.speed_mbps = l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : l.link_speed;
    s.full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
  }
  return s;
}

PortStats Port::stats() const {
  rte_eth_stats st{};
  PortStats s;
  if (rte_eth_stats_get(id_, &st) != 0) return s;
  s.rx_packets = st.ipackets;
  s.rx_bytes = st.ibytes;
  s.rx_missed = st.imissed;
  s.rx_errors = st.ierrors;
  s.rx_nombuf = st.rx_nombuf;
  s.tx_packets = st.opackets;
  s.tx_bytes = st.obytes;
  s.tx_errors = st.oerrors;
  const unsigned nq = std::min<unsigned>(queues_, RTE_ETHDEV_QUEUE_STAT_CNTRS);
  for (unsigned q = 0; q < nq; ++q)
    s.queues.push_back({st.q_ipackets[q], st.q_ibytes[q], st.q_opackets[q], st.q_obytes[q]});
  return s;
}

}  // namespace lg::drv
