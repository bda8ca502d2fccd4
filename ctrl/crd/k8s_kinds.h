// Hand-written structural checks for the Kubernetes objects linegate reads
// (Service, Endpoints, EndpointSlice, Secret, ConfigMap): Kubernetes validates these in
// Go code, not with an OpenAPI schema, so there is no CRD schema to load.
#pragma once

#include "ctrl/crd/field_error.h"

namespace lg::ctrl {

// False when `r` is not one of those kinds (nothing appended).
bool validate_kubernetes_kind(const Resource& r, fielderr::List& errs);

}  // namespace lg::ctrl
