#include "dataplane/bootstrap/bootstrap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace lg {
namespace {

constexpr size_t kMaxPorts = 16;
constexpr size_t kMaxPortName = 32;
constexpr size_t kMaxQuoted = 100;  // keeps a pasted blob from flooding the log

using Keys = std::span<const std::string_view>;

constexpr std::string_view kTopKeys[] = {"node",  "eal",   "workers", "idle_sleep_us", "mbufs_per_port",
                                          "ports", "admin", "tcp",     "test_apps",
                                          "agent", "config_dir", "config_limits", "crds", "proxy", "tls",
                                          "identity"};
constexpr std::string_view kNodeKeys[] = {"id", "cluster", "network", "namespace", "labels"};
constexpr std::string_view kIdentityKeys[] = {"cert_chain",      "private_key",  "root_cert",
                                              "service_account", "trust_domain", "cert_ttl_s"};
constexpr std::string_view kAgentKeys[] = {"address", "initial_backoff_ms", "max_backoff_ms"};
constexpr std::string_view kPortKeys[] = {"name", "device", "ipv4",    "ipv6",    "gateway", "gateway6",
                                           "mtu",  "vlan",   "rx_desc", "tx_desc", "impair"};
constexpr std::string_view kImpairKeys[] = {"loss", "reorder", "duplicate", "delay_us", "corrupt", "seed"};
constexpr std::string_view kTcpKeys[] = {"max_connections", "time_wait_ms",       "max_time_wait",   "delayed_ack_ms",
                                         "syn_backlog",     "connect_timeout_ms", "user_timeout_ms", "keepalive_ms",
                                         "rcv_buffer",      "snd_buffer",         "congestion_control", "rto_min_ms"};
constexpr std::string_view kTestAppKeys[] = {"kind", "port", "bytes", "connect", "connections"};

// The integer TCP settings, in file-documentation order; congestion_control
// is the one string and is handled on its own.
struct TcpIntField {
  std::string_view key;
  uint64_t lo, hi;
  uint32_t TcpSettings::*field;
};
constexpr TcpIntField kTcpIntFields[] = {
    {"max_connections", 64, 4194304, &TcpSettings::max_connections},
    {"time_wait_ms", 0, 240000, &TcpSettings::time_wait_ms},
    {"max_time_wait", 0, 4194304, &TcpSettings::max_time_wait},
    {"delayed_ack_ms", 0, 500, &TcpSettings::delayed_ack_ms},
    {"syn_backlog", 1, 65535, &TcpSettings::syn_backlog},
    {"connect_timeout_ms", 100, 600000, &TcpSettings::connect_timeout_ms},
    {"user_timeout_ms", 0, 3600000, &TcpSettings::user_timeout_ms},
    {"keepalive_ms", 0, 86400000, &TcpSettings::keepalive_ms},
    {"rcv_buffer", 16384, 67108864, &TcpSettings::rcv_buffer},
    {"snd_buffer", 16384, 67108864, &TcpSettings::snd_buffer},
    {"rto_min_ms", 1, 1000, &TcpSettings::rto_min_ms},
};
constexpr std::string_view kCongestionControls[] = {"cubic", "newreno"};

// Which keys each test app kind takes, and which of those it needs.
struct TestAppKind {
  std::string_view name;
  Keys allowed;
  Keys required;
  bool listens;  // uses port; clients use connect instead
};
constexpr std::string_view kListenerKeys[] = {"kind", "port"};
constexpr std::string_view kSourceKeys[] = {"kind", "port", "bytes"};
constexpr std::string_view kClientKeys[] = {"kind", "bytes", "connect", "connections"};
constexpr std::string_view kListenerRequired[] = {"port"};
constexpr std::string_view kSourceRequired[] = {"port", "bytes"};
constexpr std::string_view kClientRequired[] = {"bytes", "connect"};
constexpr TestAppKind kTestAppKinds[] = {
    {"echo", kListenerKeys, kListenerRequired, true},
    {"discard", kListenerKeys, kListenerRequired, true},
    {"source", kSourceKeys, kSourceRequired, true},
    {"client", kClientKeys, kClientRequired, false},
};
constexpr uint64_t kMaxAppBytes = uint64_t{1} << 63;
constexpr uint64_t kMaxClientConnections = 100000;

constexpr std::string_view kIpv4PrefixForm = "an IPv4 address with prefix length such as 10.77.0.2/24";
constexpr std::string_view kIpv6PrefixForm = "an IPv6 address with prefix length such as fd77::2/64";
constexpr std::string_view kAdminForm =
    "host:port with an IPv4 address, [IPv6 address] or localhost, such as 127.0.0.1:15000";
constexpr std::string_view kConnectForm =
    "host:port with an IPv4 address or [IPv6 address], such as 10.77.0.1:5001 or [fd77::1]:5001";
constexpr std::string_view kFractionForm = "a fraction from 0 to 1";
constexpr std::string_view kTestAppKindForm = "one of echo, discard, source, client";

// ---------------------------------------------------------------------------
// Text helpers

std::string quote(std::string_view s) {
  std::string out = "\"";
  const bool truncated = s.size() > kMaxQuoted;
  for (unsigned char c : s.substr(0, kMaxQuoted)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += truncated ? "...\"" : "\"";
  return out;
}

std::string join(Keys keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// What a node holds, for the "got ..." half of a message.
std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return quote(n.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

bool is_plain_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

// Keys with dots, slashes or spaces are quoted so the path stays unambiguous.
std::string child(const std::string& path, std::string_view key) {
  std::string k = is_plain_key(key) ? std::string(key) : quote(key);
  return path.empty() ? k : path + "." + k;
}

std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Digits only: from_chars alone would accept "12abc" as 12.
std::optional<uint64_t> parse_uint(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A non-negative YAML 1.2 float or integer ("0", "1", "0.25", ".5", "1e-3"),
// finite and within 0..1. No sign, no hex, no .inf/.nan.
std::optional<double> parse_fraction(std::string_view s) {
  auto digits = [&](size_t i) {
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    return j - i;
  };
  size_t i = digits(0);
  size_t mantissa_digits = i;
  if (i < s.size() && s[i] == '.') {
    const size_t frac = digits(i + 1);
    mantissa_digits += frac;
    i += 1 + frac;
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t exp = digits(i);
    if (exp == 0) return std::nullopt;
    i += exp;
  }
  if (i != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < 0 || v > 1) return std::nullopt;
  return v;
}

// "host:port" or "[host]:port" split at the port separator, brackets
// removed; nullopt when there is none. The host is not checked here.
struct HostPort {
  std::string host;
  std::string_view port;
  bool bracketed = false;
};
std::optional<HostPort> split_host_port(std::string_view s) {
  if (s.starts_with('[')) {
    const size_t close = s.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    return HostPort{std::string(s.substr(1, close - 1)), s.substr(close + 2), true};
  }
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return HostPort{std::string(s.substr(0, colon)), s.substr(colon + 1), false};
}

// inet_pton stops at an embedded NUL, which would silently accept "1.2.3.4\0junk".
std::optional<uint32_t> parse_ipv4(const std::string& s) {
  in_addr a{};
  if (s.find('\0') != std::string::npos || inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::optional<std::array<uint8_t, 16>> parse_ipv6(const std::string& s) {
  std::array<uint8_t, 16> a{};
  if (s.find('\0') != std::string::npos || inet_pton(AF_INET6, s.c_str(), a.data()) != 1) return std::nullopt;
  return a;
}

uint32_t mask4(unsigned len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

bool is_v6_multicast(const std::array<uint8_t, 16>& a) { return a[0] == 0xff; }
bool is_v6_unspecified(const std::array<uint8_t, 16>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}
bool is_v6_loopback(const std::array<uint8_t, 16>& a) {
  return std::all_of(a.begin(), a.end() - 1, [](uint8_t b) { return b == 0; }) && a[15] == 1;
}

// Why an IPv4 address can't be a port's or gateway's unicast address, or
// nullopt when it can.
std::optional<std::string> bad_ipv4_kind(uint32_t addr) {
  if (addr == 0) return "the unspecified address";
  if ((addr >> 28) == 0xe) return "the multicast address";
  if ((addr >> 28) == 0xf) return "the reserved address";
  return std::nullopt;
}

// --- Kubernetes label syntax (k8s.io/apimachinery validation) ---

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool valid_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty()) return false;
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_alnum(part.front()) || !lower_alnum(part.back())) return false;
    if (!std::all_of(part.begin(), part.end(), [&](char c) { return lower_alnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool valid_label_key(std::string_view k) {
  size_t slash = k.find('/');
  if (slash == std::string_view::npos) return valid_label_name(k);
  return valid_dns_subdomain(k.substr(0, slash)) && valid_label_name(k.substr(slash + 1));
}

bool valid_label_value(std::string_view v) { return v.empty() || valid_label_name(v); }

bool valid_port_name(std::string_view s) { return s.size() <= kMaxPortName && is_plain_key(s); }

// getopt_long (which EAL uses) accepts any unambiguous abbreviation, so
// "--proc=secondary" means --proc-type too.
bool is_proc_type_option(std::string_view arg) {
  if (!arg.starts_with("--")) return false;
  std::string_view name = arg.substr(2);
  name = name.substr(0, name.find('='));
  return !name.empty() && std::string_view("proc-type").starts_with(name);
}

// ---------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  BootstrapResult run(const std::string& text);

 private:
  using Fields = std::map<std::string, YAML::Node, std::less<>>;

  void error(const std::string& path, const std::string& msg) {
    errors_.push_back(origin_ + ": " + (path.empty() ? msg : path + ": " + msg));
  }
  void expected(const std::string& path, std::string_view what, const YAML::Node& got) {
    error(path, "expected " + std::string(what) + ", got " + describe(got));
  }
  void expected(const std::string& path, std::string_view what, std::string_view got_text) {
    error(path, "expected " + std::string(what) + ", got " + std::string(got_text));
  }
  void missing(const std::string& path, std::string_view what) {
    error(path, "missing (expected " + std::string(what) + ")");
  }

  Fields fields(const YAML::Node& map, const std::string& path, Keys accepted);
  std::optional<std::string> string_value(const YAML::Node& n, const std::string& path, std::string_view what);
  std::optional<uint64_t> integer(const YAML::Node& n, const std::string& path, uint64_t lo, uint64_t hi);
  std::optional<uint16_t> descriptors(const YAML::Node& n, const std::string& path);

  void parse_top(const YAML::Node& root, Bootstrap& b);
  void parse_node(const YAML::Node& n, const std::string& path, NodeIdentity& node);
  void parse_labels(const YAML::Node& n, const std::string& path, std::map<std::string, std::string>& labels);
  void parse_eal(const YAML::Node& n, const std::string& path, std::vector<std::string>& eal);
  void parse_ports(const YAML::Node& n, const std::string& path, std::vector<PortConfig>& ports);
  std::optional<PortConfig> parse_port(const YAML::Node& n, const std::string& path);
  std::optional<Ipv4Prefix> parse_ipv4_prefix(const YAML::Node& n, const std::string& path);
  std::optional<Ipv6Prefix> parse_ipv6_prefix(const YAML::Node& n, const std::string& path);
  void parse_gateway(const YAML::Node& n, const std::string& path, const Fields& f, const std::string& port_path,
                     PortConfig& port);
  void parse_gateway6(const YAML::Node& n, const std::string& path, const Fields& f, const std::string& port_path,
                      PortConfig& port);
  std::optional<ImpairSettings> parse_impair(const YAML::Node& n, const std::string& path);
  std::optional<AdminConfig> parse_admin(const YAML::Node& n, const std::string& path);
  void parse_tcp(const YAML::Node& n, const std::string& path, TcpSettings& tcp);
  void parse_agent(const YAML::Node& n, const std::string& path, AgentSettings& agent);
  void parse_config_limits(const YAML::Node& n, const std::string& path, ConfigLimits& limits);
  void parse_proxy(const YAML::Node& n, const std::string& path, ProxySettings& proxy);
  void parse_tls(const YAML::Node& n, const std::string& path, TlsSettings& tls);
  void parse_identity(const YAML::Node& n, const std::string& path, bool has_agent, IdentitySettings& id);
  template <typename T>
  struct U32Field {
    std::string_view key;
    uint32_t T::*field;
    uint64_t lo, hi;
  };
  // The integer settings of a map; `others` are further keys the caller
  // reads from the returned fields (empty when n is not a map).
  template <typename T, size_t N>
  Fields parse_u32_map(const YAML::Node& n, const std::string& path, const U32Field<T> (&table)[N], T& out,
                       Keys others = {});
  void parse_test_apps(const YAML::Node& n, const std::string& path, std::vector<TestAppConfig>& apps);
  std::optional<TestAppConfig> parse_test_app(const YAML::Node& n, const std::string& path);
  std::optional<std::string> parse_connect(const YAML::Node& n, const std::string& path);

  std::string origin_;
  std::vector<std::string> errors_;
  // Address families the ports ask for, counted even when the address itself
  // is bad (that is reported already). A client's connect address is only
  // checked against them when every port was a map (port_families_known_),
  // so a broken ports section doesn't cause a second, misleading error.
  bool port_families_known_ = false;
  bool any_port_ipv4_ = false;
  bool any_port_ipv6_ = false;
};

BootstrapResult Parser::run(const std::string& text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null()
                            ? std::string()
                            : ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    errors_.push_back(origin_ + where + ": YAML syntax error: " + e.msg);
    return {std::nullopt, std::move(errors_)};
  }

  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
    expected("", "a map with at least node and ports", "an empty file");
  } else if (docs.size() > 1) {
    expected("", "a single YAML document", std::to_string(docs.size()) + " documents");
  } else if (!docs[0].IsMap()) {
    expected("", "a map at the top level with keys " + join(kTopKeys), docs[0]);
  } else {
    Bootstrap b;
    b.path = origin_;
    parse_top(docs[0], b);
    if (errors_.empty()) return {std::move(b), {}};
  }
  return {std::nullopt, std::move(errors_)};
}

// Validates the keys of a map and returns the known ones; unknown, duplicate
// and non-string keys are reported here so callers only deal with values.
Parser::Fields Parser::fields(const YAML::Node& map, const std::string& path, Keys accepted) {
  Fields out;
  std::map<std::string, size_t, std::less<>> first_line;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      expected(path, "string keys", describe(kv.first) + " as a key");
      continue;
    }
    const std::string& key = kv.first.Scalar();
    const std::string key_path = child(path, key);
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
      error(key_path, "unknown key (expected one of: " + join(accepted) + ")");
      continue;
    }
    if (auto it = first_line.find(key); it != first_line.end()) {
      error(key_path, "duplicate key (first set on line " + std::to_string(it->second) + ")");
      continue;
    }
    first_line.emplace(key, kv.first.Mark().line + 1);
    out.emplace(key, kv.second);
  }
  return out;
}

std::optional<std::string> Parser::string_value(const YAML::Node& n, const std::string& path, std::string_view what) {
  if (!n.IsScalar()) {
    expected(path, what, n);
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<uint64_t> Parser::integer(const YAML::Node& n, const std::string& path, uint64_t lo, uint64_t hi) {
  const std::string what = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  std::optional<uint64_t> v = n.IsScalar() ? parse_uint(n.Scalar()) : std::nullopt;
  if (!v || *v < lo || *v > hi) {
    expected(path, what, n);
    return std::nullopt;
  }
  return v;
}

std::optional<uint16_t> Parser::descriptors(const YAML::Node& n, const std::string& path) {
  std::optional<uint64_t> v = n.IsScalar() ? parse_uint(n.Scalar()) : std::nullopt;
  if (!v || *v < 64 || *v > 16384 || (*v & (*v - 1)) != 0) {
    expected(path, "a power of two from 64 to 16384", n);
    return std::nullopt;
  }
  return static_cast<uint16_t>(*v);
}

void Parser::parse_top(const YAML::Node& root, Bootstrap& b) {
  const Fields f = fields(root, "", kTopKeys);
  auto get = [&](std::string_view key) -> const YAML::Node* {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  };

  if (auto n = get("node")) {
    parse_node(*n, "node", b.node);
  } else {
    missing("node", "a map with at least id");
  }
  if (auto n = get("eal")) parse_eal(*n, "eal", b.eal);
  if (auto n = get("workers")) {
    if (auto v = integer(*n, "workers", 1, 64)) b.workers = static_cast<unsigned>(*v);
  }
  if (auto n = get("idle_sleep_us")) {
    if (auto v = integer(*n, "idle_sleep_us", 0, 100000)) b.idle_sleep_us = static_cast<unsigned>(*v);
  }
  if (auto n = get("mbufs_per_port")) {
    if (auto v = integer(*n, "mbufs_per_port", 1024, 1048576)) b.mbufs_per_port = static_cast<unsigned>(*v);
  }
  if (auto n = get("ports")) {
    parse_ports(*n, "ports", b.ports);
  } else {
    missing("ports", "a list of 1 to " + std::to_string(kMaxPorts) + " ports");
  }
  if (auto n = get("admin")) {
    if (auto a = parse_admin(*n, "admin")) b.admin = *a;
  }
  if (auto n = get("tcp")) parse_tcp(*n, "tcp", b.tcp);
  if (auto n = get("test_apps")) parse_test_apps(*n, "test_apps", b.test_apps);
  if (auto n = get("agent")) parse_agent(*n, "agent", b.agent);
  if (auto n = get("proxy")) parse_proxy(*n, "proxy", b.proxy);
  if (auto n = get("tls")) parse_tls(*n, "tls", b.tls);
  if (auto n = get("identity")) parse_identity(*n, "identity", get("agent") != nullptr, b.identity);
  if (auto n = get("config_dir")) {
    if (auto s = string_value(*n, "config_dir", "a path to a file or directory of Istio YAML")) {
      if (s->empty()) {
        expected("config_dir", "a path to a file or directory of Istio YAML", "an empty string");
      } else {
        b.config_dir = *s;
      }
    }
  }
  if (get("agent") && get("config_dir"))
    error("config_dir", "set either agent (config pushed by linegate-agent) or config_dir (compiled locally), not both");
  if (auto n = get("config_limits")) parse_config_limits(*n, "config_limits", b.config_limits);
  if (auto n = get("crds")) {
    constexpr std::string_view kForm = "a list of Istio CRD files or directories";
    if (!n->IsSequence()) {
      expected("crds", kForm, *n);
    } else {
      for (size_t i = 0; i < n->size(); ++i)
        if (auto s = string_value((*n)[i], "crds[" + std::to_string(i) + "]", "a path")) b.crds.push_back(*s);
    }
  }
}

void Parser::parse_node(const YAML::Node& n, const std::string& path, NodeIdentity& node) {
  if (!n.IsMap()) {
    expected(path, "a map with id and optionally cluster, network, labels", n);
    return;
  }
  const Fields f = fields(n, path, kNodeKeys);
  if (auto it = f.find("id"); it == f.end()) {
    missing(child(path, "id"), "a non-empty string such as gw-1");
  } else if (!it->second.IsScalar() || it->second.Scalar().empty()) {
    expected(child(path, "id"), "a non-empty string such as gw-1", it->second);
  } else {
    node.id = it->second.Scalar();
  }
  if (auto it = f.find("namespace"); it != f.end()) {
    if (auto s = string_value(it->second, child(path, "namespace"), "a Kubernetes namespace name")) node.ns = *s;
  }
  if (auto it = f.find("cluster"); it != f.end()) {
    if (auto s = string_value(it->second, child(path, "cluster"), "a string")) node.cluster = *s;
  }
  if (auto it = f.find("network"); it != f.end()) {
    if (auto s = string_value(it->second, child(path, "network"), "a string")) node.network = *s;
  }
  if (auto it = f.find("labels"); it != f.end()) parse_labels(it->second, child(path, "labels"), node.labels);
}

void Parser::parse_labels(const YAML::Node& n, const std::string& path, std::map<std::string, std::string>& labels) {
  if (!n.IsMap()) {
    expected(path, "a map of label names to values", n);
    return;
  }
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      expected(path, "string keys", describe(kv.first) + " as a key");
      continue;
    }
    const std::string& key = kv.first.Scalar();
    const std::string key_path = child(path, key);
    if (!valid_label_key(key)) {
      expected(key_path,
               "a Kubernetes label key such as app or example.com/app (name of up to 63 characters "
               "A-Z a-z 0-9 - _ . starting and ending alphanumeric)",
               quote(key));
      continue;
    }
    if (labels.contains(key)) {
      error(key_path, "duplicate key");
      continue;
    }
    auto value = string_value(kv.second, key_path, "a string");
    if (!value) continue;
    if (!valid_label_value(*value)) {
      expected(key_path,
               "a Kubernetes label value (empty, or up to 63 characters A-Z a-z 0-9 - _ . "
               "starting and ending alphanumeric)",
               quote(*value));
      continue;
    }
    labels.emplace(key, *value);
  }
}

void Parser::parse_eal(const YAML::Node& n, const std::string& path, std::vector<std::string>& eal) {
  if (!n.IsSequence()) {
    expected(path, "a list of strings such as [\"--file-prefix=gw1\"]", n);
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string p = item(path, i);
    auto arg = string_value(n[i], p, "a string");
    if (!arg) continue;
    if (arg->empty()) {
      expected(p, "a non-empty EAL argument", n[i]);
    } else if (is_proc_type_option(*arg)) {
      expected(p, "an EAL argument other than --proc-type (linegate always runs as a primary process)", n[i]);
    } else {
      eal.push_back(*arg);
    }
  }
}

void Parser::parse_ports(const YAML::Node& n, const std::string& path, std::vector<PortConfig>& ports) {
  const std::string what = "a list of 1 to " + std::to_string(kMaxPorts) + " ports";
  if (!n.IsSequence()) {
    expected(path, what, n);
    return;
  }
  port_families_known_ = n.size() > 0;
  if (n.size() == 0) {
    expected(path, what, "an empty list");
  } else if (n.size() > kMaxPorts) {
    expected(path, what, std::to_string(n.size()) + " ports");
  }

  // Index of the first port that used a name/device, for duplicate messages.
  std::map<std::string, size_t, std::less<>> names, devices;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string p = item(path, i);
    std::optional<PortConfig> port = parse_port(n[i], p);
    if (!port) continue;
    bool unique = true;
    if (auto [it, fresh] = names.emplace(port->name, i); !fresh) {
      expected(child(p, "name"), "a name no other port uses",
               quote(port->name) + " (also " + child(item(path, it->second), "name") + ")");
      unique = false;
    }
    if (auto [it, fresh] = devices.emplace(port->device, i); !fresh) {
      expected(child(p, "device"), "a device no other port uses",
               quote(port->device) + " (also " + child(item(path, it->second), "device") + ")");
      unique = false;
    }
    if (unique) ports.push_back(std::move(*port));
  }
}

// Returns a port only when its name and device are usable, so the caller can
// check uniqueness; other errors are recorded but don't hide the port.
std::optional<PortConfig> Parser::parse_port(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) {
    expected(path, "a map with name, device and ipv4 or ipv6", n);
    port_families_known_ = false;
    return std::nullopt;
  }
  const Fields f = fields(n, path, kPortKeys);
  auto get = [&](std::string_view key) -> const YAML::Node* {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  };
  PortConfig port;
  bool identified = true;

  constexpr std::string_view kNameForm = "1 to 32 characters from A-Z a-z 0-9 _ -";
  if (auto name = get("name")) {
    if (name->IsScalar() && valid_port_name(name->Scalar())) {
      port.name = name->Scalar();
    } else {
      expected(child(path, "name"), kNameForm, *name);
      identified = false;
    }
  } else {
    missing(child(path, "name"), kNameForm);
    identified = false;
  }

  constexpr std::string_view kDeviceForm = "a DPDK device such as 0000:01:00.0 or net_tap0,iface=lg0";
  if (auto device = get("device")) {
    if (device->IsScalar() && !device->Scalar().empty()) {
      port.device = device->Scalar();
    } else {
      expected(child(path, "device"), kDeviceForm, *device);
      identified = false;
    }
  } else {
    missing(child(path, "device"), kDeviceForm);
    identified = false;
  }

  if (!get("ipv4") && !get("ipv6")) {
    error(path, "missing ipv4 and ipv6 (expected at least one of them)");
  }
  any_port_ipv4_ = any_port_ipv4_ || get("ipv4");
  any_port_ipv6_ = any_port_ipv6_ || get("ipv6");
  if (auto n4 = get("ipv4")) port.ipv4 = parse_ipv4_prefix(*n4, child(path, "ipv4"));
  if (auto n6 = get("ipv6")) port.ipv6 = parse_ipv6_prefix(*n6, child(path, "ipv6"));
  if (auto gw = get("gateway")) parse_gateway(*gw, child(path, "gateway"), f, path, port);
  if (auto gw6 = get("gateway6")) parse_gateway6(*gw6, child(path, "gateway6"), f, path, port);

  if (auto v = get("mtu")) {
    if (auto mtu = integer(*v, child(path, "mtu"), 576, 9000)) port.mtu = static_cast<uint16_t>(*mtu);
  }
  if (auto v = get("vlan")) {
    if (auto vlan = integer(*v, child(path, "vlan"), 0, 4094)) port.vlan = static_cast<uint16_t>(*vlan);
  }
  if (auto v = get("rx_desc")) {
    if (auto d = descriptors(*v, child(path, "rx_desc"))) port.rx_desc = *d;
  }
  if (auto v = get("tx_desc")) {
    if (auto d = descriptors(*v, child(path, "tx_desc"))) port.tx_desc = *d;
  }
  if (auto v = get("impair")) {
    if (auto imp = parse_impair(*v, child(path, "impair"))) port.impair = *imp;
  }

  if (!identified) return std::nullopt;
  return port;
}

std::optional<Ipv4Prefix> Parser::parse_ipv4_prefix(const YAML::Node& n, const std::string& path) {
  auto s = string_value(n, path, kIpv4PrefixForm);
  if (!s) return std::nullopt;
  const size_t slash = s->find('/');
  std::optional<uint32_t> addr = slash == std::string::npos ? std::nullopt : parse_ipv4(s->substr(0, slash));
  if (!addr) {
    expected(path, kIpv4PrefixForm, n);
    return std::nullopt;
  }
  std::optional<uint64_t> len = parse_uint(std::string_view(*s).substr(slash + 1));
  if (!len || *len < 1 || *len > 32) {
    expected(path, "a prefix length from 1 to 32 after the slash", n);
    return std::nullopt;
  }
  if (auto kind = bad_ipv4_kind(*addr)) {
    expected(path, "a unicast host address", *kind + " " + quote(*s));
    return std::nullopt;
  }
  // /31 (RFC 3021) and /32 have no network or broadcast address.
  const uint32_t host_mask = ~mask4(static_cast<unsigned>(*len));
  if (*len < 31 && (*addr & host_mask) == 0) {
    expected(path, "a host address in its subnet", "the network address " + quote(*s));
    return std::nullopt;
  }
  if (*len < 31 && (*addr & host_mask) == host_mask) {
    expected(path, "a host address in its subnet", "the broadcast address " + quote(*s));
    return std::nullopt;
  }
  return Ipv4Prefix{*addr, static_cast<uint8_t>(*len)};
}

std::optional<Ipv6Prefix> Parser::parse_ipv6_prefix(const YAML::Node& n, const std::string& path) {
  auto s = string_value(n, path, kIpv6PrefixForm);
  if (!s) return std::nullopt;
  const size_t slash = s->find('/');
  auto addr = slash == std::string::npos ? std::nullopt : parse_ipv6(s->substr(0, slash));
  if (!addr) {
    expected(path, kIpv6PrefixForm, n);
    return std::nullopt;
  }
  std::optional<uint64_t> len = parse_uint(std::string_view(*s).substr(slash + 1));
  if (!len || *len < 1 || *len > 128) {
    expected(path, "a prefix length from 1 to 128 after the slash", n);
    return std::nullopt;
  }
  if (is_v6_multicast(*addr)) {
    expected(path, "a unicast address", "the multicast address " + quote(*s));
    return std::nullopt;
  }
  if (is_v6_unspecified(*addr)) {
    expected(path, "a unicast address", "the unspecified address " + quote(*s));
    return std::nullopt;
  }
  return Ipv6Prefix{*addr, static_cast<uint8_t>(*len)};
}

void Parser::parse_gateway(const YAML::Node& n, const std::string& path, const Fields& f,
                           const std::string& port_path, PortConfig& port) {
  auto s = string_value(n, path, "an IPv4 address such as 10.77.0.1");
  if (!s) return;
  std::optional<uint32_t> gw = parse_ipv4(*s);
  if (!gw) {
    expected(path, "an IPv4 address such as 10.77.0.1", n);
    return;
  }
  if (!f.contains("ipv4")) {
    error(path, "requires " + child(port_path, "ipv4") + " (the gateway must lie inside its subnet)");
    return;
  }
  if (!port.ipv4) return;  // ipv4 itself is bad and already reported

  const Ipv4Prefix& own = *port.ipv4;
  const uint32_t mask = mask4(own.len);
  const std::string subnet = format_ipv4(own.addr & mask) + "/" + std::to_string(own.len);
  if ((*gw & mask) != (own.addr & mask)) {
    expected(path, "an address inside the port's subnet " + subnet, n);
  } else if (*gw == own.addr) {
    expected(path, "an address other than the port's own " + format_ipv4(own.addr), n);
  } else if (own.len < 31 && (*gw & ~mask) == 0) {
    expected(path, "a host address inside " + subnet, "the network address " + quote(*s));
  } else if (own.len < 31 && (*gw & ~mask) == ~mask) {
    expected(path, "a host address inside " + subnet, "the broadcast address " + quote(*s));
  } else {
    port.gateway = *gw;
  }
}

void Parser::parse_gateway6(const YAML::Node& n, const std::string& path, const Fields& f,
                            const std::string& port_path, PortConfig& port) {
  constexpr std::string_view kForm = "an IPv6 address such as fd77::1 or fe80::1";
  auto s = string_value(n, path, kForm);
  if (!s) return;
  auto gw = parse_ipv6(*s);
  if (!gw) {
    expected(path, kForm, n);
    return;
  }
  if (!f.contains("ipv6")) {
    error(path, "requires " + child(port_path, "ipv6") + " (IPv6 next hops are reached over the port's IPv6 address)");
    return;
  }
  // Unlike IPv4, the next hop is often link-local, so no subnet check.
  if (is_v6_multicast(*gw)) {
    expected(path, "a unicast address", "the multicast address " + quote(*s));
  } else if (is_v6_unspecified(*gw)) {
    expected(path, "a unicast address", "the unspecified address " + quote(*s));
  } else if (port.ipv6 && *gw == port.ipv6->addr) {
    expected(path, "an address other than the port's own " + format_ipv6(port.ipv6->addr), n);
  } else {
    port.gateway6 = *gw;
  }
}

std::optional<ImpairSettings> Parser::parse_impair(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) {
    expected(path, "a map with any of " + join(kImpairKeys), n);
    return std::nullopt;
  }
  const Fields f = fields(n, path, kImpairKeys);
  ImpairSettings imp;
  bool ok = true;
  auto fraction = [&](std::string_view key, double& out) {
    auto it = f.find(key);
    if (it == f.end()) return;
    std::optional<double> v = it->second.IsScalar() ? parse_fraction(it->second.Scalar()) : std::nullopt;
    if (v) {
      out = *v;
    } else {
      expected(child(path, key), kFractionForm, it->second);
      ok = false;
    }
  };
  fraction("loss", imp.loss);
  fraction("reorder", imp.reorder);
  fraction("duplicate", imp.duplicate);
  if (auto it = f.find("delay_us"); it != f.end()) {
    if (auto v = integer(it->second, child(path, "delay_us"), 0, 1000000)) {
      imp.delay_us = static_cast<uint32_t>(*v);
    } else {
      ok = false;
    }
  }
  fraction("corrupt", imp.corrupt);
  if (auto it = f.find("seed"); it != f.end()) {
    if (auto v = integer(it->second, child(path, "seed"), 0, UINT64_MAX)) {
      imp.seed = *v;
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return imp;
}

std::optional<AdminConfig> Parser::parse_admin(const YAML::Node& n, const std::string& path) {
  auto s = string_value(n, path, kAdminForm);
  if (!s) return std::nullopt;

  std::optional<std::string> host;
  std::optional<HostPort> hp = split_host_port(*s);
  if (hp && hp->bracketed) {
    if (auto a = parse_ipv6(hp->host)) host = format_ipv6(*a);
  } else if (hp) {
    if (hp->host == "localhost") {
      host = "127.0.0.1";
    } else if (auto a = parse_ipv4(hp->host)) {
      host = format_ipv4(*a);
    }
  }
  if (!host) {
    expected(path, kAdminForm, n);
    return std::nullopt;
  }
  std::optional<uint64_t> port = parse_uint(hp->port);
  if (!port || *port < 1 || *port > 65535) {
    expected(path, "a port from 1 to 65535", n);
    return std::nullopt;
  }
  return AdminConfig{*host, static_cast<uint16_t>(*port)};
}

void Parser::parse_agent(const YAML::Node& n, const std::string& path, AgentSettings& agent) {
  constexpr std::string_view kForm = "a map with address (\"host:port\" of linegate-agent) and optionally "
                                     "initial_backoff_ms, max_backoff_ms";
  if (!n.IsMap()) {
    expected(path, kForm, n);
    return;
  }
  const Fields f = fields(n, path, kAgentKeys);
  if (auto it = f.find("address"); it == f.end()) {
    missing(child(path, "address"), "\"host:port\" of linegate-agent, e.g. 127.0.0.1:15010");
  } else if (auto s = string_value(it->second, child(path, "address"), "\"host:port\"")) {
    std::optional<HostPort> hp = split_host_port(*s);
    std::optional<uint64_t> port = hp ? parse_uint(hp->port) : std::nullopt;
    if (!hp || hp->host.empty() || !port || *port < 1 || *port > 65535) {
      expected(child(path, "address"), "\"host:port\" with a port from 1 to 65535, e.g. 127.0.0.1:15010", it->second);
    } else {
      agent.address = *s;
    }
  }
  if (auto it = f.find("initial_backoff_ms"); it != f.end()) {
    if (auto v = integer(it->second, child(path, "initial_backoff_ms"), 10, 60000))
      agent.initial_backoff_ms = static_cast<uint32_t>(*v);
  }
  if (auto it = f.find("max_backoff_ms"); it != f.end()) {
    if (auto v = integer(it->second, child(path, "max_backoff_ms"), 100, 600000))
      agent.max_backoff_ms = static_cast<uint32_t>(*v);
  }
  if (agent.max_backoff_ms < agent.initial_backoff_ms)
    error(child(path, "max_backoff_ms"), "must not be below initial_backoff_ms (" +
                                             std::to_string(agent.initial_backoff_ms) + ")");
}

// A map of bounded integer settings: one table says key, field and bounds.
template <typename T, size_t N>
Parser::Fields Parser::parse_u32_map(const YAML::Node& n, const std::string& path, const U32Field<T> (&table)[N],
                                     T& out, Keys others) {
  std::vector<std::string_view> keys(others.begin(), others.end());
  for (const U32Field<T>& field : table) keys.push_back(field.key);
  if (!n.IsMap()) {
    expected(path, "a map with any of " + join(keys), n);
    return {};
  }
  Fields f = fields(n, path, keys);
  for (const U32Field<T>& field : table) {
    auto it = f.find(field.key);
    if (it == f.end()) continue;
    if (auto v = integer(it->second, child(path, field.key), field.lo, field.hi))
      out.*field.field = static_cast<uint32_t>(*v);
  }
  return f;
}

void Parser::parse_config_limits(const YAML::Node& n, const std::string& path, ConfigLimits& limits) {
  static constexpr U32Field<ConfigLimits> kFields[] = {{"max_listeners", &ConfigLimits::max_listeners, 1, 65535},
                                                       {"max_routes", &ConfigLimits::max_routes, 1, 100000000},
                                                       {"max_clusters", &ConfigLimits::max_clusters, 1, 10000000},
                                                       {"max_endpoints", &ConfigLimits::max_endpoints, 1, 100000000}};
  parse_u32_map(n, path, kFields, limits);
}

void Parser::parse_proxy(const YAML::Node& n, const std::string& path, ProxySettings& proxy) {
  static constexpr U32Field<ProxySettings> kFields[] = {
      {"max_sessions", &ProxySettings::max_sessions, 16, 1048576},
      {"hello_timeout_ms", &ProxySettings::hello_timeout_ms, 100, 600000},
      {"max_connect_attempts", &ProxySettings::max_connect_attempts, 1, 10},
      {"drain_timeout_ms", &ProxySettings::drain_timeout_ms, 0, 600000},
      {"max_request_bytes", &ProxySettings::max_request_bytes, 0, 1u << 30}};
  parse_u32_map(n, path, kFields, proxy);
}

void Parser::parse_tls(const YAML::Node& n, const std::string& path, TlsSettings& tls) {
  static constexpr U32Field<TlsSettings> kFields[] = {
      {"record_buffers", &TlsSettings::record_buffers, 256, 1048576},
      {"max_connections", &TlsSettings::max_connections, 16, 1048576},
      {"ticket_key_rotation_s", &TlsSettings::ticket_key_rotation_s, 0, TlsSettings::kMaxTicketKeyRotationS}};
  static constexpr std::string_view kOthers[] = {"record_offload"};
  const Fields f = parse_u32_map(n, path, kFields, tls, kOthers);
  if (auto it = f.find("record_offload"); it != f.end()) {
    const YAML::Node& v = it->second;
    if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) {
      tls.record_offload = v.Scalar() == "true";
    } else {
      expected(child(path, "record_offload"), "true or false", v);
    }
  }
}

void Parser::parse_identity(const YAML::Node& n, const std::string& path, bool has_agent, IdentitySettings& id) {
  constexpr std::string_view kForm =
      "a map with cert_chain, private_key and root_cert (files), or service_account (from linegate-agent's CA) "
      "and optionally trust_domain, cert_ttl_s";
  if (!n.IsMap()) {
    expected(path, kForm, n);
    return;
  }
  const Fields f = fields(n, path, kIdentityKeys);
  auto text = [&](std::string_view key, std::string& out) {
    if (auto it = f.find(key); it != f.end())
      if (auto s = string_value(it->second, child(path, key), "a non-empty string")) {
        if (s->empty()) {
          expected(child(path, key), "a non-empty string", "an empty string");
        } else {
          out = *s;
        }
      }
  };
  for (auto [key, field] : {std::pair{"cert_chain", &IdentitySettings::cert_chain},
                            {"private_key", &IdentitySettings::private_key},
                            {"root_cert", &IdentitySettings::root_cert},
                            {"service_account", &IdentitySettings::service_account},
                            {"trust_domain", &IdentitySettings::trust_domain}})
    text(key, id.*field);
  if (auto it = f.find("cert_ttl_s"); it != f.end())
    if (auto v = integer(it->second, child(path, "cert_ttl_s"), 600, 7776000)) id.cert_ttl_s = static_cast<uint32_t>(*v);

  const int files = !id.cert_chain.empty() + !id.private_key.empty() + !id.root_cert.empty();
  if (files != 0 && files != 3)
    error(path, "cert_chain, private_key and root_cert go together (Istio's cert-chain.pem, key.pem, root-cert.pem)");
  if (files != 0 && id.from_agent())
    error(child(path, "service_account"), "set either the files or service_account (a certificate from the agent), "
                                          "not both");
  if (files == 0 && !id.from_agent()) error(path, "needs " + std::string(kForm.substr(11)));
  if (id.from_agent() && !has_agent)
    error(child(path, "service_account"), "a certificate from linegate-agent needs agent.address");
  if (id.from_files() && (f.count("trust_domain") || f.count("cert_ttl_s")))
    error(path, "trust_domain and cert_ttl_s apply to a certificate from the agent; the files' own certificate "
                "says both");
}

void Parser::parse_tcp(const YAML::Node& n, const std::string& path, TcpSettings& tcp) {
  if (!n.IsMap()) {
    expected(path, "a map with any of " + join(kTcpKeys), n);
    return;
  }
  const Fields f = fields(n, path, kTcpKeys);
  for (const TcpIntField& field : kTcpIntFields) {
    auto it = f.find(field.key);
    if (it == f.end()) continue;
    if (auto v = integer(it->second, child(path, field.key), field.lo, field.hi)) {
      tcp.*field.field = static_cast<uint32_t>(*v);
    }
  }
  if (auto it = f.find("congestion_control"); it != f.end()) {
    const YAML::Node& v = it->second;
    if (v.IsScalar() && std::find(std::begin(kCongestionControls), std::end(kCongestionControls), v.Scalar()) !=
                            std::end(kCongestionControls)) {
      tcp.congestion_control = v.Scalar();
    } else {
      expected(child(path, "congestion_control"), "one of " + join(kCongestionControls), v);
    }
  }
}

void Parser::parse_test_apps(const YAML::Node& n, const std::string& path, std::vector<TestAppConfig>& apps) {
  if (!n.IsSequence()) {
    expected(path, "a list of test apps such as [{kind: echo, port: 7}]", n);
    return;
  }
  // Index of the first listening app on each port, for duplicate messages.
  std::map<uint16_t, size_t> listeners;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string p = item(path, i);
    std::optional<TestAppConfig> app = parse_test_app(n[i], p);
    if (!app) continue;
    if (app->port != 0) {
      if (auto [it, fresh] = listeners.emplace(app->port, i); !fresh) {
        error(child(p, "port"), std::to_string(app->port) + " already used by " + item(path, it->second));
        continue;
      }
    }
    apps.push_back(std::move(*app));
  }
}

