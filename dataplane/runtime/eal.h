// Building EAL's command line from the bootstrap, and tidying up after EAL.
#pragma once

#include <string>
#include <vector>

#include "dataplane/bootstrap/bootstrap.h"

namespace lg {

struct HugepageProbe {
  bool usable = false;
  std::string reason;  // why not, for the one log line
};

// Free 2 MiB/1 GiB pages and a hugetlbfs mount are both needed.
HugepageProbe probe_hugepages(const std::string& meminfo_path = "/proc/meminfo",
                              const std::string& mounts_path = "/proc/mounts");

struct EalPlan {
  std::vector<std::string> args;  // argv for rte_eal_init, argv[0] included
  std::string file_prefix;
  bool no_huge = false;
  std::string notice;             // one line to log, if any (why --no-huge)
};

// User arguments in bootstrap.eal win: linegate only adds what they leave out
// (lcore map, file prefix, memory mode, device allow-list).
EalPlan plan_eal(const Bootstrap& b, const HugepageProbe& huge, const std::vector<int>& cpus);

// CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// Remove EAL's runtime directory (/var/run/dpdk/<prefix>) after rte_eal_cleanup.
void remove_runtime_dir(const std::string& dir);

// EAL for unit tests and micro-benchmarks: lcore 0 only, no devices, shared
// config or telemetry; `memory_mb` of heap, from hugepages only when asked.
// Its file prefix is lg-<name>-<pid>; nothing is left under /var/run/dpdk.
class ScratchEal {
 public:
  ScratchEal(const std::string& name, unsigned memory_mb, bool hugepages = false);
  ~ScratchEal();  // rte_eal_cleanup, runtime directory removed
  ScratchEal(const ScratchEal&) = delete;
  ScratchEal& operator=(const ScratchEal&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
  std::string runtime_dir_;
};

}  // namespace lg
