// Active opens choose a local port whose reply (remote → us) hashes, with the
// port's symmetric Toeplitz key and the default redirection table, to the
// opening worker's queue. Checked against a bitwise Toeplitz written here
// from the Microsoft RSS specification, not DPDK's rte_softrss.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <memory>
#include <set>

#include "dataplane/net/net_worker.h"
#include "dataplane/tcp/stack.h"
#include "drivers/port.h"
#include "tests/unit/ring_port.h"

namespace lg::tcp {
namespace {

uint32_t toeplitz(const uint8_t* key, const uint8_t* data, size_t n) {
  uint32_t result = 0;
  uint32_t window = (uint32_t{key[0]} << 24) | (uint32_t{key[1]} << 16) | (uint32_t{key[2]} << 8) | key[3];
  for (size_t i = 0; i < n; ++i) {
    for (int b = 7; b >= 0; --b) {
      if (data[i] & (1u << b)) result ^= window;
      window = (window << 1) | ((key[i + 4] >> b) & 1u);
    }
  }
  return result;
}

TEST(TcpPortSelect, ReplyHashesToTheOpeningWorkersQueue) {
  rte_mempool* pool = rte_pktmbuf_pool_create("psel_pool", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(pool, nullptr);
  auto ring_port = std::make_unique<test::RingPort>("psel", pool);
  ASSERT_TRUE(ring_port->ok());
  const uint16_t port = ring_port->id();

  constexpr unsigned kQueues = 4, kWorker = 2, kReta = 128;
  PortConfig pc;
  pc.name = "p0";
  pc.ipv4 = Ipv4Prefix{0x0a4d0002, 24};  // 10.77.0.2/24
  drv::Offloads off;
  off.rss = true;
  off.reta_size = kReta;
  std::vector<net::Iface> ifaces{net::make_iface(0, port, rte_ether_addr{{2, 0, 0, 0, 0, 1}}, pc, off)};
  ifaces[0].queues = kQueues;

  TimerWheel wheel(1000, 0);
  LcoreCounters counters;
  net::NetWorkerConfig ncfg;
  ncfg.worker = kWorker;
  ncfg.ifaces = ifaces;
  ncfg.pool = pool;
  ncfg.neigh = net::NeighParams::defaults(1'000'000'000);
  {
    net::NetWorker net(ncfg, counters, wheel);
    TcpConfig tcfg;
    tcfg.max_connections = 256;
    TcpStack stack(tcfg, kWorker, ifaces, net, wheel, counters, pool, 0, 1'000'000'000);
    ASSERT_TRUE(stack.ok());

    const auto& key = drv::symmetric_rss_key();
    in_addr remote{};
    inet_pton(AF_INET, "10.77.0.1", &remote);
    std::set<uint16_t> ports;
    for (int i = 0; i < 100; ++i) {
      Conn* c = stack.connect(0, 4, reinterpret_cast<const uint8_t*>(&remote), 80, nullptr, nullptr);
      ASSERT_NE(c, nullptr);
      EXPECT_TRUE(ports.insert(c->key.lport).second) << "ports are not reused while in use";
      // Reply direction: src = remote:80, dst = us:lport, in wire order.
      uint8_t tuple[12];
      std::memcpy(tuple, c->key.remote, 4);
      std::memcpy(tuple + 4, c->key.local, 4);
      tuple[8] = 0, tuple[9] = 80;
      tuple[10] = static_cast<uint8_t>(c->key.lport >> 8), tuple[11] = static_cast<uint8_t>(c->key.lport);
      const uint32_t h = toeplitz(key.data(), tuple, sizeof(tuple));
      EXPECT_EQ((h % kReta) % kQueues, kWorker) << "port " << c->key.lport;
      // Symmetric key: the forward direction hashes alike.
      uint8_t fwd[12];
      std::memcpy(fwd, tuple + 4, 4);
      std::memcpy(fwd + 4, tuple, 4);
      fwd[8] = tuple[10], fwd[9] = tuple[11], fwd[10] = tuple[8], fwd[11] = tuple[9];
      EXPECT_EQ(toeplitz(key.data(), fwd, sizeof(fwd)), h);
    }
  }
  ring_port.reset();  // frees the SYNs it holds
  rte_mempool_free(pool);
}

}  // namespace
}  // namespace lg::tcp
