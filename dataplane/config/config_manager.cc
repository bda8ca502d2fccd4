#include "dataplane/config/config_manager.h"

#include "ctrl/compile/compiler.h"
#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema.h"
#include "ctrl/validate/analyze.h"
#include "dataplane/config/runtime_tables.h"
#include "dataplane/config/upstream_tls.h"

namespace lg::config {

ConfigManager::ConfigManager(const Bootstrap& bootstrap, TablePublisher& publisher,
                             upstream::UpstreamRegistry* registry, tls::TicketKeys* ticket_keys)
    : b_(bootstrap), publisher_(publisher), registry_(registry), tls_env_{ticket_keys, nullptr} {}

std::optional<std::string> ConfigManager::build_and_publish(std::shared_ptr<const Snapshot> snapshot) {
  std::string error;
  std::unique_ptr<RuntimeTables> tables = build_tables(snapshot, b_, &error, registry_, b_.workers, tls_env_);
  if (!tables) return error;
  std::vector<std::string> tls = tls_errors(*tables);
  publisher_.publish(std::move(tables));
  std::lock_guard lock(mu_);
  status_.tls_errors = std::move(tls);
  current_ = std::move(snapshot);
  return std::nullopt;
}

std::optional<std::string> ConfigManager::apply(const Snapshot& snapshot) {
  std::lock_guard apply_lock(apply_mu_);
  auto owned = std::make_shared<const Snapshot>(snapshot);
  const std::optional<std::string> error = build_and_publish(owned);
  std::lock_guard lock(mu_);
  if (error) {
    ++status_.update_rejected;
    status_.last_error = *error;
    return error;
  }
  ++status_.update_success;
  status_.version = owned->version();
  status_.last_error.clear();
  return std::nullopt;
}

std::optional<std::string> ConfigManager::set_identity(std::shared_ptr<const tls::WorkloadIdentity> identity) {
  std::lock_guard apply_lock(apply_mu_);
  tls_env_.identity = std::move(identity);
  std::shared_ptr<const Snapshot> serving = current();
  if (serving == nullptr) return std::nullopt;
  return build_and_publish(std::move(serving));
}

bool ConfigManager::load_local(const std::string& path, std::vector<std::string>* errors,
                               std::vector<std::string>* warnings) {
  if (!b_.crds.empty()) {
    std::string error;
    if (!ctrl::load_crd_schemas(b_.crds, &error)) {
      errors->push_back("crds: " + error);
      return false;
    }
  }
  ctrl::Diagnostics diags;
  const std::vector<ctrl::Resource> resources = ctrl::load_paths({path}, diags);
  ctrl::analyze(resources, diags);
  for (const ctrl::Diagnostic& d : diags.items())
    (d.severity == ctrl::Severity::error ? errors : warnings)->push_back(d.format());
  if (!errors->empty()) return false;
  ctrl::GatewayNode node{b_.node.id, b_.node.cluster, b_.node.network, b_.node.ns, b_.node.labels};
  if (auto rejected = apply(ctrl::compile_snapshot(resources, node))) {
    errors->push_back(*rejected);
    return false;
  }
  return true;
}

std::shared_ptr<const Snapshot> ConfigManager::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

ConfigManager::Status ConfigManager::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace lg::config
