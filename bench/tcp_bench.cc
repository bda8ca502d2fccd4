// linegate-tcp-bench: the userspace TCP stack against itself, two stacks in
// one process on one core (see tcp_pair.h), measured in TSC cycles.
//
//   bulk        one connection, A writes --bytes, B reads and frees them:
//               Gbit/s on the core, per-stack Gbit/s, cycles per segment
//               sent (A) and received (B)
//   connect     --connections short connections, at most --inflight open at
//               once: A connects, (optionally writes --request-bytes) and
//               closes; B accepts, reads, closes: connections/s on the core,
//               cycles per connection
//   loss        bulk again with --loss applied to both directions of the
//               link (drivers/impair.h): goodput and the recovery counters
//
// Variants: --snd-buffer/--rcv-buffer, --offload (checksum offload
// emulated), --syn-backlog, --time-wait-ms, --cc, --huge. Everything the table
// shows goes to --json FILE as well; docs/performance.md has the figures.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_version.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/tcp_pair.h"
#include "dataplane/runtime/eal.h"

namespace lg::bench {
namespace {

using json = nlohmann::ordered_json;

struct Options {
  uint64_t bytes = 2ull << 30;
  uint64_t connections = 200000;
  uint32_t inflight = 64;
  uint32_t request_bytes = 0;
  uint32_t time_wait_ms = 0;
  uint32_t max_time_wait = 8192;
  uint32_t syn_backlog = 0;  // 0: the stack's default (1024)
  uint32_t write_size = 0;  // 0: one MSS per write
  uint32_t snd_buffer = 0;  // 0: the stack's default
  uint32_t rcv_buffer = 0;
  double loss = 0.01;
  uint64_t loss_bytes = 256ull << 20;
  bool offload = false;
  bool quick = false;
  std::string cc = "cubic";
  double timeout_s = 600;
  std::string json_file;
};

double seconds(uint64_t cycles) { return static_cast<double>(cycles) / static_cast<double>(rte_get_tsc_hz()); }
double ratio(double a, double b) { return b == 0 ? 0 : a / b; }

tcp::TcpConfig base_tcp(const Options& o) {
  tcp::TcpConfig c;
  c.cc = o.cc == "newreno" ? tcp::CcAlgo::newreno : tcp::CcAlgo::cubic;
  if (o.snd_buffer != 0) c.snd_buffer = o.snd_buffer;
  if (o.rcv_buffer != 0) c.rcv_buffer = o.rcv_buffer;
  c.syncookie_secret[0] = 0x6c696e6567617465ull;
  c.syncookie_secret[1] = 0x62656e63686d6b21ull;
  return c;
}

json side_json(const Side& s, const SideTime& t) {
  return json{{"passes", t.passes},
              {"busy_passes", t.busy_passes},
              {"busy_cycles", t.busy_cycles},
              {"total_cycles", t.total_cycles},
              {"segments_sent", s.event(Event::tcp_segments_sent)},
              {"segments_received", s.event(Event::tcp_segments_received)},
              {"retransmits", s.event(Event::tcp_retransmits)},
              {"fast_retransmits", s.event(Event::tcp_fast_retransmits)},
              {"rto_timeouts", s.event(Event::tcp_rto_timeouts)},
              {"ooo_segments", s.event(Event::tcp_ooo_segments)},
              {"syncookies_sent", s.event(Event::tcp_syncookies_sent)},
              {"syncookies_accepted", s.event(Event::tcp_syncookies_accepted)},
              {"resets_sent", s.event(Event::tcp_resets_sent)},
              {"challenge_acks", s.event(Event::tcp_challenge_acks)},
              {"tx_frames", s.event(Event::tx_frames)},
              {"drops", s.drops()}};
}

// ---------------------------------------------------------------- bulk ----

struct BulkSender {
  tcp::TcpStack* s = nullptr;
  rte_mempool* pool = nullptr;
  tcp::Conn* c = nullptr;
  uint64_t total = 0, written = 0;
  uint32_t write_size = 0;
  uint16_t mss = 0;
  bool connected = false, shut = false, closed = false;
  tcp::CloseReason why = tcp::CloseReason::normal;
};

struct BulkSink {
  tcp::TcpStack* s = nullptr;
  tcp::Conn* c = nullptr;
  uint64_t received = 0;
  bool eof = false, closed = false;
  tcp::CloseReason why = tcp::CloseReason::normal;
};

// Writes one mbuf at a time (the payload is left as the pool hands it out:
// its content costs nothing to the stack, checksums read it either way).
void bulk_pump(BulkSender& w) {
  tcp::Conn* c = w.c;
  const uint32_t size = w.write_size ? w.write_size : c->mss;
  while (w.written < w.total) {
    const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(size, w.total - w.written));
    if (w.s->write_space(c) < len) {
      w.s->want_writable(c);
      return;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
    if (m == nullptr) {
      w.s->want_writable(c);
      return;
    }
    rte_pktmbuf_append(m, static_cast<uint16_t>(len));
    if (w.s->write(c, m) != tcp::IoStatus::ok) {
      rte_pktmbuf_free(m);
      return;
    }
    w.written += len;
  }
  if (!w.shut) {
    w.shut = true;
    w.s->shutdown(c);
  }
}

const tcp::AppOps kBulkSenderOps = {
    nullptr,
    [](void* app, tcp::Conn* c) {
      auto& w = *static_cast<BulkSender*>(app);
      w.connected = true;
      w.mss = c->mss;
      bulk_pump(w);
    },
    [](void* app, tcp::Conn* c) {
      auto& w = *static_cast<BulkSender*>(app);
      while (rte_mbuf* m = w.s->read(c, UINT32_MAX)) rte_pktmbuf_free(m);
      if (w.s->eof(c)) {
        w.closed = true;
        w.c = nullptr;
        w.s->close(c);
      }
    },
    [](void* app, tcp::Conn*) { bulk_pump(*static_cast<BulkSender*>(app)); },
    [](void* app, tcp::Conn*, tcp::CloseReason why) {
      auto& w = *static_cast<BulkSender*>(app);
      w.closed = true;
      w.why = why;
      w.c = nullptr;
    },
};

const tcp::AppOps kBulkSinkOps = {
    [](void* ctx, tcp::Conn* c) {
      auto& k = *static_cast<BulkSink*>(ctx);
      c->app = &k;
      k.c = c;
      return true;
    },
    nullptr,
    [](void* app, tcp::Conn* c) {
      auto& k = *static_cast<BulkSink*>(app);
      while (rte_mbuf* m = k.s->read(c, UINT32_MAX)) {
        k.received += rte_pktmbuf_pkt_len(m);
        rte_pktmbuf_free(m);
      }
      if (k.s->eof(c)) {
        k.eof = true;
        k.closed = true;
        k.c = nullptr;
        k.s->close(c);
      }
    },
    nullptr,
    [](void* app, tcp::Conn*, tcp::CloseReason why) {
      auto& k = *static_cast<BulkSink*>(app);
      k.closed = true;
      k.why = why;
      k.c = nullptr;
    },
};

struct BulkResult {
  bool ok = false;
  std::string error;
  json j;
};

BulkResult run_bulk(const Options& o, uint64_t bytes, const drv::ImpairConfig& impair, const char* name) {
  BulkResult r;
  PairConfig pc;
  pc.tcp = base_tcp(o);
  pc.offload = o.offload;
  pc.impair = impair;
  TcpPair p;
  if (!p.init(pc, &r.error)) return r;

  BulkSink sink;
  sink.s = p.b.tcp.get();
  p.b.tcp->listen(5001, &kBulkSinkOps, &sink);
  BulkSender snd;
  snd.s = p.a.tcp.get();
  snd.pool = p.a.pool;
  snd.total = bytes;
  snd.write_size = o.write_size;

  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t deadline = rte_rdtsc() + static_cast<uint64_t>(o.timeout_s * static_cast<double>(hz));
  auto nothing = [] { return 0u; };
  const rte_be32_t dst = p.ip_b();
  const uint64_t t_start = rte_rdtsc();
  // The stacks' clocks must be set before the first API call (connect stamps
  // the connection's open time with it).
  p.a.tcp->set_clock(t_start);
  p.b.tcp->set_clock(t_start);
  snd.c = p.a.tcp->connect(0, 4, reinterpret_cast<const uint8_t*>(&dst), 5001, &kBulkSenderOps, &snd);
  if (snd.c == nullptr) {
    r.error = "connect failed";
    return r;
  }
  // Timed part: until B has every byte.
  while (sink.received < bytes && !sink.closed && !snd.closed) {
    p.pass(nothing, nothing);
    if (rte_rdtsc() > deadline) {
      r.error = "timeout: received " + std::to_string(sink.received) + " of " + std::to_string(bytes);
      break;
    }
  }
  const uint64_t t_end = rte_rdtsc();
  const SideTime ta = p.a.time, tb = p.b.time;
  json ja = side_json(p.a, ta), jb = side_json(p.b, tb);
  if (r.error.empty() && sink.received != bytes)
    r.error = "stream ended early: received " + std::to_string(sink.received) + " of " + std::to_string(bytes);
  // Untimed: let both ends close (FIN both ways).
  const uint64_t close_deadline = rte_rdtsc() + 5 * hz;
  while ((!sink.closed || !snd.closed || p.b.tcp->connections() != 0) && rte_rdtsc() < close_deadline)
    p.pass(nothing, nothing);
  if (r.error.empty() && (!snd.closed || !sink.closed || snd.why != tcp::CloseReason::normal))
    r.error = "connection did not close normally";

  const double wall_s = seconds(t_end - t_start);
  const double bits = static_cast<double>(bytes) * 8;
  const uint64_t segs_a = ja["segments_sent"], segs_b = jb["segments_received"];
  r.j = json{
      {"name", name},
      {"bytes", bytes},
      {"wall_seconds", wall_s},
      {"gbps_core", bits / wall_s / 1e9},
      {"gbps_sender_stack", bits / seconds(ta.busy_cycles) / 1e9},
      {"gbps_receiver_stack", bits / seconds(tb.busy_cycles) / 1e9},
      {"cycles_per_segment_sent", ratio(static_cast<double>(ta.busy_cycles), static_cast<double>(segs_a))},
      {"cycles_per_segment_received", ratio(static_cast<double>(tb.busy_cycles), static_cast<double>(segs_b))},
      {"cycles_per_byte_pair", ratio(static_cast<double>(ta.busy_cycles + tb.busy_cycles), static_cast<double>(bytes))},
      {"loop_overhead_fraction",
       ratio(static_cast<double>((t_end - t_start) - ta.total_cycles - tb.total_cycles), static_cast<double>(t_end - t_start))},
      {"mss", snd.mss},
      {"a", ja},
      {"b", jb},
  };
  if (impair.enabled()) {
    r.j["loss"] = impair.loss;
    r.j["impair_dropped"] = (p.a.impair ? p.a.impair->stats().dropped : 0) + (p.b.impair ? p.b.impair->stats().dropped : 0);
  }
  if (!p.teardown()) {
    if (r.error.empty())
      r.error = "mbuf leak: " + std::to_string(p.a.in_use_at_teardown) + " (A pool), " +
                std::to_string(p.b.in_use_at_teardown) + " (B pool) still in use after teardown";
  }
  r.ok = r.error.empty();
  return r;
}

// ---------------------------------------------------------- connections ----

struct ConnClient {
  tcp::TcpStack* s = nullptr;
  rte_mempool* pool = nullptr;
  uint32_t request_bytes = 0;
  uint64_t connected = 0, failed = 0;
};

struct ConnServer {
  tcp::TcpStack* s = nullptr;
  uint64_t accepted = 0, finished = 0, failed = 0, bytes = 0;
};

const tcp::AppOps kClientOps = {
    nullptr,
    [](void* app, tcp::Conn* c) {
      auto& k = *static_cast<ConnClient*>(app);
      ++k.connected;
      if (k.request_bytes != 0) {
        if (rte_mbuf* m = rte_pktmbuf_alloc(k.pool)) {
          rte_pktmbuf_append(m, static_cast<uint16_t>(k.request_bytes));
          if (k.s->write(c, m) != tcp::IoStatus::ok) rte_pktmbuf_free(m);
        }
      }
      k.s->close(c);  // FIN now; no more callbacks for c
    },
    nullptr,
    nullptr,
    [](void* app, tcp::Conn*, tcp::CloseReason) { ++static_cast<ConnClient*>(app)->failed; },
};

const tcp::AppOps kServerOps = {
    [](void* ctx, tcp::Conn* c) {
      c->app = ctx;
      ++static_cast<ConnServer*>(ctx)->accepted;
      return true;
    },
    nullptr,
    [](void* app, tcp::Conn* c) {
      auto& k = *static_cast<ConnServer*>(app);
      while (rte_mbuf* m = k.s->read(c, UINT32_MAX)) {
        k.bytes += rte_pktmbuf_pkt_len(m);
        rte_pktmbuf_free(m);
      }
      if (k.s->eof(c)) {
        ++k.finished;
        k.s->close(c);
      }
    },
    nullptr,
    [](void* app, tcp::Conn*, tcp::CloseReason why) {
      if (why != tcp::CloseReason::normal) ++static_cast<ConnServer*>(app)->failed;
    },
};

BulkResult run_connections(const Options& o, uint64_t target, const char* name) {
  BulkResult r;
  PairConfig pc;
  pc.tcp = base_tcp(o);
  pc.tcp.time_wait_ms = o.time_wait_ms;
  pc.tcp.max_time_wait = o.max_time_wait;
  if (o.syn_backlog != 0) pc.tcp.syn_backlog = o.syn_backlog;
  pc.offload = o.offload;
  TcpPair p;
  if (!p.init(pc, &r.error)) return r;

  ConnServer server;
  server.s = p.b.tcp.get();
  p.b.tcp->listen(80, &kServerOps, &server);
  ConnClient client;
  client.s = p.a.tcp.get();
  client.pool = p.a.pool;
  client.request_bytes = o.request_bytes;

  const rte_be32_t dst = p.ip_b();
  uint64_t started = 0, connect_errors = 0;
  // Open = in A's table and not yet in TIME-WAIT (after its FIN was
  // answered, a closed connection is done as far as the client is concerned).
  auto open_now = [&] {
    return static_cast<int64_t>(p.a.tcp->connections()) - p.a.gauge(Gauge::tcp_time_wait);
  };
  auto app_a = [&]() -> unsigned {
    unsigned n = 0;
    while (started < target && open_now() < static_cast<int64_t>(o.inflight)) {
      if (p.a.tcp->connect(0, 4, reinterpret_cast<const uint8_t*>(&dst), 80, &kClientOps, &client) == nullptr) {
        ++connect_errors;
        break;
      }
      ++started;
      ++n;
    }
    return n;
  };
  auto nothing = [] { return 0u; };
  auto finished = [&] {
    return p.a.event(Event::tcp_connections_closed) + static_cast<uint64_t>(p.a.gauge(Gauge::tcp_time_wait));
  };

  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t deadline = rte_rdtsc() + static_cast<uint64_t>(o.timeout_s * static_cast<double>(hz));
  const uint64_t t_start = rte_rdtsc();
  while (finished() < target || p.b.tcp->connections() != 0) {
    p.pass(app_a, nothing);
    if (connect_errors > 1000) {
      r.error = "connect() keeps failing (table or ports exhausted)";
      break;
    }
    if (rte_rdtsc() > deadline) {
      r.error = "timeout: " + std::to_string(finished()) + " of " + std::to_string(target) + " finished";
      break;
    }
  }
  const uint64_t t_end = rte_rdtsc();
  const SideTime ta = p.a.time, tb = p.b.time;
  const uint64_t done = finished();
  if (r.error.empty() && (client.failed != 0 || server.failed != 0 || server.finished != target ||
                          client.connected != target))
    r.error = "connections failed: client connected " + std::to_string(client.connected) + ", client failures " +
              std::to_string(client.failed) + ", server finished " + std::to_string(server.finished) +
              ", server failures " + std::to_string(server.failed);

  const double wall_s = seconds(t_end - t_start);
  json ja = side_json(p.a, ta), jb = side_json(p.b, tb);
  const double segs = static_cast<double>(p.a.event(Event::tcp_segments_sent) + p.b.event(Event::tcp_segments_sent));
  r.j = json{
      {"name", name},
      {"connections", done},
      {"inflight", o.inflight},
      {"request_bytes", o.request_bytes},
      {"time_wait_ms", o.time_wait_ms},
      {"max_time_wait", o.max_time_wait},
      {"wall_seconds", wall_s},
      {"connections_per_second_core", static_cast<double>(done) / wall_s},
      {"cycles_per_connection", ratio(static_cast<double>(ta.busy_cycles + tb.busy_cycles), static_cast<double>(done))},
      {"cycles_per_connection_client", ratio(static_cast<double>(ta.busy_cycles), static_cast<double>(done))},
      {"cycles_per_connection_server", ratio(static_cast<double>(tb.busy_cycles), static_cast<double>(done))},
      {"connections_per_second_client_stack", static_cast<double>(done) / seconds(ta.busy_cycles)},
      {"connections_per_second_server_stack", static_cast<double>(done) / seconds(tb.busy_cycles)},
      {"segments_per_connection", segs / static_cast<double>(done ? done : 1)},
      {"time_wait_at_end", p.a.gauge(Gauge::tcp_time_wait)},
      {"time_wait_overflow", p.a.drop(Drop::tcp_time_wait_overflow)},
      {"a", ja},
      {"b", jb},
  };
  if (!p.teardown() && r.error.empty())
    r.error = "mbuf leak: " + std::to_string(p.a.in_use_at_teardown) + " (A pool), " +
              std::to_string(p.b.in_use_at_teardown) + " (B pool) still in use after teardown";
  r.ok = r.error.empty();
  return r;
}

// ----------------------------------------------------------------- sizes ----

// Heap bytes one connection slot costs in the flow hash (rte_malloc), found
// by building a stack with n slots and one with 2n.
double hash_bytes_per_slot() {
  auto heap_used = [] {
    rte_malloc_socket_stats st{};
    rte_malloc_get_socket_stats(static_cast<int>(rte_socket_id()), &st);
    return static_cast<double>(st.heap_allocsz_bytes);
  };
  auto build = [&](uint32_t n) {
    PairConfig pc;
    pc.tcp.max_connections = n;
    pc.pool_mbufs = 1023;
    pc.ring_size = 64;
    const double before = heap_used();
    TcpPair p;
    std::string err;
    if (!p.init(pc, &err)) return -1.0;
    const double after = heap_used();
    return after - before;
  };
  const double small = build(16384), big = build(32768);
  if (small < 0 || big < 0) return 0;
  return (big - small) / 2 / 16384;  // two stacks per pair
}

json sizes_json() {
  using tcp::Conn;
  return json{{"Conn", sizeof(Conn)},
              {"FlowKey", sizeof(tcp::FlowKey)},
              {"SegQueue_x2", 2 * sizeof(tcp::SegQueue)},
              {"OooRange_x12", sizeof(Conn::ooo)},
              {"Timer_x3", 3 * sizeof(Timer)},
              {"RttEstimator", sizeof(tcp::RttEstimator)},
              {"CcState", sizeof(tcp::CcState)},
              {"SackScoreboard", sizeof(tcp::SackScoreboard)},
              {"SackReceiverBlocks", sizeof(tcp::SackReceiverBlocks)},
              {"free_list_entry", sizeof(uint32_t)}};
}

// ----------------------------------------------------------------- print ----

void print_bulk(const json& j) {
  std::printf("  %-34s %12.2f\n", "Gbit/s (one core, both stacks)", j["gbps_core"].get<double>());
  std::printf("  %-34s %12.2f\n", "Gbit/s sender stack alone", j["gbps_sender_stack"].get<double>());
  std::printf("  %-34s %12.2f\n", "Gbit/s receiver stack alone", j["gbps_receiver_stack"].get<double>());
  std::printf("  %-34s %12.0f\n", "cycles / segment sent (A)", j["cycles_per_segment_sent"].get<double>());
  std::printf("  %-34s %12.0f\n", "cycles / segment received (B)", j["cycles_per_segment_received"].get<double>());
  std::printf("  %-34s %12.3f\n", "cycles / byte (A+B)", j["cycles_per_byte_pair"].get<double>());
  std::printf("  %-34s %12" PRIu64 " / %" PRIu64 "\n", "segments A sent / B received",
              j["a"]["segments_sent"].get<uint64_t>(), j["b"]["segments_received"].get<uint64_t>());
  std::printf("  %-34s %12" PRIu64 "\n", "ACK segments B sent", j["b"]["segments_sent"].get<uint64_t>());
  std::printf("  %-34s %12" PRIu64 " / %" PRIu64 " / %" PRIu64 "\n", "retransmits / fast rtx / RTOs (A)",
              j["a"]["retransmits"].get<uint64_t>(), j["a"]["fast_retransmits"].get<uint64_t>(),
              j["a"]["rto_timeouts"].get<uint64_t>());
  std::printf("  %-34s %12.3f s, MSS %u\n", "wall time", j["wall_seconds"].get<double>(), j["mss"].get<unsigned>());
  if (j.contains("impair_dropped"))
    std::printf("  %-34s %12" PRIu64 " (loss %.3f each way)\n", "frames dropped by impairment",
                j["impair_dropped"].get<uint64_t>(), j["loss"].get<double>());
  for (const char* s : {"a", "b"})
    if (!j[s]["drops"].get<std::string>().empty())
      std::printf("  drops %s: %s\n", s, j[s]["drops"].get<std::string>().c_str());
}

void print_conn(const json& j) {
  std::printf("  %-34s %12.0f\n", "connections/s (one core, both)", j["connections_per_second_core"].get<double>());
  std::printf("  %-34s %12.0f\n", "connections/s client stack alone",
              j["connections_per_second_client_stack"].get<double>());
  std::printf("  %-34s %12.0f\n", "connections/s server stack alone",
              j["connections_per_second_server_stack"].get<double>());
  std::printf("  %-34s %12.0f\n", "cycles / connection (A+B)", j["cycles_per_connection"].get<double>());
  std::printf("  %-34s %12.0f / %.0f\n", "cycles / connection client / server",
              j["cycles_per_connection_client"].get<double>(), j["cycles_per_connection_server"].get<double>());
  std::printf("  %-34s %12.2f\n", "segments / connection (both ways)", j["segments_per_connection"].get<double>());
  std::printf("  %-34s %12" PRIu64 " in %.3f s\n", "connections", j["connections"].get<uint64_t>(),
              j["wall_seconds"].get<double>());
  for (const char* s : {"a", "b"})
    if (!j[s]["drops"].get<std::string>().empty())
      std::printf("  drops %s: %s\n", s, j[s]["drops"].get<std::string>().c_str());
}

int run(const Options& o) {
  json out;
  const uint64_t hz = rte_get_tsc_hz();
  out["tsc_hz"] = hz;
  out["dpdk"] = rte_version();
  out["options"] = json{{"bytes", o.bytes},         {"connections", o.connections}, {"inflight", o.inflight},
                        {"request_bytes", o.request_bytes}, {"time_wait_ms", o.time_wait_ms},
                        {"max_time_wait", o.max_time_wait}, {"write_size", o.write_size},
                        {"snd_buffer", base_tcp(o).snd_buffer}, {"rcv_buffer", base_tcp(o).rcv_buffer}, {"loss", o.loss},
                        {"loss_bytes", o.loss_bytes}, {"offload", o.offload}, {"quick", o.quick}, {"cc", o.cc}};
  std::printf("linegate-tcp-bench: two TCP stacks, one core, in-memory link (TSC %.3f GHz, %s, checksums %s)\n",
              static_cast<double>(hz) / 1e9, o.cc.c_str(), o.offload ? "offload emulated" : "in software");

  const json sizes = sizes_json();
  const double hash_slot = hash_bytes_per_slot();
  out["sizes"] = sizes;
  out["sizes"]["hash_bytes_per_slot"] = hash_slot;
  std::printf("\nPer-connection state\n");
  std::printf("  %-34s %12zu bytes\n", "sizeof(lg::tcp::Conn)", sizeof(tcp::Conn));
  for (const auto& [k, v] : sizes.items())
    if (k != "Conn") std::printf("    %-32s %12" PRIu64 "\n", k.c_str(), v.get<uint64_t>());
  std::printf("  %-34s %12.1f bytes\n", "flow hash per slot (rte_hash)", hash_slot);

  int rc = 0;
  std::printf("\nBulk: one connection, A -> B, %.1f MiB\n", static_cast<double>(o.bytes) / (1 << 20));
  BulkResult bulk = run_bulk(o, o.bytes, drv::ImpairConfig{}, "bulk");
  if (bulk.ok) print_bulk(bulk.j);
  else std::printf("  FAILED: %s\n", bulk.error.c_str()), rc = 1;
  out["bulk"] = bulk.j;
  if (!bulk.ok) out["bulk"]["error"] = bulk.error;

  std::printf("\nConnections: %" PRIu64 " x (connect, %u bytes, close), %u in flight, TIME-WAIT %u ms (cap %u)\n",
              o.connections, o.request_bytes, o.inflight, o.time_wait_ms, o.max_time_wait);
  BulkResult conn = run_connections(o, o.connections, "connections");
  if (conn.ok) print_conn(conn.j);
  else std::printf("  FAILED: %s\n", conn.error.c_str()), rc = 1;
  out["connections"] = conn.j;
  if (!conn.ok) out["connections"]["error"] = conn.error;

  if (o.loss > 0) {
    drv::ImpairConfig ic;
    ic.loss = o.loss;
    ic.seed = 7;
    std::printf("\nBulk with %.2f%% loss each way, %.1f MiB\n", o.loss * 100, static_cast<double>(o.loss_bytes) / (1 << 20));
    BulkResult lossy = run_bulk(o, o.loss_bytes, ic, "bulk_loss");
    if (lossy.ok) print_bulk(lossy.j);
    else std::printf("  FAILED: %s\n", lossy.error.c_str()), rc = 1;
    out["bulk_loss"] = lossy.j;
    if (!lossy.ok) out["bulk_loss"]["error"] = lossy.error;
  }

  if (!o.json_file.empty()) {
    std::ofstream f(o.json_file);
    f << out.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", o.json_file.c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace
}  // namespace lg::bench

int main(int argc, char** argv) {
  lg::bench::Options o;
  CLI::App app{"linegate TCP stack benchmark: two stacks in one process on one core"};
  app.add_option("--bytes", o.bytes, "bulk transfer size in bytes");
  app.add_option("--connections", o.connections, "short connections to open and close");
  app.add_option("--inflight", o.inflight, "connections open at once")->check(CLI::Range(1u, 16000u));
  app.add_option("--request-bytes", o.request_bytes, "bytes the client writes before closing")
      ->check(CLI::Range(0u, 1400u));
  app.add_option("--time-wait-ms", o.time_wait_ms, "TIME-WAIT duration for the connection test (0: none)");
  app.add_option("--max-time-wait", o.max_time_wait, "TIME-WAIT table cap for the connection test");
  app.add_option("--syn-backlog", o.syn_backlog, "listener backlog before SYN cookies (0: stack default, 1024)")
      ->check(CLI::Range(0u, 65535u));
  app.add_option("--write-size", o.write_size, "bytes per write in bulk (0: one MSS)")->check(CLI::Range(0u, 1920u));
  app.add_option("--snd-buffer", o.snd_buffer, "send buffer per connection in bytes (0: stack default, 1 MiB)")
      ->check(CLI::Range(0u, 1u << 30));
  app.add_option("--rcv-buffer", o.rcv_buffer, "receive buffer per connection in bytes (0: stack default, 1 MiB)")
      ->check(CLI::Range(0u, 1u << 30));
  app.add_option("--loss", o.loss, "loss fraction each way for the impaired bulk run (0: skip it)")
      ->check(CLI::Range(0.0, 0.5));
  app.add_option("--loss-bytes", o.loss_bytes, "bytes for the impaired bulk run");
  app.add_option("--cc", o.cc, "congestion control")->check(CLI::IsMember({"cubic", "newreno"}));
  app.add_flag("--offload", o.offload, "emulate checksum offload (TX flags, RX reported good)");
  app.add_option("--timeout", o.timeout_s, "seconds before a run is declared stuck");
  app.add_option("--json", o.json_file, "write every figure as JSON to this file");
  bool huge = false;
  app.add_flag("--huge", huge, "run EAL on hugepages (512 MiB) instead of --no-huge");
  app.add_flag("--quick", o.quick, "small sizes for a smoke run (a few seconds)");
  CLI11_PARSE(app, argc, argv);
  if (o.quick) {
    if (app.count("--bytes") == 0) o.bytes = 64ull << 20;
    if (app.count("--connections") == 0) o.connections = 5000;
    if (app.count("--loss-bytes") == 0) o.loss_bytes = 16ull << 20;
    if (app.count("--timeout") == 0) o.timeout_s = 60;
  }

  // No hugepages by default, so the run does not depend on what the host
  // reserved; --huge uses them (512 MiB).
  lg::ScratchEal eal("tcp-bench", huge ? 512 : 1024, huge);
  if (!eal.ok()) return 1;
  return lg::bench::run(o);
}
