// Istio's CRD schemas, read at run time from the CustomResourceDefinitions of
// the user's Istio installation (schema_source.cc) into a tree the validator
// walks. Internal to ctrl/crd.
#pragma once

#include "ctrl/cel/cel.h"
#include "ctrl/crd/field_error.h"
#include "ctrl/crd/resource.h"

#include <re2/re2.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lg::ctrl::crdschema {

// One x-kubernetes-validations entry.
struct Rule {
  std::string rule;
  std::string message;
  std::string message_expression;
  std::string field_path;
  std::unique_ptr<cel::Program> program;  // null when compile_error is set
  std::string compile_error;
};

// A structural schema node (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema).
struct Node {
  std::string type;  // "", "object", "array", "string", "integer", "number", "boolean"
  bool nullable = false;
  bool int_or_string = false;
  bool preserve_unknown = false;
  std::string format;
  std::vector<Json> enum_values;
  std::vector<std::string> required;
  std::optional<long long> min_length, max_length, min_items, max_items, min_properties, max_properties;
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::string pattern;
  std::unique_ptr<RE2> pattern_re;
  std::map<std::string, std::unique_ptr<Node>> properties;
  std::unique_ptr<Node> additional_properties;  // map values
  std::unique_ptr<Node> items;
  std::vector<std::unique_ptr<Node>> all_of, one_of, any_of;
  std::unique_ptr<Node> not_;
  std::string list_type;  // "", "atomic", "set", "map"
  std::vector<std::string> list_map_keys;
  std::vector<Rule> rules;
};

struct Version {
  std::string name;
  bool served = true;
  bool storage = false;
  std::unique_ptr<Node> root;  // openAPIV3Schema (status removed)
};

struct Crd {
  std::string group;
  std::string kind;
  bool namespaced = true;
  std::vector<Version> versions;

  const Version* version(const std::string& name) const;
  const Version* storage_version() const;
};

// One set of loaded CRDs. Immutable once published, so readers need no lock:
// they hold the shared_ptr from current_schemas() while they use its nodes,
// and a concurrent load_crd_schemas() swaps in a new set without freeing it.
struct SchemaSet {
  std::vector<Crd> crds;  // in the order read; a later duplicate group/kind replaced the earlier one
  std::string source;     // crd_schema_source(): "12 CRDs from /path" or "none"
  std::string error;      // why the configured source could not be read; "" when it was (or when none was set)

  const Crd* find_crd(const std::string& group, const std::string& kind) const;
  // The schema root for group/kind/version; null when there is none or the version is not served.
  const Node* find_schema(const std::string& group, const std::string& kind, const std::string& version) const;
};

// The set in use. On the first call when nobody called load_crd_schemas(),
// loads the default source (schema.h). Thread-safe.
std::shared_ptr<const SchemaSet> current_schemas();

// Reads every apiextensions.k8s.io/v1 CustomResourceDefinition in `paths`
// (files, directories, multi-document streams, `kind: List`) into `out`;
// false with `error` set when a path cannot be read, a CRD is malformed or no
// CRD is found. Other documents are ignored.
bool read_crds(const std::vector<std::string>& paths, SchemaSet& out, std::string& error);

// Builds a node from an OpenAPI v3 schema in JSON (throws std::runtime_error
// on a pattern RE2 cannot compile). Used for the loaded CRDs and for the
// hand-written schemas of the Kubernetes kinds.
std::unique_ptr<Node> build_node(const Json& schema);

// The three passes of openapi.cc. `path` names `v` ("spec").
void validate_openapi(const Node& s, const Json& v, const std::string& path, fielderr::List& errs);
void validate_list_types(const Node& s, const Json& v, const std::string& path, fielderr::List& errs);
void validate_rules(const Node& s, const Json& v, const std::string& path, fielderr::List& errs);
bool has_rules(const Node& s);

}  // namespace lg::ctrl::crdschema
