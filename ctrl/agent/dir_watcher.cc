#include "ctrl/agent/dir_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace lg::ctrl {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF |
                           IN_MOVE_SELF | IN_ONLYDIR;

// The loader reads these (ctrl/crd/loader.h); editor swap files and the like
// do not trigger a reload.
bool is_config_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::string_view ext : {".yaml", ".yml", ".json"}) {
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
  }
  return false;
}

}  // namespace

DirWatcher::DirWatcher(std::vector<std::string> dirs, std::chrono::milliseconds debounce,
                       std::function<void()> on_change, std::function<void(std::string_view)> log)
    : dirs_(std::move(dirs)), debounce_(debounce), on_change_(std::move(on_change)), log_(std::move(log)) {}

DirWatcher::~DirWatcher() { stop(); }

bool DirWatcher::add_tree(const std::string& dir, std::string& error) {
  int wd = inotify_add_watch(inotify_fd_, dir.c_str(), kMask);
  if (wd < 0) {
    error = "cannot watch " + dir + ": " + std::strerror(errno);
    return false;
  }
  watches_[wd] = dir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2) && !it->is_symlink(ec2)) {
      if (!add_tree(it->path().string(), error)) return false;
    }
  }
  return true;
}

bool DirWatcher::start(std::string& error) {
  if (thread_.joinable()) return true;
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_fd_ < 0 || stop_fd_ < 0) {
    error = std::string("inotify: ") + std::strerror(errno);
    stop();
    return false;
  }
  for (const std::string& d : dirs_) {
    if (!add_tree(d, error)) {
      stop();
      return false;
    }
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::exception& e) {
    error = std::string("cannot start watcher thread: ") + e.what();
    stop();
    return false;
  }
  return true;
}

void DirWatcher::stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t n = write(stop_fd_, &one, sizeof one);
    (void)n;
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
  watches_.clear();
}

bool DirWatcher::drain() {
  // Aligned as inotify(7) asks, large enough for many events per read.
  alignas(struct inotify_event) char buf[16384];
  bool relevant = false;
  while (true) {
    ssize_t n = read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) break;  // EAGAIN: drained
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {  // events were lost: reread everything
        relevant = true;
        continue;
      }
      if (ev->mask & IN_IGNORED) {  // watch gone (directory deleted)
        watches_.erase(ev->wd);
        continue;
      }
      auto dir = watches_.find(ev->wd);
      if (dir == watches_.end()) continue;
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        relevant = true;
        continue;
      }
      std::string_view name = ev->len ? std::string_view(ev->name) : std::string_view();
      if (ev->mask & IN_ISDIR) {
        relevant = true;  // a directory of configs came or went
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
          std::string error;
          if (!add_tree(dir->second + "/" + std::string(name), error) && log_) log_(error);
        }
        continue;
      }
      // Kubernetes ConfigMap volumes swap content by renaming the `..data`
      // symlink onto a new hidden directory.
      if (name == "..data" && (ev->mask & (IN_MOVED_TO | IN_CREATE))) {
        relevant = true;
        continue;
      }
      // IN_CREATE of a file is followed by IN_CLOSE_WRITE; wait for that.
      if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) && is_config_name(name)) {
        relevant = true;
      }
    }
  }
  return relevant;
}

void DirWatcher::run() {
  using clock = std::chrono::steady_clock;
  bool pending = false;
  clock::time_point quiet_at{}, latest_at{};
  while (true) {
    int timeout_ms = -1;
    if (pending) {
      auto now = clock::now();
      auto due = std::min(quiet_at, latest_at);
      timeout_ms = due <= now ? 0 : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(due - now).count());
    }
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int rc = poll(fds, 2, timeout_ms);
    if (rc < 0 && errno != EINTR) {
      if (log_) log_(std::string("watcher: poll: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (rc > 0 && (fds[0].revents & POLLIN) && drain()) {
      auto now = clock::now();
      if (!pending) latest_at = now + 10 * debounce_;
      pending = true;
      quiet_at = now + debounce_;
    }
    if (pending && clock::now() >= std::min(quiet_at, latest_at)) {
      pending = false;
      try {
        on_change_();
      } catch (const std::exception& e) {
        if (log_) log_(std::string("watcher: reload failed: ") + e.what());
      }
    }
  }
}

}  // namespace lg::ctrl
