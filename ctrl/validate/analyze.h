// `istioctl analyze` for linegate: every check a resource set goes through
// before the agent compiles or pushes it.
//   1. kind/apiVersion known and supported (unsupported kinds: one warning each);
//   2. structural schema + CEL rules from Istio's CRDs (ctrl/crd/schema.h);
//   3. per-kind semantic checks Istio's webhook makes (weights, regexes, ...);
//   4. cross-resource checks (unknown gateway, undefined subset, host not in
//      the registry, conflicting servers, missing credentials, ...);
//   5. documented fields linegate does not implement: one warning each.
#pragma once

#include "ctrl/crd/resource.h"

#include <vector>

namespace lg::ctrl {

struct AnalyzeOptions {
  // Registry checks (host not in registry) need the whole mesh's services; an
  // operator analysing one file at a time can turn them into warnings.
  bool registry_complete = true;
};

void analyze(const std::vector<Resource>& resources, Diagnostics& diags, const AnalyzeOptions& opts = {});

// Steps 3 and 4 alone (ctrl/validate); analyze() runs them after the schema.
void validate_semantics(const std::vector<Resource>& resources, Diagnostics& diags);
void validate_cross_resource(const std::vector<Resource>& resources, Diagnostics& diags, const AnalyzeOptions& opts);

}  // namespace lg::ctrl
