#include "ctrl/compile/access_logs.h"

namespace lg::ctrl::compile {

namespace {

void add(const std::string& provider, const std::string& filter, const FileAccessLog& log, pb::Telemetry* out) {
  pb::AccessLog* l = out->add_access_logs();
  l->set_provider(provider);
  l->set_filter(filter);
  l->set_path(log.path);
  l->set_encoding(log.json ? pb::ACCESS_LOG_JSON : pb::ACCESS_LOG_TEXT);
  if (!log.json) {
    l->set_text_format(log.text_format);
    return;
  }
  for (const auto& [key, format] : log.json_labels) {
    pb::KeyValue* kv = l->add_json_labels();
    kv->set_key(key);
    kv->set_value(format);
  }
}

}  // namespace

void build_access_logs(Context& ctx, const std::map<std::string, std::string>& providers, pb::Telemetry* out) {
  const MeshConfig& mesh = ctx.mesh();
  // istiod falls back to accessLogFile when Telemetry leaves it no access log
  // to configure: no provider in scope, or none it can build a log for. A log
  // linegate cannot write (a remote service, a format it rejects) still
  // counts, so the gateway writes what Istio's would and no more.
  bool configured = false;
  for (const auto& [name, filter] : providers) {
    const ResolvedProvider r = resolve_access_log_provider(mesh, name);
    const std::string who = "access log provider \"" + name + "\"";
    switch (r.use) {
      case ProviderUse::file:
        add(name, filter, r.log, out);
        configured = true;
        break;
      case ProviderUse::bad_format:
        ctx.warn(who + ": format rejected (" + r.error + "): no access log is written");
        configured = true;
        break;
      case ProviderUse::remote:
        ctx.warn(who + " (" + r.provider->kind + ") is not supported by linegate: no access log is written");
        configured = true;
        break;
      case ProviderUse::no_log:
        break;  // prometheus, zipkin, ...: Istio writes no access log either
      case ProviderUse::undefined:
        ctx.warn(who + " is not defined in the MeshConfig: no access log is written");
        break;
    }
  }
  if (configured || mesh.access_log_file.empty()) return;
  const ResolvedProvider legacy = mesh_access_log(mesh, mesh.access_log_file);
  if (legacy.use == ProviderUse::file) add("", "", legacy.log, out);
  else ctx.warn("MeshConfig accessLogFormat rejected (" + legacy.error + "): accessLogFile is not written");
}

}  // namespace lg::ctrl::compile
