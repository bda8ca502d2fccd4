// linegatectl analyze: the agent's checks, offline (istioctl analyze -f).
#include "ctrl/cli/commands.h"
#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema.h"
#include "ctrl/validate/analyze.h"

#include <cstdio>

namespace lg::ctrl::cli {

int run_analyze(const AnalyzeArgs& args) {
  if (!args.crds.empty()) {
    std::string error;
    if (!load_crd_schemas(args.crds, &error)) {
      std::fprintf(stderr, "Error: --crds: %s\n", error.c_str());
      return kExitFailure;
    }
  }
  Diagnostics diags;
  std::vector<Resource> resources = load_paths(args.paths, diags);
  AnalyzeOptions opts;
  opts.registry_complete = !args.registry_incomplete;
  analyze(resources, diags, opts);

  for (const Diagnostic& d : diags.items()) std::printf("%s\n", d.format().c_str());
  std::fflush(stdout);

  std::string what = std::to_string(resources.size()) + (resources.size() == 1 ? " resource" : " resources") +
                     " from " + std::to_string(args.paths.size()) + (args.paths.size() == 1 ? " path" : " paths");
  size_t errors = diags.error_count(), warnings = diags.warning_count();
  if (errors) {
    std::fprintf(stderr, "Error: Analyzers found %zu error(s) and %zu warning(s) when analyzing %s.\n", errors,
                 warnings, what.c_str());
    return kExitFailure;
  }
  if (warnings) {
    std::fprintf(stderr, "Analyzers found %zu warning(s) and no errors when analyzing %s.\n", warnings, what.c_str());
  } else if (diags.items().empty()) {
    std::fprintf(stderr, "\u2714 No validation issues found when analyzing %s.\n", what.c_str());
  } else {
    std::fprintf(stderr, "\u2714 No errors or warnings found when analyzing %s.\n", what.c_str());
  }
  return kExitOk;
}

}  // namespace lg::ctrl::cli
