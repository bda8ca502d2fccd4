// analyze(): the whole istioctl-analyze-style pipeline over a resource set.
#include "ctrl/validate/analyze.h"

#include "ctrl/crd/kinds.h"
#include "ctrl/crd/schema.h"
#include "ctrl/crd/support.h"

#include <exception>
#include <map>
#include <string>

namespace lg::ctrl {

namespace {

std::string where(const Source& s) {
  std::string out = s.file.empty() ? "<unknown>" : s.file;
  if (!s.doc.empty()) out += " (doc " + s.doc + ")";
  return out;
}

std::string join_versions(const std::vector<std::string_view>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i != 0 ? ", " : "") + std::string(v[i]);
  return out;
}

}  // namespace

void analyze(const std::vector<Resource>& resources, Diagnostics& diags, const AnalyzeOptions& opts) {
  std::vector<Resource> supported;       // kind and version accepted: cross-resource checks see these
  std::vector<Resource> schema_clean;    // ... and free of schema errors: semantic checks run on these
  std::map<std::string, const Resource*> seen;  // "group/Kind ns/name"
  for (const Resource& r : resources) {
    const KindInfo* k = find_kind(r.group, r.kind);
    if (k == nullptr || k->support != KindSupport::supported) {
      const std::string what = r.group.empty() ? r.kind : r.kind + "." + r.group;
      std::string why = k == nullptr ? "not an Istio or Kubernetes kind linegate reads" : std::string(k->why);
      if (why.empty()) why = "not implemented";
      diags.warning(r, "kind", "kind " + what + " is not supported by linegate: " + why);
      continue;
    }
    bool version_ok = false;
    for (std::string_view v : k->versions) version_ok = version_ok || v == r.version;
    if (!version_ok) {
      diags.error(r, "apiVersion",
                  "apiVersion " + r.api_version + " is not accepted for " + r.kind + "; accepted versions: " +
                      join_versions(k->versions));
      continue;
    }
    const std::string key = r.group + "/" + r.kind + " " + r.ns + "/" + r.name;
    if (const auto [it, fresh] = seen.emplace(key, &r); !fresh) {
      diags.error(r, "metadata.name",
                  "duplicate " + r.kind + " " + r.ns + "/" + r.name + ": defined in " + where(it->second->src) +
                      " and again in " + where(r.src));
      continue;
    }
    const size_t before = diags.error_count();
    try {
      validate_schema(r, diags);
      report_unsupported_fields(r, diags);
    } catch (const std::exception& e) {
      diags.error(r, "", std::string("internal error in schema checks: ") + e.what());
    }
    supported.push_back(r);
    // As with the API server and the webhook: a document the schema rejects
    // never reaches the semantic checks, which would only repeat the problem.
    if (diags.error_count() == before) schema_clean.push_back(r);
  }
  validate_semantics(schema_clean, diags);
  validate_cross_resource(supported, diags, opts);
}

}  // namespace lg::ctrl
