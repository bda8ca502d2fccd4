// Envoy's /clusters admin page: every cluster of the tables serving now with
// its endpoints, their weights, health flags and connection counts (summed
// over lcores). Text (one "cluster::host::stat::value" line each, as Envoy
// prints) or JSON.
#pragma once

#include <string>

#include "dataplane/config/runtime_tables.h"

namespace lg::upstream {

std::string render_clusters(const config::RuntimeTables* t, bool json);

}  // namespace lg::upstream
