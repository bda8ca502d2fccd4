// Telemetry's access log providers → the snapshot's AccessLogs, as istiod
// builds them (pilot/pkg/networking/core/accesslog.go): each provider through
// the MeshConfig (ctrl/validate/mesh_config.h); the legacy accessLogFile only
// when no provider gave istiod a log to configure.
#pragma once

#include "ctrl/compile/context.h"

#include <map>
#include <string>

namespace lg::ctrl::compile {

// `providers`: the enabled providers in scope, name → CEL filter ("" = none).
void build_access_logs(Context& ctx, const std::map<std::string, std::string>& providers, pb::Telemetry* out);

}  // namespace lg::ctrl::compile
