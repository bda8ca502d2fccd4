// DirWatcher: recursion into new subdirectories, debouncing, filtering.
#include "agent_fixtures.h"

#include "ctrl/agent/dir_watcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace lg::ctrl::testing {
namespace {

namespace fs = std::filesystem;

class DirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lg-watch-test-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override {
    watcher_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void start(std::chrono::milliseconds debounce) {
    watcher_ = std::make_unique<DirWatcher>(std::vector<std::string>{dir_.string()}, debounce, [this] { ++calls_; },
                                            nullptr);
    std::string error;
    ASSERT_TRUE(watcher_->start(error)) << error;
  }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path dir_;
  std::atomic<int> calls_{0};
  std::unique_ptr<DirWatcher> watcher_;
};

TEST_F(DirWatcherTest, BurstOfWritesIsOneReload) {
  start(150ms);
  for (int i = 0; i < 5; ++i) {
    std::string name = "f";  // appended: GCC 12 -O3 false -Werror=restrict on "f" + std::string
    name += std::to_string(i);
    name += ".yaml";
    write(dir_ / name, "a: 1\n");
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(eventually([&] { return calls_ >= 1; }, 3s));
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(calls_, 1);
}

TEST_F(DirWatcherTest, NewSubdirectoriesAreWatched) {
  start(30ms);
  fs::create_directories(dir_ / "a" / "b");
  ASSERT_TRUE(eventually([&] { return calls_ >= 1; }, 3s));
  std::this_thread::sleep_for(100ms);
  int after_mkdir = calls_;
  write(dir_ / "a" / "b" / "vs.yml", "a: 1\n");
  ASSERT_TRUE(eventually([&] { return calls_ > after_mkdir; }, 3s));
  int after_write = calls_;
  fs::remove(dir_ / "a" / "b" / "vs.yml");
  ASSERT_TRUE(eventually([&] { return calls_ > after_write; }, 3s));
}

TEST_F(DirWatcherTest, OtherFilesDoNotTriggerAReload) {
  start(30ms);
  write(dir_ / "notes.txt", "hello\n");
  write(dir_ / ".base.yaml.swp", "x");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls_, 0);
  write(dir_ / "x.json", "{}");
  ASSERT_TRUE(eventually([&] { return calls_ == 1; }, 3s));
}

TEST(DirWatcher, MissingDirectoryIsAnError) {
  DirWatcher w({"/nonexistent/lg-watch"}, 10ms, [] {}, nullptr);
  std::string error;
  EXPECT_FALSE(w.start(error));
  EXPECT_NE(error.find("/nonexistent/lg-watch"), std::string::npos);
}

}  // namespace
}  // namespace lg::ctrl::testing
