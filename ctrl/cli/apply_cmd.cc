// linegatectl apply: sends the files as they are to the agent, which parses
// and analyses them with everything else it holds, so its diagnostics name
// the operator's files.
#include "ctrl/cli/commands.h"
#include "ctrl/cli/grpc_target.h"
#include "ctrl/proto/discovery.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

namespace lg::ctrl::cli {

namespace fs = std::filesystem;
namespace dv1 = linegate::discovery::v1;

namespace {

constexpr uintmax_t kMaxFileBytes = 64u << 20;  // as the loader (ctrl/crd/loader.cc)

bool manifest_extension(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool read_file(const fs::path& p, dv1::ApplyRequest& req, std::string& error) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (!ec && size > kMaxFileBytes) {
    error = p.string() + ": larger than 64 MiB; not a manifest";
    return false;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    error = p.string() + ": cannot read file";
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = p.string() + ": error while reading file";
    return false;
  }
  auto* f = req.add_files();
  f->set_name(p.string());
  f->set_content(std::move(text));
  return true;
}

// Same selection as load_paths(): files as given, directories recursively
// (*.yaml, *.yml, *.json, sorted), "-" for standard input.
bool collect(const std::vector<std::string>& paths, dv1::ApplyRequest& req, std::string& error) {
  for (const std::string& p : paths) {
    if (p == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      auto* f = req.add_files();
      f->set_name("<stdin>");
      f->set_content(std::move(text));
      continue;
    }
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      error = p + ": no such file or directory";
      return false;
    }
    if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
      for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec) && manifest_extension(it->path())) files.push_back(it->path());
      }
      if (ec) {
        error = p + ": cannot list directory: " + ec.message();
        return false;
      }
      if (files.empty()) {
        error = p + ": no *.yaml, *.yml or *.json files in this directory";
        return false;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!read_file(f, req, error)) return false;
      }
      continue;
    }
    if (!fs::is_regular_file(st)) {
      error = p + ": not a regular file or directory";
      return false;
    }
    if (!read_file(p, req, error)) return false;
  }
  return true;
}

}  // namespace

int run_apply(const ApplyArgs& args) {
  dv1::ApplyRequest req;
  req.set_dry_run(args.dry_run);
  std::string error;
  if (!collect(args.paths, req, error)) {
    std::fprintf(stderr, "Error: %s\n", error.c_str());
    return kExitFailure;
  }
  auto stub = dv1::AgentAdmin::NewStub(make_agent_channel(args.agent));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  dv1::ApplyResponse resp;
  grpc::Status st = stub->Apply(&ctx, req, &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "Error: %s\n", describe_rpc_error(args.agent, st).c_str());
    return kExitFailure;
  }
  size_t errors = 0, warnings = 0;
  for (const auto& d : resp.diagnostics()) {
    errors += d.severity() == dv1::Diagnostic::ERROR;
    warnings += d.severity() == dv1::Diagnostic::WARNING;
    std::printf("%s\n", d.text().c_str());
  }
  std::fflush(stdout);
  std::string files = std::to_string(req.files_size()) + (req.files_size() == 1 ? " file" : " files");
  if (!resp.accepted()) {
    std::fprintf(stderr, "\u2718 %s by the agent at %s: %zu error(s), %zu warning(s); nothing was changed or pushed.\n",
                 args.dry_run ? "Dry run: would be rejected" : "Rejected", args.agent.c_str(), errors, warnings);
    return kExitFailure;
  }
  if (args.dry_run) {
    std::fprintf(stderr, "\u2714 Dry run: %s would be accepted (config version %s, %u resources%s); nothing changed.\n",
                 files.c_str(), resp.config_version().c_str(), resp.resources(),
                 resp.changed() ? "" : ", same as now");
  } else if (resp.changed()) {
    std::fprintf(stderr, "\u2714 Applied %s: config version %s, generation %llu, %u resources.\n", files.c_str(),
                 resp.config_version().c_str(), static_cast<unsigned long long>(resp.generation()), resp.resources());
  } else {
    std::fprintf(stderr, "\u2714 Applied %s: unchanged, config version %s (generation %llu).\n", files.c_str(),
                 resp.config_version().c_str(), static_cast<unsigned long long>(resp.generation()));
  }
  return kExitOk;
}

}  // namespace lg::ctrl::cli
