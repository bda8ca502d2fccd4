// Compiler golden tests: every tests/golden/compile/<case>.yaml, compiled for
// the node in <case>.node.json, must give exactly <case>.json.
// LG_UPDATE_GOLDEN=1 rewrites the .json files instead of comparing.
#include "ctrl/compile/compiler.h"
#include "ctrl/crd/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lg::ctrl {
namespace {

namespace fs = std::filesystem;

std::string golden_dir() {
  const char* d = std::getenv("LG_GOLDEN_DIR");
  return d ? d : "";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  const std::string dir = golden_dir();
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

GatewayNode load_node(const fs::path& p) {
  GatewayNode node;
  if (!fs::exists(p)) return node;
  const Json j = Json::parse(read_file(p));
  node.id = j.value("id", "");
  node.cluster = j.value("cluster", "");
  node.network = j.value("network", "");
  node.ns = j.value("namespace", "");
  if (j.contains("labels"))
    for (const auto& [k, v] : j["labels"].items()) node.labels[k] = v.get<std::string>();
  return node;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// A unified-style diff (LCS), enough to see what changed.
std::string diff(const std::string& expected, const std::string& actual) {
  const auto a = lines(expected), b = lines(actual);
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;) lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::string out;
  size_t i = 0, j = 0, shown = 0;
  while ((i < n || j < m) && shown < 200) {
    if (i < n && j < m && a[i] == b[j]) {
      ++i, ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.append("-").append(std::to_string(i + 1)).append(": ").append(a[i]).append("\n");
      ++i;
      ++shown;
    } else {
      out.append("+").append(std::to_string(j + 1)).append(": ").append(b[j]).append("\n");
      ++j;
      ++shown;
    }
  }
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpectedSnapshot) {
  const fs::path dir = golden_dir();
  const std::string name = GetParam();
  Diagnostics diags;
  const auto resources = load_text(read_file(dir / (name + ".yaml")), name + ".yaml", diags);
  for (const Diagnostic& d : diags.items()) ADD_FAILURE() << d.format();
  ASSERT_FALSE(resources.empty());
  const GatewayNode node = load_node(dir / (name + ".node.json"));
  const std::string actual = snapshot_to_json(compile_snapshot(resources, node));
  const fs::path expected_path = dir / (name + ".json");
  const char* update = std::getenv("LG_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(expected_path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path)) << expected_path << " missing; run with LG_UPDATE_GOLDEN=1 to create it";
  const std::string expected = read_file(expected_path);
  EXPECT_TRUE(expected == actual) << name << ": snapshot differs from " << expected_path << " (- expected, + actual):\n"
                                  << diff(expected, actual);
}

INSTANTIATE_TEST_SUITE_P(Compile, Golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The suite must not pass by finding nothing.
TEST(GoldenCorpus, HasTheRequiredCases) {
  const auto found = cases();
  for (const char* required : {"bookinfo", "https-simple", "tcp-route", "tls-passthrough", "east-west",
                               "egress-tls-origination", "strict-mtls-deny-all", "local-rate-limit", "two-gateways"})
    EXPECT_NE(std::find(found.begin(), found.end(), required), found.end()) << "missing golden case " << required;
}

}  // namespace
}  // namespace lg::ctrl
