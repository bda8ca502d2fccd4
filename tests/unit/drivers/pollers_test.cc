// The interrupt thread's unmaps wait for the port pollers' grace period (the
// memif teardown race, see drivers/pollers.h). The EAL alarm callback runs on
// that thread, so it stands in for the memif PMD unmapping its rings.
#include "drivers/pollers.h"

#include <gtest/gtest.h>
#include <rte_alarm.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace lg::drv {
namespace {

using namespace std::chrono_literals;

bool mapped(void* page) {
  unsigned char v;
  return mincore(page, 4096, &v) == 0;
}

template <typename F>
bool wait_until(F f, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!f()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A page unmapped from the interrupt thread (an EAL alarm callback).
struct UnmapOnInterruptThread {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  std::atomic<bool> done{false};

  void start() {
    ASSERT_NE(page, MAP_FAILED);
    ASSERT_EQ(rte_eal_alarm_set(
                  1,
                  [](void* arg) {
                    auto* self = static_cast<UnmapOnInterruptThread*>(arg);
                    munmap(self->page, 4096);
                    self->done = true;
                  },
                  this),
              0);
  }
  ~UnmapOnInterruptThread() { wait_until([&] { return done.load(); }); }
};

// A poller that went online and sits "inside a burst" until released.
struct SilentPoller {
  explicit SilentPoller(Pollers& p) : pollers(p) {
    thread = std::thread([this] {
      pollers.online(0);
      online = true;
      while (!release) std::this_thread::sleep_for(100us);
      pollers.quiescent(0);
      while (!stop) {
        pollers.quiescent(0);
        std::this_thread::sleep_for(100us);
      }
      pollers.offline(0);
    });
    wait_until([&] { return online.load(); });
  }
  ~SilentPoller() {
    release = stop = true;
    thread.join();
  }
  Pollers& pollers;
  std::thread thread;
  std::atomic<bool> online{false}, release{false}, stop{false};
};

std::unique_ptr<Pollers> make(unsigned threads = 1) {
  std::string error;
  auto p = Pollers::create(threads, &error);
  EXPECT_TRUE(p) << error;
  return p;
}

TEST(Pollers, InterruptThreadUnmapWaitsForAPollerInsideABurst) {
  auto p = make();
  ASSERT_TRUE(p);
  p->guard_unmaps_from(0, UINTPTR_MAX);
  SilentPoller poller(*p);
  UnmapOnInterruptThread unmap;
  unmap.start();
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(unmap.done) << "the unmap did not wait for the poller";
  EXPECT_TRUE(mapped(unmap.page));
  poller.release = true;  // the burst returns; the poller reports quiescent
  EXPECT_TRUE(wait_until([&] { return unmap.done.load(); }));
  EXPECT_FALSE(mapped(unmap.page));
}

TEST(Pollers, OfflinePollersHoldNothingUp) {
  auto p = make(2);
  ASSERT_TRUE(p);
  p->guard_unmaps_from(0, UINTPTR_MAX);
  p->online(1);
  p->offline(1);
  UnmapOnInterruptThread unmap;
  unmap.start();
  EXPECT_TRUE(wait_until([&] { return unmap.done.load(); }, 2000ms));
}

TEST(Pollers, UnguardedCodeAndOtherThreadsDoNotWait) {
  auto p = make();
  ASSERT_TRUE(p);
  SilentPoller poller(*p);
  p->guard_unmaps_from(1, 2);  // the alarm callback is not the guarded code
  {
    UnmapOnInterruptThread unmap;
    unmap.start();
    EXPECT_TRUE(wait_until([&] { return unmap.done.load(); }, 2000ms));
  }
  p->guard_unmaps_from(0, UINTPTR_MAX);
  void* page = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  EXPECT_EQ(munmap(page, 4096), 0);  // this thread is not the interrupt thread
  EXPECT_FALSE(mapped(page));
}

TEST(Pollers, OnePerProcess) {
  auto first = make();
  ASSERT_TRUE(first);
  std::string error;
  EXPECT_FALSE(Pollers::create(1, &error));
  EXPECT_EQ(error, "the port pollers are already registered in this process");
  first.reset();
  EXPECT_TRUE(make());
}

TEST(Pollers, UnmapErrorsPassThrough) {
  auto p = make();
  ASSERT_TRUE(p);
  errno = 0;
  EXPECT_EQ(munmap(reinterpret_cast<void*>(1), 4096), -1);  // not page aligned
  EXPECT_EQ(errno, EINVAL);
}

}  // namespace
}  // namespace lg::drv
