#include "dataplane/runtime/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "drivers/port.h"

namespace lg {
namespace {

bool has_arg(const std::vector<std::string>& args, std::initializer_list<std::string_view> names) {
  for (const std::string& a : args)
    for (std::string_view n : names)
      if (a == n || (a.size() > n.size() && a.compare(0, n.size(), n) == 0 && a[n.size()] == '='))
        return true;
  return false;
}

std::string sanitize_prefix(const std::string& id) {
  std::string out = "lg-";
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out;
}

}  // namespace

HugepageProbe probe_hugepages(const std::string& meminfo_path, const std::string& mounts_path) {
  HugepageProbe p;
  std::ifstream meminfo(meminfo_path);
  long free_pages = -1;
  for (std::string line; std::getline(meminfo, line);)
    if (line.rfind("HugePages_Free:", 0) == 0) free_pages = std::stol(line.substr(15));
  bool mounted = false;
  std::ifstream mounts(mounts_path);
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string dev, dir, type;
    fields >> dev >> dir >> type;
    if (type == "hugetlbfs") mounted = true;
  }
  if (free_pages <= 0) {
    p.reason = "no free hugepages (HugePages_Free=" + std::to_string(std::max(free_pages, 0L)) + ")";
  } else if (!mounted) {
    p.reason = "no hugetlbfs mount";
  } else {
    p.usable = true;
  }
  return p;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

EalPlan plan_eal(const Bootstrap& b, const HugepageProbe& huge, const std::vector<int>& cpus) {
  EalPlan plan;
  plan.args.push_back("linegate");
  const auto& user = b.eal;

  if (!has_arg(user, {"-l", "--lcores", "-c"})) {
    // Main lcore 0 runs the control thread; workers 1..N. Spread them over the
    // CPUs we may use; on a small box they share CPUs (hence idle_sleep_us).
    std::string map = "--lcores=";
    for (unsigned l = 0; l <= b.workers; ++l) {
      if (l) map += ",";
      map += std::to_string(l) + "@" + std::to_string(cpus[l % cpus.size()]);
    }
    plan.args.push_back(map);
  }

  plan.file_prefix = sanitize_prefix(b.node.id);
  for (const std::string& a : user)
    if (a.rfind("--file-prefix=", 0) == 0) plan.file_prefix = a.substr(14);
  if (!has_arg(user, {"--file-prefix"})) plan.args.push_back("--file-prefix=" + plan.file_prefix);

  plan.no_huge = has_arg(user, {"--no-huge"});
  if (!plan.no_huge && !huge.usable) {
    plan.no_huge = true;
    plan.args.push_back("--no-huge");
    plan.notice = "hugepages: " + huge.reason +
                  "; running with --no-huge (memory not pinned: fine for taps and tests, not for NIC DMA). "
                  "scripts/hugepages.sh reserves them.";
  }
  if (plan.no_huge && !has_arg(user, {"-m", "--socket-mem"})) {
    // Room for the mbuf pool (about 2.4 KB an mbuf) plus tables.
    const size_t mbufs = static_cast<size_t>(b.mbufs_per_port) * b.ports.size();
    // ... and each worker's TLS record buffers.
    const size_t records = static_cast<size_t>(b.tls.record_buffers) * b.workers;
    plan.args.push_back("-m");
    plan.args.push_back(
        std::to_string(128 + (mbufs * 2560 + records * TlsSettings::kRecordBufferBytes) / (1024 * 1024)));
  }
  // Hugepage files vanish at once, so a crash leaves none behind.
  if (!plan.no_huge && !has_arg(user, {"--huge-unlink"})) plan.args.push_back("--huge-unlink");

  // EAL probes PCI devices at start: take only the ports' functions.
  bool any_pci = false;
  for (const PortConfig& p : b.ports) {
    if (drv::is_pci_device(p.device)) {
      any_pci = true;
      if (!has_arg(user, {"-a", "--allow", "-b", "--block"})) {
        plan.args.push_back("-a");
        plan.args.push_back(p.device);
      }
    }
  }
  if (!any_pci && !has_arg(user, {"-a", "--allow", "-b", "--block", "--no-pci"})) plan.args.push_back("--no-pci");

  plan.args.insert(plan.args.end(), user.begin(), user.end());
  return plan;
}

void remove_runtime_dir(const std::string& dir) {
  if (dir.empty() || dir == "/") return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

ScratchEal::ScratchEal(const std::string& name, unsigned memory_mb, bool hugepages) {
  const std::string prefix = "--file-prefix=lg-" + name + "-" + std::to_string(getpid());
  const std::string memory = std::to_string(memory_mb);
  std::vector<const char*> argv = {name.c_str(), "--no-pci", "--no-shconf", "--no-telemetry", "-l", "0",
                                   "-m", memory.c_str(), "--log-level=lib.*:warning", prefix.c_str()};
  argv.push_back(hugepages ? "--in-memory" : "--no-huge");
  if (rte_eal_init(static_cast<int>(argv.size()), const_cast<char**>(argv.data())) < 0) {
    fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
    return;
  }
  ok_ = true;
  runtime_dir_ = rte_eal_get_runtime_dir();
}

ScratchEal::~ScratchEal() {
  if (!ok_) return;
  rte_eal_cleanup();
  remove_runtime_dir(runtime_dir_);
}

}  // namespace lg
