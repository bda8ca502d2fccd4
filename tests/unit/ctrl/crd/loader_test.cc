#include "ctrl/crd/loader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace lg::ctrl {
namespace {

namespace fs = std::filesystem;

std::string errors_of(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& x : d.items()) out += x.format() + "\n";
  return out;
}

TEST(Loader, MultiDocumentStreamSkipsEmptyAndCommentOnlyDocuments) {
  const std::string text =
      "---\n"                                   // 1: leading marker, empty document
      "# only a comment\n"                      // 2
      "---\n"                                   // 3
      "apiVersion: networking.istio.io/v1\n"    // 4
      "kind: Gateway\n"                         // 5
      "metadata:\n"                             // 6
      "  name: gw\n"                            // 7
      "  namespace: istio-system\n"             // 8
      "---\n"                                   // 9
      "\n"                                      // 10
      "# comment before content\n"              // 11
      "apiVersion: v1\n"                        // 12
      "kind: Service\n"                         // 13
      "metadata: {name: reviews}\n"             // 14
      "---\n"                                   // 15
      "---\n";                                  // 16: trailing empty document
  Diagnostics d;
  const auto docs = load_text(text, "mesh.yaml", d);
  EXPECT_EQ(d.items().size(), 0u) << errors_of(d);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].src.file, "mesh.yaml");
  EXPECT_EQ(docs[0].src.doc, "1");
  EXPECT_EQ(docs[0].src.line, 4);
  EXPECT_EQ(docs[0].group, "networking.istio.io");
  EXPECT_EQ(docs[0].version, "v1");
  EXPECT_EQ(docs[0].kind, "Gateway");
  EXPECT_EQ(docs[0].ns, "istio-system");
  EXPECT_EQ(docs[0].name, "gw");
  EXPECT_EQ(docs[1].src.doc, "2");
  EXPECT_EQ(docs[1].src.line, 12);
  EXPECT_EQ(docs[1].group, "");
  EXPECT_EQ(docs[1].version, "v1");
  EXPECT_EQ(docs[1].ns, "default");  // namespace defaults like kubectl's
  EXPECT_EQ(docs[1].ref(), "Service default/reviews");
}

TEST(Loader, ListItemsBecomeNumberedDocuments) {
  const std::string text =
      "apiVersion: v1\n"
      "kind: Secret\n"
      "metadata: {name: first}\n"
      "---\n"
      "apiVersion: v1\n"                      // 5
      "kind: List\n"
      "items:\n"
      "- apiVersion: v1\n"                    // 8
      "  kind: Service\n"
      "  metadata: {name: a}\n"
      "- apiVersion: security.istio.io/v1\n"  // 11
      "  kind: PeerAuthentication\n"
      "  metadata: {name: b, namespace: prod}\n";
  Diagnostics d;
  const auto docs = load_text(text, "list.yaml", d);
  EXPECT_FALSE(d.has_errors()) << errors_of(d);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[1].src.doc, "2.1");
  EXPECT_EQ(docs[1].src.line, 8);
  EXPECT_EQ(docs[1].name, "a");
  EXPECT_EQ(docs[2].src.doc, "2.2");
  EXPECT_EQ(docs[2].src.line, 11);
  EXPECT_EQ(docs[2].ref(), "PeerAuthentication prod/b");
  EXPECT_FALSE(docs[2].obj.contains("items"));
}

