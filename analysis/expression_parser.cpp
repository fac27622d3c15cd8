// Expression::parse: expr-lang's precedence climbing over the lexer's tokens into a flat
// Program, checking every name against what a condition may use (SPEC §2: unknown identifiers
// fail at load) and, like expr-lang's checker, the operand types it can know before a result
// exists (`asFloat(result) == "1.1"` is refused). Linear in the text; depth bounded.
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

using Kind = Node::Kind;

/// What the parser knows of a node's value before evaluation; Unknown for whatever comes from
/// `result` (expr-lang's interface{}).
enum class Static : uint8_t { Unknown, Nil, Bool, Number, String, List, Object };

std::string_view static_name(Static t) {
  switch (t) {
    case Static::Nil: return "nil";
    case Static::Bool: return "a bool";
    case Static::Number: return "a number";
    case Static::String: return "a string";
    case Static::List: return "a list";
    case Static::Object: return "an object";
    case Static::Unknown: break;
  }
  return "a value";
}

Static static_of(const Value& v) {
  switch (v.type()) {
    case Value::Type::Nil: return Static::Nil;
    case Value::Type::Bool: return Static::Bool;
    case Value::Type::Number: return Static::Number;
    case Value::Type::String: return Static::String;
    case Value::Type::List: return Static::List;
    case Value::Type::Object: return Static::Object;
  }
  return Static::Unknown;
}

struct Function {
  std::string_view name;
  Fn fn;
  uint32_t min_args;
  uint32_t max_args;
  Static gives;
};
constexpr uint32_t kVariadic = 1000;
constexpr std::array<Function, 20> kFunctions{{
    {"len", Fn::Len, 1, 1, Static::Number},
    {"abs", Fn::Abs, 1, 1, Static::Number},
    {"max", Fn::Max, 1, kVariadic, Static::Number},
    {"min", Fn::Min, 1, kVariadic, Static::Number},
    {"int", Fn::Int, 1, 1, Static::Number},
    {"float", Fn::Float, 1, 1, Static::Number},
    {"string", Fn::String, 1, 1, Static::String},
    {"asInt", Fn::AsInt, 1, 1, Static::Number},
    {"asFloat", Fn::AsFloat, 1, 1, Static::Number},
    {"isNaN", Fn::IsNaN, 1, 1, Static::Bool},
    {"isInf", Fn::IsInf, 1, 1, Static::Bool},
    {"isNil", Fn::IsNil, 1, 1, Static::Bool},
    {"default", Fn::Default, 2, 2, Static::Unknown},
    {"all", Fn::All, 2, 2, Static::Bool},
    {"any", Fn::Any, 2, 2, Static::Bool},
    {"none", Fn::None, 2, 2, Static::Bool},
    {"one", Fn::One, 2, 2, Static::Bool},
    {"filter", Fn::Filter, 2, 2, Static::List},
    {"map", Fn::Map, 2, 2, Static::List},
    {"count", Fn::Count, 1, 2, Static::Number},
}};
constexpr std::string_view kFunctionNames =
    "len, abs, max, min, int, float, string, asInt, asFloat, isNaN, isInf, isNil, default, all, "
    "any, none, one, filter, map, count";

constexpr std::string_view kClosures =
    " (the {...} of all, any, none, one, filter, map, count)";

const Function* find_function(std::string_view name) {
  const auto it = std::find_if(kFunctions.begin(), kFunctions.end(),
                               [&](const Function& f) { return f.name == name; });
  return it == kFunctions.end() ? nullptr : &*it;
}

bool takes_closure(Fn fn) { return fn >= Fn::All && fn <= Fn::Count; }

/// expr-lang's binary operators with their precedence; `?? ` binds tightest.
struct Binary {
  Kind kind;
  int precedence;
  bool right_assoc = false;
};
constexpr int kComparison = 20;

