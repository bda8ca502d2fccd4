#include "ctrl/validate/mesh_config.h"

#include "ctrl/crd/loader.h"
#include "ctrl/validate/util.h"
#include "l7/access_log/format.h"

#include <algorithm>
#include <cctype>

namespace lg::ctrl {

namespace {

using validate::iequals;
using validate::quote;
using validate::safe_dump;

constexpr std::string_view kDevStdout = "/dev/stdout";
constexpr std::string_view kFileKind = "envoyFileAccessLog";
constexpr std::string_view kBuiltinFileProvider = "envoy";

// Envoy's own default, which a file access log without a format writes
// (istiod sends none for `logFormat: {}`).
constexpr std::string_view kEnvoyDefaultFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
    "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
    "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
    "\"%UPSTREAM_HOST%\"\n";

// The provider fields of MeshConfig.ExtensionProvider (istio.io/api
// mesh/v1alpha1/config.proto): those istiod sends access logs to, then the rest.
constexpr std::string_view kRemoteLogKinds[] = {"envoyHttpAls", "envoyTcpAls", "envoyOtelAls"};
constexpr std::string_view kOtherKinds[] = {"envoyExtAuthzHttp", "envoyExtAuthzGrpc", "zipkin",     "lightstep",
                                            "datadog",           "stackdriver",       "opencensus", "skywalking",
                                            "opentelemetry",     "prometheus",        "sds"};

bool one_of(std::string_view s, const auto& list) { return std::find(std::begin(list), std::end(list), s) != std::end(list); }

// protojson takes a field by its JSON name or its proto name: accessLogFile or access_log_file.
const Json* member(const Json& obj, std::string_view json_name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(json_name));
  if (it == obj.end()) {
    std::string proto_name;
    for (char c : json_name) {
      if (std::isupper(static_cast<unsigned char>(c))) proto_name += '_';
      proto_name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    it = obj.find(proto_name);
  }
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string with_newline(std::string_view format) {
  std::string out(format);
  if (out.empty() || out.back() != '\n') out += '\n';  // "Istio will insert a newline on all formats (if missing)"
  return out;
}

KeyValues istio_labels() {
  KeyValues out;
  for (const auto& [k, v] : access_log::istio_json_labels()) out.emplace_back(k, v);
  return out;
}

std::string commands_hint() {
  std::string out = "; the command operators linegate writes are ";
  const auto& names = access_log::supported_commands();
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + std::string(names[i]);
  return out;
}

// DefaultMeshConfig's extensionProviders.
std::vector<ExtensionProvider> builtin_providers() {
  std::vector<ExtensionProvider> out(3);
  out[0].name = out[0].kind = "prometheus";
  out[1].name = out[1].kind = "stackdriver";
  out[2].name = std::string(kBuiltinFileProvider);
  out[2].kind = std::string(kFileKind);
  out[2].path = std::string(kDevStdout);
  return out;
}

struct Reader {
  std::vector<MeshConfigIssue>* issues;

  void error(std::string path, std::string message) const {
    if (issues) issues->push_back({true, std::move(path), std::move(message)});
  }
  void warning(std::string path, std::string message) const {
    if (issues) issues->push_back({false, std::move(path), std::move(message)});
  }
  std::string string_field(const Json& obj, std::string_view name, const std::string& base) const {
    const Json* v = member(obj, name);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      error(path_field(base, std::string(name)), "must be a string, not " + safe_dump(*v));
      return {};
    }
    return v->get<std::string>();
  }
  // A map of label → format string (a google.protobuf.Struct in Istio's
  // API, whose other values linegate does not write): "" or the first problem.
  std::string label_map(const Json& obj, const std::string& path, KeyValues& out) const {
    if (!obj.is_object()) {
      error(path, "must be a map of label: format string, not " + safe_dump(obj));
      return "not a map";
    }
    std::string first;
    for (const auto& [k, v] : obj.items()) {  // sorted by key
      if (v.is_string()) {
        out.emplace_back(k, v.get<std::string>());
        continue;
      }
      error(path_key(path, k), "linegate writes labels whose value is a format string, not " + safe_dump(v));
      if (first.empty()) first = "label " + quote(k) + " is not a string";
    }
    return first;
  }
  // Why linegate cannot write `format` ("" when it can); reported at `path`.
  std::string check(const std::string& format, const std::string& path, const std::string& who) const {
    const access_log::ParseResult r = access_log::parse(format);
    if (!r.ok()) error(path, who + "format rejected: " + r.error + commands_hint());
    return r.error;
  }
  std::string check_labels(const KeyValues& labels, const std::string& path, const std::string& who) const {
    std::string first;
    for (const auto& [k, v] : labels)
      if (std::string e = check(v, path_key(path, k), who); !e.empty() && first.empty()) first = "label " + quote(k) + ": " + e;
    return first;
  }

  void access_log_format(const Json& doc, MeshConfig& m) const {
    m.access_log_format = string_field(doc, "accessLogFormat", "");
    if (m.access_log_format.empty()) return;
    if (!m.access_log_json) {
      m.format_error = check(with_newline(m.access_log_format), "accessLogFormat", "");
      return;
    }
    // istiod reads it as a google.protobuf.Struct and keeps its default
    // labels when that fails; linegate writes labels whose values are strings.
    const Json labels = Json::parse(m.access_log_format, nullptr, false);
    if (labels.is_discarded() || !labels.is_object()) {
      error("accessLogFormat",
            "with accessLogEncoding JSON, accessLogFormat must be a JSON object of label: format string "
            "({\"path\": \"%REQ(:PATH)%\", ...}); istiod falls back to its default labels");
      return;
    }
    KeyValues kv;
    if (!label_map(labels, "accessLogFormat", kv).empty()) return;
    m.access_log_labels = std::move(kv);
    m.format_error = check_labels(m.access_log_labels, "accessLogFormat", "");
  }

  void file_provider(const Json& cfg, const std::string& path, ExtensionProvider& p) const {
    const std::string who = "provider " + quote(p.name) + ": ";
    p.path = string_field(cfg, "path", path);
    if (const Json* omit = member(cfg, "omitEmptyValues"); omit && omit->is_boolean() && omit->get<bool>()) {
      p.omit_empty_values = true;
      warning(path_field(path, "omitEmptyValues"), "field is not supported by linegate: empty values are still written");
    }
    const Json* lf = member(cfg, "logFormat");
    if (lf == nullptr) return;
    const std::string lp = path_field(path, "logFormat");
    if (!lf->is_object()) {
      error(lp, "must be a map with text or labels, not " + safe_dump(*lf));
      return;
    }
    const Json* text = member(*lf, "text");
    const Json* labels = member(*lf, "labels");
    if (text && labels) error(lp, "set text or labels, not both");
    if (text) {
      p.log_format = ExtensionProvider::LogFormat::text;
      p.text = string_field(*lf, "text", lp);
      if (!p.text.empty()) p.format_error = check(with_newline(p.text), path_field(lp, "text"), who);
    } else if (labels) {
      p.log_format = ExtensionProvider::LogFormat::labels;
      const std::string shape = label_map(*labels, path_field(lp, "labels"), p.labels);
      const std::string format = check_labels(p.labels, path_field(lp, "labels"), who);
      p.format_error = shape.empty() ? format : shape;
    } else {
      p.log_format = ExtensionProvider::LogFormat::empty;
    }
  }

  ExtensionProvider provider(const Json& e, const std::string& path) const {
    ExtensionProvider p;
    p.name = string_field(e, "name", path);
    if (!e.is_object()) {
      error(path, "must be a map (name and one provider), not " + safe_dump(e));
      return p;
    }
    auto pick = [&](std::string_view kind) {
      if (p.kind.empty() && member(e, kind)) p.kind = std::string(kind);
    };
    pick(kFileKind);
    for (std::string_view k : kRemoteLogKinds) pick(k);
    for (std::string_view k : kOtherKinds) pick(k);
    if (p.kind.empty()) {
      warning(path, "provider " + quote(p.name) + " has no provider field linegate knows (envoyFileAccessLog, envoyOtelAls, ...)");
      return p;
    }
    if (p.kind == kFileKind) {
      const Json& cfg = *member(e, kFileKind);
      if (cfg.is_object()) file_provider(cfg, path_field(path, p.kind), p);
      else error(path_field(path, p.kind), "must be a map, not " + safe_dump(cfg));
    }
    return p;
  }

  // ApplyMeshConfig: a provider replaces the one of the same name before it, else joins the list.
  void extension_providers(const Json& doc, MeshConfig& m) const {
    const Json* list = member(doc, "extensionProviders");
    if (list == nullptr) return;
    if (!list->is_array()) {
      error("extensionProviders", "must be a list, not " + safe_dump(*list));
      return;
    }
    for (size_t i = 0; i < list->size(); ++i) {
      ExtensionProvider p = provider((*list)[i], path_index("extensionProviders", i));
      auto same = std::find_if(m.extension_providers.begin(), m.extension_providers.end(),
                               [&](const ExtensionProvider& e) { return e.name == p.name; });
      if (same != m.extension_providers.end()) *same = std::move(p);
      else m.extension_providers.push_back(std::move(p));
    }
  }

  void default_providers(const Json& doc, MeshConfig& m) const {
    const Json* dp = member(doc, "defaultProviders");
    const Json* list = dp ? member(*dp, "accessLogging") : nullptr;
    if (list == nullptr) return;
    const std::string path = "defaultProviders.accessLogging";
    if (!list->is_array()) {
      error(path, "must be a list of provider names, not " + safe_dump(*list));
      return;
    }
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_string()) m.default_access_logging.push_back((*list)[i].get<std::string>());
      else error(path_index(path, i), "must be a provider name, not " + safe_dump((*list)[i]));
    }
  }
};

}  // namespace

