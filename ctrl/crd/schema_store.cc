// Istio's CRDs → schema trees: build_node() for one OpenAPI v3 schema,
// read_crds() for whole CustomResourceDefinition documents
// (https://kubernetes.io/docs/reference/kubernetes-api/extend-resources/custom-resource-definition-v1/).
#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema_model.h"

#include <stdexcept>

namespace lg::ctrl::crdschema {
namespace {

std::optional<long long> opt_int(const Json& s, const char* key) {
  const auto it = s.find(key);
  if (it == s.end() || !it->is_number()) return std::nullopt;
  return it->get<long long>();
}

std::optional<double> opt_double(const Json& s, const char* key) {
  const auto it = s.find(key);
  if (it == s.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

std::unique_ptr<Node> build_node(const Json& s) {
  auto n = std::make_unique<Node>();
  if (!s.is_object()) return n;
  n->type = s.value("type", "");
  n->nullable = s.value("nullable", false);
  n->int_or_string = s.value("x-kubernetes-int-or-string", false);
  n->preserve_unknown = s.value("x-kubernetes-preserve-unknown-fields", false);
  n->format = s.value("format", "");
  if (const auto e = s.find("enum"); e != s.end() && e->is_array()) n->enum_values.assign(e->begin(), e->end());
  if (const auto r = s.find("required"); r != s.end() && r->is_array())
    for (const Json& k : *r) n->required.push_back(k.get<std::string>());
  n->min_length = opt_int(s, "minLength");
  n->max_length = opt_int(s, "maxLength");
  n->min_items = opt_int(s, "minItems");
  n->max_items = opt_int(s, "maxItems");
  n->min_properties = opt_int(s, "minProperties");
  n->max_properties = opt_int(s, "maxProperties");
  n->minimum = opt_double(s, "minimum");
  n->maximum = opt_double(s, "maximum");
  n->exclusive_minimum = s.value("exclusiveMinimum", false);
  n->exclusive_maximum = s.value("exclusiveMaximum", false);
  n->pattern = s.value("pattern", "");
  if (!n->pattern.empty()) {
    RE2::Options opts;
    opts.set_log_errors(false);
    n->pattern_re = std::make_unique<RE2>(n->pattern, opts);
    if (!n->pattern_re->ok()) throw std::runtime_error("pattern " + n->pattern + ": " + n->pattern_re->error());
  }
  if (const auto p = s.find("properties"); p != s.end() && p->is_object())
    for (const auto& [name, sub] : p->items()) n->properties.emplace(name, build_node(sub));
  if (const auto a = s.find("additionalProperties"); a != s.end() && a->is_object()) n->additional_properties = build_node(*a);
  if (const auto i = s.find("items"); i != s.end() && i->is_object()) n->items = build_node(*i);
  for (const auto& [key, list] : {std::pair{"allOf", &n->all_of}, {"oneOf", &n->one_of}, {"anyOf", &n->any_of}})
    if (const auto it = s.find(key); it != s.end() && it->is_array())
      for (const Json& sub : *it) list->push_back(build_node(sub));
  if (const auto nt = s.find("not"); nt != s.end() && nt->is_object()) n->not_ = build_node(*nt);
  n->list_type = s.value("x-kubernetes-list-type", "");
  if (const auto k = s.find("x-kubernetes-list-map-keys"); k != s.end() && k->is_array())
    for (const Json& key : *k) n->list_map_keys.push_back(key.get<std::string>());
  if (const auto v = s.find("x-kubernetes-validations"); v != s.end() && v->is_array()) {
    for (const Json& r : *v) {
      Rule rule;
      rule.rule = r.value("rule", "");
      rule.message = r.value("message", "");
      rule.message_expression = r.value("messageExpression", "");
      rule.field_path = r.value("fieldPath", "");
      cel::CompileResult c = cel::compile(rule.rule);
      rule.program = std::move(c.program);
      if (!rule.program) rule.compile_error = c.error.empty() ? "compile error" : c.error;
      n->rules.push_back(std::move(rule));
    }
  }
  return n;
}

namespace {

// One CustomResourceDefinition (apiextensions.k8s.io/v1) → Crd. Throws on a
// malformed document; the caller names the file.
Crd parse_crd(const Json& obj) {
  const Json& spec = obj.at("spec");
  Crd crd;
  crd.group = spec.at("group").get<std::string>();
  crd.kind = spec.at("names").at("kind").get<std::string>();
  crd.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
  for (const Json& v : spec.at("versions")) {
    Version ver;
    ver.name = v.at("name").get<std::string>();
    ver.served = v.value("served", true);
    ver.storage = v.value("storage", false);
    const auto schema = v.find("schema");
    if (schema != v.end() && schema->is_object() && schema->contains("openAPIV3Schema")) {
      Json root = schema->at("openAPIV3Schema");
      // status is a subresource: the API server ignores it on create.
      if (const auto props = root.find("properties"); props != root.end() && props->is_object()) props->erase("status");
      ver.root = build_node(root);
    }
    crd.versions.push_back(std::move(ver));
  }
  return crd;
}

std::string where(const Resource& r) {
  std::string w = r.src.file;
  if (!r.src.doc.empty()) w.append(" (doc ").append(r.src.doc).append(")");
  return w;
}

std::string join(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

}  // namespace

const Version* Crd::version(const std::string& name) const {
  for (const Version& v : versions)
    if (v.name == name) return &v;
  return nullptr;
}

const Version* Crd::storage_version() const {
  for (const Version& v : versions)
    if (v.storage) return &v;
  return versions.empty() ? nullptr : &versions.front();
}

const Crd* SchemaSet::find_crd(const std::string& group, const std::string& kind) const {
  for (const Crd& c : crds)
    if (c.group == group && c.kind == kind) return &c;
  return nullptr;
}

const Node* SchemaSet::find_schema(const std::string& group, const std::string& kind, const std::string& version) const {
  const Crd* crd = find_crd(group, kind);
  if (crd == nullptr) return nullptr;
  const Version* v = crd->version(version);
  return v != nullptr && v->served ? v->root.get() : nullptr;
}

bool read_crds(const std::vector<std::string>& paths, SchemaSet& out, std::string& error) {
  // The loader's reading and YAML→JSON typing, so CRDs and manifests are read alike.
  Diagnostics diags;
  const std::vector<Resource> docs = load_paths(paths, diags);
  for (const Diagnostic& d : diags.items()) {
    if (d.severity != Severity::error) continue;
    error = d.src.file;
    if (!d.src.doc.empty()) error.append(" (doc ").append(d.src.doc).append(")");
    if (!d.path.empty()) error.append(": ").append(d.path);
    error.append(": ").append(d.message);
    return false;
  }
  std::vector<Crd> crds;
  for (const Resource& r : docs) {
    if (r.group != "apiextensions.k8s.io" || r.kind != "CustomResourceDefinition") continue;
    if (r.version != "v1") {
      error = where(r);
      error.append(": ").append(r.api_version).append(" CustomResourceDefinition ").append(r.name);
      error += " is not supported; export the CRDs as apiextensions.k8s.io/v1";
      return false;
    }
    try {
      Crd crd = parse_crd(r.obj);
      bool replaced = false;
      for (Crd& c : crds) {
        if (c.group != crd.group || c.kind != crd.kind) continue;
        c = std::move(crd);  // as a later `kubectl apply` of the same CRD would
        replaced = true;
        break;
      }
      if (!replaced) crds.push_back(std::move(crd));
    } catch (const std::exception& e) {
      error = where(r);
      std::string what = e.what();
      // nlohmann's "[json.exception.out_of_range.403] key 'group' not found": keep the readable part.
      if (what.rfind("[json.exception.", 0) == 0 && what.find("] ") != std::string::npos) what.erase(0, what.find("] ") + 2);
      error.append(": CustomResourceDefinition ").append(r.name).append(" is malformed: ").append(what);
      return false;
    }
  }
  if (crds.empty()) {
    error = "no apiextensions.k8s.io/v1 CustomResourceDefinition in ";
    error += join(paths);
    return false;
  }
  out.crds = std::move(crds);
  out.source = std::to_string(out.crds.size());
  out.source.append(out.crds.size() == 1 ? " CRD from " : " CRDs from ").append(join(paths));
  out.error.clear();
  return true;
}

}  // namespace lg::ctrl::crdschema