// Returns the app whenever its kind is known, so the caller can check listen
// ports for clashes; its other errors are recorded but don't hide it (like
// parse_port). Values are checked whatever the kind, and keys the kind
// doesn't take are reported too, so one pass shows every mistake.
std::optional<TestAppConfig> Parser::parse_test_app(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) {
    expected(path, "a map with kind and its settings, such as {kind: echo, port: 7}", n);
    return std::nullopt;
  }
  const Fields f = fields(n, path, kTestAppKeys);
  auto get = [&](std::string_view key) -> const YAML::Node* {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  };
  TestAppConfig app;

  const TestAppKind* kind = nullptr;
  if (auto k = get("kind")) {
    for (const TestAppKind& candidate : kTestAppKinds) {
      if (k->IsScalar() && k->Scalar() == candidate.name) kind = &candidate;
    }
    if (!kind) expected(child(path, "kind"), kTestAppKindForm, *k);
  } else {
    missing(child(path, "kind"), kTestAppKindForm);
  }

  uint16_t port = 0;
  if (auto v = get("port")) {
    if (auto p = integer(*v, child(path, "port"), 1, 65535)) port = static_cast<uint16_t>(*p);
  }
  if (auto v = get("bytes")) {
    if (auto b = integer(*v, child(path, "bytes"), 1, kMaxAppBytes)) app.bytes = *b;
  }
  if (auto v = get("connect")) {
    if (auto c = parse_connect(*v, child(path, "connect"))) app.connect = *c;
  }
  if (auto v = get("connections")) {
    if (auto c = integer(*v, child(path, "connections"), 1, kMaxClientConnections)) {
      app.connections = static_cast<uint32_t>(*c);
    }
  }
  if (!kind) return std::nullopt;
  app.kind = std::string(kind->name);

  for (std::string_view key : kTestAppKeys) {
    if (get(key) && std::find(kind->allowed.begin(), kind->allowed.end(), key) == kind->allowed.end()) {
      error(child(path, key), "not allowed for kind " + app.kind + " (expected one of: " + join(kind->allowed) + ")");
    }
  }
  for (std::string_view key : kind->required) {
    if (get(key)) continue;
    if (key == "port") {
      missing(child(path, key), "an integer from 1 to 65535");
    } else if (key == "bytes") {
      missing(child(path, key), "an integer from 1 to " + std::to_string(kMaxAppBytes));
    } else {
      missing(child(path, key), kConnectForm);
    }
  }
  if (kind->listens) app.port = port;
  return app;
}