TEST(Loader, ScalarsAreTypedByYaml12CoreSchema) {
  const Json j = yaml_to_json(
      "int: 80\n"
      "quoted: \"80\"\n"
      "single: '80'\n"
      "neg: -5\n"
      "plus: +5\n"
      "hex: 0x1F\n"
      "oct: 0o17\n"
      "float: 1.5\n"
      "exp: 1e3\n"
      "dotfloat: .5\n"
      "trailing: 5.\n"
      "inf: .inf\n"
      "nan: .NaN\n"
      "t: true\n"
      "T: True\n"
      "f: FALSE\n"
      "yes: yes\n"     // YAML 1.1 boolean, a string in 1.2
      "n1: ~\n"
      "n2: null\n"
      "n3:\n"
      "qnull: '~'\n"
      "str: !!str 3\n"
      "ipv6: [1.2.3.4, 001:db8::, 'a', b: c, d:]\n"
      "ip: 1.2.3.4\n"
      "version: 1.10\n"
      "block: |\n  line\n"
      "80: numeric key\n"
      "big: 18446744073709551615\n"
      "huge: 123456789012345678901234567890\n");
  ASSERT_TRUE(j.is_object()) << j.dump();
  EXPECT_EQ(j["int"], 80);
  EXPECT_TRUE(j["int"].is_number_integer());
  EXPECT_EQ(j["quoted"], "80");
  EXPECT_EQ(j["single"], "80");
  EXPECT_EQ(j["neg"], -5);
  EXPECT_EQ(j["plus"], 5);
  EXPECT_EQ(j["hex"], 31);
  EXPECT_EQ(j["oct"], 15);
  EXPECT_TRUE(j["float"].is_number_float());
  EXPECT_DOUBLE_EQ(j["float"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["exp"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(j["dotfloat"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["trailing"].get<double>(), 5.0);
  EXPECT_TRUE(std::isinf(j["inf"].get<double>()));
  EXPECT_TRUE(std::isnan(j["nan"].get<double>()));
  EXPECT_EQ(j["t"], true);
  EXPECT_EQ(j["T"], true);
  EXPECT_EQ(j["f"], false);
  EXPECT_EQ(j["yes"], "yes");
  EXPECT_TRUE(j["n1"].is_null());
  EXPECT_TRUE(j["n2"].is_null());
  EXPECT_TRUE(j["n3"].is_null());
  EXPECT_EQ(j["qnull"], "~");
  EXPECT_EQ(j["str"], "3");
  // go-yaml (kubectl) reads `001:db8::]` and `d:]` as plain strings; `b: c` stays a pair.
  EXPECT_EQ(j["ipv6"], Json::parse(R"(["1.2.3.4", "001:db8::", "a", {"b": "c"}, "d:"])"));
  EXPECT_EQ(j["ip"], "1.2.3.4");
  EXPECT_DOUBLE_EQ(j["version"].get<double>(), 1.1);
  EXPECT_EQ(j["block"], "line\n");
  EXPECT_EQ(j["80"], "numeric key");
  EXPECT_TRUE(j["big"].is_number_unsigned());
  EXPECT_EQ(j["big"].get<unsigned long long>(), 18446744073709551615ULL);
  EXPECT_TRUE(j["huge"].is_number_float());
}

TEST(Loader, SyntaxErrorIsReportedWithFileDocumentAndLineAndOthersStillLoad) {
  const std::string text =
      "apiVersion: v1\nkind: Service\nmetadata: {name: ok1}\n"  // doc 1, lines 1-3
      "---\n"                                                   // 4
      "apiVersion: v1\n"                                        // 5
      "kind: Service\n"                                         // 6
      "metadata: {name: [broken}\n"                             // 7
      "---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: ok3}\n";
  Diagnostics d;
  const auto docs = load_text(text, "bad.yaml", d);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].name, "ok1");
  EXPECT_EQ(docs[1].name, "ok3");
  EXPECT_EQ(docs[1].src.doc, "3");
  ASSERT_EQ(d.error_count(), 1u) << errors_of(d);
  const Diagnostic& e = d.items()[0];
  EXPECT_EQ(e.src.file, "bad.yaml");
  EXPECT_EQ(e.src.doc, "2");
  EXPECT_GE(e.src.line, 7);
  EXPECT_NE(e.message.find("YAML syntax error at line"), std::string::npos) << e.message;
  EXPECT_NE(e.format().find("bad.yaml (doc 2)"), std::string::npos) << e.format();
}

TEST(Loader, DocumentsWithoutApiVersionKindOrNameAreReportedAndSkipped) {
  const std::string text =
      "kind: Service\nmetadata: {name: a}\n"
      "---\n"
      "apiVersion: v1\nmetadata: {name: b}\n"
      "---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {}\n"
      "---\n"
      "apiVersion: v1\nkind: Service\n"
      "---\n"
      "- just\n- a list\n"
      "---\n"
      "apiVersion: a/b/c\nkind: X\nmetadata: {name: c}\n";
  Diagnostics d;
  const auto docs = load_text(text, "x.yaml", d);
  EXPECT_TRUE(docs.empty());
  std::string all = errors_of(d);
  EXPECT_EQ(d.error_count(), 6u) << all;
  EXPECT_NE(all.find("x.yaml (doc 1) apiVersion: Required value: apiVersion not set"), std::string::npos) << all;
  EXPECT_NE(all.find("x.yaml (doc 2) kind: Required value: kind not set"), std::string::npos) << all;
  EXPECT_NE(all.find("x.yaml (doc 3) metadata.name: Required value"), std::string::npos) << all;
  EXPECT_NE(all.find("x.yaml (doc 4) metadata.name: Required value"), std::string::npos) << all;
  EXPECT_NE(all.find("x.yaml (doc 5) document is not a mapping"), std::string::npos) << all;
  EXPECT_NE(all.find("x.yaml (doc 6) apiVersion: Invalid value: \"a/b/c\""), std::string::npos) << all;
}

TEST(Loader, DuplicateKeysAreErrorsButTheDocumentLoads) {
  Diagnostics d;
  const auto docs = load_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: A\n  type: B\n", "d.yaml", d);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].obj["spec"]["type"], "B");
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_NE(d.items()[0].message.find("duplicate key \"type\""), std::string::npos) << d.items()[0].message;
  EXPECT_EQ(d.items()[0].src.line, 6);
}

TEST(Loader, MergeKeysAnchorsAndCrlf) {
  Diagnostics d;
  const auto docs = load_text(
      "apiVersion: v1\r\nkind: Service\r\nmetadata: {name: a}\r\nbase: &b {x: 1, y: 2}\r\nspec:\r\n  <<: *b\r\n  y: 3\r\n", "m.yaml", d);
  EXPECT_FALSE(d.has_errors()) << errors_of(d);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].obj["spec"], Json({{"x", 1}, {"y", 3}}));
}

