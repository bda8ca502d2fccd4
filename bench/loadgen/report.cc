#include "bench/loadgen/report.h"

#include <cinttypes>
#include <cstdio>

#include "dataplane/version.h"

namespace lg::bench {

using json = nlohmann::ordered_json;

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::starting: return "starting";
    case Phase::warmup: return "warm-up";
    case Phase::measure: return "measuring";
    case Phase::finishing: return "finishing";
    case Phase::done: return "done";
  }
  return "?";
}

namespace {

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
double ratio(double a, double b) { return b == 0 ? 0 : a / b; }

json config_json(const Options& o) {
  json j{{"command_line", o.command_line}};
  json ports = json::array();
  for (const PortConfig& p : o.bootstrap.ports) ports.push_back({{"device", p.device}});
  j["ports"] = ports;
  if (const auto& c = o.client) {
    j["client"] = {{"target", c->target_text},   {"mode", mode_name(c->mode)},
                   {"connections", c->connections}, {"duration_s", c->duration_s},
                   {"warmup_s", c->warmup_s},       {"rate", c->rate},
                   {"methods", c->methods.size()},  {"paths", c->paths.size()},
                   {"hosts", c->hosts.size()},      {"headers", c->headers},
                   {"request_bytes", c->request_bytes}, {"timeout_ms", c->timeout_ms}};
  }
  if (const auto& r = o.responder) {
    json statuses = json::array();
    for (const StatusWeight& w : r->statuses) statuses.push_back({w.code, w.weight});
    j["responder"] = {{"listen", r->listen},
                      {"source_port", r->source_port},
                      {"response_bytes", {r->response_bytes.lo, r->response_bytes.hi}},
                      {"delay_us", {r->delay_us.lo, r->delay_us.hi}},
                      {"statuses", statuses}};
  }
  return j;
}

// The HDR percentile ladder: halving the remaining tail at each step.
json percentile_ladder(const Histogram& h) {
  json out = json::array();
  if (h.count() == 0) return out;
  for (double tail = 50; tail >= 0.0001; tail /= 2) {
    const double p = 100 - tail;
    out.push_back({p, us(h.percentile(p))});
    if (static_cast<double>(h.count()) * tail / 100 < 1) break;  // beyond the last sample
  }
  out.push_back({100.0, us(h.max())});
  return out;
}

}  // namespace

