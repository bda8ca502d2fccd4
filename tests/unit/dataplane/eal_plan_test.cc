// EAL command line built from the bootstrap: what linegate adds, what the
// user's eal: list overrides, and the hugepage fallback.
#include "dataplane/runtime/eal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace lg {
namespace {

Bootstrap sample() {
  Bootstrap b;
  b.node.id = "gw-1";
  b.workers = 2;
  PortConfig p;
  p.name = "p0";
  p.device = "net_tap0,iface=lg0";
  b.ports.push_back(p);
  return b;
}

bool has(const EalPlan& p, const std::string& a) {
  return std::find(p.args.begin(), p.args.end(), a) != p.args.end();
}

const HugepageProbe kHuge{true, ""};
const HugepageProbe kNoHuge{false, "no free hugepages (HugePages_Free=0)"};

TEST(EalPlan, DefaultsForAVirtualDevice) {
  const EalPlan p = plan_eal(sample(), kHuge, {0, 1});
  EXPECT_EQ(p.args.front(), "linegate");
  EXPECT_TRUE(has(p, "--lcores=0@0,1@1,2@0")) << "control + 2 workers spread over 2 CPUs";
  EXPECT_TRUE(has(p, "--file-prefix=lg-gw-1"));
  EXPECT_TRUE(has(p, "--huge-unlink"));
  EXPECT_TRUE(has(p, "--no-pci"));
  EXPECT_FALSE(p.no_huge);
  EXPECT_TRUE(p.notice.empty());
}

TEST(EalPlan, FallsBackToNoHugeWithOneNotice) {
  const EalPlan p = plan_eal(sample(), kNoHuge, {0});
  EXPECT_TRUE(p.no_huge);
  EXPECT_TRUE(has(p, "--no-huge"));
  EXPECT_TRUE(has(p, "-m"));
  EXPECT_FALSE(has(p, "--huge-unlink"));
  EXPECT_NE(p.notice.find("HugePages_Free=0"), std::string::npos);
}

TEST(EalPlan, UserArgumentsWin) {
  Bootstrap b = sample();
  b.eal = {"--file-prefix=mine", "-l", "0-2", "--no-huge", "-m", "512"};
  const EalPlan p = plan_eal(b, kHuge, {0, 1});
  EXPECT_EQ(p.file_prefix, "mine");
  EXPECT_EQ(std::count_if(p.args.begin(), p.args.end(), [](const std::string& a) { return a.rfind("--file-prefix", 0) == 0; }), 1);
  EXPECT_FALSE(std::any_of(p.args.begin(), p.args.end(), [](const std::string& a) { return a.rfind("--lcores", 0) == 0; }));
  EXPECT_EQ(std::count(p.args.begin(), p.args.end(), "-m"), 1);
  EXPECT_TRUE(p.no_huge);
  EXPECT_TRUE(p.notice.empty()) << "the user chose --no-huge: nothing to explain";
}

TEST(EalPlan, PciDevicesAreAllowListed) {
  Bootstrap b = sample();
  b.ports[0].device = "0000:3b:02.0";
  const EalPlan p = plan_eal(b, kHuge, {0, 1});
  EXPECT_FALSE(has(p, "--no-pci"));
  auto it = std::find(p.args.begin(), p.args.end(), "-a");
  ASSERT_NE(it, p.args.end());
  EXPECT_EQ(*(it + 1), "0000:3b:02.0");
}

TEST(EalPlan, FilePrefixFromNodeIdIsSanitized) {
  Bootstrap b = sample();
  b.node.id = "gw/1 east";
  EXPECT_EQ(plan_eal(b, kHuge, {0}).file_prefix, "lg-gw_1_east");
}

class HugeProbe : public testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(HugeProbe, NeedsFreePagesAndAMount) {
  const std::string free_pages = write("meminfo1", "MemTotal: 1 kB\nHugePages_Free:      12\n");
  const std::string none = write("meminfo2", "HugePages_Free:       0\n");
  const std::string mounted = write("mounts1", "nodev /dev/hugepages hugetlbfs rw 0 0\n");
  const std::string unmounted = write("mounts2", "proc /proc proc rw 0 0\n");
  EXPECT_TRUE(probe_hugepages(free_pages, mounted).usable);
  HugepageProbe p = probe_hugepages(none, mounted);
  EXPECT_FALSE(p.usable);
  EXPECT_NE(p.reason.find("HugePages_Free=0"), std::string::npos);
  p = probe_hugepages(free_pages, unmounted);
  EXPECT_FALSE(p.usable);
  EXPECT_NE(p.reason.find("hugetlbfs"), std::string::npos);
}

}  // namespace
}  // namespace lg
