// Envoy's access log format strings ("substitution format strings"), the
// subset linegate writes: parsed once when a snapshot is compiled (ctrl
// rejects a format with a command linegate does not fill) and again when the
// gateway builds its tables; rendered by the access log writer thread.
//
// https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lg::access_log {

enum class Command : uint8_t {
  literal,
  start_time,  // %START_TIME% or %START_TIME(strftime, plus %3f %6f %9f %s)%
  req,         // %REQ(X?Y):N%  request header X, else Y
  resp,        // %RESP(X?Y):N% response header X, else Y
  protocol,
  response_code,
  response_flags,
  response_code_details,
  connection_termination_details,
  upstream_transport_failure_reason,
  bytes_received,
  bytes_sent,
  duration,
  response_duration,
  upstream_host,
  upstream_cluster,
  upstream_cluster_raw,
  upstream_local_address,
  upstream_request_attempt_count,
  downstream_local_address,
  downstream_local_address_without_port,
  downstream_local_port,
  downstream_remote_address,
  downstream_remote_address_without_port,
  downstream_remote_port,
  downstream_direct_remote_address,
  downstream_direct_remote_address_without_port,
  requested_server_name,
  route_name,
  downstream_peer_uri_san,
  downstream_local_uri_san,
  downstream_tls_version,
  hostname,
  connection_id,
};

struct Token {
  Command command = Command::literal;
  std::string text;       // literal text, or START_TIME's strftime format ("" = Envoy's default)
  std::string header;     // REQ/RESP: lower-case name (":path", ":authority", "user-agent", ...)
  std::string alternate;  // REQ/RESP: the name after '?' ("" = none)
  uint32_t max_length = 0;  // ":N" truncation (0 = none)
};

struct Format {
  std::vector<Token> tokens;
  // Header names REQ/RESP use, lower case, each once: what a worker copies
  // from a request or response while the log is on.
  std::vector<std::string> request_headers, response_headers;
};

struct ParseResult {
  Format format;
  std::string error;  // "" = parsed
  bool ok() const { return error.empty(); }
};

ParseResult parse(std::string_view text);

// The command names parse() accepts, in the order Envoy documents them.
const std::vector<std::string_view>& supported_commands();

// Istio's default text format (EnvoyTextLogFormat) and JSON labels
// (EnvoyJSONLogFormatIstio, in the order linegate writes them).
extern const std::string_view kIstioTextFormat;
const std::vector<std::pair<std::string_view, std::string_view>>& istio_json_labels();

}  // namespace lg::access_log
