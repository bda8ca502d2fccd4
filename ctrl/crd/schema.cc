// validate_schema(): one document against its kind's schema — Istio's CRD
// schemas (loaded at run time, see schema_source.cc and openapi.cc) or the hand-written
// checks for the Kubernetes kinds linegate reads (k8s_kinds.cc).
#include "ctrl/crd/schema.h"

#include "ctrl/crd/field_error.h"
#include "ctrl/crd/k8s_kinds.h"
#include "ctrl/crd/kinds.h"
#include "ctrl/crd/objectmeta.h"
#include "ctrl/crd/schema_model.h"

#include <string_view>

namespace lg::ctrl {
namespace {

namespace fe = fielderr;

bool is_annotation_key(std::string_view key) { return !key.empty() && key.front() == '_'; }

// Silence would read as "valid": a document of a kind linegate compiles must
// say when its OpenAPI and CEL checks could not run.
void warn_no_schema(const Resource& r, const crdschema::SchemaSet& set, Diagnostics& diags) {
  const KindInfo* info = find_kind(r.group, r.kind);
  if (info == nullptr || info->support != KindSupport::supported || !r.group.ends_with(".istio.io") ||
      !version_accepted(*info, r.version))
    return;  // check_kind() reports these
  std::string what = r.kind;
  what.append(".").append(r.group).append("/").append(r.version);
  std::string msg;
  if (!set.error.empty()) {
    msg = set.error;
    msg.append(": OpenAPI and CEL checks skipped for ").append(what);
  } else {
    msg = "no CRD schema loaded for ";
    msg.append(what).append(" (set --crds or LINEGATE_CRDS): OpenAPI and CEL checks skipped");
  }
  diags.warning(r, "", std::move(msg));
}

}  // namespace

void validate_schema(const Resource& r, Diagnostics& diags) {
  fe::List errs;
  if (validate_kubernetes_kind(r, errs)) {
    fe::emit(errs, r, diags);
    return;
  }
  // Held for the whole check: a concurrent load_crd_schemas() must not free the nodes in use.
  const std::shared_ptr<const crdschema::SchemaSet> set = crdschema::current_schemas();
  const crdschema::Crd* crd = set->find_crd(r.group, r.kind);
  const crdschema::Version* ver = crd != nullptr ? crd->version(r.version) : nullptr;
  if (ver == nullptr || !ver->served || !ver->root) {
    warn_no_schema(r, *set, diags);
    return;
  }
  const crdschema::Node& root = *ver->root;

  validate_object_meta(r.obj, NameRule::dns1123_subdomain, errs);
  for (const auto& [key, value] : r.obj.items()) {
    // apiVersion/kind were read by the loader, metadata is checked above;
    // status is a subresource the API server drops on create; top-level
    // "_" keys are test annotations (`_err:` in Istio's corpus).
    if (key == "apiVersion" || key == "kind" || key == "metadata" || key == "status" || is_annotation_key(key)) continue;
    const auto p = root.properties.find(key);
    if (p == root.properties.end()) {
      errs.push_back(fe::unknown_field(key));
      continue;
    }
    crdschema::validate_openapi(*p->second, value, key, errs);
  }
  for (const std::string& key : root.required)
    if (!r.obj.contains(key)) errs.push_back(fe::required(key));

  for (const auto& [key, node] : root.properties)
    if (const auto v = r.obj.find(key); v != r.obj.end()) crdschema::validate_list_types(*node, *v, key, errs);

  bool blocked = false;
  for (const fe::Error& e : errs) blocked = blocked || fe::is_blocking(e);
  if (!blocked) {
    for (const auto& [key, node] : root.properties)
      if (const auto v = r.obj.find(key); v != r.obj.end()) crdschema::validate_rules(*node, *v, key, errs);
  }
  fe::emit(errs, r, diags);
  if (blocked && crdschema::has_rules(root))
    diags.info(r, "",
               "some validation rules were not checked because the object was invalid; correct the existing errors "
               "to complete validation");
}

}  // namespace lg::ctrl
