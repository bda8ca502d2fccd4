// Recursive-descent parser for CEL's grammar
// (https://github.com/google/cel-spec/blob/master/doc/langdef.md#syntax),
// followed by a resolution pass that rejects undeclared identifiers and
// functions the way the Kubernetes API server's type checker would.
#include "ctrl/cel/ast.h"
#include "ctrl/cel/cel.h"
#include "ctrl/cel/functions.h"
#include "ctrl/cel/lexer.h"

#include <algorithm>
#include <array>
#include <limits>

namespace lg::ctrl::cel {

// cel-go's defaults: 100k code points of source, 250 levels of nesting.
constexpr size_t kMaxSourceSize = 100000;
constexpr size_t kMaxDepth = 250;

struct Compiler {
  static CompileResult make(std::unique_ptr<Node> root, std::string_view source) {
    std::unique_ptr<Program> p(new Program());
    p->root_ = std::move(root);
    p->source_ = std::string(source);
    return {std::move(p), {}};
  }
};

namespace {

using NodePtr = std::unique_ptr<Node>;

struct SyntaxError {
  size_t pos;
  std::string message;
  const char* what = "syntax error";
};

// Words CEL reserves for future use; they cannot name anything.
bool is_reserved(const std::string& w) {
  static constexpr std::array<std::string_view, 18> words = {
      "as",     "break", "const",   "continue", "else", "for", "function", "if",  "import",
      "let",    "loop",  "package", "namespace", "return", "var", "void",     "while", "in"};
  return std::find(words.begin(), words.end(), w) != words.end();
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  NodePtr parse() {
    NodePtr e = expr();
    if (peek().kind != Token::Kind::end) throw_error(peek().pos, "unexpected " + describe(peek()));
    return e;
  }

 private:
  [[noreturn]] void throw_error(size_t pos, std::string msg) { throw SyntaxError{pos, std::move(msg)}; }

  const Token& peek(size_t ahead = 0) const { return t_[std::min(p_ + ahead, t_.size() - 1)]; }
  bool is_punct(std::string_view s, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == Token::Kind::punct && t.text == s;
  }
  bool accept(std::string_view s) {
    if (!is_punct(s)) return false;
    ++p_;
    return true;
  }
  void expect(std::string_view s) {
    if (!accept(s)) throw_error(peek().pos, "expected '" + std::string(s) + "', found " + describe(peek()));
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Token::Kind::end: return "end of expression";
      case Token::Kind::ident: return "'" + t.text + "'";
      case Token::Kind::punct: return "'" + t.text + "'";
      case Token::Kind::string_lit: return "string literal";
      default: return "number";
    }
  }

  NodePtr make(Node::Kind k, size_t pos) {
    if (++nodes_ > kMaxSourceSize) throw_error(pos, "expression too large");
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->pos = pos;
    return n;
  }
  // Left-associative chains grow the tree without recursing in the parser,
  // so height is tracked per node: evaluation and destruction recurse on it.
  NodePtr sealed(NodePtr n) {
    size_t h = 0;
    for (const auto& a : n->args) h = std::max(h, a->height);
    n->height = h + 1;
    if (n->height > kMaxDepth) throw_error(n->pos, "expression nested too deeply");
    return n;
  }

  NodePtr make_op(Op op, size_t pos, NodePtr a, NodePtr b = nullptr, NodePtr c = nullptr) {
    NodePtr n = make(Node::Kind::op, pos);
    n->op = op;
    n->args.push_back(std::move(a));
    if (b) n->args.push_back(std::move(b));
    if (c) n->args.push_back(std::move(c));
    return sealed(std::move(n));
  }

  // Bounds the parser's own recursion (parentheses nest without nodes).
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser, size_t pos) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.throw_error(pos, "expression nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  NodePtr expr() {
    DepthGuard g(*this, peek().pos);
    NodePtr c = logical_or();
    if (!is_punct("?")) return c;
    size_t pos = peek().pos;
    ++p_;
    NodePtr a = logical_or();
    expect(":");
    NodePtr b = expr();
    return make_op(Op::conditional, pos, std::move(c), std::move(a), std::move(b));
  }

