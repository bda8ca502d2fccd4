// The headers workers copy for the access logs: every header the formats
// name, and, when a log has a filter, those CEL's request attributes read.
#include <algorithm>

#include "dataplane/config/build_parts.h"
#include "l7/access_log/format.h"

namespace lg::config {
namespace pb = linegate::snapshot::v1;

namespace {

void add(std::vector<std::string>& to, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (std::find(to.begin(), to.end(), n) == to.end()) to.push_back(n);
}

void add_format(RuntimeTables::AccessLogCapture& c, std::string_view text) {
  const access_log::ParseResult p = access_log::parse(text);
  add(c.request_headers, p.format.request_headers);  // a format that fails has none; the writer reports it
  add(c.response_headers, p.format.response_headers);
}

}  // namespace

void build_access_log_capture(const Snapshot& s, RuntimeTables& t) {
  RuntimeTables::AccessLogCapture& c = t.access_log;
  for (const pb::AccessLog& l : s.telemetry().access_logs()) {
    c.on = true;
    add_format(c, l.text_format());
    for (const pb::KeyValue& kv : l.json_labels()) add_format(c, kv.value());
    if (!l.filter().empty())
      add(c.request_headers, {":method", ":path", ":authority", ":scheme", "user-agent", "x-request-id"});
  }
}

}  // namespace lg::config