TEST(Loader, AliasBombFailsCleanly) {
  std::string text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    // Ten references to the previous level: 10^9 values once expanded.
    const std::string prev = std::to_string(i - 1);
    std::string line = std::string("a").append(std::to_string(i)).append(": &a").append(std::to_string(i)).append(" [");
    for (int k = 0; k < 10; ++k) line.append(k ? ", *a" : "*a").append(prev);
    text += line + "]\n";
  }
  Diagnostics d;
  const auto docs = load_text(text, "bomb.yaml", d);
  EXPECT_TRUE(docs.empty());
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_NE(d.items()[0].message.find("alias expansion"), std::string::npos) << d.items()[0].message;
  EXPECT_TRUE(yaml_to_json(text).is_discarded());
}

class LoaderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lg_crd_loader_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub" / "deeper");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  static std::string svc(const std::string& name) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\n";
  }
  fs::path dir_;
};

TEST_F(LoaderFiles, DirectoriesAreReadRecursivelyInSortedOrder) {
  write("b.yaml", svc("b"));
  write("a.yml", svc("a1") + "---\n" + svc("a2"));
  write("sub/deeper/c.json", R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c", "labels": {"v": "1"}}})");
  write("sub/notes.txt", svc("ignored"));
  write("sub/readme.md", "# not yaml");
  Diagnostics d;
  const auto docs = load_paths({dir_.string()}, d);
  EXPECT_FALSE(d.has_errors()) << errors_of(d);
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].name, "a1");
  EXPECT_EQ(docs[1].name, "a2");
  EXPECT_EQ(docs[1].src.doc, "2");
  EXPECT_EQ(docs[2].name, "b");
  EXPECT_EQ(docs[3].name, "c");
  EXPECT_EQ(docs[3].src.file, (dir_ / "sub" / "deeper" / "c.json").string());
  EXPECT_EQ(docs[3].obj["metadata"]["labels"]["v"], "1");  // JSON strings stay strings
  EXPECT_EQ(docs[3].labels(), (std::vector<std::pair<std::string, std::string>>{{"v", "1"}}));
}

TEST_F(LoaderFiles, ExplicitFilesMissingPathsAndEmptyDirectories) {
  write("one.yaml", svc("one"));
  fs::create_directories(dir_ / "empty");
  Diagnostics d;
  const auto docs = load_paths({(dir_ / "one.yaml").string(), (dir_ / "missing.yaml").string(), (dir_ / "empty").string()}, d);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].src.file, (dir_ / "one.yaml").string());
  EXPECT_EQ(d.error_count(), 1u) << errors_of(d);
  EXPECT_EQ(d.warning_count(), 1u) << errors_of(d);
  EXPECT_NE(errors_of(d).find("missing.yaml no such file or directory"), std::string::npos) << errors_of(d);
}

}  // namespace
}  // namespace lg::ctrl