  // One helper for the left-associative binary levels.
  template <typename Next>
  NodePtr binary_chain(Next next, std::initializer_list<std::pair<std::string_view, Op>> ops) {
    NodePtr l = (this->*next)();
    while (true) {
      const Op* found = nullptr;
      for (const auto& [text, op] : ops) {
        if (is_punct(text) || (text == "in" && peek().kind == Token::Kind::ident && peek().text == "in")) {
          found = &op;
          break;
        }
      }
      if (!found) return l;
      size_t pos = peek().pos;
      ++p_;
      NodePtr r = (this->*next)();
      l = make_op(*found, pos, std::move(l), std::move(r));
    }
  }

  NodePtr logical_or() { return binary_chain(&Parser::logical_and, {{"||", Op::logical_or}}); }
  NodePtr logical_and() { return binary_chain(&Parser::relation, {{"&&", Op::logical_and}}); }
  NodePtr relation() {
    return binary_chain(&Parser::addition, {{"<=", Op::le},
                                            {">=", Op::ge},
                                            {"<", Op::lt},
                                            {">", Op::gt},
                                            {"==", Op::eq},
                                            {"!=", Op::ne},
                                            {"in", Op::in}});
  }
  NodePtr addition() { return binary_chain(&Parser::multiplication, {{"+", Op::add}, {"-", Op::sub}}); }
  NodePtr multiplication() {
    return binary_chain(&Parser::unary, {{"*", Op::mul}, {"/", Op::div}, {"%", Op::mod}});
  }

