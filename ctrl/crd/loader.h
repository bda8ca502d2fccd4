// Reads Kubernetes-style YAML: files, directories (*.yaml, *.yml, *.json,
// recursively, in sorted order), multi-document streams and `kind: List`.
// YAML scalars are typed as YAML 1.2's core schema does (unquoted 80 is an
// int, "80" a string, 1.5 a double, true a bool, ~ null), the way kubectl
// turns YAML into JSON before the API server sees it.
#pragma once

#include "ctrl/crd/resource.h"

#include <string>
#include <vector>

namespace lg::ctrl {

// Every document found, in file order. Problems (unreadable file, YAML syntax
// error, a document without apiVersion/kind/metadata.name) go to `diags` and
// that document is skipped; the rest still load.
std::vector<Resource> load_paths(const std::vector<std::string>& paths, Diagnostics& diags);
std::vector<Resource> load_text(const std::string& yaml_text, const std::string& origin, Diagnostics& diags);

// Converts one YAML document to JSON with the typing rules above (exposed for
// tests); a discarded value (is_discarded()) when the text cannot be converted.
Json yaml_to_json(const std::string& yaml_text);
// The same for YAML held inside a resource (a ConfigMap value): `error` says
// why when the result is discarded.
Json yaml_to_json(const std::string& yaml_text, std::string& error);

}  // namespace lg::ctrl
