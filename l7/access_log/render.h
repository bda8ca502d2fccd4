// Renders a Record with a Format: Envoy's text lines ("-" for a value that
// is absent) and JSON objects (a label holding a single command keeps its
// type: numbers stay numbers, absent values are null).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "l7/access_log/format.h"
#include "l7/access_log/record.h"

namespace lg::access_log {

// Facts that belong to the process rather than the request.
struct Process {
  std::string_view hostname;
};

using JsonLabels = std::vector<std::pair<std::string, Format>>;

// Append one rendered entry (the text format carries its own "\n"; a JSON
// object is followed by "\n").
void render_text(const Format& f, const Record& r, const Process& p, std::string& out);
void render_json(const JsonLabels& labels, const Record& r, const Process& p, std::string& out);

// Envoy's short response flag names, comma separated; "" for none.
std::string response_flags(uint16_t flags);
// Envoy's RESPONSE_CODE_DETAILS for what a record says happened.
std::string_view response_code_details(const Record& r);

}  // namespace lg::access_log
