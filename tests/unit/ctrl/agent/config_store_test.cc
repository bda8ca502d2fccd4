// ConfigStore: the candidate rule (watched overlaid with applied, analysed as
// a whole), versions and generations.
#include "agent_fixtures.h"

#include "ctrl/agent/config_store.h"
#include "ctrl/crd/loader.h"

#include <gtest/gtest.h>

namespace lg::ctrl::testing {
namespace {

std::vector<Resource> load(const std::string& text, const std::string& file) {
  Diagnostics d;
  auto out = load_text(text, file, d);
  EXPECT_FALSE(d.has_errors()) << (d.items().empty() ? "" : d.items()[0].format());
  return out;
}

const Resource* find(const ConfigState& c, const std::string& kind, const std::string& name) {
  for (const auto& r : c.resources) {
    if (r.kind == kind && r.name == name) return &r;
  }
  return nullptr;
}

TEST(ConfigStore, AppliedReplacesWatchedByIdentity) {
  ConfigStore store;
  auto w = store.set_watched(load(kBaseConfig, "watched/base.yaml"), {});
  ASSERT_TRUE(w.accepted);
  EXPECT_TRUE(w.changed);
  EXPECT_EQ(w.config->generation, 1u);
  EXPECT_EQ(w.config->resources.size(), 4u);

  auto a = store.apply(load(kPublicWith8443, "public.yaml"), {}, false);
  ASSERT_TRUE(a.accepted);
  EXPECT_TRUE(a.changed);
  EXPECT_EQ(a.config->generation, 2u);
  ASSERT_EQ(a.config->resources.size(), 4u);  // replaced, not added
  const Resource* gw = find(*a.config, "Gateway", "public");
  ASSERT_TRUE(gw);
  EXPECT_EQ(gw->src.file, "public.yaml");
  EXPECT_EQ(gw->obj["spec"]["servers"].size(), 2u);

  // The watched file changing again does not undo the applied resource.
  auto w2 = store.set_watched(load(kBaseConfig, "watched/base.yaml"), {});
  ASSERT_TRUE(w2.accepted);
  EXPECT_FALSE(w2.changed);
  EXPECT_EQ(store.current()->generation, 2u);
}

TEST(ConfigStore, VersionIgnoresOrderAndSourceButNotContent) {
  auto a = load(kBaseConfig, "a.yaml");
  auto b = load(kBaseConfig, "elsewhere/b.yaml");
  std::reverse(b.begin(), b.end());
  EXPECT_EQ(config_version(a), config_version(b));
  EXPECT_EQ(config_version(a).size(), 16u);
  auto c = a;
  c[0].obj["spec"]["servers"][0]["port"]["number"] = 81;
  EXPECT_NE(config_version(a), config_version(c));
  EXPECT_NE(config_version(a), config_version({}));
}

TEST(ConfigStore, RejectedCandidateLeavesCurrentAlone) {
  ConfigStore store;
  ASSERT_TRUE(store.set_watched(load(kBaseConfig, "base.yaml"), {}).accepted);
  auto before = store.current();

  auto r = store.apply(load(kBadWeights, "bad.yaml"), {}, false);
  EXPECT_FALSE(r.accepted);
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.diags.has_errors());
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(r.config, before);

  // Loader problems reject too, even with nothing else wrong.
  Diagnostics load_diags;
  load_diags.file_error(Source{"x.yaml", "1", 1}, "bad YAML");
  EXPECT_FALSE(store.apply({}, load_diags, false).accepted);

  // The disk is the source of truth: an invalid watched set is rejected, and
  // applies are judged together with it until it is fixed.
  auto bad_disk = load(kBaseConfig, "base.yaml");
  auto extra = load(kBadWeights, "bad.yaml");
  bad_disk.insert(bad_disk.end(), extra.begin(), extra.end());
  EXPECT_FALSE(store.set_watched(bad_disk, {}).accepted);
  EXPECT_EQ(store.current(), before);
  EXPECT_FALSE(store.apply(load(kPublicWith8443, "public.yaml"), {}, false).accepted);
  ASSERT_TRUE(store.set_watched(load(kBaseConfig, "base.yaml"), {}).accepted);
  EXPECT_TRUE(store.apply(load(kPublicWith8443, "public.yaml"), {}, false).changed);
}

TEST(ConfigStore, DryRunCommitsNothing) {
  ConfigStore store;
  EXPECT_EQ(store.current(), nullptr);
  auto dry = store.apply(load(kBaseConfig, "base.yaml"), {}, true);
  EXPECT_TRUE(dry.accepted);
  EXPECT_TRUE(dry.changed);
  ASSERT_TRUE(dry.config);
  EXPECT_EQ(dry.config->resources.size(), 4u);
  EXPECT_EQ(store.current(), nullptr);
  auto real = store.apply(load(kBaseConfig, "base.yaml"), {}, false);
  EXPECT_EQ(real.config->version, dry.config->version);
  EXPECT_EQ(real.config->generation, 1u);
}

}  // namespace
}  // namespace lg::ctrl::testing
