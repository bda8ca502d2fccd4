// GoogleTest main for tests that need DPDK (mempools, rings, hashes): EAL in
// memory only, no hugepages, no devices, no files left behind.
#include <gtest/gtest.h>

#include "dataplane/runtime/eal.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  lg::ScratchEal eal("unit", 256);
  if (!eal.ok()) return 1;
  return RUN_ALL_TESTS();
}
