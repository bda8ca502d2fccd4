// Istio's MeshConfig as far as access logs go: read from the ConfigMap
// istio-system/istio (key `mesh`, YAML) the way istiod reads it
// (pkg/config/mesh ApplyMeshConfig over DefaultMeshConfig), and access log
// providers resolved the way istiod builds their logs (telemetryAccessLog and
// FileAccessLogFromMeshConfig in pilot/pkg/model/telemetry_logging.go).
// ctrl/validate reports what is wrong with it; ctrl/compile writes the same
// resolution into the snapshot, so what validates is what runs.
#pragma once

#include "ctrl/crd/resource.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lg::ctrl {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kMeshConfigNamespace = "istio-system";
inline constexpr std::string_view kMeshConfigName = "istio";
inline constexpr std::string_view kMeshConfigKey = "mesh";

struct ExtensionProvider {
  std::string name;
  std::string kind;  // the provider field set: "envoyFileAccessLog", "envoyOtelAls", "prometheus", ... ("" none)
  // envoyFileAccessLog only.
  std::string path;  // "" = /dev/stdout
  enum class LogFormat { unset, empty, text, labels } log_format = LogFormat::unset;  // empty: `logFormat: {}`
  std::string text;
  KeyValues labels;  // sorted by key: a YAML map keeps no order
  bool omit_empty_values = false;
  std::string format_error;  // "" or why linegate cannot write logFormat
};

struct MeshConfig {
  std::string access_log_file;
  bool access_log_json = false;  // accessLogEncoding JSON (default TEXT)
  std::string access_log_format;
  KeyValues access_log_labels;  // JSON: accessLogFormat's object, sorted by key (empty: Istio's default)
  std::string format_error;     // "" or why linegate cannot write accessLogFormat
  std::vector<std::string> default_access_logging;  // defaultProviders.accessLogging
  // istiod's built-in providers (prometheus, stackdriver, envoy), each
  // replaced by a user provider of the same name, then the user's others.
  std::vector<ExtensionProvider> extension_providers;
};

// A problem with the ConfigMap's MeshConfig; `path` is a field path inside
// it ("accessLogEncoding", "extensionProviders[1].envoyFileAccessLog.path").
struct MeshConfigIssue {
  bool error = true;  // false: a warning
  std::string path;
  std::string message;
};

// True for the ConfigMap istio-system/istio.
bool is_mesh_config(const Resource& r);

// istiod's DefaultMeshConfig overlaid with the ConfigMap's `mesh` (the
// default alone when `config_map` is null or its mesh is unreadable).
// Formats linegate cannot write are kept, with their format_error set.
MeshConfig read_mesh_config(const Resource* config_map, std::vector<MeshConfigIssue>* issues = nullptr);

struct FileAccessLog {
  std::string path;
  bool json = false;
  std::string text_format;  // TEXT: ends in "\n"
  KeyValues json_labels;    // JSON: in the order written
};

enum class ProviderUse {
  file,        // an envoyFileAccessLog linegate writes: `log`
  bad_format,  // an envoyFileAccessLog whose format linegate cannot write: `error`
  remote,      // envoyHttpAls, envoyTcpAls, envoyOtelAls: istiod sends logs there, linegate cannot
  no_log,      // a provider that writes no access log (prometheus, zipkin, ...), in Istio as in linegate
  undefined,   // no provider by that name
};

struct ResolvedProvider {
  ProviderUse use = ProviderUse::undefined;
  const ExtensionProvider* provider = nullptr;  // null when undefined or for the mesh-wide log
  FileAccessLog log;
  std::string error;
};

// What a provider named by Telemetry or defaultProviders.accessLogging logs
// (istiod's fetchProvider matches names case-insensitively).
ResolvedProvider resolve_access_log_provider(const MeshConfig& mesh, std::string_view name);

// The log accessLogFile writes to `path` (the format the built-in `envoy`
// provider uses too): accessLogEncoding and accessLogFormat, else Istio's default.
ResolvedProvider mesh_access_log(const MeshConfig& mesh, std::string path);

}  // namespace lg::ctrl
