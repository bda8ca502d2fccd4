// Neighbor table: resolution with a bounded queue, retries, confirmation,
// aging, probing, capacity. Time is fake: the test drives the timer wheel.
#include "dataplane/net/neigh.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <vector>

namespace lg::net {
namespace {

constexpr uint64_t kHz = 1'000'000;  // pretend TSC: 1 cycle = 1 µs

struct Recorder {
  struct Solicit {
    unsigned port;
    NeighAddr addr;
    bool unicast;
  };
  std::vector<Solicit> solicits;
  std::vector<rte_mbuf*> sent;
  std::vector<rte_ether_addr> sent_to;

  static void solicit(void* ctx, unsigned port, const NeighAddr& a, const rte_ether_addr* unicast) {
    static_cast<Recorder*>(ctx)->solicits.push_back({port, a, unicast != nullptr});
  }
  static void transmit(void* ctx, unsigned, rte_mbuf* m, const rte_ether_addr& mac, uint8_t) {
    auto* r = static_cast<Recorder*>(ctx);
    r->sent.push_back(m);
    r->sent_to.push_back(mac);
  }
};

class NeighTest : public testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    pool_ = rte_pktmbuf_pool_create(("neigh_pool_" + std::to_string(n++)).c_str(), 256, 0, 0, 256, 0);
    ASSERT_NE(pool_, nullptr);
    params_ = NeighParams::defaults(kHz);
    params_.capacity = 64;
    make_table();
  }
  void TearDown() override {
    for (rte_mbuf* m : rec_.sent) rte_pktmbuf_free(m);
    table_.reset();
    rte_mempool_free(pool_);
  }
  void make_table() {
    static int n = 0;
    table_ = std::make_unique<NeighTable>(params_, wheel_, counters_, NeighHooks{&rec_, &Recorder::solicit, &Recorder::transmit},
                                          0, ("neigh_t" + std::to_string(n++)).c_str());
    ASSERT_TRUE(table_->ok());
  }
  void advance_to(uint64_t t) {
    now_ = t;
    wheel_.advance(t);
  }
  rte_mbuf* pkt() { return rte_pktmbuf_alloc(pool_); }
  uint64_t drops(Drop d) const { return counters_.drops[0][static_cast<unsigned>(d)]; }
  uint64_t events(Event e) const { return counters_.events[0][static_cast<unsigned>(e)]; }

  rte_mempool* pool_ = nullptr;
  TimerWheel wheel_{100, 0};
  LcoreCounters counters_;
  Recorder rec_;
  NeighParams params_;
  std::unique_ptr<NeighTable> table_;
  uint64_t now_ = 0;
};

const NeighAddr kPeer = NeighAddr::v4(RTE_BE32(0x0a4d0001));  // 10.77.0.1
const rte_ether_addr kMac{{0x02, 0, 0, 0, 0, 1}};
const rte_ether_addr kMac2{{0x02, 0, 0, 0, 0, 2}};

TEST_F(NeighTest, UnknownNeighborQueuesAndSolicitsOnce) {
  rte_ether_addr mac;
  EXPECT_EQ(table_->resolve(0, kPeer, pkt(), &mac), NeighVerdict::queued);
  EXPECT_EQ(table_->resolve(0, kPeer, pkt(), &mac), NeighVerdict::queued);
  ASSERT_EQ(rec_.solicits.size(), 1u);
  EXPECT_FALSE(rec_.solicits[0].unicast);
  NeighState st;
  ASSERT_TRUE(table_->lookup(0, kPeer, &st, nullptr));
  EXPECT_EQ(st, NeighState::incomplete);
}

TEST_F(NeighTest, ReplyFlushesQueueInOrder) {
  rte_ether_addr mac;
  rte_mbuf* a = pkt();
  rte_mbuf* b = pkt();
  table_->resolve(0, kPeer, a, &mac);
  table_->resolve(0, kPeer, b, &mac);
  EXPECT_TRUE(table_->learn(0, kPeer, kMac, NeighLearn::confirmed));
  ASSERT_EQ(rec_.sent.size(), 2u);
  EXPECT_EQ(rec_.sent[0], a);
  EXPECT_EQ(rec_.sent[1], b);
  EXPECT_TRUE(rte_is_same_ether_addr(&rec_.sent_to[0], &kMac));
  EXPECT_EQ(events(Event::neigh_resolved), 1u);
  EXPECT_EQ(events(Event::neigh_queued_sent), 2u);
  EXPECT_EQ(table_->resolve(0, kPeer, pkt(), &mac), NeighVerdict::ready);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kMac));
}

TEST_F(NeighTest, QueueIsBounded) {
  rte_ether_addr mac;
  for (unsigned i = 0; i < params_.max_queued; ++i)
    EXPECT_EQ(table_->resolve(0, kPeer, pkt(), &mac), NeighVerdict::queued);
  EXPECT_EQ(table_->resolve(0, kPeer, pkt(), &mac), NeighVerdict::dropped);
  EXPECT_EQ(drops(Drop::neigh_queue_full), 1u);
}