bool is_mesh_config(const Resource& r) {
  return r.group.empty() && r.kind == "ConfigMap" && r.ns == kMeshConfigNamespace && r.name == kMeshConfigName;
}

MeshConfig read_mesh_config(const Resource* config_map, std::vector<MeshConfigIssue>* issues) {
  MeshConfig m;
  m.extension_providers = builtin_providers();
  if (config_map == nullptr) return m;
  const Json* data = member(config_map->obj, "data");
  const Json* text = data ? member(*data, kMeshConfigKey) : nullptr;
  if (text == nullptr || !text->is_string()) return m;  // the schema reports a value that is not a string
  const Reader rd{issues};
  std::string yaml_error;
  const Json doc = yaml_to_json(text->get<std::string>(), yaml_error);
  if (doc.is_discarded()) {
    rd.error("", "MeshConfig is not valid YAML: " + yaml_error + "; istiod keeps its default MeshConfig");
    return m;
  }
  if (doc.is_null()) return m;
  if (!doc.is_object()) {
    rd.error("", "MeshConfig must be a YAML map of its fields (accessLogFile: ..., extensionProviders: ...), not " +
                     safe_dump(doc));
    return m;
  }
  m.access_log_file = rd.string_field(doc, "accessLogFile", "");
  if (const Json* enc = member(doc, "accessLogEncoding")) {
    if (*enc == "JSON") m.access_log_json = true;
    else if (*enc != "TEXT") rd.error("accessLogEncoding", "Unsupported value: " + safe_dump(*enc) + ": supported values: \"TEXT\", \"JSON\"");
  }
  rd.access_log_format(doc, m);
  rd.default_providers(doc, m);
  rd.extension_providers(doc, m);
  return m;
}

