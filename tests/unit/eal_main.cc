// GoogleTest main for tests that need DPDK (mempools, rings, hashes): EAL in
// memory only, no hugepages, no devices, no files left behind.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=lg-unit-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-l", "0",
                            "-m", "256", "--log-level=lib.*:warning", prefix.c_str()};
  if (rte_eal_init(static_cast<int>(std::size(eal_argv)), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
