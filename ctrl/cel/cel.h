// A CEL (Common Expression Language) evaluator for the subset Kubernetes
// CRD validation rules use (x-kubernetes-validations). Istio's CRDs carry
// their cross-field rules in CEL, so evaluating them lets linegate report
// exactly what the Kubernetes API server would.
//
// Subset: literals (int, uint, double, string, bool, null, lists), `self`,
// field selection, has(), ?:, ! && || (with CEL's commutative error
// absorption), == != < <= > >=, + - * / %, `in`, size(), int(), string(),
// duration(), url(...).getScheme(), string methods contains/startsWith/
// endsWith/matches(RE2)/substring/size, list/map macros all/exists/
// exists_one/map/filter.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lg::ctrl::cel {

struct Node;  // parsed expression tree (cel.cc)

class Program {
 public:
  ~Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;
  const Node& root() const { return *root_; }
  const std::string& source() const { return source_; }

 private:
  friend struct Compiler;
  Program();
  std::unique_ptr<Node> root_;
  std::string source_;
};

struct CompileResult {
  std::unique_ptr<Program> program;  // null on error
  std::string error;                 // "syntax error at 12: expected ')'"
};

CompileResult compile(std::string_view expression);
// With top-level names besides `self` (an access log filter's attributes),
// bound when evaluated by evaluate_with().
CompileResult compile(std::string_view expression, const std::vector<std::string>& variables);

// Outcome of one rule against one value: true (rule holds), false (rule
// violated), or an evaluation error such as CEL's
// "type conversion error from 'string' to 'int'" or "no such key: foo".
struct EvalResult {
  enum class Kind { holds, violated, error } kind = Kind::error;
  std::string error;
  bool holds() const { return kind == Kind::holds; }
};

// Evaluates `program` with `self` bound to `self_value` (and `oldSelf`
// unbound: transition rules are not evaluated). A non-bool result is an
// error ("rule did not evaluate to a bool").
EvalResult evaluate(const Program& program, const nlohmann::json& self_value);

// Evaluates `program` with the keys of the JSON object `variables` as its
// top-level names (Envoy's attributes for an access log filter:
// `response.code >= 400`), and no `self`.
EvalResult evaluate_with(const Program& program, const nlohmann::json& variables);

}  // namespace lg::ctrl::cel
