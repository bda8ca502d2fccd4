// The Istio CRD file the tests validate against: meson passes istio/api's
// customresourcedefinitions.gen.yaml from ../shared/testdata in LINEGATE_CRDS,
// which is also the product's default source, so schemas load on first use.
// Tests that need schemas skip, saying why, when the file is absent.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lg::ctrl::testenv {

// The test CRD file; "" when LINEGATE_CRDS is unset or names no existing file.
inline std::string crds_path() {
  const char* env = std::getenv("LINEGATE_CRDS");
  if (env == nullptr) return {};
  std::string path(env);
  path = path.substr(0, path.find(':'));
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) ? path : std::string();
}

}  // namespace lg::ctrl::testenv

#define LG_REQUIRE_ISTIO_CRDS()                                                                                  \
  do {                                                                                                           \
    if (::lg::ctrl::testenv::crds_path().empty())                                                                \
      GTEST_SKIP() << "Istio CRD schemas not found: LINEGATE_CRDS must name istio/api's "                       \
                      "customresourcedefinitions.gen.yaml (meson sets it to ../shared/testdata/istio-api/)";    \
  } while (0)

// Fixture for tests that validate against the Istio CRD schemas.
class WithIstioCrds : public ::testing::Test {
 protected:
  void SetUp() override { LG_REQUIRE_ISTIO_CRDS(); }
};
