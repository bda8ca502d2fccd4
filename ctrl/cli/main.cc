// linegatectl: the operator's tool, shaped like istioctl.
//   analyze -f PATH...                       offline checks (exit 1 on errors)
//   apply -f PATH... [--agent ADDR] [--dry-run]
//   proxy-status [--agent ADDR] [-o table|json]
//   proxy-config SECTION [--admin ADDR] [-o table|json]
// Exit codes: 0 ok, 1 failure, 2 usage.
#include "ctrl/cli/commands.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

using namespace lg::ctrl::cli;

int main(int argc, char** argv) {
  CLI::App app{"linegatectl: analyse Istio config, apply it to linegate-agent, inspect gateways.", "linegatectl"};
  app.require_subcommand(1, 1);

  AnalyzeArgs analyze;
  auto* an = app.add_subcommand("analyze", "check Istio/Kubernetes YAML the way the agent does (istioctl analyze)");
  an->add_option("-f,--filename", analyze.paths, "files or directories (recursive); - for stdin")->required();
  an->add_option("--crds", analyze.crds,
                 "Istio CRD definitions (file or directory; repeatable) for the API server's schema and CEL checks; "
                 "default: $LINEGATE_CRDS, else /etc/linegate/crds")
      ->check(CLI::ExistingPath);
  an->add_flag("--registry-incomplete", analyze.registry_incomplete,
               "hosts not defined in these files are warnings, not errors");

  ApplyArgs apply;
  apply.agent = "127.0.0.1:15010";
  auto* ap = app.add_subcommand("apply", "send YAML to linegate-agent; it is validated with the rest of its config");
  ap->add_option("-f,--filename", apply.paths, "files or directories (recursive); - for stdin")->required();
  ap->add_option("--agent", apply.agent, "agent gRPC address HOST:PORT")->capture_default_str();
  ap->add_flag("--dry-run", apply.dry_run, "validate against the agent's config, change nothing");

  ProxyStatusArgs status;
  status.agent = "127.0.0.1:15010";
  status.output = "table";
  auto* ps = app.add_subcommand("proxy-status", "sync state of every gateway known to the agent");
  ps->add_option("--agent", status.agent, "agent gRPC address HOST:PORT")->capture_default_str();
  ps->add_option("-o,--output", status.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  ProxyConfigArgs config;
  config.admin = "127.0.0.1:15000";
  config.output = "table";
  auto* pc = app.add_subcommand("proxy-config", "what one gateway runs, from its admin /config_dump");
  pc->add_option("section", config.section, "listeners, routes, clusters, endpoints or secrets")
      ->required()
      ->check(CLI::IsMember({"listeners", "routes", "clusters", "endpoints", "secrets"}));
  pc->add_option("--admin", config.admin, "gateway admin address HOST:PORT")->capture_default_str();
  pc->add_option("-o,--output", config.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    if (an->parsed()) return run_analyze(analyze);
    if (ap->parsed()) return run_apply(apply);
    if (ps->parsed()) return run_proxy_status(status);
    if (pc->parsed()) return run_proxy_config(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
