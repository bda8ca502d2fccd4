// linegate-agent: flags, logging, signals. The work is in agent.cc.
#include "ctrl/agent/agent.h"
#include "ctrl/ca/spiffe.h"
#include "ctrl/crd/schema.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <regex>
#include <string>

namespace {

// Kubernetes namespace names are RFC 1123 labels.
bool is_dns_label(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, re);
}

// "HOST:PORT" or "[V6]:PORT", port 0-65535; what gRPC will bind.
bool is_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return false;
  }
  if (host.front() == '[') return host.back() == ']' && host.size() > 2;
  return host.find(':') == std::string::npos;
}

void log_line(std::string_view line) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03ldZ linegate-agent: %.*s\n", stamp, ts.tv_nsec / 1000000, static_cast<int>(line.size()),
               line.data());
}

}  // namespace

int main(int argc, char** argv) {
  lg::ctrl::AgentOptions opts;
  int debounce_ms = 200;

  CLI::App app{"linegate-agent: reads Istio config from directories and `linegatectl apply`, validates it, "
               "and pushes a compiled snapshot to every linegate gateway over gRPC.",
               "linegate-agent"};
  app.add_option("--watch", opts.watch_dirs, "directory of Istio/Kubernetes YAML to watch, recursively (repeatable)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--listen", opts.listen, "gRPC address, HOST:PORT (port 0: any free port)")->capture_default_str();
  app.add_option("--debounce-ms", debounce_ms, "quiet time after a file change before rereading")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  app.add_option("--root-namespace", opts.root_namespace, "namespace of gateways that do not name one")
      ->capture_default_str();
  std::vector<std::string> crds;
  app.add_option("--crds", crds,
                 "Istio CRD definitions (file or directory; repeatable) for the API server's schema and CEL checks; "
                 "default: $LINEGATE_CRDS, else /etc/linegate/crds")
      ->check(CLI::ExistingPath);
  std::string ca_mode = "self-signed";
  app.add_option("--ca", ca_mode,
                 "workload CA (IstioCertificateService on the --listen port): self-signed = a generated root, "
                 "replaced by a `cacerts` Secret in the root namespace when the config has one; off = no CA. "
                 "Callers are NOT authenticated: anyone reaching the port gets any identity of the trust domain")
      ->capture_default_str()
      ->check(CLI::IsMember({"self-signed", "off"}));
  app.add_option("--trust-domain", opts.trust_domain, "SPIFFE trust domain of the certificates the CA issues")
      ->capture_default_str();
  int64_t cert_ttl = opts.workload_cert_ttl.count(), max_cert_ttl = opts.max_workload_cert_ttl.count();
  app.add_option("--workload-cert-ttl", cert_ttl, "seconds a certificate is valid when the request asks for no TTL")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{10}, int64_t{10} * 365 * 86400));
  app.add_option("--max-workload-cert-ttl", max_cert_ttl, "longest validity the CA grants, seconds")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{10}, int64_t{10} * 365 * 86400));
  bool registry_incomplete = false;
  app.add_flag("--registry-incomplete", registry_incomplete,
               "hosts not found among the resources are warnings, not errors (the registry lives elsewhere)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // --help is not an error; every bad argument is exit 2
  }
  if (!is_host_port(opts.listen)) {
    std::fprintf(stderr, "linegate-agent: --listen %s: expected HOST:PORT, e.g. 127.0.0.1:15010\n",
                 opts.listen.c_str());
    return 2;
  }
  if (!is_dns_label(opts.root_namespace)) {
    std::fprintf(stderr, "linegate-agent: --root-namespace %s: not a valid namespace name (RFC 1123 label)\n",
                 opts.root_namespace.c_str());
    return 2;
  }
  if (max_cert_ttl < cert_ttl) {
    std::fprintf(stderr, "linegate-agent: --max-workload-cert-ttl %lld is shorter than --workload-cert-ttl %lld\n",
                 static_cast<long long>(max_cert_ttl), static_cast<long long>(cert_ttl));
    return 2;
  }
  if (!lg::ctrl::ca::valid_trust_domain(opts.trust_domain)) {
    std::fprintf(stderr,
                 "linegate-agent: --trust-domain %s: not a SPIFFE trust domain (lower-case letters, digits, '.', '-', "
                 "'_')\n",
                 opts.trust_domain.c_str());
    return 2;
  }
  opts.ca = ca_mode == "off" ? lg::ctrl::AgentOptions::CaMode::off : lg::ctrl::AgentOptions::CaMode::self_signed;
  opts.workload_cert_ttl = std::chrono::seconds(cert_ttl);
  opts.max_workload_cert_ttl = std::chrono::seconds(max_cert_ttl);
  if (!crds.empty()) {
    std::string error;
    if (!lg::ctrl::load_crd_schemas(crds, &error)) {
      std::fprintf(stderr, "linegate-agent: --crds: %s\n", error.c_str());
      return 1;
    }
  }
  opts.debounce = std::chrono::milliseconds(debounce_ms);
  opts.analyze.registry_complete = !registry_incomplete;
  opts.log = log_line;

  // Block the stop signals in every thread (gRPC's and ours inherit this
  // mask) and take them synchronously here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Also loads the default source now rather than on the first validation.
  log_line("CRD schemas: " + lg::ctrl::crd_schema_source());
  lg::ctrl::Agent agent(std::move(opts));
  std::string error;
  if (!agent.start(error)) {
    log_line("cannot start: " + error);
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log_line(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
  agent.stop();
  return 0;
}