std::optional<Binary> binary_of(const Token& t) {
  switch (t.kind) {
    case Tok::OrOr: return Binary{Kind::Or, 10};
    case Tok::AndAnd: return Binary{Kind::And, 15};
    case Tok::EqEq: return Binary{Kind::Eq, kComparison};
    case Tok::NotEq: return Binary{Kind::Ne, kComparison};
    case Tok::Less: return Binary{Kind::Lt, kComparison};
    case Tok::LessEq: return Binary{Kind::Le, kComparison};
    case Tok::Greater: return Binary{Kind::Gt, kComparison};
    case Tok::GreaterEq: return Binary{Kind::Ge, kComparison};
    case Tok::DotDot: return Binary{Kind::Range, 25};
    case Tok::Plus: return Binary{Kind::Add, 30};
    case Tok::Minus: return Binary{Kind::Sub, 30};
    case Tok::Star: return Binary{Kind::Mul, 60};
    case Tok::Slash: return Binary{Kind::Div, 60};
    case Tok::Percent: return Binary{Kind::Mod, 60};
    case Tok::StarStar:
    case Tok::Caret: return Binary{Kind::Pow, 100, true};
    case Tok::QuestionQuestion: return Binary{Kind::Coalesce, 500};
    case Tok::Name: break;
    default: return std::nullopt;
  }
  const std::string& n = t.text;
  if (n == "or") return Binary{Kind::Or, 10};
  if (n == "and") return Binary{Kind::And, 15};
  if (n == "in") return Binary{Kind::In, kComparison};
  if (n == "contains") return Binary{Kind::Contains, kComparison};
  if (n == "startsWith") return Binary{Kind::StartsWith, kComparison};
  if (n == "endsWith") return Binary{Kind::EndsWith, kComparison};
  if (n == "matches") return Binary{Kind::Matches, kComparison};
  return std::nullopt;
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
      program_.root = parse_expression(0);
      if (ok() && peek().kind != Tok::End) fail_unexpected(peek());
      if (ok()) program_.non_boolean = non_boolean();
    }
    if (ok()) return true;
    *error = std::move(error_);
    return false;
  }

 private:
  /// "column N: the condition gives a number, not a bool" when the top node can never give a
  /// bool (expr-lang refuses such a condition when it compiles); else "".
  std::string non_boolean() const {
    const Node& root = program_.nodes[program_.root];
    const Static type = types_[program_.root];
    std::string_view gives = static_name(type);
    if (root.kind == Kind::Add && type == Static::Unknown) gives = "a number or a string";
    if (type == Static::Bool || (type == Static::Unknown && root.kind != Kind::Add)) return {};
    return "column " + std::to_string(column_of(text_, root.offset)) + ": the condition gives " +
           std::string(gives) + ", not a bool";
  }

  bool ok() const { return error_.empty(); }
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
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

  /// Adds a node whose children are `children` (all must be nodes, none kNone).
  uint32_t add(Node node, const Token& at_token, std::initializer_list<uint32_t> children,
               Static type) {
    if (!ok()) return kNone;
    uint32_t depth = 1;
    for (const uint32_t child : children) {
      if (child == kNone) return kNone;
      depth = std::max(depth, depths_[child] + 1);
    }
    if (depth > kMaxDepth) return fail(at_token, "condition nested too deeply");
    node.offset = at_token.offset;
    program_.nodes.push_back(node);
    depths_.push_back(depth);
    types_.push_back(type);
    return static_cast<uint32_t>(program_.nodes.size() - 1);
  }
  static Node node_of(Kind kind, uint32_t a = 0, uint32_t b = 0, uint32_t c = kNone) {
    Node n;
    n.kind = kind;
    n.a = a;
    n.b = b;
    n.c = c;
    return n;
  }
  uint32_t leaf(Kind kind, const Token& t, uint32_t a = 0) {
    return add(node_of(kind, a), t, {}, Static::Unknown);
  }
  uint32_t constant(Value v, const Token& t) {
    const Static type = static_of(v);
    program_.constants.push_back(std::move(v));
    return add(node_of(Kind::Constant, static_cast<uint32_t>(program_.constants.size() - 1)), t,
               {}, type);
  }
  /// List, Map and Call nodes: their children go to Program::args.
  uint32_t with_args(Node node, const std::vector<uint32_t>& children, const Token& t,
                     Static type) {
    if (!ok()) return kNone;
    uint32_t depth = 1;
    for (const uint32_t child : children) depth = std::max(depth, depths_[child] + 1);
    if (depth > kMaxDepth) return fail(t, "condition nested too deeply");
    node.a = static_cast<uint32_t>(program_.args.size());
    node.b = static_cast<uint32_t>(children.size());
    program_.args.insert(program_.args.end(), children.begin(), children.end());
    const uint32_t index = add(node, t, {}, type);
    if (index != kNone) depths_[index] = depth;
    return index;
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

  uint32_t parse_expression(int min_precedence);
  uint32_t binary(const Binary& op, uint32_t left, uint32_t right, const Token& t);
  uint32_t parse_unary();
  uint32_t parse_postfix(uint32_t node);
  uint32_t member(uint32_t object, bool optional);
  uint32_t parse_primary();
  uint32_t parse_name(const Token& name);
  uint32_t parse_call(const Function& f, const Token& name);
  uint32_t parse_closure();
  uint32_t parse_list(const Token& open);
  uint32_t parse_map(const Token& open);

  /// "column N: OP needs X, got Y" when the parser already knows `type` cannot do.
  uint32_t refuse(const Token& t, std::string_view op, std::string_view needs, Static type) {
    return fail(t, std::string(op) + " needs " + std::string(needs) + ", got " +
                       std::string(static_name(type)));
  }
  bool check_types(const Binary& op, Static l, Static r, const Token& t);

  std::string_view text_;
  Program& program_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<uint32_t> depths_;  ///< per node: the height of its subtree
  std::vector<Static> types_;     ///< per node: what the parser knows of its value
  uint32_t nesting_ = 0;
  uint32_t closures_ = 0;  ///< how many closures enclose the current position
  std::string error_;
};

