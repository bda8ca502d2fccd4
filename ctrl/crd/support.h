// Field-level support: every field Istio documents for a supported kind is
// either implemented by linegate or reported, with a warning naming its path,
// when a document sets it. The same table generates docs/crd-support.md.
#pragma once

#include "ctrl/crd/resource.h"

#include <string>

namespace lg::ctrl {

// One warning per set field whose status is "not supported".
void report_unsupported_fields(const Resource& resource, Diagnostics& diags);

// The Markdown of docs/crd-support.md (a test checks the committed file matches).
std::string crd_support_markdown();

}  // namespace lg::ctrl