std::optional<std::string> Parser::parse_connect(const YAML::Node& n, const std::string& path) {
  auto s = string_value(n, path, kConnectForm);
  if (!s) return std::nullopt;

  std::optional<HostPort> hp = split_host_port(*s);
  std::optional<uint32_t> v4;
  std::optional<std::array<uint8_t, 16>> v6;
  if (hp && hp->bracketed) {
    v6 = parse_ipv6(hp->host);
  } else if (hp) {
    v4 = parse_ipv4(hp->host);
  }
  if (!v4 && !v6) {
    expected(path, kConnectForm, n);
    return std::nullopt;
  }
  std::optional<uint64_t> port = parse_uint(hp->port);
  if (!port || *port < 1 || *port > 65535) {
    expected(path, "a port from 1 to 65535", n);
    return std::nullopt;
  }

  std::optional<std::string> bad;
  if (v4) {
    bad = bad_ipv4_kind(*v4);
    if (!bad && (*v4 >> 24) == 127) bad = "the loopback address";
  } else if (is_v6_multicast(*v6)) {
    bad = "the multicast address";
  } else if (is_v6_unspecified(*v6)) {
    bad = "the unspecified address";
  } else if (is_v6_loopback(*v6)) {
    bad = "the loopback address";
  }
  if (bad) {
    expected(path, "a remote unicast address", *bad + " " + quote(*s));
    return std::nullopt;
  }

  // A client connects from a port address of the same family.
  const bool have = v4 ? any_port_ipv4_ : any_port_ipv6_;
  if (port_families_known_ && !have) {
    error(path, std::string("requires ") + (v4 ? "ipv4" : "ipv6") +
                    " on some port (a client connects from a port address of the same family)");
    return std::nullopt;
  }
  const std::string port_text = std::to_string(*port);
  return v4 ? format_ipv4(*v4) + ":" + port_text : "[" + format_ipv6(*v6) + "]:" + port_text;
}

