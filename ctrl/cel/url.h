// Go's url.ParseRequestURI, which the Kubernetes CEL URL library
// (k8s.io/apiserver/pkg/cel/library/urls.go) uses for url() and isURL(): the
// input must be an absolute URI or an absolute path; no fragment.
#pragma once

#include "ctrl/cel/value.h"

#include <optional>
#include <string>
#include <string_view>

namespace lg::ctrl::cel {

// nullopt with `error` set in Go's words (`parse "x": invalid URI for request`).
std::optional<Url> parse_request_uri(std::string_view raw, std::string& error);

std::string url_hostname(const Url& u);  // host without port or IPv6 brackets
std::string url_port(const Url& u);      // port digits, or ""
std::string url_escaped_path(const Url& u);

}  // namespace lg::ctrl::cel