TEST_F(NeighTest, RetriesThenGivesUpAndDropsQueue) {
  rte_ether_addr mac;
  table_->resolve(0, kPeer, pkt(), &mac);
  table_->resolve(0, kPeer, pkt(), &mac);
  advance_to(params_.retrans_cycles - 100);
  EXPECT_EQ(rec_.solicits.size(), 1u) << "no retry before the retransmit timer";
  advance_to(params_.retrans_cycles + 100);
  EXPECT_EQ(rec_.solicits.size(), 2u);
  advance_to(2 * params_.retrans_cycles + 200);
  EXPECT_EQ(rec_.solicits.size(), 3u);
  advance_to(3 * params_.retrans_cycles + 300);
  EXPECT_EQ(rec_.solicits.size(), 3u) << "max_solicits is 3";
  EXPECT_EQ(drops(Drop::neigh_unresolved), 2u);
  EXPECT_FALSE(table_->lookup(0, kPeer, nullptr, nullptr));
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(NeighTest, ReachableAgesToStaleThenProbesUnicastOnUse) {
  table_->learn(0, kPeer, kMac, NeighLearn::heard);
  advance_to(params_.reachable_cycles + 1000);
  NeighState st;
  ASSERT_TRUE(table_->lookup(0, kPeer, &st, nullptr));
  EXPECT_EQ(st, NeighState::stale);
  rte_ether_addr mac;
  rte_mbuf* m = pkt();
  EXPECT_EQ(table_->resolve(0, kPeer, m, &mac), NeighVerdict::ready) << "stale entries are still used";
  rte_pktmbuf_free(m);
  ASSERT_EQ(rec_.solicits.size(), 1u);
  EXPECT_TRUE(rec_.solicits[0].unicast);
  table_->lookup(0, kPeer, &st, nullptr);
  EXPECT_EQ(st, NeighState::probe);
  table_->learn(0, kPeer, kMac, NeighLearn::confirmed);
  table_->lookup(0, kPeer, &st, nullptr);
  EXPECT_EQ(st, NeighState::reachable);
}

TEST_F(NeighTest, UnansweredProbeRemovesEntry) {
  table_->learn(0, kPeer, kMac, NeighLearn::heard);
  advance_to(params_.reachable_cycles + 1000);
  rte_ether_addr mac;
  rte_mbuf* m = pkt();
  table_->resolve(0, kPeer, m, &mac);
  rte_pktmbuf_free(m);
  advance_to(now_ + 4 * params_.retrans_cycles);
  EXPECT_FALSE(table_->lookup(0, kPeer, nullptr, nullptr));
  EXPECT_EQ(events(Event::neigh_expired), 1u);
}

TEST_F(NeighTest, UnusedStaleEntryIsCollected) {
  table_->learn(0, kPeer, kMac, NeighLearn::heard);
  advance_to(params_.reachable_cycles + params_.gc_cycles + 10'000);
  EXPECT_FALSE(table_->lookup(0, kPeer, nullptr, nullptr));
  EXPECT_EQ(events(Event::neigh_expired), 1u);
}

TEST_F(NeighTest, UpdateOnlyNeverCreates) {
  EXPECT_FALSE(table_->learn(0, kPeer, kMac, NeighLearn::update_only));
  EXPECT_EQ(table_->size(), 0u);
}

TEST_F(NeighTest, ChangedMacIsReportedAndUnconfirmedChangeIsStale) {
  EXPECT_TRUE(table_->learn(0, kPeer, kMac, NeighLearn::heard));
  EXPECT_FALSE(table_->learn(0, kPeer, kMac, NeighLearn::heard)) << "same MAC: nothing to tell peers";
  EXPECT_TRUE(table_->learn(0, kPeer, kMac2, NeighLearn::update_only));
  NeighState st;
  rte_ether_addr mac;
  table_->lookup(0, kPeer, &st, &mac);
  EXPECT_EQ(st, NeighState::stale);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kMac2));
}

TEST_F(NeighTest, PortsAndFamiliesAreSeparateKeys) {
  Ip6 a6{};
  std::memcpy(a6.b, kPeer.b, 4);  // same leading bytes as the IPv4 key
  table_->learn(0, kPeer, kMac, NeighLearn::heard);
  EXPECT_FALSE(table_->lookup(1, kPeer, nullptr, nullptr));
  EXPECT_FALSE(table_->lookup(0, NeighAddr::v6(a6), nullptr, nullptr));
}

TEST_F(NeighTest, FullTableDropsAndCounts) {
  for (uint32_t i = 0; i < params_.capacity; ++i)
    ASSERT_TRUE(table_->learn(0, NeighAddr::v4(rte_cpu_to_be_32(0x0a000000 + i)), kMac, NeighLearn::heard));
  rte_ether_addr mac;
  EXPECT_EQ(table_->resolve(0, NeighAddr::v4(RTE_BE32(0x0b000001)), pkt(), &mac), NeighVerdict::dropped);
  EXPECT_EQ(drops(Drop::neigh_table_full), 1u);
}

TEST_F(NeighTest, DestroyingTableFreesQueuedPackets) {
  const unsigned before = rte_mempool_avail_count(pool_);
  rte_ether_addr mac;
  table_->resolve(0, kPeer, pkt(), &mac);
  table_->resolve(0, kPeer, pkt(), &mac);
  table_.reset();
  EXPECT_EQ(rte_mempool_avail_count(pool_), before);
  EXPECT_EQ(wheel_.armed_count(), 0u);
}

}  // namespace
}  // namespace lg::net