ResolvedProvider mesh_access_log(const MeshConfig& mesh, std::string path) {
  ResolvedProvider r;
  r.log.path = path.empty() ? std::string(kDevStdout) : std::move(path);
  r.log.json = mesh.access_log_json;
  if (mesh.access_log_json) r.log.json_labels = mesh.access_log_labels.empty() ? istio_labels() : mesh.access_log_labels;
  else r.log.text_format = mesh.access_log_format.empty() ? std::string(access_log::kIstioTextFormat) : with_newline(mesh.access_log_format);
  r.use = mesh.format_error.empty() ? ProviderUse::file : ProviderUse::bad_format;
  r.error = mesh.format_error;
  return r;
}

ResolvedProvider resolve_access_log_provider(const MeshConfig& mesh, std::string_view name) {
  ResolvedProvider r;
  for (const ExtensionProvider& p : mesh.extension_providers)
    if (iequals(p.name, name)) {
      r.provider = &p;
      break;
    }
  const ExtensionProvider* p = r.provider;
  if (p == nullptr) return r;
  if (one_of(p->kind, kRemoteLogKinds)) {
    r.use = ProviderUse::remote;
    return r;
  }
  if (p->kind != kFileKind) {
    r.use = ProviderUse::no_log;
    return r;
  }
  using LogFormat = ExtensionProvider::LogFormat;
  // The built-in provider's format is the MeshConfig's until it sets its own.
  if (p->name == kBuiltinFileProvider && p->log_format == LogFormat::unset && !p->omit_empty_values) {
    r = mesh_access_log(mesh, p->path);
    r.provider = p;
    return r;
  }
  r.log.path = p->path.empty() ? std::string(kDevStdout) : p->path;
  switch (p->log_format) {
    case LogFormat::unset:
      r.log.text_format = std::string(access_log::kIstioTextFormat);
      break;
    case LogFormat::empty:
      r.log.text_format = std::string(kEnvoyDefaultFormat);
      break;
    case LogFormat::text:
      r.log.text_format = p->text.empty() ? std::string(access_log::kIstioTextFormat) : with_newline(p->text);
      break;
    case LogFormat::labels:
      r.log.json = true;
      r.log.json_labels = p->labels.empty() ? istio_labels() : p->labels;
      break;
  }
  r.use = p->format_error.empty() ? ProviderUse::file : ProviderUse::bad_format;
  r.error = p->format_error;
  return r;
}

}  // namespace lg::ctrl
