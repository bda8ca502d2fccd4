// Istio's own corpus (istio/api tests/testdata): every document of a
// *-valid.yaml file must pass the schema checks, every document of a
// *-invalid.yaml file must fail with an error containing its `_err:` text.
// Kinds linegate does not implement (WorkloadGroup, ProxyConfig, WasmPlugin)
// must be reported as unsupported by the kind check — and are still held to
// the same schema expectations, since validate_schema() checks every kind
// whose CRD is loaded (here from istio/api's CRD file, via LINEGATE_CRDS).
#include "ctrl/crd/kinds.h"
#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema.h"
#include "tests/unit/ctrl/crd/crd_test_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace lg::ctrl {
namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() {
  const char* d = std::getenv("LG_ISTIO_CORPUS");
  return d ? fs::path(d) : fs::path();
}

std::vector<fs::path> corpus_files(const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(corpus_dir())) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Outcome {
  bool as_expected = false;
  std::string detail;
};

Outcome check_document(const Resource& r, bool expect_valid) {
  Diagnostics d;
  const KindInfo* info = find_kind(r.group, r.kind);
  const bool proceed = check_kind(r, d);
  Outcome o;
  if (info == nullptr) {
    o.detail = "kind " + r.kind + " is unknown to linegate";
    return o;
  }
  if (info->support == KindSupport::unsupported) {
    bool reported = false;
    for (const Diagnostic& x : d.items())
      reported = reported || (x.severity == Severity::warning && x.message.find("not supported") != std::string::npos);
    if (proceed || !reported) {
      o.detail = r.kind + " was not reported as unsupported";
      return o;
    }
  }
  validate_schema(r, d);
  std::vector<std::string> errors;
  for (const Diagnostic& x : d.items())
    if (x.severity == Severity::error) errors.push_back(x.format());
  if (expect_valid) {
    o.as_expected = errors.empty();
    for (const auto& e : errors) o.detail += "\n    unexpected: " + e;
    return o;
  }
  const auto want = r.obj.find("_err");
  if (want == r.obj.end() || !want->is_string()) {
    o.detail = "invalid document without an _err string";
    return o;
  }
  const std::string expected = want->get<std::string>();
  for (const auto& e : errors) o.as_expected = o.as_expected || e.find(expected) != std::string::npos;
  if (!o.as_expected) {
    o.detail = "\n    expected an error containing: " + expected;
    if (errors.empty()) o.detail += "\n    got no error";
    for (const auto& e : errors) o.detail += "\n    got: " + e;
  }
  return o;
}

void run_files(const std::string& suffix, bool expect_valid) {
  if (corpus_dir().empty() || !fs::is_directory(corpus_dir())) GTEST_SKIP() << "Istio corpus not found (LG_ISTIO_CORPUS)";
  LG_REQUIRE_ISTIO_CRDS();
  // The default source (LINEGATE_CRDS) must have loaded, or every check below is skipped with a warning.
  ASSERT_EQ(crd_schema_source().rfind("none", 0), std::string::npos) << crd_schema_source();
  const auto files = corpus_files(suffix);
  ASSERT_FALSE(files.empty()) << "no *" << suffix << " in " << corpus_dir();
  size_t total = 0, passed = 0;
  for (const fs::path& f : files) {
    Diagnostics load;
    const auto docs = load_paths({f.string()}, load);
    for (const Diagnostic& x : load.items()) ADD_FAILURE() << "loader: " << x.format();
    EXPECT_FALSE(docs.empty()) << f;
    size_t ok = 0;
    for (const Resource& r : docs) {
      const Outcome o = check_document(r, expect_valid);
      ok += o.as_expected;
      EXPECT_TRUE(o.as_expected) << f.filename().string() << " (doc " << r.src.doc << ", line " << r.src.line << ") "
                                 << r.ref() << ": " << o.detail;
    }
    std::cout << "  " << f.filename().string() << ": " << ok << "/" << docs.size() << " documents "
              << (expect_valid ? "valid" : "rejected with their _err") << "\n";
    total += docs.size();
    passed += ok;
  }
  std::cout << "  total: " << passed << "/" << total << "\n";
}

TEST(IstioCorpus, ValidDocumentsPass) { run_files("-valid.yaml", true); }
TEST(IstioCorpus, InvalidDocumentsFailWithTheirError) { run_files("-invalid.yaml", false); }

}  // namespace
}  // namespace lg::ctrl
