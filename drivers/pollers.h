// The threads that poll the ports (linegate's workers, the generator's lcore)
// as QSBR RCU readers (rte_rcu_qsbr): each reports a quiescent state once per
// loop pass, after its last rx/tx burst of the pass.
//
// Why: DPDK 22.11's memif PMD tears a connection down on the EAL interrupt
// thread when the peer leaves. It clears the "connected" flag every burst
// checks on entry, then at once unmaps the shared rings and packet buffers,
// without waiting for lcores already inside a burst. Those fault (SIGSEGV in
// eth_memif_rx/tx) when a peer exits under load. pollers.cc interposes munmap:
// on the interrupt thread it first waits for one grace period of the pollers,
// by which time every burst that could have begun before the flag was cleared
// has returned. Unmaps elsewhere pass straight through.
#pragma once

#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <memory>
#include <string>

namespace lg::drv {

class Pollers {
 public:
  // One reader slot per polling thread. While the returned object lives, the
  // interrupt thread's unmaps wait for its grace periods; one per process.
  static std::unique_ptr<Pollers> create(unsigned threads, std::string* error);
  ~Pollers();  // waits for an unmap in progress to finish with it
  Pollers(const Pollers&) = delete;
  Pollers& operator=(const Pollers&) = delete;

  // Poller side: online/offline bracket the polling loop (an offline thread
  // holds up no grace period); quiescent() once per pass, outside any burst.
  void online(unsigned thread);
  void offline(unsigned thread);
  void quiescent(unsigned thread) { rte_rcu_qsbr_quiescent(qs_, thread); }

  // Returns once every online poller has passed a quiescent state: a burst
  // it was in when this was called has returned. Never call from a poller.
  void synchronize();

  // Whose unmaps wait: create() picks the memif PMD's code (or, when the
  // driver is built into the binary, all code); tests stand in for a driver.
  void guard_unmaps_from(uintptr_t code_begin, uintptr_t code_end);

 private:
  Pollers() = default;
  rte_rcu_qsbr* qs_ = nullptr;
};

}  // namespace lg::drv
