#include "l7/access_log/format.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace lg::access_log {

namespace {

struct Known {
  std::string_view name;
  Command command;
};

// Envoy's command operators that linegate fills, by name.
constexpr Known kCommands[] = {
    {"START_TIME", Command::start_time},
    {"REQ", Command::req},
    {"RESP", Command::resp},
    {"PROTOCOL", Command::protocol},
    {"RESPONSE_CODE", Command::response_code},
    {"RESPONSE_FLAGS", Command::response_flags},
    {"RESPONSE_CODE_DETAILS", Command::response_code_details},
    {"CONNECTION_TERMINATION_DETAILS", Command::connection_termination_details},
    {"UPSTREAM_TRANSPORT_FAILURE_REASON", Command::upstream_transport_failure_reason},
    {"BYTES_RECEIVED", Command::bytes_received},
    {"BYTES_SENT", Command::bytes_sent},
    {"DURATION", Command::duration},
    {"RESPONSE_DURATION", Command::response_duration},
    {"UPSTREAM_HOST", Command::upstream_host},
    {"UPSTREAM_CLUSTER", Command::upstream_cluster},
    {"UPSTREAM_CLUSTER_RAW", Command::upstream_cluster_raw},
    {"UPSTREAM_LOCAL_ADDRESS", Command::upstream_local_address},
    {"UPSTREAM_REQUEST_ATTEMPT_COUNT", Command::upstream_request_attempt_count},
    {"DOWNSTREAM_LOCAL_ADDRESS", Command::downstream_local_address},
    {"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", Command::downstream_local_address_without_port},
    {"DOWNSTREAM_LOCAL_PORT", Command::downstream_local_port},
    {"DOWNSTREAM_REMOTE_ADDRESS", Command::downstream_remote_address},
    {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Command::downstream_remote_address_without_port},
    {"DOWNSTREAM_REMOTE_PORT", Command::downstream_remote_port},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", Command::downstream_direct_remote_address},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", Command::downstream_direct_remote_address_without_port},
    {"REQUESTED_SERVER_NAME", Command::requested_server_name},
    {"ROUTE_NAME", Command::route_name},
    {"DOWNSTREAM_PEER_URI_SAN", Command::downstream_peer_uri_san},
    {"DOWNSTREAM_LOCAL_URI_SAN", Command::downstream_local_uri_san},
    {"DOWNSTREAM_TLS_VERSION", Command::downstream_tls_version},
    {"HOSTNAME", Command::hostname},
    {"CONNECTION_ID", Command::connection_id},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool name_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

void add_once(std::vector<std::string>& names, const std::string& name) {
  if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

// Joins message parts by appending (GCC 12 warns falsely on chains of
// string operator+ at -O3).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

// One command operator starting after its '%'; `end` is the index of its
// closing '%'. Envoy's grammar: NAME, NAME(ARGS), NAME(ARGS):N.
std::string command(std::string_view text, size_t start, size_t& end, Token& t) {
  size_t i = start;
  while (i < text.size() && name_char(text[i])) ++i;
  const std::string_view name = text.substr(start, i - start);
  if (name.empty()) return cat("'%' at ", std::to_string(start - 1), " does not start a command (write %% for '%')");
  const Known* k = std::find_if(std::begin(kCommands), std::end(kCommands), [&](const Known& c) { return c.name == name; });
  if (k == std::end(kCommands)) return cat("%", name, "% is not a command linegate writes (see the supported list)");
  t.command = k->command;
  std::string_view args;
  bool has_args = false;
  if (i < text.size() && text[i] == '(') {
    const size_t close = text.find(')', i);
    if (close == std::string_view::npos) return cat("%", name, "(: no closing ')'");
    args = text.substr(i + 1, close - i - 1);
    has_args = true;
    i = close + 1;
  }
  if (i < text.size() && text[i] == ':') {
    size_t j = i + 1;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i + 1 || std::from_chars(text.data() + i + 1, text.data() + j, t.max_length).ec != std::errc())
      return cat("%", name, "%: ':' must be followed by a length");
    i = j;
  }
  if (i >= text.size() || text[i] != '%') return cat("%", name, ": no closing '%'");
  end = i;
  const bool header = t.command == Command::req || t.command == Command::resp;
  if (header) {
    if (!has_args || args.empty()) return cat("%", name, "% needs a header name: %", name, "(X)%");
    const size_t q = args.find('?');
    t.header = lower(args.substr(0, q));
    if (q != std::string_view::npos) t.alternate = lower(args.substr(q + 1));
    if (t.header.empty() || (q != std::string_view::npos && t.alternate.empty()))
      return cat("%", name, "(", args, ")%: empty header name");
  } else if (t.command == Command::start_time) {
    t.text = std::string(args);
  } else if (has_args) {
    return cat("%", name, "% takes no arguments");
  }
  if (t.max_length != 0 && !header) return cat("%", name, "%: only %REQ(...)% and %RESP(...)% take a length");
  return {};
}

}  // namespace

ParseResult parse(std::string_view text) {
  ParseResult r;
  std::string literal;
  auto flush = [&] {
    if (literal.empty()) return;
    r.format.tokens.push_back({Command::literal, std::move(literal), {}, {}, 0});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      literal += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '%') {
      literal += '%';
      ++i;
      continue;
    }
    Token t;
    size_t end = 0;
    if (std::string err = command(text, i + 1, end, t); !err.empty()) {
      r.error = std::move(err);
      r.format = {};
      return r;
    }
    flush();
    if (t.command == Command::req) {
      add_once(r.format.request_headers, t.header);
      add_once(r.format.request_headers, t.alternate);
    } else if (t.command == Command::resp) {
      add_once(r.format.response_headers, t.header);
      add_once(r.format.response_headers, t.alternate);
    }
    r.format.tokens.push_back(std::move(t));
    i = end;
  }
  flush();
  return r;
}

const std::vector<std::string_view>& supported_commands() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const Known& k : kCommands) v.push_back(k.name);
    return v;
  }();
  return names;
}

const std::string_view kIstioTextFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
    "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW% "
    "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
    "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

const std::vector<std::pair<std::string_view, std::string_view>>& istio_json_labels() {
  static const std::vector<std::pair<std::string_view, std::string_view>> labels = {
      {"authority", "%REQ(:AUTHORITY)%"},
      {"bytes_received", "%BYTES_RECEIVED%"},
      {"bytes_sent", "%BYTES_SENT%"},
      {"connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%"},
      {"downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"},
      {"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"},
      {"duration", "%DURATION%"},
      {"method", "%REQ(:METHOD)%"},
      {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
      {"protocol", "%PROTOCOL%"},
      {"request_id", "%REQ(X-REQUEST-ID)%"},
      {"requested_server_name", "%REQUESTED_SERVER_NAME%"},
      {"response_code", "%RESPONSE_CODE%"},
      {"response_code_details", "%RESPONSE_CODE_DETAILS%"},
      {"response_flags", "%RESPONSE_FLAGS%"},
      {"route_name", "%ROUTE_NAME%"},
      {"start_time", "%START_TIME%"},
      {"upstream_cluster", "%UPSTREAM_CLUSTER_RAW%"},
      {"upstream_host", "%UPSTREAM_HOST%"},
      {"upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"},
      {"upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
      {"upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"},
      {"user_agent", "%REQ(USER-AGENT)%"},
      {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
  };
  return labels;
}

}  // namespace lg::access_log
