// linegatectl's subcommands. Each returns the process exit code:
// 0 success, 1 failure (errors found, agent/admin unreachable, rejected),
// 2 usage (main.cc handles argument errors before these run).
#pragma once

#include <string>
#include <vector>

namespace lg::ctrl::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct AnalyzeArgs {
  std::vector<std::string> paths;
  std::vector<std::string> crds;  // empty: the default source (ctrl/crd/schema.h)
  bool registry_incomplete = false;
};
int run_analyze(const AnalyzeArgs& args);

struct ApplyArgs {
  std::vector<std::string> paths;  // files, directories, "-" for stdin
  std::string agent;
  bool dry_run = false;
};
int run_apply(const ApplyArgs& args);

struct ProxyStatusArgs {
  std::string agent;
  std::string output;  // "table" | "json"
};
int run_proxy_status(const ProxyStatusArgs& args);

struct ProxyConfigArgs {
  std::string section;  // listeners | routes | clusters | endpoints | secrets
  std::string admin;
  std::string output;   // "table" | "json"
};
int run_proxy_config(const ProxyConfigArgs& args);

}  // namespace lg::ctrl::cli
