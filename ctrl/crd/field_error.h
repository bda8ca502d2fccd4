// Validation errors worded like Kubernetes' field.Error
// (k8s.io/apimachinery/pkg/util/validation/field/errors.go): a field path
// plus "Required value", "Invalid value: <value>: <detail>", "Unsupported
// value: ...", so linegate's messages read like the API server's.
#pragma once

#include "ctrl/crd/resource.h"

#include <string>
#include <vector>

namespace lg::ctrl::fielderr {

enum class Type { required, invalid, type_invalid, not_supported, duplicate, too_long, too_many, forbidden, unknown_field };

struct Error {
  Type type = Type::invalid;
  std::string path;
  std::string message;  // the whole body, e.g. `Invalid value: "x": must be ...`
  bool warning = false;  // a check linegate could not make (reported, not failed)
};

using List = std::vector<Error>;

// Go's %q for a string (what field.Error prints for string values).
std::string quote(const std::string& s);
// Go's %v for a float64 (integral values print without exponent below 1e21).
std::string go_float(double d);
// The OpenAPI type name of a JSON value: object, array, string, integer,
// number, boolean or null.
std::string type_name(const Json& v);
// "<path> in body must be of type <want>: \"<actual>\"" as a type error.
Error wrong_type(const std::string& path, const std::string& want, const Json& actual);
// How field.Error prints a bad value: strings quoted, numbers and bools bare,
// objects and lists as compact JSON.
std::string value(const Json& v);

Error required(std::string path, const std::string& detail = "");
Error invalid(std::string path, const std::string& shown_value, const std::string& detail);
Error invalid(std::string path, const Json& bad, const std::string& detail);
Error type_invalid(std::string path, const std::string& shown_value, const std::string& detail);
Error not_supported(std::string path, const Json& bad, const std::vector<std::string>& supported);
Error duplicate(std::string path, const Json& bad);
Error too_long(std::string path, long long max);
Error too_many(std::string path, long long actual, long long max);
Error forbidden(std::string path, const std::string& detail);
Error unknown_field(std::string path);

// OpenAPI v3 / CEL checks a failure of which keeps the API server from
// evaluating CEL rules (apiextensions-apiserver hasBlockingErr).
bool is_blocking(const Error& e);

void emit(const List& errors, const Resource& r, Diagnostics& diags);

}  // namespace lg::ctrl::fielderr