json report_json(const RunFigures& f) {
  const Options& o = *f.options;
  json j{{"tool", "linegate-loadgen"}, {"version", kVersion}, {"label", o.label}, {"config", config_json(o)}};
  if (const ClientResults* r = f.client) {
    const ClientOptions& c = *o.client;
    const double window_s =
        r->window_end > r->window_start ? static_cast<double>(r->window_end - r->window_start) / static_cast<double>(f.tsc_hz) : 0;
    j["mode"] = mode_name(c.mode);
    j["open_loop"] = c.rate > 0;
    j["target_rate"] = c.rate;
    j["duration_s"] = window_s;
    j["warmup_s"] = c.warmup_s;
    j["requests"] = r->requests;
    j["requests_total"] = r->requests_total;
    j["throughput_rps"] = ratio(static_cast<double>(r->requests), window_s);
    j["bytes_received"] = r->bytes_received;
    j["bytes_sent"] = r->bytes_sent;
    j["gbps_received"] = ratio(static_cast<double>(r->bytes_received) * 8 / 1e9, window_s);
    j["connections"] = {{"opened", r->conn_opened}, {"failed", r->conn_failed}, {"closed", r->conn_closed}};
    const Histogram& h = r->latency;
    j["latency_us"] = {{"min", us(h.min())},          {"mean", h.mean() / 1000},        {"stddev", h.stddev() / 1000},
                       {"p50", us(h.percentile(50))},  {"p90", us(h.percentile(90))},   {"p99", us(h.percentile(99))},
                       {"p999", us(h.percentile(99.9))}, {"p9999", us(h.percentile(99.99))}, {"max", us(h.max())},
                       {"samples", h.count()},         {"saturated", h.saturated()}};
    j["latency_percentiles"] = percentile_ladder(h);
    json buckets = json::array();
    h.for_each_bucket([&](uint64_t, uint64_t hi, uint64_t n) { buckets.push_back({us(hi), n}); });
    j["latency_histogram"] = buckets;
    json timeline = json::array();
    const size_t seconds = std::min(r->timeline.size(), static_cast<size_t>(window_s + 0.999));
    for (size_t i = 0; i < seconds; ++i)
      timeline.push_back({{"t", i + 1},
                          {"requests", r->timeline[i].requests},
                          {"errors", r->timeline[i].errors},
                          {"bytes", r->timeline[i].bytes}});
    j["timeline"] = timeline;
    j["errors"] = {{"connect", r->err_connect},   {"timeout", r->err_timeout},   {"reset", r->err_reset},
                   {"protocol", r->err_protocol}, {"status_4xx", r->status[4]}, {"status_5xx", r->status[5]}};
    j["status"] = {{"1xx", r->status[1]}, {"2xx", r->status[2]}, {"3xx", r->status[3]},
                   {"4xx", r->status[4]}, {"5xx", r->status[5]}};
    const uint64_t window_busy = r->busy_at_end - r->busy_at_start;
    const uint64_t window_cycles = r->window_end - r->window_start;
    j["loadgen"] = {{"tsc_hz", f.tsc_hz},
                    {"busy_cycles", window_busy},
                    {"total_cycles", window_cycles},
                    {"busy_fraction", ratio(static_cast<double>(window_busy), static_cast<double>(window_cycles))},
                    {"cycles_per_request", ratio(static_cast<double>(window_busy), static_cast<double>(r->requests))},
                    {"run_busy_cycles", f.busy_cycles},
                    {"run_total_cycles", f.total_cycles}};
    if (c.tls.enabled) {
      json tls = {{"sni", c.tls.sni}, {"verify", !c.tls.ca_file.empty()}, {"client_certificate", !c.tls.cert_file.empty()},
                  {"record_offload", c.tls.record_offload}};
      for (const auto& [name, n] : f.tls) tls[name] = n;
      j["tls"] = tls;
    }
  } else {
    j["loadgen"] = {{"tsc_hz", f.tsc_hz}, {"run_busy_cycles", f.busy_cycles}, {"run_total_cycles", f.total_cycles}};
  }
  if (f.counters != nullptr) {
    // The generator's own stack: drops and retransmissions here mean the
    // figures above include the generator's trouble, not only the target's.
    json drops = json::object(), events = json::object();
    for (unsigned d = 0; d < kDropCount; ++d) {
      uint64_t n = 0;
      for (unsigned p = 0; p < kMaxPorts; ++p) n += f.counters->drops[p][d];
      if (n) drops[std::string(drop_name(static_cast<Drop>(d)))] = n;
    }
    for (unsigned e = 0; e < kEventCount; ++e) {
      uint64_t n = 0;
      for (unsigned p = 0; p < kMaxPorts; ++p) n += f.counters->events[p][e];
      if (n) events[std::string(event_name(static_cast<Event>(e)))] = n;
    }
    j["stack"] = {{"drops", drops}, {"events", events}};
  }
  if (const ResponderResults* r = f.responder) {
    j["responder"] = {{"requests", r->requests},
                      {"bytes_sent", r->bytes_sent},
                      {"bad_requests", r->bad_requests},
                      {"connections", r->connections}};
    // Alone in its process, all of the lcore's busy time is the responder's.
    if (f.client == nullptr)
      j["responder"]["cycles_per_request"] = ratio(static_cast<double>(f.busy_cycles), static_cast<double>(r->requests));
  }
  return j;
}