  NodePtr unary() {
    size_t pos = peek().pos;
    if (is_punct("!")) {
      size_t n = 0;
      while (accept("!")) ++n;
      NodePtr m = member();
      // cel-go drops an even run of '!' entirely.
      return n % 2 ? make_op(Op::logical_not, pos, std::move(m)) : std::move(m);
    }
    if (is_punct("-")) {
      size_t n = 0;
      while (accept("-")) ++n;
      if (n % 2 == 0) return member();
      // A negative number literal is a literal, so the most negative int
      // (-9223372036854775808) can be written.
      if (peek().kind == Token::Kind::int_lit || peek().kind == Token::Kind::double_lit) {
        const Token& t = peek();
        NodePtr lit = make(Node::Kind::literal, pos);
        if (t.kind == Token::Kind::double_lit) {
          lit->value = Value(-t.double_value);
        } else {
          if (t.uint_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
            throw_error(t.pos, "integer literal out of range");
          lit->value = Value(static_cast<int64_t>(0 - t.uint_value));
        }
        ++p_;
        return suffixes(std::move(lit));
      }
      return make_op(Op::neg, pos, member());
    }
    return member();
  }

  NodePtr member() { return suffixes(primary()); }

  NodePtr suffixes(NodePtr n) {
    while (true) {
      size_t pos = peek().pos;
      if (accept(".")) {
        if (peek().kind != Token::Kind::ident) throw_error(peek().pos, "expected field name after '.'");
        std::string name = peek().text;
        ++p_;
        if (accept("(")) {
          std::vector<NodePtr> args = arg_list(")");
          n = method_call(std::move(n), name, pos, std::move(args));
        } else {
          NodePtr s = make(Node::Kind::select, pos);
          s->name = name;
          s->args.push_back(std::move(n));
          n = sealed(std::move(s));
        }
      } else if (accept("[")) {
        NodePtr idx = expr();
        expect("]");
        NodePtr s = make(Node::Kind::index, pos);
        s->args.push_back(std::move(n));
        s->args.push_back(std::move(idx));
        n = sealed(std::move(s));
      } else {
        return n;
      }
    }
  }

  std::vector<NodePtr> arg_list(std::string_view close) {
    std::vector<NodePtr> args;
    if (accept(close)) return args;
    while (true) {
      args.push_back(expr());
      if (accept(close)) return args;
      expect(",");
    }
  }

  NodePtr method_call(NodePtr target, const std::string& name, size_t pos, std::vector<NodePtr> args) {
    static const std::pair<std::string_view, Macro> macros[] = {{"all", Macro::all},
                                                                {"exists", Macro::exists},
                                                                {"exists_one", Macro::exists_one},
                                                                {"map", Macro::map},
                                                                {"filter", Macro::filter}};
    for (const auto& [mname, macro] : macros) {
      if (name != mname) continue;
      bool arity_ok = args.size() == 2 || (macro == Macro::map && args.size() == 3);
      if (!arity_ok) throw_error(pos, name + "() macro takes 2 arguments" + (macro == Macro::map ? " or 3" : ""));
      if (args[0]->kind != Node::Kind::ident) throw_error(args[0]->pos, name + "() argument must be a simple name");
      NodePtr c = make(Node::Kind::comprehension, pos);
      c->macro = macro;
      c->name = args[0]->name;
      c->map_with_filter = args.size() == 3;
      c->args.push_back(std::move(target));
      for (size_t i = 1; i < args.size(); ++i) c->args.push_back(std::move(args[i]));
      return sealed(std::move(c));
    }
    NodePtr m = make(Node::Kind::method, pos);
    m->name = name;
    m->args.push_back(std::move(target));
    for (auto& a : args) m->args.push_back(std::move(a));
    return sealed(std::move(m));
  }

  NodePtr primary() {
    const Token& t = peek();
    size_t pos = t.pos;
    switch (t.kind) {
      case Token::Kind::end:
        throw_error(pos, "unexpected end of expression");
      case Token::Kind::int_lit: {
        if (t.uint_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          throw_error(pos, "integer literal out of range");
        NodePtr n = make(Node::Kind::literal, pos);
        n->value = Value(static_cast<int64_t>(t.uint_value));
        ++p_;
        return n;
      }
      case Token::Kind::uint_lit: {
        NodePtr n = make(Node::Kind::literal, pos);
        n->value = Value(t.uint_value);
        ++p_;
        return n;
      }
      case Token::Kind::double_lit: {
        NodePtr n = make(Node::Kind::literal, pos);
        n->value = Value(t.double_value);
        ++p_;
        return n;
      }
      case Token::Kind::string_lit: {
        NodePtr n = make(Node::Kind::literal, pos);
        n->value = Value(t.text);
        ++p_;
        return n;
      }
      case Token::Kind::ident:
        return identifier();
      case Token::Kind::punct:
        break;
    }
    if (accept("(")) {
      NodePtr e = expr();
      expect(")");
      return e;
    }
    if (accept("[")) {
      NodePtr n = make(Node::Kind::list, pos);
      if (!accept("]")) {
        while (true) {
          n->args.push_back(expr());
          if (accept("]")) break;
          expect(",");
          if (accept("]")) break;  // trailing comma
        }
      }
      return sealed(std::move(n));
    }
    if (accept("{")) {
      NodePtr n = make(Node::Kind::map, pos);
      if (!accept("}")) {
        while (true) {
          n->args.push_back(expr());
          expect(":");
          n->args.push_back(expr());
          if (accept("}")) break;
          expect(",");
          if (accept("}")) break;
        }
      }
      return sealed(std::move(n));
    }
    if (is_punct(".")) throw_error(pos, "qualified names are not supported");
    throw_error(pos, "unexpected " + describe(t));
  }

  NodePtr identifier() {
    const Token& t = peek();
    size_t pos = t.pos;
    std::string name = t.text;
    ++p_;
    if (name == "true" || name == "false") {
      NodePtr n = make(Node::Kind::literal, pos);
      n->value = Value(name == "true");
      return n;
    }
    if (name == "null") {
      NodePtr n = make(Node::Kind::literal, pos);
      n->value = Value(Null{});
      return n;
    }
    if (is_reserved(name)) throw_error(pos, "reserved identifier '" + name + "'");
    if (is_punct("{")) throw_error(peek().pos, "message construction is not supported");
    if (!accept("(")) {
      NodePtr n = make(Node::Kind::ident, pos);
      n->name = name;
      return n;
    }
    std::vector<NodePtr> args = arg_list(")");
    if (name == "has") {
      if (args.size() != 1 || args[0]->kind != Node::Kind::select)
        throw_error(pos, "invalid argument to has() macro");
      NodePtr n = std::move(args[0]);
      n->kind = Node::Kind::has;
      return n;
    }
    NodePtr n = make(Node::Kind::call, pos);
    n->name = name;
    n->args = std::move(args);
    return sealed(std::move(n));
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  size_t depth_ = 0;
  size_t nodes_ = 0;
};

// Resolution: every identifier is `self`, `oldSelf`, a type name or a macro
// variable in scope; every function and method exists with that arity.
void resolve(Node& n, std::vector<std::string>& scope) {
  std::string err;
  switch (n.kind) {
    case Node::Kind::ident:
      if (n.name == "self" || n.name == "oldSelf" || is_type_name(n.name)) return;
      if (std::find(scope.begin(), scope.end(), n.name) != scope.end()) return;
      throw SyntaxError{n.pos, "undeclared reference to '" + n.name + "'", "compile error"};
    case Node::Kind::call:
      if (!check_function(n.name, n.args.size(), err)) throw SyntaxError{n.pos, err, "compile error"};
      break;
    case Node::Kind::method:
      if (!check_method(n.name, n.args.size() - 1, err)) throw SyntaxError{n.pos, err, "compile error"};
      break;
    case Node::Kind::comprehension: {
      resolve(*n.args[0], scope);
      scope.push_back(n.name);
      for (size_t i = 1; i < n.args.size(); ++i) resolve(*n.args[i], scope);
      scope.pop_back();
      return;
    }
    default:
      break;
  }
  for (auto& a : n.args) resolve(*a, scope);
  // A literal pattern is compiled once here so a bad regex is a compile error.
  bool is_matches = (n.kind == Node::Kind::method && n.name == "matches" && n.args.size() == 2) ||
                    (n.kind == Node::Kind::call && n.name == "matches" && n.args.size() == 2);
  if (is_matches && n.args[1]->kind == Node::Kind::literal && n.args[1]->value.is<std::string>()) {
    n.regex = compile_regex(n.args[1]->value.as<std::string>(), err);
    if (!n.regex) throw SyntaxError{n.args[1]->pos, err, "compile error"};
  }
}

// 1-based line:column of a byte offset, for messages.
std::string location(std::string_view src, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < src.size(); ++i) {
    if (src[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace

CompileResult compile(std::string_view expression) { return compile(expression, {}); }

CompileResult compile(std::string_view expression, const std::vector<std::string>& variables) {
  if (expression.size() > kMaxSourceSize)
    return {nullptr, "expression too large: " + std::to_string(expression.size()) + " bytes (limit " +
                         std::to_string(kMaxSourceSize) + ")"};
  LexResult lx = lex(expression);
  if (!lx.error.empty()) return {nullptr, "syntax error at " + location(expression, lx.error_pos) + ": " + lx.error};
  try {
    Parser parser(std::move(lx.tokens));
    NodePtr root = parser.parse();
    std::vector<std::string> scope = variables;
    resolve(*root, scope);
    return Compiler::make(std::move(root), expression);
  } catch (const SyntaxError& e) {
    return {nullptr, std::string(e.what) + " at " + location(expression, e.pos) + ": " + e.message};
  } catch (const std::exception& e) {
    return {nullptr, std::string("compile error: ") + e.what()};
  }
}

}  // namespace lg::ctrl::cel
