// The unit the control plane works on: one Kubernetes-style document (an
// Istio CRD or a Kubernetes Service/Endpoints/EndpointSlice/Secret), kept as
// JSON so schema checks, CEL rules and the compiler all read the same tree.
// Diagnostics name the document the way `istioctl analyze` does.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lg::ctrl {

using Json = nlohmann::json;

// Where a document came from: file (or "<apply>" / "<stdin>") and its
// 1-based position among the file's documents (items of a `kind: List`
// count as separate documents: "doc 3 item 2" is rendered as doc "3.2").
struct Source {
  std::string file;
  std::string doc;  // "1", "2", "3.2"
  int line = 0;     // first line of the document, 1-based; 0 unknown
};

struct Resource {
  Source src;
  std::string api_version;  // "networking.istio.io/v1"
  std::string group;        // "networking.istio.io"; "" for core Kubernetes kinds
  std::string version;      // "v1"
  std::string kind;         // "VirtualService"
  std::string ns;           // metadata.namespace, "default" when absent
  std::string name;         // metadata.name
  Json obj;                 // the whole document (apiVersion, kind, metadata, spec, ...)

  // "VirtualService default/reviews"
  std::string ref() const;
  // metadata.labels as a flat map (empty when absent)
  std::vector<std::pair<std::string, std::string>> labels() const;
};

enum class Severity { error, warning, info };

struct Diagnostic {
  Severity severity = Severity::error;
  Source src;
  std::string kind, ns, name;  // empty for problems that are not about one resource
  std::string path;            // field path: "spec.http[1].route"; empty for the whole document
  std::string message;         // "weights sum to 90, expected 100"

  // Error [IST] file doc 2: VirtualService default/reviews: spec.http[1].route: weights sum to 90, expected 100
  // Rendered as: `Error: reviews.yaml (doc 2) VirtualService default/reviews: spec.http[1].route: ...`
  std::string format() const;
};

// Collects diagnostics in the order they are found.
class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void error(const Resource& r, std::string path, std::string message);
  void warning(const Resource& r, std::string path, std::string message);
  void info(const Resource& r, std::string path, std::string message);
  // Problems that are not about one parsed resource (unreadable file, bad YAML).
  void file_error(const Source& src, std::string message);

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
};

// "spec.http[1].route" helpers so paths are built the same way everywhere.
std::string path_field(const std::string& base, const std::string& field);
std::string path_index(const std::string& base, size_t index);
std::string path_key(const std::string& base, const std::string& key);  // spec.portLevelMtls[80] style for maps

}  // namespace lg::ctrl