/// Binary operators at `min_precedence` or tighter; the conditional `? :` at the top level.
/// Orderings chain as in expr-lang (operator.IsComparison: < <= > >= only): `a < b < c` is
/// `a < b && b < c`, while `a == b == c` is `(a == b) == c` and `a < b == c` is `(a < b) == c`.
uint32_t Parser::parse_expression(int min_precedence) {
  const Nesting nesting(*this);
  if (too_deep()) return kNone;
  uint32_t left = parse_unary();
  uint32_t chain_right = kNone;  // the right side of the last ordering, for chaining
  while (ok()) {
    std::optional<Binary> op = binary_of(peek());
    const bool negate = !op && at_name("not");  // `not in`, `not matches`, ...
    if (negate) {
      op = binary_of(peek(1));
      if (op && (op->kind < Kind::In || op->kind > Kind::Matches)) op.reset();
    }
    // a looser operator belongs to a caller: leave it (and its `not`) where it is
    if (!op || op->precedence < min_precedence) break;
    if (negate) take();
    const Token& t = take();
    const uint32_t right = parse_expression(op->right_assoc ? op->precedence : op->precedence + 1);
    const bool ordering = op->kind >= Kind::Lt && op->kind <= Kind::Ge;
    if (ordering && chain_right != kNone) {
      const uint32_t cmp = binary(*op, chain_right, right, t);
      left = binary(Binary{Kind::And, 15}, left, cmp, t);
    } else {
      left = binary(*op, left, right, t);
      if (negate) left = add(node_of(Kind::Not, left), t, {left}, Static::Bool);
    }
    chain_right = ordering ? right : kNone;
  }
  if (min_precedence == 0 && ok() && at(Tok::Question)) {
    const Token& t = take();
    if (types_[left] != Static::Unknown && types_[left] != Static::Bool) {
      return fail(t, "?: needs a bool condition, got " + std::string(static_name(types_[left])));
    }
    const uint32_t then = parse_expression(0);
    if (!expect(Tok::Colon, "\":\"")) return kNone;
    const uint32_t otherwise = parse_expression(0);
    if (!ok()) return kNone;
    const Static type = types_[then] == types_[otherwise] ? types_[then] : Static::Unknown;
    return add(node_of(Kind::Conditional, left, then, otherwise), t, {left, then, otherwise},
               type);
  }
  return left;
}

