// load_crd_schemas(): CRDs read at run time from files, directories,
// multi-document streams and `kind: List` (kubectl get crd -o yaml), the
// default source (LINEGATE_CRDS), failures, reloads, and the warning when no
// schema is loaded. Tiny CRDs written here stand in for Istio's; one test
// reads istio/api's real file.
#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema.h"
#include "tests/unit/ctrl/crd/crd_test_env.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace lg::ctrl {
namespace {

namespace fs = std::filesystem;

// A CRD (flow style, so it fits a document or a List item) whose only rule is
// spec.mtls.mode ∈ {mode}.
std::string tiny_crd(const std::string& kind, const std::string& group, const std::string& mode) {
  std::string plural = kind;
  for (char& c : plural) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  plural += 's';
  return "{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: " + plural + "." +
         group + "}, spec: {group: " + group + ", names: {kind: " + kind + ", plural: " + plural +
         "}, scope: Namespaced, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: "
         "{type: object, properties: {spec: {type: object, properties: {mtls: {type: object, properties: "
         "{mode: {type: string, enum: [" + mode + "]}}}}}, status: {type: object}}}}}]}}\n";
}

std::string pa_crd(const std::string& mode) { return tiny_crd("PeerAuthentication", "security.istio.io", mode); }

const char* kConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n";

struct Checked {
  std::vector<Diagnostic> errors, warnings;
};

Checked validate(const std::string& yaml) {
  Diagnostics d;
  const auto docs = load_text(yaml, "m.yaml", d);
  EXPECT_EQ(docs.size(), 1u);
  for (const Resource& r : docs) validate_schema(r, d);
  Checked c;
  for (const Diagnostic& x : d.items()) (x.severity == Severity::error ? c.errors : c.warnings).push_back(x);
  return c;
}

Checked validate_pa(const std::string& mode) {
  return validate("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\n"
                  "spec: {mtls: {mode: " + mode + "}}\n");
}

const std::string kVirtualService =
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {hosts: [a]}\n";

class SchemaLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lg_crd_load_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    load_crd_schemas({}, nullptr);
  }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(SchemaLoad, MultiDocumentStreamAndNonCrdDocumentsIgnored) {
  const std::string f = write("crds.yaml", "# Istio CRDs\n---\n" + pa_crd("STRICT") + "---\n" + kConfigMap + "---\n" +
                                               tiny_crd("Sidecar", "networking.istio.io", "X"));
  std::string error = "unchanged?";
  ASSERT_TRUE(load_crd_schemas({f}, &error)) << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(crd_schema_source(), "2 CRDs from " + f);
  EXPECT_TRUE(validate_pa("STRICT").errors.empty());
  const Checked c = validate_pa("PERMISSIVE");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].path, "spec.mtls.mode");
  EXPECT_EQ(c.errors[0].message, "Unsupported value: \"PERMISSIVE\": supported values: \"STRICT\"");
}

TEST_F(SchemaLoad, KubectlListOfCrds) {
  // The shape of `kubectl get crd -o yaml`.
  const std::string f = write("kubectl.yaml", "apiVersion: v1\nkind: List\nitems:\n- " + pa_crd("DISABLE") + "- " +
                                                  tiny_crd("Gateway", "networking.istio.io", "X") +
                                                  "metadata: {resourceVersion: \"\"}\n");
  std::string error;
  ASSERT_TRUE(load_crd_schemas({f}, &error)) << error;
  EXPECT_EQ(crd_schema_source(), "2 CRDs from " + f);
  EXPECT_TRUE(validate_pa("DISABLE").errors.empty());
  EXPECT_EQ(validate_pa("STRICT").errors.size(), 1u);
}

TEST_F(SchemaLoad, DirectoryIsReadRecursivelyAndLaterDuplicatesWin) {
  write("a.yaml", pa_crd("STRICT"));
  write("sub/b.yml", tiny_crd("Sidecar", "networking.istio.io", "X"));
  write("sub/c.yaml", pa_crd("DISABLE"));  // read after a.yaml: replaces it
  write("notes.txt", "not: yaml: at: all: [");
  std::string error;
  ASSERT_TRUE(load_crd_schemas({dir_.string()}, &error)) << error;
  EXPECT_EQ(crd_schema_source(), "2 CRDs from " + dir_.string());
  EXPECT_TRUE(validate_pa("DISABLE").errors.empty());
  EXPECT_EQ(validate_pa("STRICT").errors.size(), 1u);
}

