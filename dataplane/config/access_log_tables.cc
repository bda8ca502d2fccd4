// The headers workers copy for the access logs: every header the formats
// name, and, when a log has a filter, those CEL's request attributes read.
#include <algorithm>

#include "dataplane/config/build_parts.h"
#include "l7/access_log/format.h"

namespace lg::config {
namespace pb = linegate::snapshot::v1;

namespace {

using Capture = RuntimeTables::AccessLogCapture;

Capture::Source source_of(const std::string& name) {
  if (name == ":method") return Capture::Source::method;
  if (name == ":path") return Capture::Source::target;
  if (name == ":authority" || name == "host") return Capture::Source::authority;
  if (name == ":scheme") return Capture::Source::scheme;
  if (name == "x-forwarded-for") return Capture::Source::forwarded_for;
  return Capture::Source::header;
}

void add_request(Capture& c, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (std::none_of(c.request_headers.begin(), c.request_headers.end(), [&](const auto& h) { return h.name == n; }))
      c.request_headers.push_back({n, source_of(n)});
}

void add_format(Capture& c, std::string_view text) {
  const access_log::ParseResult p = access_log::parse(text);  // a format that fails has none; the writer reports it
  add_request(c, p.format.request_headers);
  for (const std::string& n : p.format.response_headers)
    if (std::find(c.response_headers.begin(), c.response_headers.end(), n) == c.response_headers.end())
      c.response_headers.push_back(n);
}

}  // namespace

void build_access_log_capture(const Snapshot& s, RuntimeTables& t) {
  Capture& c = t.access_log;
  for (const pb::AccessLog& l : s.telemetry().access_logs()) {
    c.on = true;
    add_format(c, l.text_format());
    for (const pb::KeyValue& kv : l.json_labels()) add_format(c, kv.value());
    if (!l.filter().empty())
      add_request(c, {":method", ":path", ":authority", ":scheme", "user-agent", "x-request-id"});
  }
}

}  // namespace lg::config
