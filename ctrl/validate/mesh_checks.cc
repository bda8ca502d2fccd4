// The MeshConfig in ConfigMap istio-system/istio, and the access log
// providers Telemetry resources name: what istiod would reject or skip, and
// what linegate cannot write (its formats, logs sent to a remote service).
#include "ctrl/validate/checks.h"
#include "ctrl/validate/mesh_config.h"

namespace lg::ctrl::validate {

namespace {

// "data[mesh]", then the field inside the MeshConfig.
std::string mesh_path(const std::string& field) {
  const std::string base = path_key("data", std::string(kMeshConfigKey));
  return field.empty() ? base : base + "." + field;
}

// Why naming `name` writes no access log; "" when it does, or when the
// reason is a bad format (an error on the ConfigMap already).
std::string provider_problem(const MeshConfig& mesh, const std::string& name) {
  const ResolvedProvider r = resolve_access_log_provider(mesh, name);
  switch (r.use) {
    case ProviderUse::file:
    case ProviderUse::bad_format:
      return {};
    case ProviderUse::remote:
      return "provider " + quote(name) + " (" + r.provider->kind + ") is not supported by linegate: no access log is written";
    case ProviderUse::no_log:
      return "provider " + quote(name) + " (" + (r.provider->kind.empty() ? "no provider field" : r.provider->kind) +
             ") writes no access logs, in Istio as in linegate: no access log is written";
    case ProviderUse::undefined:
      break;
  }
  return "provider " + quote(name) + " is not defined in the MeshConfig's extensionProviders (ConfigMap " +
         std::string(kMeshConfigNamespace) + "/" + std::string(kMeshConfigName) +
         "): istiod skips it and no access log is written";
}

}  // namespace

void check_mesh_config(const Ctx& c) {
  if (!is_mesh_config(c.r)) return;  // other ConfigMaps are not read
  std::vector<MeshConfigIssue> issues;
  const MeshConfig mesh = read_mesh_config(&c.r, &issues);
  for (const MeshConfigIssue& i : issues) {
    if (i.error) c.error(mesh_path(i.path), i.message);
    else c.warning(mesh_path(i.path), i.message);
  }
  for (size_t i = 0; i < mesh.default_access_logging.size(); ++i)
    if (std::string p = provider_problem(mesh, mesh.default_access_logging[i]); !p.empty())
      c.warning(mesh_path(path_index("defaultProviders.accessLogging", i)), p);
}

void check_access_log_providers(const std::vector<Resource>& resources, Diagnostics& d) {
  const Resource* config_map = nullptr;
  for (const Resource& r : resources)
    if (is_mesh_config(r)) config_map = &r;
  const MeshConfig mesh = read_mesh_config(config_map);
  for (const Resource& r : resources) {
    if (r.group != "telemetry.istio.io" || r.kind != "Telemetry") continue;
    const Ctx c{r, d};
    each(c.spec(), "accessLogging", "spec", [&](size_t, const Json& l, const std::string& lp) {
      if (get_bool(&l, "disabled").value_or(false)) return;  // names nothing to write
      each(&l, "providers", lp, [&](size_t, const Json& p, const std::string& pp) {
        const std::string name = get_str(&p, "name");
        if (name.empty()) return;  // check_telemetry reports it
        if (std::string problem = provider_problem(mesh, name); !problem.empty()) c.warning(path_field(pp, "name"), problem);
      });
    });
  }
}

}  // namespace lg::ctrl::validate
