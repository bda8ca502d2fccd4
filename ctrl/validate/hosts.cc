#include "ctrl/validate/hosts.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cmath>

namespace lg::ctrl::validate {

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// ValidateDNS1123Labels: every dot-separated label valid, top-level label
// not all digits, a trailing dot allowed ("istio.io.").
std::optional<std::string> check_labels(std::string_view whole, std::string_view domain) {
  std::string_view rest = domain;
  std::string_view last;
  for (;;) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    const bool final = dot == std::string_view::npos;
    if (final && label.empty() && !last.empty()) break;  // trailing dot
    if (!is_dns1123_label(label))
      return "domain name " + std::string("\"") + std::string(whole) + "\" invalid (label \"" + std::string(label) +
             "\" invalid)";
    last = label;
    if (final) break;
    rest = rest.substr(dot + 1);
  }
  bool digits = !last.empty();
  for (char c : last) digits = digits && std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (digits)
    return "domain name \"" + std::string(whole) + "\" invalid (top level domain \"" + std::string(last) +
           "\" cannot be all-numeric)";
  return std::nullopt;
}

std::optional<std::string> check_preconditions(std::string_view name) {
  if (name.size() > 255) return "domain name \"" + std::string(name) + "\" too long (max 255)";
  if (name.empty()) return std::string("empty domain name not allowed");
  return std::nullopt;
}

}  // namespace

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-') return false;
  return true;
}

bool is_wildcard_dns1123_label(std::string_view s) {
  if (s.size() > 63) return false;
  if (s == "*") return true;
  if (!s.empty() && s.front() == '*') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  }
  return is_dns1123_label(s);
}

bool is_ip_address(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  const std::string z(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, z.c_str(), buf) == 1 || inet_pton(AF_INET6, z.c_str(), buf) == 1;
}

bool is_cidr(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string addr(s.substr(0, slash));
  const std::string_view len = s.substr(slash + 1);
  unsigned char buf[16];
  int max = 0;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) max = 32;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) max = 128;
  else return false;
  int bits = -1;
  const auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
  return ec == std::errc() && p == len.data() + len.size() && !len.empty() && bits >= 0 && bits <= max;
}

std::optional<std::string> check_ip_or_cidr(std::string_view s) {
  if (s.find('/') != std::string_view::npos) {
    if (!is_cidr(s)) return std::string(s) + " is not a valid CIDR block";
    return std::nullopt;
  }
  if (!is_ip_address(s)) return std::string(s) + " is not a valid IP";
  return std::nullopt;
}

std::optional<std::string> check_fqdn(std::string_view host) {
  if (auto e = check_preconditions(host)) return e;
  return check_labels(host, host);
}

std::optional<std::string> check_wildcard_domain(std::string_view host) {
  if (auto e = check_preconditions(host)) return e;
  // Wildcards only in the first label.
  const size_t dot = host.find('.');
  const std::string_view first = host.substr(0, dot);
  if (!is_wildcard_dns1123_label(first))
    return "domain name \"" + std::string(host) + "\" invalid (label \"" + std::string(first) + "\" invalid)";
  if (dot != std::string_view::npos) return check_labels(host, host.substr(dot + 1));
  return std::nullopt;
}

namespace {

std::optional<std::string> check_host_part(std::string_view host, bool is_gateway) {
  std::string errs;
  auto add = [&](const std::string& e) { errs += errs.empty() ? e : "; " + e; };
  if (host != "*" && host.find('.') == std::string_view::npos) add("short names (non FQDN) are not allowed");
  if (auto e = check_wildcard_domain(host)) {
    // Gateways also accept an IP address as the host.
    if (!is_gateway || !is_ip_address(host)) add(*e);
  }
  if (host.find('*') != std::string_view::npos && host.size() != 1 && host.substr(0, 2) != "*.")
    add("partial wildcard \"" + std::string(host) + "\" not allowed");
  if (errs.empty()) return std::nullopt;
  return errs;
}

}  // namespace

std::optional<std::string> check_namespace_slash_host(std::string_view host, bool is_gateway) {
  const size_t slash = host.find('/');
  if (slash == std::string_view::npos) {
    if (is_gateway) return check_host_part(host, true);
    return std::string("host must be of form namespace/dnsName");
  }
  const std::string_view ns = host.substr(0, slash);
  const std::string_view name = host.substr(slash + 1);
  if (ns.empty() || name.empty()) return std::string("config namespace and dnsName in host entry cannot be empty");
  if (ns != "*" && ns != "." && (is_gateway || ns != "~") && !is_dns1123_label(ns))
    return "invalid namespace value \"" + std::string(ns) + "\" in " + (is_gateway ? "gateway" : "sidecar");
  return check_host_part(name, is_gateway);
}

std::optional<std::string> check_port(int64_t port) {
  if (port >= 1 && port <= 65535) return std::nullopt;
  return "port number " + std::to_string(port) + " must be in the range 1..65535";
}

namespace {

bool is_wild(std::string_view h) { return !h.empty() && h.front() == '*'; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool host_matches(std::string_view a, std::string_view b) {
  const bool wa = is_wild(a), wb = is_wild(b);
  if (wa && !wb) return ends_with(b, a.substr(1));
  if (!wa && wb) return ends_with(a, b.substr(1));
  if (wa && wb) {
    // Both wildcards: the shorter suffix covers the longer one.
    const std::string_view sa = a.substr(1), sb = b.substr(1);
    return sa.size() <= sb.size() ? ends_with(sb, sa) : ends_with(sa, sb);
  }
  return a == b;
}

bool host_subset_of(std::string_view a, std::string_view b) {
  if (is_wild(b)) {
    if (b.size() == 1) return true;  // "*"
    const std::string_view suffix = b.substr(1);
    if (is_wild(a)) return ends_with(a.substr(1), suffix);
    return ends_with(a, suffix);
  }
  return !is_wild(a) && a == b;
}

std::string resolve_short_name(std::string_view host, std::string_view ns) {
  if (host.empty() || host == "*" || host.find('.') != std::string_view::npos || is_ip_address(host))
    return std::string(host);
  return std::string(host) + "." + std::string(ns) + ".svc." + std::string(kDomainSuffix);
}

std::optional<int64_t> parse_duration_ns(std::string_view s) {
  // Go's time.ParseDuration grammar, which is what CEL's duration() and
  // Kubernetes accept; protobuf's JSON form ("1.5s") is a subset of it.
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s.front() == '-' || s.front() == '+') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
      v = v * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
        v += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) == 0 && s[j] != '.')) ++j;
    const std::string_view unit = s.substr(i, j - i);
    long double mult = 0;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else return std::nullopt;
    total += v * mult;
    if (total > 9.2e18L) return std::nullopt;
    s.remove_prefix(j);
  }
  const int64_t ns = static_cast<int64_t>(std::llround(static_cast<double>(total)));
  return neg ? -ns : ns;
}

std::optional<std::string> check_duration(std::string_view s) {
  const auto ns = parse_duration_ns(s);
  if (!ns) return "invalid duration \"" + std::string(s) + "\"";
  if (*ns < 1000000) return std::string("duration must be greater than 1ms");
  if (*ns % 1000000 != 0) return std::string("only durations to ms precision are supported");
  return std::nullopt;
}

}  // namespace lg::ctrl::validate
