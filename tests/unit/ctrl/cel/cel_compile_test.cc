// Malformed expressions are compile errors with a position, never crashes;
// random and mutated input from a fixed seed must not crash either.
#include "tests/unit/ctrl/cel/cel_test_util.h"

#include <random>
#include <string>

namespace lg::ctrl::cel {
namespace {

void expect_compile_error(const std::string& expr, const std::string& substring) {
  CompileResult c = compile(expr);
  EXPECT_FALSE(c.program) << "`" << expr << "` compiled";
  EXPECT_NE(c.error.find(substring), std::string::npos) << "`" << expr << "`: error `" << c.error << "` lacks `"
                                                        << substring << "`";
}

TEST(CelCompile, SyntaxErrors) {
  expect_compile_error("", "syntax error at 1:1: unexpected end of expression");
  expect_compile_error("self ==", "unexpected end of expression");
  expect_compile_error("(self", "expected ')'");
  expect_compile_error("self)", "syntax error at 1:5: unexpected ')'");
  expect_compile_error("self &&\n  && self", "syntax error at 2:3");
  expect_compile_error("[1, 2", "expected ','");
  expect_compile_error("{'a' 1}", "expected ':'");
  expect_compile_error("self = 1", "unexpected character '='");
  expect_compile_error("'unterminated", "unterminated string literal");
  expect_compile_error("'line\nbreak'", "unterminated string literal");
  expect_compile_error("'\\q'", "invalid escape sequence");
  expect_compile_error("'\\ud800'", "invalid unicode code point");
  expect_compile_error("b'bytes'", "bytes literals are not supported");
  expect_compile_error("9223372036854775808", "integer literal out of range");
  expect_compile_error("99999999999999999999u", "integer literal out of range");
  expect_compile_error("1e999", "double literal out of range");
  expect_compile_error("self.", "expected field name");
  expect_compile_error("a ? b", "expected ':'");
  expect_compile_error("if == 1", "reserved identifier 'if'");
  expect_compile_error("Msg{a: 1}", "message construction");
  expect_compile_error("self.x{}", "unexpected '{'");
  expect_compile_error(".self", "not supported");
}

TEST(CelCompile, ResolutionErrors) {
  expect_compile_error("foo == 1", "undeclared reference to 'foo'");
  expect_compile_error("self.all(x, y > 0)", "undeclared reference to 'y'");
  expect_compile_error("x > 0 && self.all(x, x > 0)", "undeclared reference to 'x'");
  expect_compile_error("nosuch(self)", "undeclared reference to function 'nosuch'");
  expect_compile_error("self.nosuch()", "undeclared reference to method 'nosuch'");
  expect_compile_error("self.substring(1, 2, 3)", "no matching overload for 'substring' with 3 arguments");
  expect_compile_error("size()", "no matching overload for 'size'");
  expect_compile_error("has(self)", "invalid argument to has() macro");
  expect_compile_error("has(self.a, self.b)", "invalid argument to has() macro");
  expect_compile_error("self.all(x.y, true)", "argument must be a simple name");
  expect_compile_error("self.all(x)", "all() macro takes 2 arguments");
  expect_compile_error("self.exists(x, y, z)", "exists() macro takes 2 arguments");
  expect_compile_error("self.matches('(')", "invalid regular expression");
}

TEST(CelCompile, Limits) {
  expect_compile_error(std::string(10000, '(') + "1" + std::string(10000, ')'), "nested too deeply");
  std::string chain = "1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  expect_compile_error(chain, "nested too deeply");
  std::string selects = "self";
  for (int i = 0; i < 5000; ++i) selects += ".a";
  expect_compile_error(selects, "nested too deeply");
  expect_compile_error(std::string(200000, ' ') + "true", "expression too large");
  // Long runs of unary operators fold, as in cel-go.
  EXPECT_TRUE(compile(std::string(10000, '!') + "true").program);
  EXPECT_TRUE(compile(std::string(10001, '-') + "1 < 0").program);
  // Moderate nesting is fine.
  EXPECT_CEL_TRUE(std::string(100, '(') + "true" + std::string(100, ')'), nullptr);
}

// Alphabet biased toward CEL's own tokens so the parser gets deep, not just
// rejected at the first character.
const char* const kPieces[] = {
    "self", ".", "a", "has(", "(", ")", "[", "]", "{", "}", ",", ":", "?", "!", "-", "+", "*", "/", "%",
    "==", "!=", "<", "<=", ">", ">=", "&&", "||", " in ", "1", "0", "1u", "1.5", "'s'", "\"", "'", "r'",
    "'''", "\\", "all(", "exists_one(", "map(", "filter(", "x", ", ", "size(", "int(", "duration(",
    "url(", ".getScheme()", ".matches(", "'[a-z'", "null", "true", "false", "\n", " ", "\xC3\xA9", "\xFF",
    "\x01", "0x", "e", "//", "`",
};

TEST(CelCompile, RandomInputNeverCrashes) {
  std::mt19937 rng(20240601);
  const nlohmann::json selfs[] = {nullptr, 1, "s", nlohmann::json::parse(R"({"a": {"a": 1}, "x": [1, "a"]})"),
                                  nlohmann::json::parse("[1, 2, 3]")};
  constexpr size_t kPieceCount = sizeof(kPieces) / sizeof(kPieces[0]);
  size_t compiled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string expr;
    int len = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k) expr += kPieces[rng() % kPieceCount];
    CompileResult c = compile(expr);
    if (!c.program) {
      EXPECT_FALSE(c.error.empty()) << expr;
      continue;
    }
    ++compiled;
    for (const auto& s : selfs) {
      EvalResult r = evaluate(*c.program, s);
      if (r.kind == EvalResult::Kind::error) {
        EXPECT_FALSE(r.error.empty()) << expr;
      }
    }
  }
  EXPECT_GT(compiled, 0u);  // the generator does reach the evaluator
}

TEST(CelCompile, MutatedIstioRulesNeverCrash) {
  const std::string rules[] = {
      "self.all(key, 0 < int(key) && int(key) <= 65535)",
      "duration(self) >= duration('1ms')",
      R"(self.startsWith("unix://") ? (self.substring(7, 8) == "/" || self.substring(7, 8) == "@") : true)",
      "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1",
      "self.all(l1, self.exists_one(l2, l1.number == l2.number))",
      R"(isURL(self) ? (url(self).getScheme() in ["", "http"]) : (isURL("http://" + self)))",
  };
  std::mt19937 rng(4);
  const nlohmann::json selfs[] = {nullptr, "unix://x", nlohmann::json::parse(R"({"80": 1, "x": {}})"),
                                  nlohmann::json::parse(R"([{"number": 1}, {"number": 1}])")};
  for (const auto& base : rules) {
    for (int i = 0; i < 2000; ++i) {
      std::string expr = base;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !expr.empty(); ++e) {
        size_t at = rng() % expr.size();
        switch (rng() % 3) {
          case 0: expr.erase(at, 1); break;
          case 1: expr.insert(at, 1, "()[]{}.,!?:'\"\\x1"[rng() % 16]); break;
          default: std::swap(expr[at], expr[rng() % expr.size()]); break;
        }
      }
      CompileResult c = compile(expr);
      if (!c.program) continue;
      for (const auto& s : selfs) (void)evaluate(*c.program, s);
    }
  }
}

}  // namespace
}  // namespace lg::ctrl::cel