bool Parser::check_types(const Binary& op, Static l, Static r, const Token& t) {
  const std::string name(spelling(node_of(op.kind)));
  // nil's static type is unknown to expr-lang's checker: `nil > 1` fails only when run
  const auto known = [](Static s) { return s != Static::Unknown && s != Static::Nil; };
  const auto clash = [&](const std::string& message) {
    fail(t, message);
    return false;
  };
  const auto got = [&] {
    return std::string(static_name(l)) + " and " + std::string(static_name(r));
  };
  const auto each_side = [&](Static want, std::string_view needs) {
    for (const Static side : {l, r}) {
      if (known(side) && side != want) {
        return clash(name + " needs " + std::string(needs) + ", got " +
                     std::string(static_name(side)));
      }
    }
    return true;
  };
  const bool both_known = known(l) && known(r);
  switch (op.kind) {
    case Kind::Or:
    case Kind::And: return each_side(Static::Bool, "bools");
    case Kind::Eq:
    case Kind::Ne:
      if (both_known && l != r) {
        return clash("invalid operation: " + name + " (mismatched types: " + got() + ")");
      }
      return true;
    case Kind::Lt:
    case Kind::Le:
    case Kind::Gt:
    case Kind::Ge:
    case Kind::Add:
      if (both_known && !(l == r && (l == Static::Number || l == Static::String))) {
        return clash(name + " needs two numbers or two strings, got " + got());
      }
      return true;
    case Kind::Sub:
    case Kind::Mul:
    case Kind::Div:
    case Kind::Mod:
    case Kind::Pow:
    case Kind::Range: return each_side(Static::Number, "numbers");
    case Kind::Contains:
    case Kind::StartsWith:
    case Kind::EndsWith:
    case Kind::Matches: return each_side(Static::String, "strings");
    case Kind::In:
      if (known(r) && r != Static::List && r != Static::Object) {
        return clash("in needs a list or an object on the right, got " +
                     std::string(static_name(r)));
      }
      return true;
    default: return true;
  }
}

uint32_t Parser::binary(const Binary& op, uint32_t left, uint32_t right, const Token& t) {
  if (!ok() || left == kNone || right == kNone) return kNone;
  const Static l = types_[left];
  const Static r = types_[right];
  if (!check_types(op, l, r, t)) return kNone;
  Static type = Static::Bool;
  switch (op.kind) {
    case Kind::Add: type = l == r ? l : Static::Unknown; break;
    case Kind::Sub:
    case Kind::Mul:
    case Kind::Div:
    case Kind::Mod:
    case Kind::Pow: type = Static::Number; break;
    case Kind::Range: type = Static::List; break;
    case Kind::Coalesce: type = l == Static::Nil ? r : (l == r ? l : Static::Unknown); break;
    default: break;
  }
  Node node = node_of(op.kind, left, right);
  if (op.kind == Kind::Matches && program_.nodes[right].kind == Kind::Constant &&
      r == Static::String) {  // a literal pattern compiles once, here
    std::string error;
    auto re = compile_regex(program_.constants[program_.nodes[right].a].as_string(), &error);
    if (!re) return fail(tokens_[pos_ - 1].kind == Tok::String ? tokens_[pos_ - 1] : t, error);
    program_.regexes.push_back(std::move(re));
    node.c = static_cast<uint32_t>(program_.regexes.size() - 1);
  }
  return add(node, t, {left, right}, type);
}

uint32_t Parser::parse_unary() {
  std::optional<Kind> kind;
  int precedence = 90;
  if (at(Tok::Bang) || at_name("not")) {
    kind = Kind::Not;
    precedence = 50;
  }
  if (at(Tok::Minus)) kind = Kind::Neg;
  if (at(Tok::Plus)) kind = Kind::Plus;
  if (!kind) return parse_postfix(parse_primary());
  const Token& op = take();
  const uint32_t operand = parse_expression(precedence);
  if (operand == kNone) return kNone;
  const Static type = types_[operand];
  if (*kind == Kind::Not) {
    if (type != Static::Unknown && type != Static::Bool) return refuse(op, "!", "a bool", type);
    return add(node_of(Kind::Not, operand), op, {operand}, Static::Bool);
  }
  if (type != Static::Unknown && type != Static::Number) {
    return refuse(op, *kind == Kind::Neg ? "-" : "+", "a number", type);
  }
  return add(node_of(*kind, operand), op, {operand}, Static::Number);
}

