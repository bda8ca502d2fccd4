// Every x-kubernetes-validations rule in Istio's CRDs must compile, and must
// evaluate without crashing against an empty value of its schema's type.
#include "tests/unit/ctrl/cel/cel_test_util.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace lg::ctrl::cel {
namespace {

struct Rule {
  std::string rule;
  std::string type;  // the OpenAPI type of the schema carrying the rule
  std::string where;
};

void collect(const YAML::Node& n, const std::string& where, std::vector<Rule>& out) {
  if (n.IsMap()) {
    std::string type = n["type"] && n["type"].IsScalar() ? n["type"].as<std::string>() : "";
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      if (key == "x-kubernetes-validations" && kv.second.IsSequence()) {
        for (const auto& v : kv.second) out.push_back({v["rule"].as<std::string>(), type, where});
      } else {
        collect(kv.second, where + "." + key, out);
      }
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) collect(n[i], where + "[" + std::to_string(i) + "]", out);
  }
}

std::vector<Rule> load_rules() {
  // LINEGATE_CRDS: the product's CRD source variable; meson points it at istio/api's file.
  const char* env = std::getenv("LINEGATE_CRDS");
  if (env == nullptr) return {};
  const std::string path = std::string(env).substr(0, std::string(env).find(':'));
  if (!std::filesystem::is_regular_file(path)) return {};
  std::vector<Rule> rules;
  for (const auto& doc : YAML::LoadAllFromFile(path)) {
    std::string name = doc["metadata"] && doc["metadata"]["name"] ? doc["metadata"]["name"].as<std::string>() : "?";
    collect(doc, name, rules);
  }
  return rules;
}

TEST(CelCrd, EveryIstioRuleCompiles) {
  std::vector<Rule> rules = load_rules();
  if (rules.empty()) GTEST_SKIP() << "Istio CRDs not found: LINEGATE_CRDS must name istio/api's customresourcedefinitions.gen.yaml";
  // The generated file carries about 400 rules; far fewer means the walk broke.
  EXPECT_GE(rules.size(), 350u);
  for (const Rule& r : rules) {
    CompileResult c = compile(r.rule);
    EXPECT_TRUE(c.program) << r.where << ": `" << r.rule << "`: " << c.error;
  }
}

TEST(CelCrd, EveryIstioRuleGivesAVerdict) {
  std::vector<Rule> rules = load_rules();
  if (rules.empty()) GTEST_SKIP() << "Istio CRDs not found: LINEGATE_CRDS must name istio/api's customresourcedefinitions.gen.yaml";
  for (const Rule& r : rules) {
    CompileResult c = compile(r.rule);
    if (!c.program) continue;  // reported by EveryIstioRuleCompiles
    if (r.type == "string") {
      // A string rule must decide for some plausible value (duration("")
      // legitimately errors, so try a few shapes).
      bool decided = false;
      std::string last_error;
      for (const char* sample : {"", "1s", "https://example.com/x", "unix:///var/run/s.sock", "app"}) {
        EvalResult res = evaluate(*c.program, sample);
        if (res.kind != EvalResult::Kind::error) decided = true;
        else last_error = res.error;
      }
      EXPECT_TRUE(decided) << r.where << ": `" << r.rule << "`: " << last_error;
      continue;
    }
    // Objects, lists and integers: Istio guards every optional field with
    // has(), so an empty value must give a verdict, not an error.
    nlohmann::json empty;
    if (r.type == "object") empty = nlohmann::json::object();
    else if (r.type == "array") empty = nlohmann::json::array();
    else if (r.type == "integer") empty = 1;
    else ADD_FAILURE() << r.where << ": unexpected schema type '" << r.type << "' for `" << r.rule << "`";
    EvalResult res = evaluate(*c.program, empty);
    EXPECT_NE(res.kind, EvalResult::Kind::error) << r.where << ": `" << r.rule << "`: " << res.error;
  }
}

}  // namespace
}  // namespace lg::ctrl::cel
