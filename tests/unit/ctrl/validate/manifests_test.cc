// The manifest corpus under tests/testdata/manifests/:
//   valid/*.yaml   — realistic configurations: analyze() reports no error, and
//                    together they use every kind linegate supports;
//   invalid/*.yaml — each starts with `# expect: <text>` (and optionally
//                    `# severity: warning|info`, default error): analyze() must
//                    report a diagnostic of that severity whose formatted text
//                    contains <text>.
// LG_MANIFESTS (set by meson) points at tests/testdata/manifests.
#include "ctrl/crd/kinds.h"
#include "ctrl/crd/loader.h"
#include "ctrl/validate/analyze.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace lg::ctrl;

namespace {

fs::path manifests_dir() {
  const char* env = std::getenv("LG_MANIFESTS");
  return env != nullptr ? fs::path(env) : fs::path("tests/testdata/manifests");
}

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string dump(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& x : d.items()) out += "  " + x.format() + "\n";
  return out;
}

struct Expectation {
  std::string text;
  Severity severity = Severity::error;
};

Expectation read_expectation(const fs::path& file) {
  Expectation e;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    if (line.rfind("# expect: ", 0) == 0) e.text = line.substr(10);
    if (line == "# severity: warning") e.severity = Severity::warning;
    if (line == "# severity: info") e.severity = Severity::info;
  }
  return e;
}

}  // namespace

TEST(ValidManifests, EachFileAnalyzesWithoutErrors) {
  const auto files = yaml_files(manifests_dir() / "valid");
  ASSERT_GE(files.size(), 10u) << "no valid manifests under " << manifests_dir();
  for (const fs::path& f : files) {
    Diagnostics d;
    const auto resources = load_paths({f.string()}, d);
    EXPECT_FALSE(resources.empty()) << f;
    analyze(resources, d);
    EXPECT_EQ(d.error_count(), 0u) << f << ":\n" << dump(d);
  }
}

TEST(ValidManifests, EverySupportedKindAppears) {
  Diagnostics d;
  const auto resources = load_paths({(manifests_dir() / "valid").string()}, d);
  std::set<std::string> seen;
  for (const Resource& r : resources) seen.insert(r.group + "/" + r.kind);
  size_t supported = 0;
  for (const KindInfo& k : all_kinds()) {
    if (k.support != KindSupport::supported) continue;
    ++supported;
    EXPECT_TRUE(seen.count(std::string(k.group) + "/" + std::string(k.kind)) != 0)
        << "no valid manifest uses " << k.group << "/" << k.kind;
  }
  EXPECT_GE(supported, 15u);
}

TEST(ValidManifests, AllTogetherStillAnalyzeClean) {
  // One directory at once, as `linegatectl analyze -f dir` reads it: no
  // duplicate names and no conflicts between scenarios.
  Diagnostics d;
  const auto resources = load_paths({(manifests_dir() / "valid").string()}, d);
  analyze(resources, d);
  EXPECT_EQ(d.error_count(), 0u) << dump(d);
}

TEST(InvalidManifests, EachProducesItsExpectedDiagnostic) {
  const auto files = yaml_files(manifests_dir() / "invalid");
  ASSERT_GE(files.size(), 40u) << "need at least 40 invalid manifests under " << manifests_dir();
  for (const fs::path& f : files) {
    const Expectation want = read_expectation(f);
    ASSERT_FALSE(want.text.empty()) << f << " has no `# expect:` line";
    Diagnostics d;
    const auto resources = load_paths({f.string()}, d);
    analyze(resources, d);
    bool found = false;
    for (const Diagnostic& x : d.items())
      found = found || (x.severity == want.severity && x.format().find(want.text) != std::string::npos);
    EXPECT_TRUE(found) << f.filename() << ": expected a diagnostic containing\n  " << want.text << "\ngot:\n" << dump(d);
  }
}

TEST(InvalidManifests, ErrorsAreFatalOnlyWhenExpected) {
  // A manifest that expects a warning or info must not also produce errors:
  // those are the cases an operator may apply as they are.
  for (const fs::path& f : yaml_files(manifests_dir() / "invalid")) {
    const Expectation want = read_expectation(f);
    if (want.severity == Severity::error) continue;
    Diagnostics d;
    const auto resources = load_paths({f.string()}, d);
    analyze(resources, d);
    EXPECT_EQ(d.error_count(), 0u) << f.filename() << ":\n" << dump(d);
  }
}
