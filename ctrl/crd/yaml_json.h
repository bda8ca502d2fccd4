// YAML node → JSON value, typed the way kubectl's YAML-to-JSON step types
// scalars: YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
// Used by the loader for both manifests and CRD files, so Istio's CRD
// file and user manifests go through exactly the same conversion.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace lg::ctrl::yamljson {

struct Issue {
  int line = 0;  // 1-based, relative to the parsed text
  std::string message;
};

// Converts `node`; problems that do not stop the conversion (duplicate keys,
// a value that does not match its explicit !!int tag) are appended to
// `issues`. Throws std::runtime_error when the document cannot be converted
// at all: nesting deeper than 256 levels, or more than `max_nodes` values
// (aliases can expand a small text exponentially).
// `source` is the text `node` was parsed from, when known: it lets the
// conversion read flow sequences the way kubectl's parser (go-yaml) does
// where yaml-cpp differs (see convert_sequence in yaml_json.cc).
nlohmann::json convert(const YAML::Node& node, std::vector<Issue>& issues, size_t max_nodes = 2'000'000,
                       const std::string* source = nullptr);

// Types one scalar: `tag` is yaml-cpp's tag ("?" plain, "!" quoted or block,
// "tag:yaml.org,2002:str" for !!str, ...).
nlohmann::json scalar(const std::string& text, const std::string& tag, std::vector<Issue>& issues, int line);

}  // namespace lg::ctrl::yamljson
