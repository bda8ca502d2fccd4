// Which kinds and apiVersions linegate reads, and what it does with each.
#pragma once

#include "ctrl/crd/resource.h"

#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl {

enum class KindSupport {
  supported,    // compiled into snapshots
  unsupported,  // a known Istio kind linegate does not implement: one warning, then ignored
  unknown,      // not an Istio or Kubernetes kind linegate knows: one warning, then ignored
};

struct KindInfo {
  std::string_view group;  // "networking.istio.io", "" for core, "discovery.k8s.io"
  std::string_view kind;   // "VirtualService"
  std::vector<std::string_view> versions;  // accepted versions, e.g. {"v1alpha3", "v1beta1", "v1"}
  KindSupport support;
  std::string_view why;  // for unsupported kinds: what to use instead / why not
};

// Looks the kind up by group and kind; null when unknown.
const KindInfo* find_kind(std::string_view group, std::string_view kind);
const std::vector<KindInfo>& all_kinds();

// True when `version` is one of info.versions.
bool version_accepted(const KindInfo& info, std::string_view version);

// Step 1 of analyze() for one document: a warning for an unknown or
// unsupported kind, an error for a supported kind in a version linegate does
// not accept (naming the accepted ones). True when the document should go on
// to the schema, semantic and compile steps.
bool check_kind(const Resource& r, Diagnostics& diags);

}  // namespace lg::ctrl