std::string summary_table(const json& j) {
  std::string out;
  char line[256];
  auto row = [&](const char* name, const std::string& value) {
    snprintf(line, sizeof(line), "  %-22s %s\n", name, value.c_str());
    out += line;
  };
  auto num = [](const char* fmt, double v) {
    char b[64];
    snprintf(b, sizeof(b), fmt, v);
    return std::string(b);
  };
  out += "linegate-loadgen: " + j["label"].get<std::string>() + "\n";
  if (j.contains("requests")) {
    const bool bulk = j["mode"] == "tcp-bulk";
    const bool conns = j["mode"] == "tcp-connect";
    row("mode", j["mode"].get<std::string>() + (j["open_loop"].get<bool>()
                                                   ? num(", open loop at %.0f/s", j["target_rate"].get<double>())
                                                   : ", closed loop"));
    row("measured", num("%.2f s", j["duration_s"].get<double>()) + num(" (after %.1f s warm-up)", j["warmup_s"].get<double>()));
    if (bulk) {
      row("throughput", num("%.3f Gbit/s", j["gbps_received"].get<double>()));
    } else {
      row(conns ? "connections" : "requests", std::to_string(j["requests"].get<uint64_t>()));
      row("throughput", num(conns ? "%.0f connections/s" : "%.0f requests/s", j["throughput_rps"].get<double>()) +
                            num(", %.3f Gbit/s received", j["gbps_received"].get<double>()));
      const json& l = j["latency_us"];
      row("latency (us)", num("min %.1f", l["min"].get<double>()) + num("  mean %.1f", l["mean"].get<double>()) +
                              num("  max %.1f", l["max"].get<double>()));
      row("percentiles (us)", num("p50 %.1f", l["p50"].get<double>()) + num("  p90 %.1f", l["p90"].get<double>()) +
                                  num("  p99 %.1f", l["p99"].get<double>()) + num("  p99.9 %.1f", l["p999"].get<double>()) +
                                  num("  p99.99 %.1f", l["p9999"].get<double>()));
    }
    if (!bulk && !conns) {
      const json& s = j["status"];
      row("status", "2xx " + std::to_string(s["2xx"].get<uint64_t>()) + "  3xx " + std::to_string(s["3xx"].get<uint64_t>()) +
                        "  4xx " + std::to_string(s["4xx"].get<uint64_t>()) + "  5xx " + std::to_string(s["5xx"].get<uint64_t>()));
    }
    const json& e = j["errors"];
    row("errors", "connect " + std::to_string(e["connect"].get<uint64_t>()) + "  timeout " +
                      std::to_string(e["timeout"].get<uint64_t>()) + "  reset " + std::to_string(e["reset"].get<uint64_t>()) +
                      "  protocol " + std::to_string(e["protocol"].get<uint64_t>()));
    const json& c = j["connections"];
    row("connections", "opened " + std::to_string(c["opened"].get<uint64_t>()) + "  failed " +
                           std::to_string(c["failed"].get<uint64_t>()));
    if (j.contains("tls")) {
      const json& t = j["tls"];
      row("tls", "handshakes " + std::to_string(t.value("ssl_handshake", uint64_t{0})) + " (" +
                     std::to_string(t.value("ssl_offloaded", uint64_t{0})) + " offloaded)  errors " +
                     std::to_string(t.value("ssl_connection_error", uint64_t{0})) + "  timeouts " +
                     std::to_string(t.value("ssl_handshake_timeout", uint64_t{0})));
    }
    const json& g = j["loadgen"];
    row("generator", num("busy %.1f%% of its core", 100 * g["busy_fraction"].get<double>()) +
                         (bulk ? std::string() : num(", %.0f cycles per request", g["cycles_per_request"].get<double>())));
  }
  if (j.contains("responder")) {
    const json& r = j["responder"];
    row("responder", std::to_string(r["requests"].get<uint64_t>()) + " requests answered, " +
                         std::to_string(r["bad_requests"].get<uint64_t>()) + " bad" +
                         (r.contains("cycles_per_request") ? num(", %.0f cycles per request", r["cycles_per_request"].get<double>())
                                                           : std::string()));
  }
  return out;
}

std::string progress_line(const Live& live, double elapsed_s, double total_s, uint64_t requests_delta,
                          uint64_t latency_delta_ns, uint64_t bytes_delta, double interval_s) {
  char b[256];
  const double rate = interval_s > 0 ? static_cast<double>(requests_delta) / interval_s : 0;
  const double mean_us = requests_delta ? static_cast<double>(latency_delta_ns) / static_cast<double>(requests_delta) / 1000 : 0;
  snprintf(b, sizeof(b), "[%5.1fs/%.0fs] %-9s %9.0f req/s  mean %8.1f us  %7.3f Gbit/s  conns %" PRIu64 "  errors %" PRIu64,
           elapsed_s, total_s, phase_name(live.phase.load(std::memory_order_relaxed)), rate, mean_us,
           interval_s > 0 ? static_cast<double>(bytes_delta) * 8 / 1e9 / interval_s : 0, live.open_conns.get(),
           live.errors.get());
  return b;
}

std::string responder_progress_line(double elapsed_s, uint64_t answered_delta, double interval_s) {
  char b[128];
  snprintf(b, sizeof(b), "[%7.1fs] responder %9.0f answers/s", elapsed_s,
           interval_s > 0 ? static_cast<double>(answered_delta) / interval_s : 0);
  return b;
}

}  // namespace lg::bench