uint32_t Parser::parse_postfix(uint32_t node) {
  bool optional = false;  // after `?.`, the rest of the chain is nil-safe too (expr-lang)
  while (ok()) {
    if (at(Tok::Dot) || at(Tok::QuestionDot)) {
      if (take().kind == Tok::QuestionDot) optional = true;
      if (at(Tok::LBracket)) continue;  // `?.[i]`
      node = member(node, optional);
    } else if (at(Tok::LBracket)) {
      const Nesting nesting(*this);
      if (too_deep()) return kNone;
      const Token& open = take();
      uint32_t from = kNone;
      if (!at(Tok::Colon)) from = parse_expression(0);
      if (ok() && at(Tok::Colon)) {  // a slice: x[a:b], x[:b], x[a:]
        take();
        const uint32_t to = at(Tok::RBracket) ? kNone : parse_expression(0);
        expect(Tok::RBracket, "\"]\"");
        if (!ok()) return kNone;
        const Static type = types_[node] == Static::String ? Static::String : Static::Unknown;
        const uint32_t bounds = std::max(from == kNone ? 0 : depths_[from] + 1,
                                         to == kNone ? 0 : depths_[to] + 1);
        node = add(node_of(Kind::Slice, node, from, to), open, {node}, type);
        if (node != kNone && bounds > depths_[node]) {
          if (bounds > kMaxDepth) return fail(open, "condition nested too deeply");
          depths_[node] = bounds;
        }
        continue;
      }
      expect(Tok::RBracket, "\"]\"");
      if (from == kNone) return kNone;
      node = add(node_of(Kind::Index, node, from, optional ? 1 : 0), open, {node, from},
                 Static::Unknown);
    } else {
      break;
    }
  }
  return node;
}

/// After a `.`: the field name (any name, keywords included).
uint32_t Parser::member(uint32_t object, bool optional) {
  if (!at(Tok::Name)) return fail(peek(), "expected a field name after \".\"");
  const Token& name = take();
  if (at(Tok::LParen)) return fail(name, "methods are not supported: " + name.text + "()");
  const uint32_t key = constant(Value::string(name.text), name);
  return add(node_of(Kind::Index, object, key, optional ? 1 : 0), name, {object, key},
             Static::Unknown);
}

uint32_t Parser::parse_primary() {
  const Token& t = take();
  switch (t.kind) {
    case Tok::Number: return constant(Value::number(t.number), t);
    case Tok::String: return constant(Value::string(t.text), t);
    case Tok::Name: return parse_name(t);
    case Tok::LParen: {
      const uint32_t inner = parse_expression(0);
      expect(Tok::RParen, "\")\"");
      return inner;
    }
    case Tok::LBracket: return parse_list(t);
    case Tok::LBrace: return parse_map(t);
    case Tok::Hash:
      if (closures_ == 0) {
        return fail(t, "# is only valid inside a closure" + std::string(kClosures));
      }
      if (t.text.empty()) return leaf(Kind::Element, t);
      if (t.text == "index") return leaf(Kind::Element, t, 1);
      return fail(t, "unknown closure variable #" + t.text + " (# and #index exist)");
    case Tok::Dot:  // `.name` in a closure is `#.name`
      if (closures_ == 0) {
        return fail(t, "a field of # (\".name\") is only valid inside a closure" +
                           std::string(kClosures));
      }
      return member(leaf(Kind::Element, t), false);
    default: return fail_unexpected(t);
  }
}

uint32_t Parser::parse_name(const Token& name) {
  const std::string& n = name.text;
  if (n == "true" || n == "false") return constant(Value::boolean(n == "true"), name);
  if (n == "nil") return constant(Value::nil(), name);
  if (binary_of(name)) return fail_unexpected(name);  // and, or, in, matches, ...
  const bool call = at(Tok::LParen);
  if (const Function* f = find_function(n)) {
    if (!call) return fail(name, n + " is a function: call it as " + n + "(...)");
    return parse_call(*f, name);
  }
  if (n == "result" || n == "baseline") {
    if (call) return fail(name, n + " is not a function");
    if (n == "baseline") program_.uses_baseline = true;
    return leaf(n == "result" ? Kind::Result : Kind::Baseline, name);
  }
  if (call) return fail(name, "unknown function " + n + " (functions: " +
                                  std::string(kFunctionNames) + ")");
  return fail(name, "unknown name " + n + " (a condition can use result, baseline and the "
                                          "functions " + std::string(kFunctionNames) + ")");
}

