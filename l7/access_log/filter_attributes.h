// Envoy's attributes for a record, as the JSON object an access log
// filter's CEL expression reads (`response.code >= 400`,
// `connection.mtls && request.url_path.startsWith("/api")`).
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "l7/access_log/record.h"

namespace lg::access_log {

// request: method, path, url_path, host, scheme, useragent, id, protocol,
// size, headers (the ones the formats name, and the usual ones);
// response: code, code_details, flags, size, headers; connection: id, mtls,
// requested_server_name, tls_version, uri_san_peer_certificate,
// uri_san_local_certificate; source, destination, upstream: address, port;
// xds: cluster_name, route_name. Absent values are absent keys (`has()`).
nlohmann::json filter_attributes(const Record& r);

// The top-level names above, which a filter may use.
const std::vector<std::string>& filter_variables();

}  // namespace lg::access_log
