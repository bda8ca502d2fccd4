#include "drivers/pollers.h"

#include <link.h>
#include <rte_errno.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace lg::drv {

namespace {

std::atomic<Pollers*> g_pollers{nullptr};
std::atomic<unsigned> g_waiting{0};  // interrupt-thread unmaps inside synchronize()

// Only the guarded code's unmaps wait (see guard_unmaps_from): another
// library's unmap on the interrupt thread might hold a lock a poller needs.
std::atomic<uintptr_t> g_guard_begin{0}, g_guard_end{0};

struct CodeRange {
  uintptr_t begin = 0, end = UINTPTR_MAX;
};

// The memif PMD's executable segment, when it is a loaded plugin.
CodeRange memif_code() {
  CodeRange r;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) -> int {
        if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "librte_net_memif") == nullptr) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
          *static_cast<CodeRange*>(out) = {info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
          return 1;
        }
        return 0;
      },
      &r);
  return r;
}

void wait_for_pollers(uintptr_t caller) {
  if (caller < g_guard_begin.load(std::memory_order_relaxed) || caller >= g_guard_end.load(std::memory_order_relaxed))
    return;
  // Announce before looking, so ~Pollers either sees us or we see it gone.
  g_waiting.fetch_add(1);
  if (Pollers* p = g_pollers.load()) p->synchronize();
  g_waiting.fetch_sub(1);
}

}  // namespace

std::unique_ptr<Pollers> Pollers::create(unsigned threads, std::string* error) {
  std::unique_ptr<Pollers> p(new Pollers());
  const size_t size = rte_rcu_qsbr_get_memsize(threads);
  p->qs_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("lg_pollers_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (p->qs_ == nullptr || rte_rcu_qsbr_init(p->qs_, threads) != 0) {
    *error = std::string("cannot allocate the pollers' RCU state: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  Pollers* none = nullptr;
  if (!g_pollers.compare_exchange_strong(none, p.get())) {
    *error = "the port pollers are already registered in this process";
    return nullptr;
  }
  const CodeRange memif = memif_code();  // EAL has loaded its driver plugins by now
  p->guard_unmaps_from(memif.begin, memif.end);
  return p;
}

Pollers::~Pollers() {
  Pollers* self = this;
  if (g_pollers.compare_exchange_strong(self, nullptr))
    while (g_waiting.load() != 0) rte_pause();
  rte_free(qs_);
}

void Pollers::online(unsigned thread) {
  rte_rcu_qsbr_thread_register(qs_, thread);
  rte_rcu_qsbr_thread_online(qs_, thread);
}

void Pollers::offline(unsigned thread) {
  rte_rcu_qsbr_thread_offline(qs_, thread);
  rte_rcu_qsbr_thread_unregister(qs_, thread);
}

void Pollers::synchronize() { rte_rcu_qsbr_synchronize(qs_, RTE_QSBR_THRID_INVALID); }

void Pollers::guard_unmaps_from(uintptr_t code_begin, uintptr_t code_end) {
  g_guard_begin.store(code_begin, std::memory_order_relaxed);
  g_guard_end.store(code_end, std::memory_order_relaxed);
}

}  // namespace lg::drv

// Interposes libc's munmap for the whole process (an executable's definition
// comes first in symbol lookup, and EAL's own import of munmap puts it in the
// dynamic symbol table, where the dlopen()ed PMDs find it). See pollers.h.
extern "C" int munmap(void* addr, size_t length) {
  if (rte_thread_is_intr()) lg::drv::wait_for_pollers(reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
  return static_cast<int>(syscall(SYS_munmap, addr, length));
}
