// Helpers shared by the CEL tests: compile-or-fail, then evaluate.
#pragma once

#include "ctrl/cel/cel.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace lg::ctrl::cel::testing {

inline EvalResult run(std::string_view expr, const nlohmann::json& self = nullptr) {
  CompileResult c = compile(expr);
  if (!c.program) {
    ADD_FAILURE() << "compile failed for `" << expr << "`: " << c.error;
    return EvalResult{EvalResult::Kind::error, "compile failed: " + c.error};
  }
  return evaluate(*c.program, self);
}

inline std::string describe(const EvalResult& r) {
  switch (r.kind) {
    case EvalResult::Kind::holds: return "holds";
    case EvalResult::Kind::violated: return "violated";
    case EvalResult::Kind::error: return "error: " + r.error;
  }
  return "?";
}

}  // namespace lg::ctrl::cel::testing

// EXPECT_CEL_TRUE(expr, self): the rule holds; _FALSE: it is violated;
// _ERROR(expr, self, substring): evaluation fails with a message containing substring.
#define EXPECT_CEL_TRUE(expr, self)                                                             \
  do {                                                                                          \
    auto r_ = ::lg::ctrl::cel::testing::run(expr, self);                                        \
    EXPECT_EQ(r_.kind, ::lg::ctrl::cel::EvalResult::Kind::holds)                                 \
        << "`" << (expr) << "` self=" << nlohmann::json(self).dump() << " → "                 \
        << ::lg::ctrl::cel::testing::describe(r_);                                             \
  } while (0)
#define EXPECT_CEL_FALSE(expr, self)                                                            \
  do {                                                                                          \
    auto r_ = ::lg::ctrl::cel::testing::run(expr, self);                                        \
    EXPECT_EQ(r_.kind, ::lg::ctrl::cel::EvalResult::Kind::violated)                              \
        << "`" << (expr) << "` self=" << nlohmann::json(self).dump() << " → "                 \
        << ::lg::ctrl::cel::testing::describe(r_);                                             \
  } while (0)
#define EXPECT_CEL_ERROR(expr, self, substring)                                                 \
  do {                                                                                          \
    auto r_ = ::lg::ctrl::cel::testing::run(expr, self);                                        \
    EXPECT_EQ(r_.kind, ::lg::ctrl::cel::EvalResult::Kind::error)                                 \
        << "`" << (expr) << "` self=" << nlohmann::json(self).dump() << " → "                 \
        << ::lg::ctrl::cel::testing::describe(r_);                                             \
    EXPECT_NE(r_.error.find(substring), std::string::npos)                                      \
        << "`" << (expr) << "`: error `" << r_.error << "` lacks `" << (substring) << "`";     \
  } while (0)
