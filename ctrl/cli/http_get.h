// Just enough HTTP/1.1 (RFC 9112) to GET one document from linegate's admin
// server: one request, `Connection: close`, body by Content-Length, chunked
// transfer coding, or end of connection. No TLS, no redirects: the admin
// port is loopback-only plain HTTP.
#pragma once

#include <chrono>
#include <string>

namespace lg::ctrl::cli {

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::string body;
};

// `address` is HOST:PORT, [V6]:PORT, or HOST (port 15000, the admin default).
// False with `error` set when there is no HTTP response at all.
bool http_get(const std::string& address, const std::string& path, HttpResponse& out, std::string& error,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Splits HOST:PORT / [V6]:PORT / HOST; false when malformed.
bool split_host_port(const std::string& address, int default_port, std::string& host, std::string& port);

// Parses a complete HTTP/1.1 response (exposed for tests).
bool parse_http_response(const std::string& raw, HttpResponse& out, std::string& error);

}  // namespace lg::ctrl::cli
