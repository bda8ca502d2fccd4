#include "l7/access_log/render.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace lg::access_log {

namespace {

// One command's value: absent, a number, or a string.
struct Value {
  enum class Kind : uint8_t { none, number, string } kind = Kind::none;
  uint64_t number = 0;
  std::string text;
};

Value none() { return {}; }
Value num(uint64_t n) { return {Value::Kind::number, n, {}}; }
Value str(std::string s) { return {Value::Kind::string, 0, std::move(s)}; }
Value str_or_none(std::string_view s) { return s.empty() ? none() : str(std::string(s)); }

// Envoy's order of short names (ALL_RESPONSE_STRING_FLAGS).
constexpr std::pair<uint16_t, std::string_view> kFlagNames[] = {
    {kFlagUH, "UH"}, {kFlagUF, "UF"}, {kFlagUO, "UO"}, {kFlagNR, "NR"}, {kFlagNC, "NC"}, {kFlagDC, "DC"},
    {kFlagUT, "UT"}, {kFlagUR, "UR"}, {kFlagDI, "DI"}, {kFlagFI, "FI"}, {kFlagUPE, "UPE"},
};

std::string address(const Address& a, bool with_port) {
  char ip[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.ip, ip, sizeof ip);
  std::string out;
  if (with_port && a.family == 6) out += '[';
  out += ip;
  if (!with_port) return out;
  if (a.family == 6) out += ']';
  out += ':';
  out += std::to_string(a.port);
  return out;
}

Value addr(const Address& a, bool with_port) { return a.family == 0 ? none() : str(address(a, with_port)); }

Value ms(uint64_t us) { return us == UINT64_MAX ? none() : num(us / 1000); }

// Envoy's START_TIME: strftime plus %s (seconds), %f/%Nf (fraction of a
// second, N digits, 9 without N); its default is "%Y-%m-%dT%H:%M:%S.%3fZ".
std::string start_time(uint64_t unix_ns, std::string_view fmt) {
  if (fmt.empty()) fmt = "%Y-%m-%dT%H:%M:%S.%3fZ";
  const time_t secs = static_cast<time_t>(unix_ns / 1000000000);
  const uint64_t frac = unix_ns % 1000000000;
  tm t{};
  gmtime_r(&secs, &t);
  std::string out;
  std::string chunk;
  auto flush = [&] {
    if (chunk.empty()) return;
    char buf[256];
    const size_t n = std::strftime(buf, sizeof buf, chunk.c_str(), &t);
    out.append(buf, n);
    chunk.clear();
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '%' && i + 1 < fmt.size()) {
      unsigned digits = 0;
      size_t j = i + 1;
      if (fmt[j] >= '1' && fmt[j] <= '9' && j + 1 < fmt.size() && fmt[j + 1] == 'f') {
        digits = static_cast<unsigned>(fmt[j] - '0');
        ++j;
      }
      if (fmt[j] == 'f' || fmt[j] == 's') {
        flush();
        if (fmt[j] == 's') {
          out += std::to_string(secs);
        } else {
          char d[10];
          std::snprintf(d, sizeof d, "%09llu", static_cast<unsigned long long>(frac));
          out.append(d, digits == 0 ? 9 : digits);
        }
        i = j;
        continue;
      }
      chunk += fmt[i];
      chunk += fmt[i + 1];
      ++i;
      continue;
    }
    chunk += fmt[i];
  }
  flush();
  return out;
}

Value header(const Record& r, Field f, const Token& t) {
  std::string_view v;
  if (r.find(f, t.header, &v) || (!t.alternate.empty() && r.find(f, t.alternate, &v))) return str(std::string(v));
  // Envoy adds x-envoy-upstream-service-time to responses; linegate keeps it for the log.
  if (f == Field::response_header && (t.header == "x-envoy-upstream-service-time" ||
                                      t.alternate == "x-envoy-upstream-service-time"))
    return r.upstream_service_us == UINT64_MAX ? none() : str(std::to_string(r.upstream_service_us / 1000));
  return none();
}

Value field(const Record& r, Field f) {
  std::string_view v;
  return r.find(f, {}, &v) ? str_or_none(v) : none();
}