// Reads the whole file; on failure returns nullopt and leaves errno set.
std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[16384];
  while (true) {
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got > 0) {
      text.append(buf, static_cast<size_t>(got));
    } else if (got == 0) {
      break;
    } else if (errno != EINTR) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return std::nullopt;
    }
  }
  ::close(fd);
  return text;
}

}  // namespace

BootstrapResult parse_bootstrap(const std::string& yaml_text, const std::string& origin) {
  // Callers treat this as a pure function returning errors; an unexpected
  // exception from yaml-cpp's node API must not escape into start-up code.
  try {
    return Parser(origin).run(yaml_text);
  } catch (const YAML::Exception& e) {
    return {std::nullopt, {origin + ": YAML error: " + e.msg}};
  } catch (const std::exception& e) {
    return {std::nullopt, {origin + ": internal error while parsing: " + e.what()}};
  }
}

BootstrapResult load_bootstrap_file(const std::string& path) {
  std::optional<std::string> text = read_file(path);
  if (!text) {
    const int err = errno;
    return {std::nullopt, {path + ": cannot read: " + std::generic_category().message(err)}};
  }
  return parse_bootstrap(*text, path);
}

std::string format_ipv4(uint32_t host_order_addr) {
  in_addr a{};
  a.s_addr = htonl(host_order_addr);
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
}

std::string format_ipv6(const std::array<uint8_t, 16>& addr) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, addr.data(), buf, sizeof buf) ? buf : "";
}

}  // namespace lg
