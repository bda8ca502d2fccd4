#include "ctrl/crd/objectmeta.h"

#include "ctrl/crd/k8s_names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace lg::ctrl {
namespace {

// ObjectMeta's fields (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/).
constexpr std::array<std::string_view, 15> kObjectMetaFields = {
    "name",          "generateName",      "namespace",         "selfLink",
    "uid",           "resourceVersion",   "generation",        "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
    "ownerReferences", "finalizers",      "managedFields"};

// Annotations may not exceed 256 KiB in total (TotalAnnotationSizeLimitB).
constexpr size_t kAnnotationBytes = 256 * 1024;

std::string dns1035_label(const std::string& s) {
  static const std::string fmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
  if (s.size() > 63) return "must be no more than 63 characters";
  const auto lower_digit_dash = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  const bool ok = !s.empty() && s.front() >= 'a' && s.front() <= 'z' &&
                  std::all_of(s.begin(), s.end(), lower_digit_dash) && s.back() != '-';
  if (ok) return {};
  return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
         "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
         "is '" + fmt + "')";
}

void string_map(const Json& md, const char* field, bool labels, fielderr::List& errs) {
  const auto it = md.find(field);
  if (it == md.end() || it->is_null()) return;
  const std::string path = std::string("metadata.") + field;
  if (!it->is_object()) {
    errs.push_back(fielderr::wrong_type(path, "object", *it));
    return;
  }
  size_t total = 0;
  for (const auto& [k, v] : it->items()) {
    std::string key = k;
    if (!labels) std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    if (std::string e = k8snames::qualified_name(key); !e.empty()) errs.push_back(fielderr::invalid(path, Json(k), e));
    if (!v.is_string()) {
      errs.push_back(fielderr::wrong_type(path_key(path, k), "string", v));
      continue;
    }
    const std::string& s = v.get_ref<const std::string&>();
    total += k.size() + s.size();
    if (labels)
      if (std::string e = k8snames::label_value(s); !e.empty()) errs.push_back(fielderr::invalid(path_key(path, k), v, e));
  }
  if (!labels && total > kAnnotationBytes)
    errs.push_back(fielderr::too_long(path, static_cast<long long>(kAnnotationBytes)));
}

}  // namespace

void validate_object_meta(const Json& obj, NameRule name_rule, fielderr::List& errs) {
  const auto md = obj.find("metadata");
  if (md == obj.end() || md->is_null()) return;  // the loader reports the missing name
  if (!md->is_object()) {
    errs.push_back(fielderr::wrong_type("metadata", "object", *md));
    return;
  }
  for (const auto& [k, v] : md->items()) {
    if (std::find(kObjectMetaFields.begin(), kObjectMetaFields.end(), k) == kObjectMetaFields.end())
      errs.push_back(fielderr::unknown_field("metadata." + k));
  }
  if (const auto n = md->find("name"); n != md->end() && n->is_string() && !n->get<std::string>().empty()) {
    const std::string name = n->get<std::string>();
    const std::string e =
        name_rule == NameRule::dns1035_label ? dns1035_label(name) : k8snames::dns1123_subdomain(name);
    if (!e.empty()) errs.push_back(fielderr::invalid("metadata.name", *n, e));
  }
  if (const auto ns = md->find("namespace"); ns != md->end() && !ns->is_null()) {
    if (!ns->is_string()) {
      errs.push_back(fielderr::wrong_type("metadata.namespace", "string", *ns));
    } else if (!ns->get<std::string>().empty()) {
      if (std::string e = k8snames::dns1123_label(ns->get<std::string>()); !e.empty())
        errs.push_back(fielderr::invalid("metadata.namespace", *ns, e));
    }
  }
  string_map(*md, "labels", true, errs);
  string_map(*md, "annotations", false, errs);
}

}  // namespace lg::ctrl
