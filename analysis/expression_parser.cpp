// Expression::parse: precedence climbing over the lexer's tokens into a flat Program, checking
// every name against what a condition may use (SPEC §2: unknown identifiers fail at load).
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "analysis/expression.hpp"
#include "analysis/expression_lexer.hpp"
#include "analysis/expression_program.hpp"

namespace vane::analysis {
namespace expression_detail {
namespace {

/// Deeper trees (or parentheses) are refused, which bounds the evaluator's recursion.
constexpr uint32_t kMaxDepth = 200;
constexpr uint32_t kNone = UINT32_MAX;

struct Function {
  std::string_view name;
  Node::Kind kind;
  uint32_t arity;
};
constexpr std::array<Function, 6> kFunctions{{
    {"len", Node::Kind::Len, 1},
    {"isNaN", Node::Kind::IsNaN, 1},
    {"isInf", Node::Kind::IsInf, 1},
    {"default", Node::Kind::Default, 2},
    {"all", Node::Kind::All, 2},
    {"any", Node::Kind::Any, 2},
}};

const Function* find_function(std::string_view name) {
  const auto it = std::find_if(kFunctions.begin(), kFunctions.end(),
                               [&](const Function& f) { return f.name == name; });
  return it == kFunctions.end() ? nullptr : &*it;
}

class Parser {
 public:
  Parser(std::string_view text, Program& program) : text_(text), program_(program) {}

  /// Fills the program; false with *error ("column N: ...") on the first problem.
  bool run(std::string* error) {
    size_t lex_offset = 0;
    tokens_ = lex(text_, error, &lex_offset);
    if (!error->empty()) {
      *error = "column " + std::to_string(column_of(text_, lex_offset)) + ": " + *error;
      return false;
    }
    if (peek().kind == Tok::End) {
      fail(peek(), "empty condition");
    } else {
      program_.root = parse_or();
      if (ok() && peek().kind != Tok::End) fail_unexpected(peek());
      if (ok()) program_.non_boolean = non_boolean();
    }
    if (ok()) return true;
    *error = std::move(error_);
    return false;
  }

 private:
  /// "column N: the condition gives a number, not a bool" when the top operator can never give
  /// a bool (expr-lang's AsBool() refuses such a condition when it compiles); else "".
  std::string non_boolean() const {
    const Node& root = program_.nodes[program_.root];
    std::string_view gives;
    switch (root.kind) {
      case Node::Kind::Add: gives = "a number or a string"; break;
      case Node::Kind::Sub:
      case Node::Kind::Mul:
      case Node::Kind::Div:
      case Node::Kind::Mod:
      case Node::Kind::Neg:
      case Node::Kind::Plus:
      case Node::Kind::Len: gives = "a number"; break;
      case Node::Kind::Constant:
        switch (program_.constants[root.a].type()) {
          case Value::Type::Number: gives = "a number"; break;
          case Value::Type::String: gives = "a string"; break;
          case Value::Type::Nil: gives = "nil"; break;
          default: break;
        }
        break;
      default: break;
    }
    if (gives.empty()) return {};
    return "column " + std::to_string(root.column) + ": the condition gives " +
           std::string(gives) + ", not a bool";
  }

  bool ok() const { return error_.empty(); }
  const Token& peek() const { return tokens_[pos_]; }
  bool at(Tok kind) const { return peek().kind == kind; }
  bool at_name(std::string_view name) const { return at(Tok::Name) && peek().text == name; }
  const Token& take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  uint32_t fail(const Token& at_token, std::string_view message) {
    if (ok()) {
      error_ = "column " + std::to_string(column_of(text_, at_token.offset)) + ": ";
      error_ += message;
    }
    return kNone;
  }
  uint32_t fail_unexpected(const Token& t) {
    if (t.kind == Tok::End) return fail(t, "unexpected end of condition");
    return fail(t, "unexpected \"" + std::string(text_.substr(t.offset, t.length)) + "\"");
  }
  bool expect(Tok kind, std::string_view what) {
    if (!ok()) return false;
    if (at(kind)) {
      take();
      return true;
    }
    const std::string got =
        at(Tok::End) ? "end of condition"
                     : "\"" + std::string(text_.substr(peek().offset, peek().length)) + "\"";
    fail(peek(), "expected " + std::string(what) + ", got " + got);
    return false;
  }

