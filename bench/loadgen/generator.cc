#include "bench/loadgen/generator.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <signal.h>

#include "dataplane/config/tls_inputs.h"
#include "dataplane/tcp/settings.h"

namespace lg::bench {

namespace {

constexpr unsigned kTimerTicksPerSecond = 10000;  // 100 µs, as in the dataplane

net::NetWorkerConfig net_config(const GeneratorConfig& cfg) {
  net::NetWorkerConfig n;
  n.worker = 0;
  n.ifaces = cfg.ifaces;
  n.pool = cfg.pool;
  n.neigh = net::NeighParams::defaults(cfg.tsc_hz);
  n.socket_id = static_cast<int>(rte_socket_id());
  return n;
}

}  // namespace

Generator::Generator(const GeneratorConfig& cfg, LcoreCounters& counters, Live& live)
    : cfg_(cfg),
      counters_(counters),
      live_(live),
      timers_(std::max<uint64_t>(1, cfg.tsc_hz / kTimerTicksPerSecond), rte_rdtsc()),
      net_(net_config(cfg), counters, timers_),
      tcp_(tcp::config_from(cfg.options->bootstrap.tcp), 0, cfg.ifaces, net_, timers_, counters, cfg.pool,
           static_cast<int>(rte_socket_id()), cfg.tsc_hz) {}

bool Generator::init(std::string* error) {
  if (!net_.ok() || !tcp_.ok()) {
    *error = "cannot create the neighbor or connection table";
    return false;
  }
  tcp_.set_clock(rte_rdtsc());
  const Options& o = *cfg_.options;
  if (o.responder) {
    responder_ = std::make_unique<Responder>(*o.responder, tcp_, timers_, live_, cfg_.tsc_hz,
                                             o.bootstrap.tcp.max_connections);
    if (!responder_->init(error)) return false;
  }
  if (o.client) {
    if (o.client->tls.enabled && !init_tls(*o.client, error)) return false;
    client_ = std::make_unique<Client>(*o.client, tcp_, timers_, live_, cfg_.tsc_hz, tls_ ? &client_tls_ : nullptr);
    if (!client_->init(error)) return false;
  }
  return true;
}

bool Generator::init_tls(const ClientOptions& c, std::string* error) {
  const TlsClientOptions& o = c.tls;
  tls::ClientTlsConfig config;
  if (!o.cert_file.empty()) {
    tls::CertificateKey ck{"--tls-cert " + o.cert_file, {}, {}};
    if (!config::read_file(o.cert_file, &ck.cert_chain_pem, error) ||
        !config::read_file(o.key_file, &ck.private_key_pem, error))
      return false;
    config.certificate = std::move(ck);
  }
  // A load generator checks what it is told to: the chain with --tls-ca,
  // nothing without (as wrk and h2load).
  config.insecure_skip_verify = o.ca_file.empty();
  if (!o.ca_file.empty() && !config::read_file(o.ca_file, &config.ca_pem, error)) return false;
  config.min_version = o.version == "1.3" ? tls::Version::tls13 : tls::Version::tls12;
  config.max_version = o.version == "1.2" ? tls::Version::tls12 : tls::Version::tls13;
  config.cipher_suites = o.ciphers;
  if (c.mode == Mode::http || c.mode == Mode::http_close) config.alpn = {"http/1.1"};
  tls_context_ = tls::ClientContext::build(config, error);
  if (!tls_context_) return false;
  const Bootstrap& b = cfg_.options->bootstrap;
  tls_registry_ = std::make_unique<upstream::UpstreamRegistry>(1, 1, 1);
  client_tls_ = {nullptr, tls_context_.get(), o.sni, tls_registry_->cluster_id("target")};
  tlsterm::TlsWorkerConfig tc;
  tc.record_offload = o.record_offload;
  tc.record_buffers = b.tls.record_buffers;
  tc.max_connections = b.tls.max_connections;
  tc.hello_timeout_ms = c.timeout_ms;
  tls_ = std::make_unique<tlsterm::TlsWorker>(tc, 0, tcp_, timers_, *tls_registry_, cfg_.tsc_hz);
  if (!tls_->ok()) {
    *error = "cannot create the TLS record buffer pool (" + std::to_string(tc.record_buffers) + " buffers)";
    return false;
  }
  client_tls_.worker = tls_.get();
  return true;
}

std::vector<std::pair<std::string, uint64_t>> Generator::tls_counters() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (!tls_registry_) return out;
  const std::span<const upstream::StatInfo> info = upstream::cluster_stat_info();
  for (const auto& c : tls_registry_->cluster_totals())
    for (size_t i = 0; i < c.values.size() && i < info.size(); ++i) {
      const std::string_view name = info[i].name;
      if (name.starts_with("ssl_")) out.emplace_back(std::string(name), static_cast<uint64_t>(c.values[i]));
    }
  return out;
}

sigset_t wakeup_signals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGIO);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&s, sig);
  return s;
}

int Generator::main(void* self) { return static_cast<Generator*>(self)->run(); }

int Generator::run() {
  const sigset_t io = wakeup_signals();  // see main.cc: tap wake-ups come here
  pthread_sigmask(SIG_UNBLOCK, &io, nullptr);
  cfg_.pollers->online(0);
  rte_mbuf* pkts[net::kBurst];
  LoopCounters& loop = counters_.loop;
  const unsigned idle_sleep_us = cfg_.options->bootstrap.idle_sleep_us;
  const uint64_t begin = rte_rdtsc();
  const uint64_t prime_deadline = begin + 3 * cfg_.tsc_hz;  // the priming connection's SYN retransmits after 1 s
  bool started = client_ == nullptr;
  // The links are up: a peer that cached another MAC for our addresses
  // (the generator run before this one) learns ours now.
  for (const net::Iface& f : cfg_.ifaces) net_.announce(f.index);
  if (client_) client_->prime(begin);
  if (!client_) live_.phase.store(Phase::measure, std::memory_order_relaxed);
  while (!cfg_.stop->load(std::memory_order_relaxed) && !(client_ && client_->done())) {
    const uint64_t start = rte_rdtsc();
    tcp_.set_clock(start);
    if (!started && (client_->primed() || start >= prime_deadline)) {
      client_->start(start);
      started = true;
    }
    unsigned work = 0;
    for (const net::Iface& f : cfg_.ifaces) {
      const uint16_t n = rte_eth_rx_burst(f.port_id, 0, pkts, net::kBurst);
      if (n == 0) continue;
      net_.input(f.index, pkts, n);
      work += n;
    }
    work += timers_.advance(start);
    if (client_) work += client_->poll(start);
    if (tls_) work += tls_->flush(nullptr);  // records in bursts, before the TX flush
    net_.flush();
    cfg_.pollers->quiescent(0);
    counter_add(loop.iterations);
    if (work != 0) {
      const uint64_t spent = rte_rdtsc() - start;
      counter_add(loop.busy_iterations);
      counter_add(loop.busy_cycles, spent);
      live_.busy_cycles.add(spent);
    } else if (idle_sleep_us != 0) {
      rte_delay_us_sleep(idle_sleep_us);
    }
  }
  net_.flush();
  cfg_.pollers->offline(0);
  if (client_) client_->interrupt(rte_rdtsc());
  total_cycles_ = rte_rdtsc() - begin;
  live_.phase.store(Phase::done, std::memory_order_relaxed);
  return 0;
}

}  // namespace lg::bench
