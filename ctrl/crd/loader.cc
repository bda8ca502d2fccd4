#include "ctrl/crd/loader.h"

#include "ctrl/crd/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace lg::ctrl {
namespace {

namespace fs = std::filesystem;

// A manifest bigger than this is almost certainly not one (e.g. a device node).
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

struct Chunk {
  std::string text;
  int first_line = 1;  // 1-based line of the chunk's first line in the file
};

std::string_view trim_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// "---" / "..." at column 0, alone or followed by whitespace (YAML 1.2 §9.1.2).
bool is_marker(std::string_view line, std::string_view marker) {
  line = trim_cr(line);
  if (line.substr(0, 3) != marker) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t';
}

// Splits a stream at document markers so one broken document does not hide
// the others and every document knows the line it starts on.
std::vector<Chunk> split_documents(const std::string& text) {
  std::vector<Chunk> chunks(1);
  size_t pos = 0;
  int line_no = 1;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 byte order mark
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    if (is_marker(line, "---")) {
      chunks.push_back(Chunk{"", line_no});
      chunks.back().text.append(line).append("\n");
    } else if (is_marker(line, "...")) {
      chunks.push_back(Chunk{"", line_no + 1});
    } else {
      chunks.back().text.append(line).append("\n");
    }
    pos = end + 1;
    ++line_no;
  }
  return chunks;
}

// Only blank lines, comments, directives and the marker itself: kubectl skips these.
bool is_blank(const std::string& chunk) {
  std::istringstream in(chunk);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = trim_cr(line);
    if (is_marker(l, "---")) l.remove_prefix(3);
    const size_t first = l.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    if (l[first] == '#' || (first == 0 && l[0] == '%')) continue;
    return false;
  }
  return true;
}

void report(Diagnostics& diags, const Source& src, std::string path, std::string message) {
  Diagnostic d;
  d.src = src;
  d.path = std::move(path);
  d.message = std::move(message);
  diags.add(std::move(d));
}

// Turns one converted document into a Resource; false (with diagnostics) when
// it lacks what every Kubernetes object must have.
bool make_resource(Json obj, const Source& src, Diagnostics& diags, std::vector<Resource>& out) {
  bool ok = true;
  const auto str_field = [&](const char* key) -> std::string {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
      report(diags, src, key, std::string("Required value: ") + key + " not set");
      ok = false;
      return {};
    }
    if (!it->is_string()) {
      report(diags, src, key, "Invalid value: " + it->dump() + ": must be a string");
      ok = false;
      return {};
    }
    return it->get<std::string>();
  };
  Resource r;
  r.src = src;
  r.api_version = str_field("apiVersion");
  r.kind = str_field("kind");
  if (!r.api_version.empty()) {
    const size_t slash = r.api_version.find('/');
    if (slash == std::string::npos) {
      r.version = r.api_version;
    } else if (r.api_version.find('/', slash + 1) != std::string::npos || slash == 0 ||
               slash + 1 == r.api_version.size()) {
      report(diags, src, "apiVersion", "Invalid value: \"" + r.api_version + "\": must be <group>/<version> or <version>");
      ok = false;
    } else {
      r.group = r.api_version.substr(0, slash);
      r.version = r.api_version.substr(slash + 1);
    }
  }
  r.ns = "default";
  const auto md = obj.find("metadata");
  const Json* name = nullptr;
  if (md != obj.end() && md->is_object()) {
    const auto n = md->find("name");
    if (n != md->end()) name = &*n;
    const auto ns = md->find("namespace");
    if (ns != md->end() && ns->is_string() && !ns->get<std::string>().empty()) r.ns = ns->get<std::string>();
  } else if (md != obj.end() && !md->is_null()) {
    report(diags, src, "metadata", "Invalid value: " + md->dump() + ": metadata must be of type object");
    ok = false;
  }
  if (name == nullptr || name->is_null() || (name->is_string() && name->get<std::string>().empty())) {
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
    report(diags, src, "metadata.name", "Required value: name is required" +
                                            (r.kind.empty() ? std::string() : " (" + r.kind + ")"));
    ok = false;
  } else if (!name->is_string()) {
    report(diags, src, "metadata.name", "Invalid value: " + name->dump() + ": must be a string");
    ok = false;
  } else {
    r.name = name->get<std::string>();
  }
  if (!ok) return false;
  r.obj = std::move(obj);
  out.push_back(std::move(r));
  return true;
}

