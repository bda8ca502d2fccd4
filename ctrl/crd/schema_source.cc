// Which CRD schemas are in use: the ones load_crd_schemas() last read, or on
// first use the default source (LINEGATE_CRDS, else /etc/linegate/crds).
// Schemas come from the user's Istio installation rather than a copy built
// into linegate, so validation follows the Istio version they run.
#include "ctrl/crd/schema.h"
#include "ctrl/crd/schema_model.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace lg::ctrl {
namespace {

namespace cs = crdschema;

constexpr const char* kEnvVar = "LINEGATE_CRDS";
constexpr const char* kDefaultDir = "/etc/linegate/crds";

std::mutex g_mu;
std::shared_ptr<const cs::SchemaSet> g_current;  // null until first use or load_crd_schemas()

std::shared_ptr<cs::SchemaSet> empty_set() {
  auto set = std::make_shared<cs::SchemaSet>();
  set->source = "none";
  return set;
}

// A set that records why `paths` could not be read, so every document of a
// supported kind gets a warning naming the path and the problem.
std::shared_ptr<cs::SchemaSet> failed_set(const std::vector<std::string>& paths, const std::string& why) {
  auto set = empty_set();
  std::string joined;
  for (const std::string& p : paths) joined.append(joined.empty() ? "" : ":").append(p);
  set->error = "cannot load CRD schemas from ";
  set->error.append(joined).append(": ").append(why);
  set->source = "none (";
  set->source.append(set->error).append(")");
  return set;
}

std::vector<std::string> split_colons(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::shared_ptr<const cs::SchemaSet> load_default() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv(kEnvVar); env != nullptr && *env != '\0') {
    paths = split_colons(env);
  } else {
    std::error_code ec;
    if (std::filesystem::exists(kDefaultDir, ec)) paths = {kDefaultDir};
  }
  if (paths.empty()) return empty_set();
  auto set = std::make_shared<cs::SchemaSet>();
  std::string error;
  if (!cs::read_crds(paths, *set, error)) return failed_set(paths, error);
  return set;
}

}  // namespace

namespace crdschema {

std::shared_ptr<const SchemaSet> current_schemas() {
  std::lock_guard lock(g_mu);
  // Loading under the lock: concurrent first users wait for one load instead of each reading the files.
  if (!g_current) g_current = load_default();
  return g_current;
}

}  // namespace crdschema

bool load_crd_schemas(const std::vector<std::string>& paths, std::string* error) {
  std::shared_ptr<const cs::SchemaSet> next;
  std::string why;
  bool ok = true;
  if (paths.empty()) {
    next = empty_set();
  } else {
    // Parse outside the lock: validation keeps using the current set meanwhile.
    auto set = std::make_shared<cs::SchemaSet>();
    ok = cs::read_crds(paths, *set, why);
    next = ok ? std::shared_ptr<const cs::SchemaSet>(std::move(set)) : failed_set(paths, why);
  }
  if (error != nullptr) *error = ok ? std::string() : why;
  std::lock_guard lock(g_mu);
  // A failed reload keeps schemas that were loaded; with none loaded, the
  // failure is recorded so validation says why its checks are skipped.
  if (ok || !g_current || g_current->crds.empty()) g_current = std::move(next);
  return ok;
}

std::string crd_schema_source() { return cs::current_schemas()->source; }

}  // namespace lg::ctrl
