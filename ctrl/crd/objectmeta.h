// metadata checks the API server makes on every object
// (k8s.io/apimachinery/pkg/api/validation/objectmeta.go): name and namespace
// syntax, label and annotation keys and values, and no unknown fields.
#pragma once

#include "ctrl/crd/field_error.h"

#include <string>

namespace lg::ctrl {

enum class NameRule { dns1123_subdomain, dns1035_label };

void validate_object_meta(const Json& obj, NameRule name_rule, fielderr::List& errs);

}  // namespace lg::ctrl