TEST_F(SchemaLoad, BadSourcesFailWithAClearError) {
  std::string error;
  const std::string missing = (dir_ / "missing.yaml").string();
  EXPECT_FALSE(load_crd_schemas({missing}, &error));
  EXPECT_EQ(error, missing + ": no such file or directory");

  const std::string only_cm = write("cm.yaml", kConfigMap);
  EXPECT_FALSE(load_crd_schemas({only_cm}, &error));
  EXPECT_EQ(error, "no apiextensions.k8s.io/v1 CustomResourceDefinition in " + only_cm);

  const std::string broken = write("broken.yaml", pa_crd("STRICT") + "---\nkind: [\n");
  EXPECT_FALSE(load_crd_schemas({broken}, &error));
  EXPECT_NE(error.find(broken + " (doc 2)"), std::string::npos) << error;
  EXPECT_NE(error.find("YAML syntax error"), std::string::npos) << error;

  const std::string no_group = write("nogroup.yaml",
                                     "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                                     "metadata: {name: x.istio.io}\nspec: {names: {kind: X}, versions: []}\n");
  EXPECT_FALSE(load_crd_schemas({no_group}, &error));
  EXPECT_EQ(error, no_group + " (doc 1): CustomResourceDefinition x.istio.io is malformed: key 'group' not found");

  std::string re_crd = pa_crd("STRICT");
  re_crd.replace(re_crd.find("enum: [STRICT]"), 14, "pattern: 'a(b'");
  const std::string bad_re = write("badre.yaml", re_crd);
  EXPECT_FALSE(load_crd_schemas({bad_re}, &error));
  EXPECT_NE(error.find("is malformed: pattern a(b: missing )"), std::string::npos) << error;

  const std::string beta = write("beta.yaml",
                                 "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\n"
                                 "metadata: {name: gateways.networking.istio.io}\nspec: {}\n");
  EXPECT_FALSE(load_crd_schemas({beta}, &error));
  EXPECT_NE(error.find("apiextensions.k8s.io/v1beta1 CustomResourceDefinition gateways.networking.istio.io is not "
                       "supported"),
            std::string::npos)
      << error;
  EXPECT_FALSE(load_crd_schemas({only_cm, missing}, nullptr));  // a null error pointer is allowed
}

TEST_F(SchemaLoad, ReloadReplacesAndAFailedReloadKeepsTheLoadedSet) {
  const std::string strict = write("strict.yaml", pa_crd("STRICT"));
  const std::string disable = write("disable.yaml", pa_crd("DISABLE"));
  ASSERT_TRUE(load_crd_schemas({strict}, nullptr));
  EXPECT_TRUE(validate_pa("STRICT").errors.empty());
  EXPECT_EQ(validate_pa("DISABLE").errors.size(), 1u);
  ASSERT_TRUE(load_crd_schemas({disable}, nullptr));
  EXPECT_EQ(crd_schema_source(), "1 CRD from " + disable);
  EXPECT_EQ(validate_pa("STRICT").errors.size(), 1u);
  EXPECT_TRUE(validate_pa("DISABLE").errors.empty());
  // A broken reload (e.g. a half-written file) must not drop working schemas.
  EXPECT_FALSE(load_crd_schemas({(dir_ / "gone").string()}, nullptr));
  EXPECT_EQ(crd_schema_source(), "1 CRD from " + disable);
  EXPECT_TRUE(validate_pa("DISABLE").errors.empty());
  // Several paths at once.
  const std::string sidecar = write("sidecar.yaml", tiny_crd("Sidecar", "networking.istio.io", "X"));
  ASSERT_TRUE(load_crd_schemas({strict, sidecar}, nullptr));
  EXPECT_EQ(crd_schema_source(), "2 CRDs from " + strict + ", " + sidecar);
}

TEST_F(SchemaLoad, NoSchemaLoadedIsOneWarningPerDocument) {
  ASSERT_TRUE(load_crd_schemas({}, nullptr));
  EXPECT_EQ(crd_schema_source(), "none");
  Checked c = validate(kVirtualService);
  EXPECT_TRUE(c.errors.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].message,
            "no CRD schema loaded for VirtualService.networking.istio.io/v1 (set --crds or LINEGATE_CRDS): OpenAPI "
            "and CEL checks skipped");
  EXPECT_EQ(c.warnings[0].kind, "VirtualService");
  // A schema set that lacks this kind warns the same way.
  ASSERT_TRUE(load_crd_schemas({write("pa.yaml", pa_crd("STRICT"))}, nullptr));
  c = validate(kVirtualService);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].message.find("no CRD schema loaded for VirtualService"), std::string::npos);
  EXPECT_TRUE(validate_pa("STRICT").warnings.empty());
  // Kinds linegate does not implement are reported by check_kind(), not here.
  ASSERT_TRUE(load_crd_schemas({}, nullptr));
  c = validate("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: w}\nspec: {}\n");
  EXPECT_TRUE(c.warnings.empty() && c.errors.empty());
  // Kubernetes kinds keep their hand-written checks.
  c = validate("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 0}]}\n");
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].path, "spec.ports[0].port");
}

