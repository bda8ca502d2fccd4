// kubectl/istioctl-style plain tables: a header row, columns left-aligned and
// separated by three spaces, no borders.
#pragma once

#include <string>
#include <vector>

namespace lg::ctrl::cli {

// Widths count UTF-8 code points, not bytes.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// "4s", "3m12s", "2h5m", "3d4h"; "-" for 0 (never).
std::string format_age(long long then_unix_ms, long long now_unix_ms);

}  // namespace lg::ctrl::cli
