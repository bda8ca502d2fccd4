#include "ctrl/agent/config_store.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace lg::ctrl {

std::string resource_key(const Resource& r) { return r.group + "/" + r.kind + "/" + r.ns + "/" + r.name; }

std::string config_version(const std::vector<Resource>& resources) {
  // FNV-1a over (key, canonical JSON) sorted by key: nlohmann's dump() sorts
  // object members, so formatting and key order in the YAML do not matter.
  std::vector<std::pair<std::string, std::string>> items;
  items.reserve(resources.size());
  for (const Resource& r : resources) items.emplace_back(resource_key(r), r.obj.dump());
  std::sort(items.begin(), items.end());
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator: ("ab","c") != ("a","bc")
    h *= 1099511628211ull;
  };
  for (const auto& [k, v] : items) {
    mix(k);
    mix(v);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

ConfigChange ConfigStore::set_watched(std::vector<Resource> resources, const Diagnostics& load_diags) {
  std::lock_guard lk(mu_);
  watched_ = std::move(resources);
  return evaluate(watched_, applied_, load_diags, true);
}

ConfigChange ConfigStore::apply(const std::vector<Resource>& resources, const Diagnostics& load_diags,
                                bool dry_run) {
  std::lock_guard lk(mu_);
  auto applied = applied_;
  for (const Resource& r : resources) applied.insert_or_assign(resource_key(r), r);
  ConfigChange out = evaluate(watched_, applied, load_diags, !dry_run);
  if (out.accepted && !dry_run) applied_ = std::move(applied);
  return out;
}

std::shared_ptr<const ConfigState> ConfigStore::current() const {
  std::lock_guard lk(mu_);
  return current_;
}

ConfigChange ConfigStore::evaluate(const std::vector<Resource>& watched,
                                   const std::map<std::string, Resource>& applied, const Diagnostics& load_diags,
                                   bool commit) {
  auto candidate = std::make_shared<ConfigState>();
  candidate->resources.reserve(watched.size() + applied.size());
  for (const Resource& r : watched) {
    if (!applied.count(resource_key(r))) candidate->resources.push_back(r);
  }
  for (const auto& [key, r] : applied) candidate->resources.push_back(r);

  ConfigChange out;
  out.diags.append(load_diags);
  analyze(candidate->resources, out.diags, opts_);
  if (out.diags.has_errors()) {
    out.config = current_;
    return out;
  }
  out.accepted = true;
  candidate->version = config_version(candidate->resources);
  out.changed = !current_ || current_->version != candidate->version;
  if (!out.changed) {
    out.config = current_;
    return out;
  }
  candidate->generation = generation_ + 1;
  if (commit) {
    generation_ = candidate->generation;
    current_ = candidate;
  }
  out.config = std::move(candidate);
  return out;
}

}  // namespace lg::ctrl