std::vector<Resource> load_chunks(const std::string& text, const std::string& origin, Diagnostics& diags) {
  std::vector<Resource> out;
  int doc = 0;
  for (const Chunk& chunk : split_documents(text)) {
    if (is_blank(chunk.text)) continue;
    Source src{origin, "", chunk.first_line};
    YAML::Node node;
    try {
      node = YAML::Load(chunk.text);
    } catch (const YAML::Exception& e) {
      src.doc = std::to_string(++doc);
      const int line = chunk.first_line + (e.mark.line >= 0 ? e.mark.line : 0);
      src.line = line;
      report(diags, src, "",
             "YAML syntax error at line " + std::to_string(line) + ", column " + std::to_string(e.mark.column + 1) +
                 ": " + e.msg);
      continue;
    }
    if (node.IsNull() || !node.IsDefined()) continue;  // e.g. a document that is only `~`
    src.doc = std::to_string(++doc);
    src.line = chunk.first_line + node.Mark().line;
    if (!node.IsMap()) {
      report(diags, src, "", "document is not a mapping (expected apiVersion, kind, metadata, ...)");
      continue;
    }
    std::vector<yamljson::Issue> issues;
    Json obj;
    try {
      // Generous for real manifests (a value per ~2 bytes of text), small
      // enough that an alias bomb fails fast.
      obj = yamljson::convert(node, issues, 100'000 + 10 * chunk.text.size(), &chunk.text);
    } catch (const std::exception& e) {
      report(diags, src, "", std::string("cannot convert YAML to JSON: ") + e.what());
      continue;
    }
    for (const yamljson::Issue& issue : issues) {
      Source at = src;
      at.line = chunk.first_line + issue.line - 1;
      report(diags, at, "", "line " + std::to_string(at.line) + ": " + issue.message);
    }
    // kubectl treats `kind: List` as a bag of objects; each item stands alone.
    const auto kind = obj.find("kind");
    if (kind != obj.end() && kind->is_string() && kind->get<std::string>() == "List") {
      const auto items = obj.find("items");
      if (items == obj.end() || items->is_null()) continue;
      if (!items->is_array()) {
        report(diags, src, "items", "Invalid value: items of a List must be a list");
        continue;
      }
      const YAML::Node yitems = node["items"];
      for (size_t i = 0; i < items->size(); ++i) {
        Source isrc = src;
        isrc.doc = src.doc + "." + std::to_string(i + 1);
        if (yitems.IsSequence() && i < yitems.size()) isrc.line = chunk.first_line + yitems[i].Mark().line;
        Json& item = (*items)[i];
        if (!item.is_object()) {
          report(diags, isrc, "", "List item is not a mapping (expected apiVersion, kind, metadata, ...)");
          continue;
        }
        make_resource(std::move(item), isrc, diags, out);
      }
      continue;
    }
    make_resource(std::move(obj), src, diags, out);
  }
  return out;
}

bool manifest_extension(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

void load_file(const fs::path& path, Diagnostics& diags, std::vector<Resource>& out) {
  const Source src{path.string(), "", 0};
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    report(diags, src, "", "file is larger than 64 MiB; not a manifest");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    report(diags, src, "", "cannot read file");
    return;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    report(diags, src, "", "error while reading file");
    return;
  }
  std::vector<Resource> docs = load_chunks(text, path.string(), diags);
  std::move(docs.begin(), docs.end(), std::back_inserter(out));
}

}  // namespace

std::vector<Resource> load_text(const std::string& yaml_text, const std::string& origin, Diagnostics& diags) {
  return load_chunks(yaml_text, origin, diags);
}

std::vector<Resource> load_paths(const std::vector<std::string>& paths, Diagnostics& diags) {
  std::vector<Resource> out;
  for (const std::string& p : paths) {
    if (p == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      std::vector<Resource> docs = load_chunks(text, "<stdin>", diags);
      std::move(docs.begin(), docs.end(), std::back_inserter(out));
      continue;
    }
    const fs::path path(p);
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      report(diags, Source{p, "", 0}, "", "no such file or directory");
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
      for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec) && manifest_extension(it->path())) files.push_back(it->path());
      }
      if (ec) report(diags, Source{p, "", 0}, "", "cannot list directory: " + ec.message());
      std::sort(files.begin(), files.end());
      if (files.empty() && !ec) {
        Diagnostic d;
        d.severity = Severity::warning;
        d.src = Source{p, "", 0};
        d.message = "no *.yaml, *.yml or *.json files in this directory";
        diags.add(std::move(d));
      }
      for (const fs::path& f : files) load_file(f, diags, out);
      continue;
    }
    if (!fs::is_regular_file(st)) {
      report(diags, Source{p, "", 0}, "", "not a regular file or directory");
      continue;
    }
    load_file(path, diags, out);
  }
  return out;
}

Json yaml_to_json(const std::string& yaml_text) {
  std::string error;
  return yaml_to_json(yaml_text, error);
}

Json yaml_to_json(const std::string& yaml_text, std::string& error) {
  try {
    std::vector<yamljson::Issue> issues;
    return yamljson::convert(YAML::Load(yaml_text), issues, 100'000 + 10 * yaml_text.size(), &yaml_text);
  } catch (const YAML::Exception& e) {
    error = "YAML syntax error";
    if (e.mark.line >= 0)
      error += " at line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
    error += ": " + e.msg;
  } catch (const std::exception& e) {
    error = std::string("cannot convert YAML to JSON: ") + e.what();
  }
  return Json(Json::value_t::discarded);
}

}  // namespace lg::ctrl
