// Kubernetes' name and address rules (k8s.io/apimachinery/pkg/util/validation)
// with their messages, for metadata and for the hand-checked core kinds.
// Each returns an empty string when `s` is valid, else the detail message.
#pragma once

#include <string>

namespace lg::ctrl::k8snames {

std::string dns1123_subdomain(const std::string& s);  // metadata.name of most objects
std::string dns1123_label(const std::string& s);      // namespaces, Service names, port names
std::string qualified_name(const std::string& s);     // label and annotation keys: [prefix/]name
std::string label_value(const std::string& s);
std::string ip_address(const std::string& s);         // IPv4 or IPv6, no CIDR
std::string iana_svc_name(const std::string& s);      // named targetPort
bool is_ipv4(const std::string& s);
bool is_ipv6(const std::string& s);

}  // namespace lg::ctrl::k8snames
