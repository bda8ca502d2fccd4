// What one HTTP request leaves for the access log: filled by the worker that
// served it (numbers and the strings the configured formats name, copied
// while the request's buffers are alive), rendered later by the log writer
// thread. Plain data of fixed size, so workers hand records over through
// rings without allocating.
#pragma once

#include <cstdint>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace lg::access_log {

struct Address {
  uint8_t family;  // 4, 6; 0 = none
  uint16_t port;
  uint8_t ip[16];
};

// Envoy's response flags (a namespace of their own, so that code that sets
// them can take the names in).
namespace flags {
enum ResponseFlag : uint16_t {
  kFlagNR = 1 << 0,    // no route
  kFlagUH = 1 << 1,    // no healthy upstream
  kFlagUO = 1 << 2,    // upstream overflow
  kFlagUT = 1 << 3,    // upstream request timeout
  kFlagUF = 1 << 4,    // upstream connection failure
  kFlagUR = 1 << 5,    // upstream reset
  kFlagFI = 1 << 6,    // fault injected: abort
  kFlagDI = 1 << 7,    // fault injected: delay
  kFlagNC = 1 << 8,    // no cluster
  kFlagDC = 1 << 9,    // downstream connection termination
  kFlagUPE = 1 << 10,  // upstream protocol error
};
}  // namespace flags
using namespace flags;

// Why the response code is what it is (Envoy's RESPONSE_CODE_DETAILS).
enum class Details : uint8_t {
  none,               // no response (the client went away first)
  via_upstream,
  local,              // answered by the gateway: the response flags say why (none: the route asked for it)
  codec_error,        // the request head did not parse
  payload_too_large,
};

// Strings a record carries: fixed fields, and request/response headers by name.
enum class Field : uint8_t {
  requested_server_name,
  peer_uri_san,
  local_uri_san,
  route_name,
  upstream_cluster,
  request_header,   // name stored with the value
  response_header,
};

struct Record {
  static constexpr unsigned kMaxStrings = 48;
  static constexpr unsigned kTextBytes = 3072;

  uint64_t start_unix_ns;
  uint64_t connection_id;
  // Microseconds from the request head; UINT64_MAX = did not happen.
  uint64_t duration_us;            // to the end of the response (or of the request)
  uint64_t response_start_us;      // first response byte sent
  uint64_t upstream_service_us;    // request sent upstream → response head received
  uint64_t bytes_received;         // request body bytes
  uint64_t bytes_sent;             // response body bytes
  // The worker's clock (microseconds) while the request runs.
  uint64_t begin_us, sent_us;
  Address downstream_local, downstream_remote, upstream_host, upstream_local;
  uint16_t response_code;          // 0 = none
  uint16_t flags;                  // ResponseFlag bits
  uint16_t tls_version;            // SSL_version(): 0x0303, 0x0304; 0 = plain text
  Details details;
  uint8_t http_minor;              // HTTP/1.x; 0xff = no request line parsed
  uint8_t attempts;                // upstream tries
  uint8_t string_count;
  uint16_t text_used;
  bool truncated;                  // a string did not fit (cut short or left out)
  bool mtls;                       // the client presented a certificate the gateway verified
  struct String {
    Field field;
    uint8_t name_len;  // header fields: the lower-case name precedes the value
    uint16_t offset;
    uint16_t length;   // the value's
  } strings[kMaxStrings];
  char text[kTextBytes];

  void reset() {
    std::memset(this, 0, offsetof(Record, strings));
    duration_us = response_start_us = upstream_service_us = UINT64_MAX;
    http_minor = 0xff;
  }

  // Adds a string (a header's value under its lower-case name); cut short
  // or left out, and marked truncated, when the record is full.
  void add(Field f, std::string_view value, std::string_view name = {}) {
    if (string_count == kMaxStrings || name.size() > 255 || text_used + name.size() >= kTextBytes) {
      truncated = true;
      return;
    }
    size_t room = kTextBytes - text_used - name.size();
    if (value.size() > room) {
      value = value.substr(0, room);
      truncated = true;
    }
    String& s = strings[string_count++];
    s.field = f;
    s.name_len = static_cast<uint8_t>(name.size());
    s.offset = text_used;
    s.length = static_cast<uint16_t>(value.size());
    if (!name.empty()) std::memcpy(text + text_used, name.data(), name.size());
    if (!value.empty()) std::memcpy(text + text_used + name.size(), value.data(), value.size());
    text_used = static_cast<uint16_t>(text_used + name.size() + value.size());
  }

  // The first string of field f (of header `name`); false when absent.
  bool find(Field f, std::string_view name, std::string_view* out) const {
    for (unsigned i = 0; i < string_count; ++i) {
      const String& s = strings[i];
      if (s.field != f) continue;
      if (std::string_view(text + s.offset, s.name_len) != name) continue;
      *out = std::string_view(text + s.offset + s.name_len, s.length);
      return true;
    }
    return false;
  }
};

}  // namespace lg::access_log