TEST_F(SchemaLoad, FailedSourceWithNothingLoadedWarnsWithPathAndError) {
  ASSERT_TRUE(load_crd_schemas({}, nullptr));
  const std::string missing = (dir_ / "crds").string();
  ASSERT_FALSE(load_crd_schemas({missing}, nullptr));
  EXPECT_EQ(crd_schema_source(),
            "none (cannot load CRD schemas from " + missing + ": " + missing + ": no such file or directory)");
  const Checked c = validate_pa("STRICT");
  EXPECT_TRUE(c.errors.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].message, "cannot load CRD schemas from " + missing + ": " + missing +
                                       ": no such file or directory: OpenAPI and CEL checks skipped for "
                                       "PeerAuthentication.security.istio.io/v1");
}

TEST_F(SchemaLoad, ConcurrentReloadsAndValidations) {
  const std::string strict = write("strict.yaml", pa_crd("STRICT"));
  const std::string disable = write("disable.yaml", pa_crd("DISABLE"));
  ASSERT_TRUE(load_crd_schemas({strict}, nullptr));
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        // Whichever set is in use, a document gets its verdict: at most the enum error, never "no schema".
        const Checked c = validate_pa(i % 2 ? "STRICT" : "DISABLE");
        if (c.errors.size() > 1 || !c.warnings.empty()) ++bad;
      }
    });
  int failed_loads = 0;
  for (int i = 0; i < 30; ++i) failed_loads += !load_crd_schemas({i % 2 ? strict : disable}, nullptr);
  EXPECT_EQ(failed_loads, 0);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(SchemaLoad, IstioCrdFile) {
  LG_REQUIRE_ISTIO_CRDS();
  const std::string f = testenv::crds_path();
  std::ifstream in(f, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  size_t crds = 0;
  for (size_t p = 0; (p = text.str().find("\nkind: CustomResourceDefinition\n", p)) != std::string::npos; ++p) ++crds;
  ASSERT_GT(crds, 10u);
  std::string error;
  ASSERT_TRUE(load_crd_schemas({f}, &error)) << error;
  EXPECT_EQ(crd_schema_source(), std::to_string(crds) + " CRDs from " + f);
  const Checked c = validate_pa("BLAH");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].message,
            "Unsupported value: \"BLAH\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\"");
}

// The default source is read once per process, so these run in a fresh
// process each (a "threadsafe" death test re-executes the binary).
class DefaultSource : public SchemaLoad {
 protected:
  void SetUp() override {
    SchemaLoad::SetUp();
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }
};

TEST_F(DefaultSource, LinegateCrdsEnvIsColonSeparated) {
  const std::string a = write("a.yaml", pa_crd("STRICT"));
  write("d/b.yaml", tiny_crd("Sidecar", "networking.istio.io", "X"));
  const std::string d = (dir_ / "d").string();
  EXPECT_EXIT(
      {
        ::setenv("LINEGATE_CRDS", (a + "::" + d).c_str(), 1);
        const bool ok = validate_pa("STRICT").errors.empty() && validate_pa("DISABLE").errors.size() == 1;
        std::cerr << crd_schema_source() << (ok ? " ok" : " wrong");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "^2 CRDs from /.*/a\\.yaml, /.*/d ok$");
}

TEST_F(DefaultSource, UnreadableEnvPathIsReportedOnValidation) {
  const std::string missing = (dir_ / "nope").string();
  EXPECT_EXIT(
      {
        ::setenv("LINEGATE_CRDS", missing.c_str(), 1);
        const Checked c = validate_pa("STRICT");
        std::cerr << (c.warnings.size() == 1 ? c.warnings[0].message : "no single warning");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "^cannot load CRD schemas from /.*/nope: /.*/nope: no such file or directory: "
                                    "OpenAPI and CEL checks skipped for PeerAuthentication\\.security\\.istio\\.io/v1$");
}

TEST_F(DefaultSource, NothingConfiguredIsNone) {
  if (fs::exists("/etc/linegate/crds")) GTEST_SKIP() << "/etc/linegate/crds exists on this machine";
  EXPECT_EXIT(
      {
        ::unsetenv("LINEGATE_CRDS");
        std::cerr << crd_schema_source();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "^none$");
}

}  // namespace
}  // namespace lg::ctrl
