// The access log writer thread: renders the records workers submit (through
// the Sink) with every access log of the serving snapshot, after its CEL
// filter, and appends them to the logs' files. Off the fast path: it may
// allocate, lock and block on a file; workers never wait for it (a full
// lane drops records, counted).
#pragma once

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ctrl/cel/cel.h"
#include "dataplane/access_log/sink.h"
#include "l7/access_log/render.h"
#include "ctrl/proto/snapshot.pb.h"

namespace lg::access_log {

struct WriterStats {
  uint64_t written = 0;        // entries appended (one per record and log)
  uint64_t filtered = 0;       // entries a log's filter left out
  uint64_t filter_errors = 0;  // filters that did not evaluate to a bool (the entry is left out, as by Envoy's CEL filter)
  uint64_t write_failed = 0;   // writes that failed (what they held is lost) or files that did not open
  uint64_t dropped = 0;        // requests not logged: a worker had no free record
  uint64_t truncated = 0;      // requests logged with a value cut short or left out (record text full)
};

class Writer {
 public:
  Writer(Sink& sink, std::string hostname);
  ~Writer();  // writes what the workers submitted, then stops
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // The access logs of a snapshot just applied (control thread). Returns
  // the errors of logs that could not be set up (those logs are left out).
  std::vector<std::string> configure(const linegate::snapshot::v1::Telemetry& t);
  WriterStats stats() const;

 private:
  struct Log {
    std::string provider, path;
    bool json = false;
    Format text;
    JsonLabels labels;
    std::unique_ptr<ctrl::cel::Program> filter;
  };
  struct Config {
    std::vector<Log> logs;
  };
  void run();
  unsigned drain();
  void write(const Record& r, const Config& c);
  std::FILE* file(const std::string& path);
  void flush();

  Sink& sink_;
  Process process_;
  std::string hostname_;
  mutable std::mutex mu_;
  std::shared_ptr<const Config> config_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0}, filtered_{0}, filter_errors_{0}, write_failed_{0}, truncated_{0};
  // Writer thread only.
  std::map<std::string, std::FILE*> files_;
  std::map<std::FILE*, std::string> pending_;
  std::thread thread_;
};

}  // namespace lg::access_log
