// Per-lcore neighbor table: ARP (RFC 826) and IPv6 neighbor discovery
// (RFC 4861 §7.3) share it. Resolution keeps a bounded queue of packets per
// unresolved neighbor, retries, and ages entries:
//
//   INCOMPLETE --reply--> REACHABLE --reachable_time--> STALE
//        |                    ^                           | used
//   3 tries, no reply         +--------reply--------- PROBE (unicast, 3 tries) --> removed
//        v
//     removed (queued packets dropped, counted)          STALE unused for gc_time --> removed
//
// A worker is the only user of its table; learned entries reach the other
// workers as messages (see net_worker), never by shared writes.
#pragma once

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <memory>

#include "dataplane/counters/counters.h"
#include "dataplane/net/iface.h"
#include "dataplane/timer/timer_wheel.h"

namespace lg::net {

struct NeighAddr {
  uint8_t family = 4;  // 4 or 6
  uint8_t b[16]{};     // IPv4: network-order bytes in b[0..3]

  static NeighAddr v4(rte_be32_t a) {
    NeighAddr n;
    std::memcpy(n.b, &a, 4);
    return n;
  }
  static NeighAddr v6(const Ip6& a) {
    NeighAddr n;
    n.family = 6;
    std::memcpy(n.b, a.b, 16);
    return n;
  }
  rte_be32_t as_v4() const {
    rte_be32_t a;
    std::memcpy(&a, b, 4);
    return a;
  }
  Ip6 as_v6() const {
    Ip6 a;
    std::memcpy(a.b, b, 16);
    return a;
  }
};

// What the table needs from the layer around it.
struct NeighHooks {
  void* ctx = nullptr;
  // Send an ARP request / neighbor solicitation for addr; broadcast or
  // multicast when unicast is null, else a unicast probe to that MAC.
  void (*solicit)(void* ctx, unsigned port, const NeighAddr& addr, const rte_ether_addr* unicast) = nullptr;
  // Transmit a packet that waited for resolution (m starts at its L3 header).
  void (*transmit)(void* ctx, unsigned port, rte_mbuf* m, const rte_ether_addr& mac, uint8_t family) = nullptr;
};

struct NeighParams {
  uint32_t capacity = 4096;
  uint8_t max_queued = 4;            // packets held per unresolved neighbor
  uint8_t max_solicits = 3;          // tries before giving up (RFC 4861 MAX_MULTICAST_SOLICIT)
  uint64_t retrans_cycles = 0;       // between tries (RFC 4861 RETRANS_TIMER 1 s)
  uint64_t reachable_cycles = 0;     // REACHABLE lifetime (RFC 4861 REACHABLE_TIME 30 s)
  uint64_t gc_cycles = 0;            // unused STALE entries are removed after this
  static NeighParams defaults(uint64_t tsc_hz);
};

enum class NeighState : uint8_t { incomplete, reachable, stale, probe };

// How a received packet vouches for a neighbor's link-layer address.
enum class NeighLearn : uint8_t {
  confirmed,    // a reply to us (ARP reply, solicited NA): create or update, reachable
  heard,        // a request to us (ARP request, NS with source LLA): create or update
  update_only,  // gratuitous/unsolicited: update an existing entry, never create
};

enum class NeighVerdict : uint8_t { ready, queued, dropped };

class NeighTable {
 public:
  NeighTable(const NeighParams& params, TimerWheel& timers, LcoreCounters& counters, NeighHooks hooks,
             int socket_id, const char* name);
  ~NeighTable();
  NeighTable(const NeighTable&) = delete;
  NeighTable& operator=(const NeighTable&) = delete;
  bool ok() const { return hash_ != nullptr; }

  // Where to send m (starting at L3) bound for next hop addr. ready: *mac is
  // filled and the caller sends m; queued: the table holds m until resolved;
  // dropped: the table freed m and counted why.
  NeighVerdict resolve(unsigned port, const NeighAddr& addr, rte_mbuf* m, rte_ether_addr* mac);

  // Record what a received packet says; returns true when the entry was
  // created or its MAC changed (worth telling the other workers).
  bool learn(unsigned port, const NeighAddr& addr, const rte_ether_addr& mac, NeighLearn how);

  // For tests and diagnostics.
  bool lookup(unsigned port, const NeighAddr& addr, NeighState* state, rte_ether_addr* mac) const;
  uint32_t size() const { return used_; }

 private:
  struct Entry;
  Entry* find(unsigned port, const NeighAddr& addr) const;
  Entry* create(unsigned port, const NeighAddr& addr);
  void remove(Entry& e);
  void flush_queue(Entry& e);
  void drop_queue(Entry& e, Drop reason);
  static void on_timer(Timer* t, void* arg);
  void expire(Entry& e);

  NeighParams params_;
  TimerWheel& timers_;
  LcoreCounters& counters_;
  NeighHooks hooks_;
  rte_hash* hash_ = nullptr;
  std::unique_ptr<Entry[]> entries_;
  uint32_t used_ = 0;
};

}  // namespace lg::net
