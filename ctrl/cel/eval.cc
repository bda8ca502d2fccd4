// Tree-walking evaluation with cel-go's runtime semantics
// (https://github.com/google/cel-spec/blob/master/doc/langdef.md#evaluation):
// errors are values, && and || are commutative in how they absorb errors,
// and the all/exists macros stop once the result is decided.
#include "ctrl/cel/arith.h"
#include "ctrl/cel/ast.h"
#include "ctrl/cel/cel.h"
#include "ctrl/cel/functions.h"

#include <exception>
#include <string_view>

namespace lg::ctrl::cel {
namespace {

// Kubernetes escapes property names that are not CEL identifiers
// (k8s.io/apiserver/pkg/cel/escaping.go): "__dash__" is '-', "__dot__" '.',
// "__slash__" '/', "__underscores__" "__", and "__namespace__" names the
// reserved word "namespace".
std::string unescape_field(const std::string& name) {
  if (name.find("__") == std::string::npos) return name;
  static const char* const reserved[] = {"true",  "false", "null",     "in",     "as",      "break", "const",
                                         "continue", "else", "for",  "function", "if",     "import", "let",
                                         "loop",  "package", "namespace", "return", "var",   "void",  "while"};
  if (name.size() > 4 && name.starts_with("__") && name.ends_with("__")) {
    std::string inner = name.substr(2, name.size() - 4);
    for (const char* r : reserved)
      if (inner == r) return inner;
  }
  static const std::pair<std::string_view, std::string_view> codes[] = {
      {"__underscores__", "__"}, {"__dot__", "."}, {"__dash__", "-"}, {"__slash__", "/"}};
  std::string out;
  for (size_t i = 0; i < name.size();) {
    bool matched = false;
    for (const auto& [code, text] : codes) {
      if (name.compare(i, code.size(), code) == 0) {
        out += text;
        i += code.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += name[i++];
  }
  return out;
}

bool is_true(const Value& v) { return v.is<bool>() && v.as<bool>(); }
bool is_false(const Value& v) { return v.is<bool>() && !v.as<bool>(); }

// cel-go's logical_and/logical_or once both sides are known: a deciding
// operand wins over an error on the other side; otherwise the first error.
Value logical(bool is_and, const Value& l, const Value& r) {
  const bool decides = !is_and;  // false decides &&, true decides ||
  auto decisive = [&](const Value& v) { return v.is<bool>() && v.as<bool>() == decides; };
  if (decisive(l) || decisive(r)) return Value(decides);
  if (l.is<bool>() && r.is<bool>()) return Value(!decides);
  if (l.is_error()) return l;
  if (r.is_error()) return r;
  return no_such_overload(is_and ? "_&&_" : "_||_", {&l, &r});
}

class Evaluator {
 public:
  Evaluator(Value self, Value variables) : self_(std::move(self)), variables_(std::move(variables)) {}

  Value eval(const Node& n) {
    switch (n.kind) {
      case Node::Kind::literal:
        return n.value;
      case Node::Kind::ident:
        return lookup(n.name);
      case Node::Kind::select:
      case Node::Kind::has:
        return select(n);
      case Node::Kind::index:
        return index(n);
      case Node::Kind::list: {
        std::vector<Value> items;
        items.reserve(n.args.size());
        for (const auto& a : n.args) {
          Value v = eval(*a);
          if (v.is_error()) return v;
          items.push_back(std::move(v));
        }
        return make_list(std::move(items));
      }
      case Node::Kind::map:
        return map_literal(n);
      case Node::Kind::op:
        return op(n);
      case Node::Kind::call: {
        std::vector<Value> args;
        args.reserve(n.args.size());
        for (const auto& a : n.args) {
          Value v = eval(*a);
          if (v.is_error()) return v;
          args.push_back(std::move(v));
        }
        return call_function(n, args);
      }
      case Node::Kind::method: {
        Value recv = eval(*n.args[0]);
        if (recv.is_error()) return recv;
        std::vector<Value> args;
        args.reserve(n.args.size() - 1);
        for (size_t i = 1; i < n.args.size(); ++i) {
          Value v = eval(*n.args[i]);
          if (v.is_error()) return v;
          args.push_back(std::move(v));
        }
        return call_method(n, recv, args);
      }
      case Node::Kind::comprehension:
        return comprehension(n);
    }
    return make_error("internal error: unknown expression node");
  }

 private:
  Value lookup(const std::string& name) {
    for (auto it = env_.rbegin(); it != env_.rend(); ++it)
      if (*it->first == name) return it->second;
    if (variables_.is<Map>())
      if (const Value* v = map_find(variables_.as<Map>(), Value(name))) return *v;
    if (name == "self") return self_;
    if (name == "oldSelf") return make_error("oldSelf is not available: transition rules are not evaluated");
    if (is_type_name(name)) return Value(TypeValue{name});
    return make_error("undeclared reference to '" + name + "'");
  }

  Value select(const Node& n) {
    Value target = eval(*n.args[0]);
    if (target.is_error()) return target;
    if (!target.is<Map>()) {
      if (n.kind == Node::Kind::has) return make_error("invalid type for field selection: has() on '" + type_name(target) + "'");
      return make_error("type '" + type_name(target) + "' does not support field selection (field '" + n.name + "')");
    }
    const Value* v = map_find(target.as<Map>(), Value(unescape_field(n.name)));
    if (n.kind == Node::Kind::has) return Value(v != nullptr);
    if (!v) return make_error("no such key: " + n.name);
    return *v;
  }

  Value index(const Node& n) {
    Value target = eval(*n.args[0]);
    if (target.is_error()) return target;
    Value key = eval(*n.args[1]);
    if (key.is_error()) return key;
    if (target.is<List>()) {
      const auto& l = *target.as<List>();
      int64_t i = 0;
      if (key.is<int64_t>()) {
        i = key.as<int64_t>();
      } else if (key.is<uint64_t>() && key.as<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        i = static_cast<int64_t>(key.as<uint64_t>());
      } else if (key.is<double>() && key.as<double>() == static_cast<double>(static_cast<int64_t>(key.as<double>()))) {
        i = static_cast<int64_t>(key.as<double>());  // cel-go accepts integral doubles as list indexes
      } else {
        return no_such_overload("_[_]", {&target, &key});
      }
      if (i < 0 || static_cast<uint64_t>(i) >= l.size())
        return make_error("index '" + std::to_string(i) + "' out of range in list size '" + std::to_string(l.size()) + "'");
      return l[static_cast<size_t>(i)];
    }
    if (target.is<Map>()) {
      const Value* v = map_find(target.as<Map>(), key);
      if (!v) return make_error("no such key: " + (key.is<std::string>() ? key.as<std::string>() : debug_string(key)));
      return *v;
    }
    return no_such_overload("_[_]", {&target, &key});
  }

  Value map_literal(const Node& n) {
    std::vector<std::pair<Value, Value>> entries;
    for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
      Value k = eval(*n.args[i]);
      if (k.is_error()) return k;
      Value v = eval(*n.args[i + 1]);
      if (v.is_error()) return v;
      if (!(k.is<int64_t>() || k.is<uint64_t>() || k.is<bool>() || k.is<std::string>()))
        return make_error("unsupported map key type: " + type_name(k));
      for (const auto& e : entries)
        if (equals(e.first, k)) return make_error("Failed with repeated key: " + debug_string(k));
      entries.emplace_back(std::move(k), std::move(v));
    }
    return make_map(std::move(entries));
  }

  Value op(const Node& n) {
    switch (n.op) {
      case Op::logical_and:
      case Op::logical_or: {
        bool is_and = n.op == Op::logical_and;
        Value l = eval(*n.args[0]);
        // Short-circuit only on the deciding value; an error on the left
        // still lets the right side decide.
        if (is_and ? is_false(l) : is_true(l)) return l;
        Value r = eval(*n.args[1]);
        return logical(is_and, l, r);
      }
      case Op::logical_not: {
        Value v = eval(*n.args[0]);
        if (v.is<bool>()) return Value(!v.as<bool>());
        if (v.is_error()) return v;
        return no_such_overload("!_", {&v});
      }
      case Op::conditional: {
        Value c = eval(*n.args[0]);
        if (c.is<bool>()) return eval(*n.args[c.as<bool>() ? 1 : 2]);
        if (c.is_error()) return c;
        return no_such_overload("_?_:_", {&c});
      }
      case Op::neg: {
        Value v = eval(*n.args[0]);
        if (v.is_error()) return v;
        return negate(v);
      }
      default:
        break;
    }
    Value l = eval(*n.args[0]);
    if (l.is_error()) return l;
    Value r = eval(*n.args[1]);
    if (r.is_error()) return r;
    return binary(n.op, l, r);
  }

  // Binds the iteration variable for the duration of one macro.
  struct Scope {
    Evaluator& e;
    Scope(Evaluator& ev, const std::string& name) : e(ev) { e.env_.emplace_back(&name, Value()); }
    ~Scope() { e.env_.pop_back(); }
    void set(const Value& v) { e.env_.back().second = v; }
  };

  Value comprehension(const Node& n) {
    Value range = eval(*n.args[0]);
    if (range.is_error()) return range;
    std::vector<Value> keys_storage;
    const std::vector<Value>* items = nullptr;
    if (range.is<List>()) {
      items = range.as<List>().get();
    } else if (range.is<Map>()) {
      // Macros over a map range over its keys.
      for (const auto& e : *range.as<Map>()) keys_storage.push_back(e.first);
      items = &keys_storage;
    } else {
      return make_error("type '" + type_name(range) + "' does not support iteration (in " + macro_name(n.macro) +
                        "())");
    }
    Scope scope(*this, n.name);
    const Node& pred = *n.args[1];
    switch (n.macro) {
      case Macro::all:
      case Macro::exists: {
        bool is_and = n.macro == Macro::all;
        Value acc(is_and);
        for (const Value& item : *items) {
          if (is_and ? is_false(acc) : is_true(acc)) break;
          scope.set(item);
          acc = logical(is_and, acc, eval(pred));
        }
        return acc;
      }
      case Macro::exists_one: {
        int64_t count = 0;
        for (const Value& item : *items) {
          scope.set(item);
          Value p = eval(pred);
          if (p.is_error()) return p;
          if (!p.is<bool>()) return no_such_overload("exists_one", {&p});
          if (p.as<bool>()) ++count;
        }
        return Value(count == 1);
      }
      case Macro::map:
      case Macro::filter: {
        std::vector<Value> out;
        for (const Value& item : *items) {
          scope.set(item);
          bool filtered = n.macro == Macro::filter || n.map_with_filter;
          if (filtered) {
            Value p = eval(pred);
            if (p.is_error()) return p;
            if (!p.is<bool>()) return no_such_overload(macro_name(n.macro), {&p});
            if (!p.as<bool>()) continue;
          }
          if (n.macro == Macro::filter) {
            out.push_back(item);
            continue;
          }
          Value t = eval(*n.args[n.map_with_filter ? 2 : 1]);
          if (t.is_error()) return t;
          out.push_back(std::move(t));
        }
        return make_list(std::move(out));
      }
    }
    return make_error("internal error: unknown macro");
  }

  static std::string macro_name(Macro m) {
    switch (m) {
      case Macro::all: return "all";
      case Macro::exists: return "exists";
      case Macro::exists_one: return "exists_one";
      case Macro::map: return "map";
      case Macro::filter: return "filter";
    }
    return "?";
  }

  Value self_;
  Value variables_;  // top-level names (an access log filter's attributes), or null
  std::vector<std::pair<const std::string*, Value>> env_;
};

}  // namespace

namespace {

EvalResult run(const Program& program, const nlohmann::json& self_value, const nlohmann::json& variables) {
  EvalResult r;
  try {
    Evaluator ev(from_json(self_value), from_json(variables));
    Value v = ev.eval(program.root());
    if (v.is<bool>()) {
      r.kind = v.as<bool>() ? EvalResult::Kind::holds : EvalResult::Kind::violated;
    } else if (v.is_error()) {
      r.error = v.as<Error>().message;
    } else {
      r.error = "rule did not evaluate to a bool (got " + type_name(v) + ")";
    }
  } catch (const std::exception& e) {
    r.kind = EvalResult::Kind::error;
    r.error = std::string("evaluation failed: ") + e.what();
  }
  return r;
}

}  // namespace

EvalResult evaluate(const Program& program, const nlohmann::json& self_value) {
  return run(program, self_value, nullptr);
}

EvalResult evaluate_with(const Program& program, const nlohmann::json& variables) {
  return run(program, nullptr, variables);
}

}  // namespace lg::ctrl::cel