Value evaluate(const Token& t, const Record& r, const Process& p) {
  switch (t.command) {
    case Command::literal: return str(t.text);
    case Command::start_time: return str(start_time(r.start_unix_ns, t.text));
    case Command::req: return header(r, Field::request_header, t);
    case Command::resp: return header(r, Field::response_header, t);
    case Command::protocol:
      return r.http_minor == 0xff ? none() : str(r.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
    case Command::response_code: return num(r.response_code);
    case Command::response_flags: return str_or_none(response_flags(r.flags));
    case Command::response_code_details: return str_or_none(response_code_details(r));
    case Command::connection_termination_details:
    case Command::upstream_transport_failure_reason: return none();
    case Command::bytes_received: return num(r.bytes_received);
    case Command::bytes_sent: return num(r.bytes_sent);
    case Command::duration: return ms(r.duration_us);
    case Command::response_duration: return ms(r.response_start_us);
    case Command::upstream_host: return addr(r.upstream_host, true);
    case Command::upstream_cluster:
    case Command::upstream_cluster_raw: return field(r, Field::upstream_cluster);
    case Command::upstream_local_address: return addr(r.upstream_local, true);
    case Command::upstream_request_attempt_count: return num(r.attempts);
    case Command::downstream_local_address: return addr(r.downstream_local, true);
    case Command::downstream_local_address_without_port: return addr(r.downstream_local, false);
    case Command::downstream_local_port:
      return r.downstream_local.family == 0 ? none() : num(r.downstream_local.port);
    case Command::downstream_remote_address:
    case Command::downstream_direct_remote_address: return addr(r.downstream_remote, true);
    case Command::downstream_remote_address_without_port:
    case Command::downstream_direct_remote_address_without_port: return addr(r.downstream_remote, false);
    case Command::downstream_remote_port:
      return r.downstream_remote.family == 0 ? none() : num(r.downstream_remote.port);
    case Command::requested_server_name: return field(r, Field::requested_server_name);
    case Command::route_name: return field(r, Field::route_name);
    case Command::downstream_peer_uri_san: return field(r, Field::peer_uri_san);
    case Command::downstream_local_uri_san: return field(r, Field::local_uri_san);
    case Command::downstream_tls_version:
      return r.tls_version == 0x0304 ? str("TLSv1.3") : r.tls_version == 0x0303 ? str("TLSv1.2") : none();
    case Command::hostname: return str_or_none(p.hostname);
    case Command::connection_id: return num(r.connection_id);
  }
  return none();
}

Value truncated(Value v, uint32_t max_length) {
  if (max_length != 0 && v.kind == Value::Kind::string && v.text.size() > max_length) v.text.resize(max_length);
  return v;
}

void append_text(const Value& v, std::string& out) {
  switch (v.kind) {
    case Value::Kind::none: out += '-'; return;
    case Value::Kind::number: out += std::to_string(v.number); return;
    case Value::Kind::string: out += v.text; return;
  }
}

// JSON string escaping is nlohmann's; bytes that are not UTF-8 become U+FFFD
// (a header may carry anything; the line must stay valid JSON).
void append_json_string(std::string_view s, std::string& out) {
  out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string response_flags(uint16_t flags) {
  std::string out;
  for (const auto& [bit, name] : kFlagNames) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string_view response_code_details(const Record& r) {
  switch (r.details) {
    case Details::none: return (r.flags & kFlagDC) ? "downstream_remote_disconnect" : "";
    case Details::via_upstream: return "via_upstream";
    case Details::codec_error: return "http1.codec_error";
    case Details::payload_too_large: return "request_payload_too_large";
    case Details::local: break;
  }
  const uint16_t f = r.flags;
  if (f & kFlagNR) return "route_not_found";
  if (f & kFlagNC) return "cluster_not_found";
  if (f & kFlagUH) return "no_healthy_upstream";
  if (f & kFlagFI) return "fault_filter_abort";
  if (f & kFlagUT) return "upstream_response_timeout";
  if (f & kFlagUO) return "upstream_reset_before_response_started{overflow}";
  if (f & kFlagUF) return "upstream_reset_before_response_started{connection_failure}";
  if (f & kFlagUPE) return "upstream_reset_before_response_started{protocol_error}";
  if (f & kFlagUR) return "upstream_reset_before_response_started{connection_termination}";
  return "direct_response";
}

void render_text(const Format& f, const Record& r, const Process& p, std::string& out) {
  for (const Token& t : f.tokens) append_text(truncated(evaluate(t, r, p), t.max_length), out);
}

void render_json(const JsonLabels& labels, const Record& r, const Process& p, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [key, format] : labels) {
    if (!first) out += ',';
    first = false;
    append_json_string(key, out);
    out += ':';
    if (format.tokens.size() == 1 && format.tokens[0].command != Command::literal) {
      const Value v = truncated(evaluate(format.tokens[0], r, p), format.tokens[0].max_length);
      switch (v.kind) {
        case Value::Kind::none: out += "null"; break;
        case Value::Kind::number: out += std::to_string(v.number); break;
        case Value::Kind::string: append_json_string(v.text, out); break;
      }
      continue;
    }
    std::string s;
    render_text(format, r, p, s);
    append_json_string(s, out);
  }
  out += "}\n";
}

}  // namespace lg::access_log
