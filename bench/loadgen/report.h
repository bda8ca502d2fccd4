// What a run produced, three ways: the live progress line, the summary table
// printed at the end, and the JSON document (--json) with every figure
// (bench/plot.py and bench/compare.py read it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench/loadgen/client.h"
#include "bench/loadgen/live.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/responder.h"
#include "dataplane/counters/counters.h"

namespace lg::bench {

struct RunFigures {
  const Options* options = nullptr;
  const ClientResults* client = nullptr;        // null: responder only
  const ResponderResults* responder = nullptr;  // null: client only
  uint64_t tsc_hz = 0;
  uint64_t total_cycles = 0;  // the generator lcore's whole run
  uint64_t busy_cycles = 0;   // of which passes that found work
  const LcoreCounters* counters = nullptr;  // the generator's network layer and TCP stack
  std::vector<std::pair<std::string, uint64_t>> tls;  // --tls: ssl_* counters of the client's handshakes
};

nlohmann::ordered_json report_json(const RunFigures& f);
std::string summary_table(const nlohmann::ordered_json& j);

// One line: elapsed, phase, rate over the last interval, mean latency, errors.
std::string progress_line(const Live& live, double elapsed_s, double total_s, uint64_t requests_delta,
                          uint64_t latency_delta_ns, uint64_t bytes_delta, double interval_s);
// A responder on its own: elapsed and answers per second.
std::string responder_progress_line(double elapsed_s, uint64_t answered_delta, double interval_s);

}  // namespace lg::bench
