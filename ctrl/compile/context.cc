#include "ctrl/compile/context.h"

#include <algorithm>
#include <tuple>

namespace lg::ctrl::compile {

std::string ns_name(const Resource& r) { return r.ns + "/" + r.name; }

Context::Context(const std::vector<Resource>& resources, const GatewayNode& node)
    : node_(node), node_labels_(node.labels.begin(), node.labels.end()),
      node_ns_(node.ns.empty() ? std::string(kRootNamespace) : node.ns) {
  std::vector<const Resource*> all;
  all.reserve(resources.size());
  for (const Resource& r : resources) all.push_back(&r);
  // Content breaks ties so that the kept duplicate does not depend on input order.
  std::vector<std::string> dumps(resources.size());
  auto dump_of = [&](const Resource* r) -> const std::string& {
    std::string& d = dumps[static_cast<size_t>(r - resources.data())];
    if (d.empty()) d = r->obj.dump();
    return d;
  };
  std::sort(all.begin(), all.end(), [&](const Resource* a, const Resource* b) {
    const auto ka = std::tie(a->group, a->kind, a->ns, a->name);
    const auto kb = std::tie(b->group, b->kind, b->ns, b->name);
    if (ka != kb) return ka < kb;
    return dump_of(a) < dump_of(b);
  });
  const Resource* prev = nullptr;
  for (const Resource* r : all) {
    if (prev && prev->group == r->group && prev->kind == r->kind && prev->ns == r->ns && prev->name == r->name) {
      warn(r->kind + " " + ns_name(*r) + ": defined more than once; one definition ignored");
      continue;
    }
    prev = r;
    const std::string key = r->group + "/" + r->kind;
    if (by_kind_.empty() || by_kind_.back().first != key) by_kind_.emplace_back(key, std::vector<const Resource*>{});
    by_kind_.back().second.push_back(r);
  }
  std::sort(by_kind_.begin(), by_kind_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  mesh_ = read_mesh_config(
      find(kCore, "ConfigMap", std::string(kMeshConfigNamespace), std::string(kMeshConfigName)));
}

const std::vector<const Resource*>& Context::of(std::string_view group, std::string_view kind) const {
  static const std::vector<const Resource*> none;
  std::string key(group);
  key += "/";
  key += kind;
  const auto it = std::lower_bound(by_kind_.begin(), by_kind_.end(), key,
                                   [](const auto& entry, const std::string& k) { return entry.first < k; });
  if (it == by_kind_.end() || it->first != key) return none;
  return it->second;
}

const Resource* Context::find(std::string_view group, std::string_view kind, const std::string& ns,
                              const std::string& name) const {
  for (const Resource* r : of(group, kind))
    if (r->ns == ns && r->name == name) return r;
  return nullptr;
}

}  // namespace lg::ctrl::compile