uint32_t Parser::parse_call(const Function& f, const Token& name) {
  const Nesting nesting(*this);
  if (too_deep()) return kNone;
  take();  // (
  std::vector<uint32_t> args;
  while (ok() && !at(Tok::RParen)) {
    if (!args.empty() && !expect(Tok::Comma, "\",\" or \")\"")) break;
    if (at(Tok::RParen)) break;  // a trailing comma
    const bool closure = args.size() == 1 && takes_closure(f.fn);
    args.push_back(closure ? parse_closure() : parse_expression(0));
    if (args.back() == kNone) return kNone;
  }
  if (!expect(Tok::RParen, "\")\"")) return kNone;
  const auto count = static_cast<uint32_t>(args.size());
  if (count < f.min_args || count > f.max_args) {
    std::string takes = std::to_string(f.min_args);
    if (f.max_args == kVariadic) takes += " or more";
    if (f.max_args != f.min_args && f.max_args != kVariadic) {
      takes += " or " + std::to_string(f.max_args);
    }
    return fail(name, std::string(f.name) + "() takes " + takes +
                          (f.max_args == 1 ? " argument" : " arguments") + ", got " +
                          std::to_string(count));
  }
  const Static arg = types_[args[0]];
  const bool known = arg != Static::Unknown;
  switch (f.fn) {  // what expr-lang's checker refuses before a result exists
    case Fn::Abs:
    case Fn::IsNaN:
    case Fn::IsInf:
      if (known && arg != Static::Number) {
        return refuse(name, std::string(f.name) + "()", "a number", arg);
      }
      break;
    case Fn::Len:
      if (known && arg != Static::String && arg != Static::List && arg != Static::Object) {
        return refuse(name, "len()", "a list, string or object", arg);
      }
      break;
    default:
      if (takes_closure(f.fn) && known && arg != Static::List && arg != Static::Nil) {
        return refuse(name, std::string(f.name) + "()", "a list", arg);
      }
      break;
  }
  Node node = node_of(Kind::Call);
  node.fn = f.fn;
  return with_args(node, args, name, f.gives);
}

/// `{ expr }` or a bare expression, in which `#` is the element.
uint32_t Parser::parse_closure() {
  ++closures_;
  uint32_t body = kNone;
  if (at(Tok::LBrace)) {
    take();
    body = parse_expression(0);
    expect(Tok::RBrace, "\"}\"");
  } else {
    body = parse_expression(0);
  }
  --closures_;
  return body;
}

/// `[a, b, ...]`
uint32_t Parser::parse_list(const Token& open) {
  const Nesting nesting(*this);
  if (too_deep()) return kNone;
  std::vector<uint32_t> items;
  while (ok() && !at(Tok::RBracket)) {
    if (!items.empty() && !expect(Tok::Comma, "\",\" or \"]\"")) return kNone;
    if (at(Tok::RBracket)) break;  // a trailing comma
    items.push_back(parse_expression(0));
    if (items.back() == kNone) return kNone;
  }
  if (!expect(Tok::RBracket, "\"]\"")) return kNone;
  return with_args(node_of(Kind::List), items, open, Static::List);
}

/// `{key: value, ...}`: a key is a name, a string or a number (as its text).
uint32_t Parser::parse_map(const Token& open) {
  const Nesting nesting(*this);
  if (too_deep()) return kNone;
  std::vector<uint32_t> members;
  while (ok() && !at(Tok::RBrace)) {
    if (!members.empty() && !expect(Tok::Comma, "\",\" or \"}\"")) return kNone;
    if (at(Tok::RBrace)) break;
    const Token& key = take();
    if (key.kind != Tok::Name && key.kind != Tok::String && key.kind != Tok::Number) {
      return fail(key, "expected a key (a name or a string)");
    }
    const std::string text =
        key.kind == Tok::Number ? std::string(text_.substr(key.offset, key.length)) : key.text;
    members.push_back(constant(Value::string(text), key));
    if (!expect(Tok::Colon, "\":\"")) return kNone;
    members.push_back(parse_expression(0));
    if (members.back() == kNone) return kNone;
  }
  if (!expect(Tok::RBrace, "\"}\"")) return kNone;
  return with_args(node_of(Kind::Map), members, open, Static::Object);
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
