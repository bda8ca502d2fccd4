#include "ctrl/crd/resource.h"

namespace lg::ctrl {

std::string Resource::ref() const {
  if (ns.empty()) return kind + " " + name;
  return kind + " " + ns + "/" + name;
}

std::vector<std::pair<std::string, std::string>> Resource::labels() const {
  std::vector<std::pair<std::string, std::string>> out;
  const auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return out;
  const auto l = md->find("labels");
  if (l == md->end() || !l->is_object()) return out;
  for (const auto& [k, v] : l->items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

static const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "Error";
    case Severity::warning: return "Warning";
    case Severity::info: return "Info";
  }
  return "Error";
}

std::string Diagnostic::format() const {
  std::string out = severity_name(severity);
  out += ": ";
  if (!src.file.empty()) {
    out += src.file;
    if (!src.doc.empty()) out += " (doc " + src.doc + ")";
    out += " ";
  }
  if (!kind.empty()) {
    out += kind;
    out += " ";
    out += ns.empty() ? name : ns + "/" + name;
    out += ": ";
  }
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

static Diagnostic about_resource(Severity sev, const Resource& r, std::string path, std::string message) {
  Diagnostic d;
  d.severity = sev;
  d.src = r.src;
  d.kind = r.kind;
  d.ns = r.ns;
  d.name = r.name;
  d.path = std::move(path);
  d.message = std::move(message);
  return d;
}

void Diagnostics::error(const Resource& r, std::string path, std::string message) {
  add(about_resource(Severity::error, r, std::move(path), std::move(message)));
}
void Diagnostics::warning(const Resource& r, std::string path, std::string message) {
  add(about_resource(Severity::warning, r, std::move(path), std::move(message)));
}
void Diagnostics::info(const Resource& r, std::string path, std::string message) {
  add(about_resource(Severity::info, r, std::move(path), std::move(message)));
}
void Diagnostics::file_error(const Source& src, std::string message) {
  Diagnostic d;
  d.src = src;
  d.message = std::move(message);
  add(std::move(d));
}

bool Diagnostics::has_errors() const { return error_count() != 0; }

size_t Diagnostics::error_count() const {
  size_t n = 0;
  for (const Diagnostic& d : items_) n += d.severity == Severity::error;
  return n;
}

size_t Diagnostics::warning_count() const {
  size_t n = 0;
  for (const Diagnostic& d : items_) n += d.severity == Severity::warning;
  return n;
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

std::string path_field(const std::string& base, const std::string& field) {
  return base.empty() ? field : base + "." + field;
}
std::string path_index(const std::string& base, size_t index) { return base + "[" + std::to_string(index) + "]"; }
std::string path_key(const std::string& base, const std::string& key) { return base + "[" + key + "]"; }

}  // namespace lg::ctrl
