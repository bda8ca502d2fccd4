#include "bench/loadgen/options.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <charconv>

#include "dataplane/version.h"

namespace lg::bench {

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::http: return "http";
    case Mode::http_close: return "http-close";
    case Mode::tcp_bulk: return "tcp-bulk";
    case Mode::tcp_connect: return "tcp-connect";
  }
  return "?";
}

namespace {

constexpr size_t kMaxTemplates = 100000;  // distinct requests the client cycles through

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Splits at commas outside {…}.
std::vector<std::string> split_top(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char ch : s) {
    if (ch == '{') ++depth;
    if (ch == '}') --depth;
    if (ch == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

bool expand_one(const std::string& item, size_t limit, std::vector<std::string>* out, std::string* error) {
  const size_t open = item.find('{');
  if (open == std::string::npos) {
    if (item.find('}') != std::string::npos) {
      *error = "'" + item + "': '}' without '{'";
      return false;
    }
    out->push_back(item);
    return out->size() <= limit || (*error = "more than " + std::to_string(limit) + " values", false);
  }
  const size_t close = item.find('}', open);
  if (close == std::string::npos) {
    *error = "'" + item + "': '{' without '}'";
    return false;
  }
  const std::string inner = item.substr(open + 1, close - open - 1);
  const size_t dots = inner.find("..");
  const auto lo = dots == std::string::npos ? std::nullopt : parse_u64(inner.substr(0, dots));
  const auto hi = dots == std::string::npos ? std::nullopt : parse_u64(inner.substr(dots + 2));
  if (!lo || !hi || *lo > *hi) {
    *error = "'" + item + "': a range is {FIRST..LAST} with FIRST <= LAST, e.g. {0..99}";
    return false;
  }
  if (*hi - *lo >= limit) {
    *error = "'" + item + "': more than " + std::to_string(limit) + " values";
    return false;
  }
  const std::string head = item.substr(0, open), tail = item.substr(close + 1);
  for (uint64_t v = *lo; v <= *hi; ++v)
    if (!expand_one(head + std::to_string(v) + tail, limit, out, error)) return false;
  return true;
}

// Request-line and field bytes the client puts on the wire verbatim: no
// controls, no spaces in tokens (RFC 9110 §5.5, §9.1).
bool printable(const std::string& s, bool allow_space) {
  for (unsigned char c : s)
    if (c < 0x21 || c == 0x7f) {
      if (!(allow_space && (c == ' ' || c == '\t'))) return false;
    }
  return true;
}

bool parse_address(const std::string& text, uint8_t* family, uint8_t* addr) {
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) {
    *family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    *family = 6;
    return true;
  }
  return false;
}

// "10.0.0.1:8080" or "[fd00::1]:8080".
bool parse_target(const std::string& s, ClientOptions* c) {
  std::string host, port;
  if (!s.empty() && s[0] == '[') {
    const size_t close = s.find("]:");
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  const auto p = parse_u64(port);
  if (!p || *p == 0 || *p > 65535 || !parse_address(host, &c->family, c->addr)) return false;
  c->port = static_cast<uint16_t>(*p);
  c->target_text = s;
  return true;
}

// The ports become a bootstrap document so they are checked exactly as
// linegate checks its own (addresses, prefixes, gateways, MTU).
std::string bootstrap_yaml(const std::vector<std::string>& devices, const std::vector<std::string>& ips,
                           const std::string& prefix, const std::vector<std::string>& eal, unsigned idle_sleep_us,
                           unsigned mbufs, uint32_t max_connections) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "node" << YAML::Value << YAML::BeginMap << YAML::Key << "id" << YAML::Value << prefix
    << YAML::EndMap;
  std::vector<std::string> eal_args = eal;
  eal_args.push_back("--file-prefix=" + prefix);
  e << YAML::Key << "eal" << YAML::Value << eal_args;
  e << YAML::Key << "workers" << YAML::Value << 1;
  e << YAML::Key << "idle_sleep_us" << YAML::Value << idle_sleep_us;
  e << YAML::Key << "mbufs_per_port" << YAML::Value << mbufs;
  e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  for (size_t i = 0; i < devices.size(); ++i) {
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << ("p" + std::to_string(i));
    e << YAML::Key << "device" << YAML::Value << devices[i];
    const std::string& ip = ips[i];
    const size_t at = ip.find('@');
    const std::string prefix_text = ip.substr(0, at);
    const bool v6 = prefix_text.find(':') != std::string::npos;
    e << YAML::Key << (v6 ? "ipv6" : "ipv4") << YAML::Value << prefix_text;
    if (at != std::string::npos) e << YAML::Key << (v6 ? "gateway6" : "gateway") << YAML::Value << ip.substr(at + 1);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  // A generator closes first (http-close, tcp-connect): TIME-WAIT would only
  // exhaust its ports. Buffers stay at the stack's defaults.
  e << YAML::Key << "tcp" << YAML::Value << YAML::BeginMap << YAML::Key << "time_wait_ms" << YAML::Value << 0
    << YAML::Key << "max_connections" << YAML::Value << max_connections << YAML::EndMap;
  e << YAML::EndMap;
  return e.c_str();
}

}  // namespace

std::optional<std::vector<std::string>> expand_list(const std::string& spec, size_t limit, std::string* error) {
  std::vector<std::string> out;
  for (const std::string& item : split_top(spec)) {
    if (item.empty()) {
      *error = "'" + spec + "': empty item";
      return std::nullopt;
    }
    if (!expand_one(item, limit, &out, error)) return std::nullopt;
  }
  return out;
}

std::optional<Range> parse_range(const std::string& s) {
  const size_t dash = s.find('-');
  const auto lo = parse_u64(s.substr(0, dash));
  const auto hi = dash == std::string::npos ? lo : parse_u64(s.substr(dash + 1));
  if (!lo || !hi || *lo > *hi) return std::nullopt;
  return Range{*lo, *hi};
}

std::optional<std::vector<StatusWeight>> parse_statuses(const std::string& s) {
  std::vector<StatusWeight> out;
  for (const std::string& item : split_top(s)) {
    const size_t colon = item.find(':');
    const auto code = parse_u64(item.substr(0, colon));
    const auto weight = colon == std::string::npos ? std::optional<uint64_t>(1) : parse_u64(item.substr(colon + 1));
    if (!code || *code < 100 || *code > 599 || !weight || *weight == 0 || *weight > 1000000) return std::nullopt;
    out.push_back({static_cast<uint16_t>(*code), static_cast<uint32_t>(*weight)});
  }
  return out;
}

std::optional<Options> parse_options(int argc, char** argv, std::string* error, int* exit_code) {
  *exit_code = 2;
  CLI::App app{
      "linegate-loadgen: HTTP/1.1 and TCP load generator and responder on the dataplane's own TCP stack (DPDK)"};
  app.set_version_flag("--version", std::string("linegate-loadgen ") + kVersion);
  std::vector<std::string> devices, ips, eal, methods_in, headers;
  std::string prefix = "lg-loadgen-" + std::to_string(getpid());
  unsigned idle_sleep_us = 0, mbufs = 65536;
  std::string target, mode = "http", path = "/", host, method = "GET";
  std::string response_bytes = "1024", delay = "0", status = "200";
  ClientOptions c;
  ResponderOptions r;
  Options o;
  bool no_progress = false;

  app.add_option("--port", devices, "DPDK device (repeatable): 0000:3b:02.0, net_tap0,iface=lgt0, net_memif0,...")
      ->required()->group("Ports");
  app.add_option("--ip", ips, "ADDR/LEN[@GATEWAY] for each --port, in order")->required()->group("Ports");
  app.add_option("--file-prefix", prefix, "EAL file prefix (each DPDK process needs its own)")->group("Ports");
  app.add_option("--eal", eal, "extra EAL argument (repeatable)")->group("Ports");
  app.add_option("--idle-sleep-us", idle_sleep_us, "nap when a poll finds nothing (0: busy poll)")
      ->check(CLI::Range(0u, 100000u))->group("Ports");
  app.add_option("--mbufs", mbufs, "mbufs per port")->check(CLI::Range(1024u, 1048576u))->group("Ports");

  app.add_option("--target", target, "client role: IP:PORT or [IPv6]:PORT to send to")->group("Client");
  app.add_option("--mode", mode, "http | http-close | tcp-bulk | tcp-connect")
      ->check(CLI::IsMember({"http", "http-close", "tcp-bulk", "tcp-connect"}))->group("Client");
  app.add_option("--connections", c.connections, "concurrent connections")
      ->check(CLI::Range(1u, 1000000u))->group("Client");
  app.add_option("--duration", c.duration_s, "measured seconds")->check(CLI::Range(0.1, 86400.0))->group("Client");
  app.add_option("--warmup", c.warmup_s, "seconds before measuring (not counted)")
      ->check(CLI::Range(0.0, 3600.0))->group("Client");
  app.add_option("--rate", c.rate,
                 "requests (connections) per second in total, open loop, latency from the intended send time; "
                 "0: closed loop, as fast as answers come")
      ->check(CLI::Range(0.0, 1e9))->group("Client");
  app.add_option("--method", method, "methods, comma-separated")->group("Client");
  app.add_option("--path", path, "paths: comma list, {A..B} ranges (/r{0..99}/x)")->group("Client");
  app.add_option("--host", host, "Host values, same syntax (default: the target address)")->group("Client");
  app.add_option("--header", headers, "'Name: value' added to every request (repeatable)")->group("Client");
  app.add_option("--request-bytes", c.request_bytes, "request body bytes (Content-Length)")
      ->check(CLI::Range(0u, 1u << 26))->group("Client");
  app.add_option("--timeout-ms", c.timeout_ms, "a request (or connect) not answered by then is an error")
      ->check(CLI::Range(1u, 3600000u))->group("Client");

  app.add_option("--listen", r.listen, "responder role: HTTP/1.1 port")->check(CLI::Range(1, 65535))
      ->group("Responder");
  app.add_option("--source-port", r.source_port, "port that sends an endless stream (for tcp-bulk)")
      ->check(CLI::Range(1, 65535))->group("Responder");
  app.add_option("--response-bytes", response_bytes, "body bytes: N or MIN-MAX (uniform)")->group("Responder");
  app.add_option("--response-delay-us", delay, "delay before answering: N or MIN-MAX (uniform)")->group("Responder");
  app.add_option("--status", status, "CODE[:WEIGHT],... e.g. 200:99,503:1")->group("Responder");

  app.add_option("--json", o.json_file, "write every figure to this file");
  app.add_option("--label", o.label, "name of this run in the JSON and plots");
  app.add_flag("--no-progress", no_progress, "no live progress line");
  TlsClientOptions& tls = c.tls;
  bool tls_no_offload = false;
  CLI::Option* tls_flag =
      app.add_flag("--tls", tls.enabled, "client role: TLS to the target (HTTPS; with tcp-connect, handshakes)")
          ->group("TLS");
  app.add_option("--tls-sni", tls.sni, "server name sent (default: the first --host)")->needs(tls_flag)->group("TLS");
  app.add_option("--tls-ca", tls.ca_file, "PEM CA bundle: verify the server's chain (default: no verification)")
      ->check(CLI::ExistingFile)->needs(tls_flag)->group("TLS");
  CLI::Option* cert = app.add_option("--tls-cert", tls.cert_file, "PEM client certificate chain (with --tls-key)")
                          ->check(CLI::ExistingFile)->needs(tls_flag)->group("TLS");
  app.add_option("--tls-key", tls.key_file, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile)->needs(cert)->group("TLS");
  cert->needs("--tls-key");
  app.add_option("--tls-version", tls.version, "1.2 | 1.3 (default: either)")
      ->check(CLI::IsMember({"1.2", "1.3"}))->needs(tls_flag)->group("TLS");
  app.add_option("--tls-ciphers", tls.ciphers, "TLS 1.2 suites, OpenSSL names, colon-separated")
      ->delimiter(':')->needs(tls_flag)->group("TLS");
  app.add_flag("--tls-no-offload", tls_no_offload, "records on OpenSSL's record layer instead of IPsec-MB")
      ->needs(tls_flag)->group("TLS");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    *error = app.help();
    *exit_code = 0;
    return std::nullopt;
  } catch (const CLI::CallForVersion&) {
    *error = std::string("linegate-loadgen ") + kVersion + "\n";
    *exit_code = 0;
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    *error = e.what();
    return std::nullopt;
  }
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  o.progress = !no_progress;

  if (devices.size() != ips.size()) {
    *error = "--port and --ip come in pairs: " + std::to_string(devices.size()) + " --port, " +
             std::to_string(ips.size()) + " --ip";
    return std::nullopt;
  }
  if (target.empty() && app.count("--listen") == 0 && app.count("--source-port") == 0) {
    *error = "nothing to do: give --target (client role), --listen/--source-port (responder role), or both";
    return std::nullopt;
  }

  tls.record_offload = !tls_no_offload;
  if (!target.empty()) {
    if (!parse_target(target, &c)) {
      *error = "--target '" + target + "': expected IP:PORT or [IPv6]:PORT";
      return std::nullopt;
    }
    c.mode = mode == "http" ? Mode::http : mode == "http-close" ? Mode::http_close
             : mode == "tcp-bulk" ? Mode::tcp_bulk : Mode::tcp_connect;
    std::string err;
    auto m = expand_list(method, 64, &err);
    auto p = m ? expand_list(path, kMaxTemplates, &err) : std::nullopt;
    auto h = p && !host.empty() ? expand_list(host, kMaxTemplates, &err) : std::optional<std::vector<std::string>>{};
    if (!m || !p || (!host.empty() && !h)) {
      *error = (!m ? "--method " : !p ? "--path " : "--host ") + err;
      return std::nullopt;
    }
    for (const std::string& x : *m)
      if (!printable(x, false)) return *error = "--method '" + x + "': not a token", std::nullopt;
    for (const std::string& x : *p)
      if (!printable(x, false) || x[0] != '/')
        return *error = "--path '" + x + "': an origin-form path starting with '/', no spaces", std::nullopt;
    if (h)
      for (const std::string& x : *h)
        if (!printable(x, false)) return *error = "--host '" + x + "': no spaces or control bytes", std::nullopt;
    for (const std::string& x : headers) {
      const size_t colon = x.find(':');
      if (colon == std::string::npos || colon == 0 || !printable(x.substr(0, colon), false) || !printable(x, true))
        return *error = "--header '" + x + "': expected 'Name: value'", std::nullopt;
    }
    const size_t combos = m->size() * p->size() * (h ? h->size() : 1);
    if (combos > kMaxTemplates) {
      *error = "--method x --path x --host make " + std::to_string(combos) + " distinct requests; at most " +
               std::to_string(kMaxTemplates);
      return std::nullopt;
    }
    c.methods = std::move(*m);
    c.paths = std::move(*p);
    if (h) c.hosts = std::move(*h);
    if (c.tls.enabled && c.tls.sni.empty() && !c.hosts.empty() && c.hosts.front()[0] != '[')
      c.tls.sni = c.hosts.front().substr(0, c.hosts.front().find(':'));  // a Host's port is not the name
    c.headers = headers;
    o.client = c;
  }
  if (r.listen != 0 || r.source_port != 0) {
    const auto bytes = parse_range(response_bytes);
    const auto d = parse_range(delay);
    const auto st = parse_statuses(status);
    if (!bytes || bytes->hi > (1u << 30)) return *error = "--response-bytes '" + response_bytes + "': N or MIN-MAX, at most 1 GiB", std::nullopt;
    if (!d || d->hi > 60000000) return *error = "--response-delay-us '" + delay + "': N or MIN-MAX, at most 60 s", std::nullopt;
    if (!st) return *error = "--status '" + status + "': CODE[:WEIGHT],... with codes 100..599", std::nullopt;
    if (r.listen != 0 && r.listen == r.source_port) return *error = "--listen and --source-port must differ", std::nullopt;
    r.response_bytes = *bytes;
    r.delay_us = *d;
    r.statuses = *st;
    o.responder = r;
  }
  if (o.label.empty()) o.label = o.client ? std::string(mode_name(o.client->mode)) + " " + target : "responder";

  // Room for every client connection plus what a responder accepts.
  const uint32_t max_conns = std::max<uint32_t>(16384, (o.client ? o.client->connections : 0) * 2 + 1024);
  BootstrapResult b = parse_bootstrap(bootstrap_yaml(devices, ips, prefix, eal, idle_sleep_us, mbufs, max_conns),
                                      "command line");
  if (!b.bootstrap) {
    *error = "ports:";
    for (const std::string& e : b.errors) *error += "\n  " + e;
    *error += "\n  (ports[N] is the N-th --port/--ip pair, counting from 0)";
    return std::nullopt;
  }
  o.bootstrap = std::move(*b.bootstrap);
  if (o.client && o.client->tls.enabled) {
    // A channel per connection (closing ones linger a little), and records
    // in flight for each: EAL's memory is sized from these.
    const uint64_t conns = o.client->connections;
    o.bootstrap.tls.max_connections = static_cast<uint32_t>(std::min<uint64_t>(conns * 2 + 64, 1048576));
    o.bootstrap.tls.record_buffers = static_cast<uint32_t>(std::clamp<uint64_t>(conns * 4, 2048, 262144));
  }
  *exit_code = 0;
  return o;
}

}  // namespace lg::bench
