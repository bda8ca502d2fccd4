// Structural checks as the Kubernetes API server makes them for Istio's CRDs:
// the OpenAPI v3 schema (types, enums, required, lengths, patterns, ranges,
// unknown fields) and the CEL rules (x-kubernetes-validations), from the
// CustomResourceDefinitions of the user's Istio installation, read at run
// time (load_crd_schemas). Kubernetes kinds linegate reads
// (Service, Endpoints, EndpointSlice, Secret) get equivalent hand-written
// checks. Messages follow the API server's wording, e.g.
//   spec.mtls.mode: Unsupported value: "BLAH": supported values: "UNSET", "DISABLE", ...
//   spec.portLevelMtls: Invalid value: "object": portLevelMtls requires selector
#pragma once

#include "ctrl/crd/resource.h"

#include <string>
#include <vector>

namespace lg::ctrl {

// Reads the CRD schemas from `paths` — files or directories (*.yaml, *.yml,
// *.json) holding apiextensions.k8s.io/v1 CustomResourceDefinitions: Istio's
// crd-all.gen.yaml (a multi-document stream) or `kubectl get crd -o yaml`
// (a `kind: List`). Other documents are ignored. On success the new set
// replaces the one in use (thread-safe: validations already running finish
// with the old set). On failure returns false with `error` set (may be
// null) and keeps schemas loaded before; if none were, the failure is kept
// so validate_schema() warns with it. An empty `paths` unloads all schemas.
//
// Without a call, the first validation loads the default source: the
// colon-separated paths in env LINEGATE_CRDS if set, else /etc/linegate/crds
// if it exists, else none.
bool load_crd_schemas(const std::vector<std::string>& paths, std::string* error);

// What is loaded: "12 CRDs from /path", "none", or "none (cannot load CRD
// schemas from /path: <why>)".
std::string crd_schema_source();

// Appends one error per violation to `diags` (nothing when the document is valid).
// Every kind whose schema is loaded is checked, including Istio kinds
// linegate does not implement (WasmPlugin, WorkloadGroup, ...), so analyze
// lints them as the API server would. A supported Istio kind without a loaded
// schema gets one warning (no CRD schema loaded, or why the source failed);
// other kinds without a schema are left to check_kind() (kinds.h). When a type, required, enum or size error is found
// the CEL rules are skipped, as the API server skips them, and one info
// diagnostic says so. Checks linegate cannot make (a CEL rule outside the
// supported subset) are warnings, never silent.
void validate_schema(const Resource& resource, Diagnostics& diags);

}  // namespace lg::ctrl
