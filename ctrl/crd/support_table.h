// Internal to ctrl/crd: a self-check of the field-support table in support.cc.
#pragma once

#include <string>
#include <vector>

namespace lg::ctrl {

// "Kind path" of every table entry that names no field of the kind's schema
// (a typo, or a field a newer Istio release removed). Empty when the table is sound.
std::vector<std::string> support_entries_without_field();

}  // namespace lg::ctrl
