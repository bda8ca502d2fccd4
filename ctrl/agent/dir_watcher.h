// Recursive, debounced directory watching with inotify(7). inotify watches one
// directory, not a tree, so every subdirectory gets its own watch, including
// ones created (or moved in) later. Editors and `kubectl`-style tools write a
// file in several steps (create, write, rename); the callback runs once the
// tree has been quiet for `debounce` (or at the latest after 10 × debounce
// of continuous changes), and reports nothing about which file changed: the
// agent rereads the whole tree, which is simpler than patching and as fast
// for the sizes configs have.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lg::ctrl {

class DirWatcher {
 public:
  DirWatcher(std::vector<std::string> dirs, std::chrono::milliseconds debounce, std::function<void()> on_change,
             std::function<void(std::string_view)> log);
  ~DirWatcher();  // stop()
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Adds the watches and starts the thread; false with `error` set when a
  // directory cannot be watched.
  bool start(std::string& error);
  void stop();

 private:
  void run();
  // Watches dir and every directory below it; returns false on the first failure.
  bool add_tree(const std::string& dir, std::string& error);
  // Reads pending events; true when one of them is about config files or directories.
  bool drain();

  std::vector<std::string> dirs_;
  std::chrono::milliseconds debounce_;
  std::function<void()> on_change_;
  std::function<void(std::string_view)> log_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd
  std::map<int, std::string> watches_;  // wd → directory
  std::thread thread_;
};

}  // namespace lg::ctrl
