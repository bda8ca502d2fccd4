// linegate-loadgen's command line: what to generate (client role), what to
// answer (responder role), and which ports to do it on. Parsed and checked
// once at start-up; every problem is reported with the option that caused it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/bootstrap/bootstrap.h"

namespace lg::bench {

enum class Mode : uint8_t {
  http,         // keep-alive requests on --connections connections
  http_close,   // one request per connection
  tcp_bulk,     // download an endless stream (a responder's --source-port)
  tcp_connect,  // connect, then close: connections per second
};
const char* mode_name(Mode m);

// A fixed value or a uniform random range [lo, hi].
struct Range {
  uint64_t lo = 0, hi = 0;
  bool fixed() const { return lo == hi; }
};

struct StatusWeight {
  uint16_t code = 200;
  uint32_t weight = 1;
};

// HTTPS (and TLS over the TCP modes): the client's side of the gateway's
// own TLS (dataplane/tls client channels, records on IPsec-MB), so the
// generator's cost per request stays small next to the target's.
struct TlsClientOptions {
  bool enabled = false;
  std::string sni;                     // "" = the first --host, else none
  std::string ca_file;                 // verify the server (chain only; "" = no verification, as wrk)
  std::string cert_file, key_file;     // a client certificate (MUTUAL)
  std::string version;                 // "1.2", "1.3"; "" = either
  std::vector<std::string> ciphers;    // TLS 1.2 suites, OpenSSL names ([] = the default AEAD list)
  bool record_offload = true;          // false: OpenSSL's record layer
};

struct ClientOptions {
  std::string target_text;  // as given, for reports
  uint8_t family = 4;
  uint8_t addr[16] = {};
  uint16_t port = 0;
  Mode mode = Mode::http;
  uint32_t connections = 64;
  double duration_s = 10;
  double warmup_s = 2;
  double rate = 0;  // per second over all connections; 0 = closed loop
  std::vector<std::string> methods{"GET"};
  std::vector<std::string> paths{"/"};
  std::vector<std::string> hosts;  // empty: the target address
  std::vector<std::string> headers;  // "Name: value"
  uint32_t request_bytes = 0;
  uint32_t timeout_ms = 10000;
  TlsClientOptions tls;
};

struct ResponderOptions {
  uint16_t listen = 0;       // HTTP port; 0 = none
  uint16_t source_port = 0;  // endless stream; 0 = none
  Range response_bytes{1024, 1024};
  Range delay_us{0, 0};
  std::vector<StatusWeight> statuses{{200, 1}};
};

struct Options {
  Bootstrap bootstrap;  // ports, EAL, TCP settings: the dataplane's own bring-up
  std::optional<ClientOptions> client;
  std::optional<ResponderOptions> responder;
  std::string json_file;
  std::string label;
  bool progress = true;
  std::string command_line;  // for the JSON
};

// Parses argv. On failure returns nullopt with *error set (already
// formatted) and *exit_code 2; for --help/--version *exit_code is 0 and
// the text is in *error.
std::optional<Options> parse_options(int argc, char** argv, std::string* error, int* exit_code);

// "a,b{1..3}c" → a, b1c, b2c, b3c. Commas inside braces are not
// separators. nullopt with *error for a malformed range or more than `limit`
// results.
std::optional<std::vector<std::string>> expand_list(const std::string& spec, size_t limit, std::string* error);

// "1024" or "512-4096".
std::optional<Range> parse_range(const std::string& s);
// "200" or "200:99,503:1".
std::optional<std::vector<StatusWeight>> parse_statuses(const std::string& s);

}  // namespace lg::bench
