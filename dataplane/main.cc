// linegate: the gateway dataplane. Exit codes: 0 stopped cleanly, 1 failed
// at run time (EAL, ports, admin bind), 2 bad command line or bootstrap.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/log.h"
#include "dataplane/runtime/runtime.h"
#include "dataplane/version.h"


int main(int argc, char** argv) {
  CLI::App app{"linegate: kernel-bypass service-mesh gateway dataplane"};
  std::string bootstrap_path;
  bool check_only = false;
  app.add_option("-b,--bootstrap", bootstrap_path, "bootstrap YAML file (node, eal, workers, ports, admin)")
      ->required();
  app.add_flag("--check", check_only, "validate the bootstrap file and exit (0 valid, 2 invalid)");
  app.set_version_flag("--version", std::string("linegate ") + lg::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  lg::BootstrapResult parsed = lg::load_bootstrap_file(bootstrap_path);
  if (!parsed.bootstrap) {
    for (const std::string& e : parsed.errors) fprintf(stderr, "linegate: %s\n", e.c_str());
    fprintf(stderr, "linegate: bootstrap rejected (%zu error%s)\n", parsed.errors.size(),
            parsed.errors.size() == 1 ? "" : "s");
    return 2;
  }
  if (check_only) {
    printf("linegate: %s is valid\n", bootstrap_path.c_str());
    return 0;
  }

  lg::Runtime runtime(std::move(*parsed.bootstrap));
  std::string error;
  if (!runtime.start(&error)) {
    LG_LOG_STDERR("%s", error.c_str());
    return 1;
  }
  runtime.run();
  return 0;
}
