#include "ctrl/crd/loader.h"
#include "ctrl/crd/schema.h"
#include "ctrl/crd/support.h"
#include "ctrl/crd/support_table.h"
#include "tests/unit/ctrl/crd/crd_test_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lg::ctrl {
namespace {

// The table is generated from, and checked against, the loaded schemas: load
// the test data's CRDs explicitly rather than rely on the default source.
class CrdSupport : public WithIstioCrds {
 protected:
  void SetUp() override {
    WithIstioCrds::SetUp();
    if (IsSkipped()) return;
    static std::string error;
    static const bool loaded = load_crd_schemas({testenv::crds_path()}, &error);  // once: it takes ~1 s unoptimised
    ASSERT_TRUE(loaded) << error;
  }
};

std::vector<Diagnostic> warnings_for(const std::string& yaml) {
  Diagnostics d;
  const auto docs = load_text(yaml, "s.yaml", d);
  EXPECT_EQ(docs.size(), 1u);
  EXPECT_FALSE(d.has_errors());
  for (const auto& r : docs) report_unsupported_fields(r, d);
  return d.items();
}

// docs/crd-support.md is generated; a stale copy fails here.
// LG_REGENERATE=1 rewrites it instead.
TEST_F(CrdSupport, CommittedMarkdownMatchesGenerated) {
  const char* root = std::getenv("LG_SOURCE_ROOT");
  if (root == nullptr) GTEST_SKIP() << "LG_SOURCE_ROOT not set";
  const std::string path = std::string(root) + "/docs/crd-support.md";
  const std::string generated = crd_support_markdown();
  const char* regen = std::getenv("LG_REGENERATE");
  if (regen != nullptr && std::string(regen) == "1") {
    std::ofstream(path, std::ios::binary) << generated;
    std::cout << "wrote " << path << "\n";
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run LG_REGENERATE=1 meson test ctrl_crd_support";
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_TRUE(committed.str() == generated)
      << path << " differs from crd_support_markdown(); run LG_REGENERATE=1 meson test ctrl_crd_support";
}

TEST_F(CrdSupport, MarkdownListsEveryKindAndField) {
  const std::string md = crd_support_markdown();
  for (const char* s : {"## Gateway", "## VirtualService", "## DestinationRule", "## ServiceEntry", "## WorkloadEntry",
                        "## Sidecar", "## EnvoyFilter", "## PeerAuthentication", "## AuthorizationPolicy",
                        "## RequestAuthentication", "## Telemetry", "| `spec.http[].match[].uri.prefix` | supported |",
                        "| `spec.http[].match[].sourceLabels` | not supported |", "| `spec.portLevelMtls{}.mode` | supported |",
                        "| `spec.ingress[].port.number` | not supported |", "| WorkloadGroup |", "| HTTPRoute |",
                        "`networking.istio.io/v1alpha3`, `networking.istio.io/v1beta1`, `networking.istio.io/v1`"})
    EXPECT_NE(md.find(s), std::string::npos) << s;
  EXPECT_EQ(md.find("## WasmPlugin"), std::string::npos);
}

TEST_F(CrdSupport, EveryTableEntryNamesAFieldOfItsKind) {
  const auto missing = support_entries_without_field();
  std::string all;
  for (const auto& m : missing) all += m + "\n";
  EXPECT_TRUE(missing.empty()) << all;
}

TEST_F(CrdSupport, WarnsOncePerUnsupportedFieldWithItsPath) {
  const auto w = warnings_for(
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
      "spec:\n  hosts: [a]\n  http:\n  - match:\n    - uri: {prefix: /}\n    - sourceLabels: {app: x}\n"
      "      sourceNamespace: ns\n    route: [{destination: {host: a}}]\n"
      "    fault: {delay: {exponentialDelay: 1s}}\n");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].severity, Severity::warning);
  // In document order of the JSON tree (keys sorted): fault before match.
  EXPECT_EQ(w[0].path, "spec.http[0].fault.delay.exponentialDelay");
  EXPECT_NE(w[0].format().find("VirtualService default/v: spec.http[0].fault.delay.exponentialDelay: field is not "
                               "supported by linegate: exponential delays are not implemented"),
            std::string::npos)
      << w[0].format();
  EXPECT_EQ(w[1].path, "spec.http[0].match[1].sourceLabels");
  EXPECT_EQ(w[1].message.rfind("field is not supported by linegate: ", 0), 0u) << w[1].message;
  EXPECT_EQ(w[2].path, "spec.http[0].match[1].sourceNamespace");
}

TEST_F(CrdSupport, NestedAndValueSpecificEntries) {
  auto w = warnings_for(
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\n"
      "spec:\n  host: a\n  subsets:\n  - name: v1\n    trafficPolicy:\n"
      "      portLevelSettings:\n      - port: {number: 80}\n        loadBalancer: {warmupDurationSecs: 10s, simple: ROUND_ROBIN}\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].path, "spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.warmupDurationSecs");
  w = warnings_for("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n"
                   "spec:\n  action: CUSTOM\n  provider: {name: ext}\n");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].path, "spec.action");
  EXPECT_NE(w[0].message.find("value \"CUSTOM\" is not supported"), std::string::npos) << w[0].message;
  EXPECT_EQ(w[1].path, "spec.provider");
  EXPECT_TRUE(warnings_for("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n"
                           "spec:\n  action: DENY\n  rules: [{from: [{source: {ipBlocks: [1.2.3.4]}}]}]\n")
                  .empty());
}

TEST_F(CrdSupport, SupportedDocumentsAndOtherKindsGetNoWarnings) {
  EXPECT_TRUE(warnings_for("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\n"
                           "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
                           "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n"
                           "    tls: {mode: SIMPLE, credentialName: c}\n")
                  .empty());
  EXPECT_TRUE(warnings_for("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {sessionAffinity: None}\n").empty());
  EXPECT_TRUE(warnings_for("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: w}\n"
                           "spec: {url: 'http://x'}\n")
                  .empty());
}

}  // namespace
}  // namespace lg::ctrl
