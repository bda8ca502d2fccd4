#include "ctrl/crd/k8s_names.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <map>
#include <memory>
#include <mutex>

namespace lg::ctrl::k8snames {
namespace {

const char* const kLabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char* const kSubdomainFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char* const kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char* const kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

// Each pattern is compiled once; RE2 objects are safe to share between threads.
bool full(const std::string& s, const char* pattern) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<RE2>> cache;
  const RE2* re;
  {
    std::lock_guard<std::mutex> lock(mu);
    std::unique_ptr<RE2>& slot = cache[pattern];
    if (!slot) slot = std::make_unique<RE2>(pattern);
    re = slot.get();
  }
  return RE2::FullMatch(s, *re);
}

std::string max_len(size_t n) { return "must be no more than " + std::to_string(n) + " characters"; }

}  // namespace

std::string dns1123_label(const std::string& s) {
  if (s.size() > 63) return max_len(63);
  if (!full(s, kLabelFmt))
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
           "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" +
           std::string(kLabelFmt) + "')";
  return {};
}

std::string dns1123_subdomain(const std::string& s) {
  if (s.size() > 253) return max_len(253);
  if (!full(s, kSubdomainFmt))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
           std::string(kSubdomainFmt) + "')";
  return {};
}

std::string qualified_name(const std::string& s) {
  std::string name = s;
  const size_t slash = s.find('/');
  if (slash != std::string::npos) {
    if (s.find('/', slash + 1) != std::string::npos)
      return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
             "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'" + std::string(kQualifiedNameFmt) + "') with an optional DNS subdomain prefix and '/' (e.g. "
             "'example.com/MyName')";
    const std::string prefix = s.substr(0, slash);
    if (prefix.empty()) return "prefix part must be non-empty";
    if (std::string e = dns1123_subdomain(prefix); !e.empty()) return "prefix part " + e;
    name = s.substr(slash + 1);
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part " + max_len(63);
  if (!full(name, kQualifiedNameFmt))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
           "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" +
           std::string(kQualifiedNameFmt) + "')";
  return {};
}

std::string label_value(const std::string& s) {
  if (s.size() > 63) return max_len(63);
  if (!full(s, kLabelValueFmt))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
           "validation is '" + std::string(kLabelValueFmt) + "')";
  return {};
}

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
  in6_addr a{};
  return s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

std::string ip_address(const std::string& s) {
  if (is_ipv4(s) || is_ipv6(s)) return {};
  return "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
}

std::string iana_svc_name(const std::string& s) {
  // RFC 6335 §5.1, as Kubernetes checks it (IsValidPortName).
  if (s.size() > 15) return "must be no more than 15 characters";
  if (!full(s, "[-a-z0-9]+")) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (!full(s, ".*[a-z].*")) return "must contain at least one letter (a-z)";
  if (s.find("--") != std::string::npos) return "must not contain consecutive hyphens";
  if (s.front() == '-' || s.back() == '-') return "must not begin or end with a hyphen";
  return {};
}

}  // namespace lg::ctrl::k8snames
