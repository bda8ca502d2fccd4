// Records travel between the workers and the access log writer thread
// through two single-producer/single-consumer rings per worker: `free`
// (writer → worker) holds empty records, `full` (worker → writer) filled
// ones. A worker takes a record when a request starts (when a log is on),
// fills it as the request goes, and submits it when the request ends. No
// allocation, no lock; when a worker runs out of records the request is not
// logged and the drop is counted, never waited for.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "l7/access_log/record.h"

namespace lg::access_log {

class Sink {
 public:
  static std::unique_ptr<Sink> create(unsigned workers, uint32_t records_per_worker, std::string* error);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Worker w: an empty record (reset), or null when none is free (counted).
  Record* take(unsigned w);
  // Worker w: a filled record, to the writer.
  void submit(unsigned w, Record* r);

  // Writer: up to n filled records of worker w, then back once rendered.
  unsigned collect(unsigned w, Record** out, unsigned n);
  void recycle(unsigned w, Record* const* rs, unsigned n);

  unsigned workers() const { return static_cast<unsigned>(lanes_.size()); }
  uint64_t dropped() const;  // requests not logged: no free record

 private:
  struct alignas(64) Lane {
    rte_ring* free = nullptr;
    rte_ring* full = nullptr;
    std::unique_ptr<Record[]> records;
    std::atomic<uint64_t> dropped{0};  // written by the worker only
  };
  Sink() = default;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace lg::access_log