  /// Adds a node whose children are `a` and `b` (kNone when absent or not nodes).
  uint32_t add(Node::Kind kind, uint32_t a, uint32_t b, const Token& at_token, bool a_node,
               bool b_node) {
    if (!ok() || (a_node && a == kNone) || (b_node && b == kNone)) return kNone;
    uint32_t depth = 1;
    if (a_node) depth = std::max(depth, depths_[a] + 1);
    if (b_node) depth = std::max(depth, depths_[b] + 1);
    if (depth > kMaxDepth) return fail(at_token, "condition nested too deeply");
    program_.nodes.push_back({kind, a, b, column_of(text_, at_token.offset)});
    depths_.push_back(depth);
    return static_cast<uint32_t>(program_.nodes.size() - 1);
  }
  uint32_t leaf(Node::Kind kind, const Token& t) { return add(kind, 0, 0, t, false, false); }
  uint32_t unary(Node::Kind kind, uint32_t a, const Token& t) {
    return add(kind, a, 0, t, true, false);
  }
  uint32_t binary(Node::Kind kind, uint32_t a, uint32_t b, const Token& t) {
    return add(kind, a, b, t, true, true);
  }
  uint32_t constant(Value v, const Token& t) {
    program_.constants.push_back(std::move(v));
    return add(Node::Kind::Constant, static_cast<uint32_t>(program_.constants.size() - 1), 0, t,
               false, false);
  }

  /// Guards the recursion of nested parentheses, calls, indices and unary operators.
  struct Nesting {
    explicit Nesting(Parser& p) : p_(p) { ++p_.nesting_; }
    ~Nesting() { --p_.nesting_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    Parser& p_;
  };
  bool too_deep() {
    if (nesting_ <= kMaxDepth) return false;
    fail(peek(), "condition nested too deeply");
    return true;
  }

  uint32_t parse_or() {
    const Nesting nesting(*this);
    if (too_deep()) return kNone;
    uint32_t left = parse_and();
    while (ok() && (at(Tok::OrOr) || at_name("or"))) {
      const Token& op = take();
      left = binary(Node::Kind::Or, left, parse_and(), op);
    }
    return left;
  }

  uint32_t parse_and() {
    uint32_t left = parse_comparison();
    while (ok() && (at(Tok::AndAnd) || at_name("and"))) {
      const Token& op = take();
      left = binary(Node::Kind::And, left, parse_comparison(), op);
    }
    return left;
  }

  static std::optional<Node::Kind> comparison(Tok t) {
    switch (t) {
      case Tok::EqEq: return Node::Kind::Eq;
      case Tok::NotEq: return Node::Kind::Ne;
      case Tok::Less: return Node::Kind::Lt;
      case Tok::LessEq: return Node::Kind::Le;
      case Tok::Greater: return Node::Kind::Gt;
      case Tok::GreaterEq: return Node::Kind::Ge;
      default: return std::nullopt;
    }
  }

  /// `a < b < c` is `a < b && b < c`, as in expr-lang.
  uint32_t parse_comparison() {
    uint32_t left = parse_additive();
    uint32_t chain = kNone;
    while (ok()) {
      const auto kind = comparison(peek().kind);
      if (!kind) break;
      const Token& op = take();
      const uint32_t right = parse_additive();
      const uint32_t cmp = binary(*kind, left, right, op);
      chain = chain == kNone ? cmp : binary(Node::Kind::And, chain, cmp, op);
      left = right;
    }
    return chain == kNone ? left : chain;
  }

  uint32_t parse_additive() {
    uint32_t left = parse_multiplicative();
    while (ok() && (at(Tok::Plus) || at(Tok::Minus))) {
      const Token& op = take();
      const auto kind = op.kind == Tok::Plus ? Node::Kind::Add : Node::Kind::Sub;
      left = binary(kind, left, parse_multiplicative(), op);
    }
    return left;
  }

  uint32_t parse_multiplicative() {
    uint32_t left = parse_unary();
    while (ok() && (at(Tok::Star) || at(Tok::Slash) || at(Tok::Percent))) {
      const Token& op = take();
      const auto kind = op.kind == Tok::Star    ? Node::Kind::Mul
                        : op.kind == Tok::Slash ? Node::Kind::Div
                                                : Node::Kind::Mod;
      left = binary(kind, left, parse_unary(), op);
    }
    return left;
  }

  uint32_t parse_unary() {
    std::optional<Node::Kind> kind;
    if (at(Tok::Bang) || at_name("not")) kind = Node::Kind::Not;
    if (at(Tok::Minus)) kind = Node::Kind::Neg;
    if (at(Tok::Plus)) kind = Node::Kind::Plus;
    if (!kind) return parse_postfix(parse_primary());
    const Nesting nesting(*this);
    if (too_deep()) return kNone;
    const Token& op = take();
    return unary(*kind, parse_unary(), op);
  }

  uint32_t parse_postfix(uint32_t node) {
    while (ok()) {
      if (at(Tok::Dot)) {
        take();
        node = member(node);
      } else if (at(Tok::LBracket)) {
        const Nesting nesting(*this);
        const Token& open = take();
        const uint32_t index = parse_or();
        expect(Tok::RBracket, "\"]\"");
        node = binary(Node::Kind::Index, node, index, open);
      } else {
        break;
      }
    }
    return node;
  }

