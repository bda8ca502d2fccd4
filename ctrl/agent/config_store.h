// The agent's resource sets and the rule that guards them: the candidate
// (watched directories overlaid with applied resources) must pass analyze()
// as a whole before it becomes the config gateways are compiled from.
//
// The watched set always follows the disk (it is the operator's source of
// truth, even while it has errors); the applied set only changes through
// accepted applies. An applied resource replaces every watched resource with
// the same identity (group/kind/namespace/name).
#pragma once

#include "ctrl/crd/resource.h"
#include "ctrl/validate/analyze.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lg::ctrl {

// One accepted config. Immutable once published.
struct ConfigState {
  std::vector<Resource> resources;
  std::string version;      // content hash of the set, independent of order and source file
  uint64_t generation = 0;  // 1 for the first accepted config, +1 per change
};

struct ConfigChange {
  bool accepted = false;
  bool changed = false;  // accepted and different from the config before
  Diagnostics diags;     // loading + analysis of the candidate
  std::shared_ptr<const ConfigState> config;  // in force after the call (dry run: the candidate); may be null
};

// "networking.istio.io/VirtualService/default/reviews"
std::string resource_key(const Resource& r);
// Order- and source-independent hash of a resource set (16 hex digits).
std::string config_version(const std::vector<Resource>& resources);

class ConfigStore {
 public:
  explicit ConfigStore(AnalyzeOptions opts = {}) : opts_(opts) {}

  // The watched directories were (re)read. `load_diags` are the loader's.
  ConfigChange set_watched(std::vector<Resource> resources, const Diagnostics& load_diags);
  // Resources sent by `linegatectl apply`.
  ConfigChange apply(const std::vector<Resource>& resources, const Diagnostics& load_diags, bool dry_run);

  // nullptr until a candidate was accepted.
  std::shared_ptr<const ConfigState> current() const;

 private:
  ConfigChange evaluate(const std::vector<Resource>& watched, const std::map<std::string, Resource>& applied,
                        const Diagnostics& load_diags, bool commit);

  const AnalyzeOptions opts_;
  mutable std::mutex mu_;
  std::vector<Resource> watched_;
  std::map<std::string, Resource> applied_;
  std::shared_ptr<const ConfigState> current_;
  uint64_t generation_ = 0;
};

}  // namespace lg::ctrl