  /// After a `.`: the field name (any name, keywords included).
  uint32_t member(uint32_t object) {
    if (!at(Tok::Name)) {
      fail(peek(), "expected a field name after \".\"");
      return kNone;
    }
    const Token& name = take();
    return binary(Node::Kind::Index, object, constant(Value::string(name.text), name), name);
  }

  uint32_t parse_primary();
  uint32_t parse_name(const Token& name);
  uint32_t parse_call(const Function& f, const Token& name);
  uint32_t parse_predicate();

  std::string_view text_;
  Program& program_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<uint32_t> depths_;  ///< per node: the height of its subtree
  uint32_t nesting_ = 0;
  uint32_t predicates_ = 0;  ///< how many predicates enclose the current position
  std::string error_;
};

uint32_t Parser::parse_primary() {
  const Token& t = take();
  switch (t.kind) {
    case Tok::Number: return constant(Value::number(t.number), t);
    case Tok::String: return constant(Value::string(t.text), t);
    case Tok::Name: return parse_name(t);
    case Tok::LParen: {
      const uint32_t inner = parse_or();
      expect(Tok::RParen, "\")\"");
      return inner;
    }
    case Tok::Hash:
      if (predicates_ == 0) {
        return fail(t, "# is only valid inside the predicate of all() or any()");
      }
      return leaf(Node::Kind::Element, t);
    case Tok::Dot:  // `.name` in a predicate is `#.name`
      if (predicates_ == 0) {
        return fail(t,
                    "a field of # (\".name\") is only valid inside the predicate of all() or "
                    "any()");
      }
      return member(leaf(Node::Kind::Element, t));
    default: return fail_unexpected(t);
  }
}

uint32_t Parser::parse_name(const Token& name) {
  const std::string& n = name.text;
  if (n == "true" || n == "false") return constant(Value::boolean(n == "true"), name);
  if (n == "nil") return constant(Value::nil(), name);
  if (n == "and" || n == "or") return fail_unexpected(name);
  const bool call = at(Tok::LParen);
  if (const Function* f = find_function(n)) {
    if (!call) return fail(name, n + " is a function: call it as " + n + "(...)");
    return parse_call(*f, name);
  }
  if (n == "result" || n == "baseline") {
    if (call) return fail(name, n + " is not a function");
    if (n == "baseline") program_.uses_baseline = true;
    return leaf(n == "result" ? Node::Kind::Result : Node::Kind::Baseline, name);
  }
  if (call) {
    return fail(name,
                "unknown function " + n + " (functions: len, isNaN, isInf, default, all, any)");
  }
  return fail(name, "unknown name " + n +
                        " (a condition can use result, baseline and the "
                        "functions len, isNaN, isInf, default, all, any)");
}

uint32_t Parser::parse_call(const Function& f, const Token& name) {
  const Nesting nesting(*this);
  if (too_deep()) return kNone;
  take();  // (
  std::array<uint32_t, 2> args{kNone, kNone};
  uint32_t count = 0;
  while (ok() && !at(Tok::RParen)) {
    if (count > 0 && !expect(Tok::Comma, "\",\" or \")\"")) break;
    if (at(Tok::RParen)) break;  // a trailing comma
    const bool predicate = count == 1 && (f.kind == Node::Kind::All || f.kind == Node::Kind::Any);
    const uint32_t arg = predicate ? parse_predicate() : parse_or();
    if (count < args.size()) args[count] = arg;
    ++count;
  }
  if (!expect(Tok::RParen, "\")\"")) return kNone;
  if (count != f.arity) {
    return fail(name, std::string(f.name) + "() takes " + std::to_string(f.arity) +
                          (f.arity == 1 ? " argument" : " arguments") + ", got " +
                          std::to_string(count));
  }
  return add(f.kind, args[0], args[1], name, true, f.arity == 2);
}

/// `{ expr }` or a bare expression, in which `#` is the element.
uint32_t Parser::parse_predicate() {
  ++predicates_;
  uint32_t body = kNone;
  if (at(Tok::LBrace)) {
    take();
    body = parse_or();
    expect(Tok::RBrace, "\"}\"");
  } else {
    body = parse_or();
  }
  --predicates_;
  return body;
}

}  // namespace
}  // namespace expression_detail

std::optional<Expression> Expression::parse(std::string_view text, std::string* error) {
  auto program = std::make_shared<expression_detail::Program>();
  program->text = std::string(text);
  std::string message;
  if (!expression_detail::Parser(text, *program).run(&message)) {
    if (error) *error = std::move(message);
    return std::nullopt;
  }
  return Expression(std::move(program));
}

}  // namespace vane::analysis
