// Expression::eval: walks the Program over `result` and `baseline`. Values read from them are
// referenced, not copied; only what an operator computes is owned. No exceptions: the first
// error stops the walk.
#include <cmath>
#include <optional>
#include <utility>

#include "analysis/expression.hpp"
#include "analysis/expression_program.hpp"

namespace vane::analysis {
namespace expression_detail {
namespace {

using Kind = Node::Kind;
using Type = Value::Type;

/// A value during evaluation: a reference into the inputs or the program, or one computed here.
struct Ref {
  const Value* ptr = nullptr;
  Value owned;

  static Ref to(const Value& v) { return Ref{&v, {}}; }
  static Ref own(Value v) { return Ref{nullptr, std::move(v)}; }
  const Value& get() const { return ptr ? *ptr : owned; }
  Type type() const { return get().type(); }
};

std::string name(Type t) { return std::string(type_name(t)); }

/// default(x, y) takes y when x is nil, NaN or empty.
bool needs_default(const Value& v) {
  switch (v.type()) {
    case Type::Nil: return true;
    case Type::Number: return std::isnan(v.as_number());
    case Type::String: return v.as_string().empty();
    case Type::List: return v.as_list().empty();
    case Type::Object: return v.as_object().empty();
    case Type::Bool: return false;
  }
  return false;
}

class Evaluator {
 public:
  Evaluator(const Program& program, const Value& result, const Value& baseline)
      : p_(program), result_(result), baseline_(baseline) {}

  std::optional<Ref> eval(uint32_t i);
  /// Why eval() returned nullopt.
  std::string take_error() { return std::move(error_); }

 private:
  std::optional<Ref> fail(const Node& n, std::string message) {
    error_ = "column " + std::to_string(n.column) + ": " + std::move(message);
    return std::nullopt;
  }
  std::optional<Ref> index(const Node& n);
  std::optional<Ref> arithmetic(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> ordering(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> logic(const Node& n);
  std::optional<Ref> unary(const Node& n);
  std::optional<Ref> function(const Node& n);
  std::optional<Ref> quantifier(const Node& n);

  const Program& p_;
  const Value& result_;
  const Value& baseline_;
  std::vector<const Value*> elements_;  ///< `#` of each enclosing predicate, innermost last
  std::string error_;
};

std::optional<Ref> Evaluator::eval(uint32_t i) {
  const Node& n = p_.nodes[i];
  switch (n.kind) {
    case Kind::Constant: return Ref::to(p_.constants[n.a]);
    case Kind::Result: return Ref::to(result_);
    case Kind::Baseline: return Ref::to(baseline_);
    case Kind::Element: return Ref::to(*elements_.back());
    case Kind::Index: return index(n);
    case Kind::Neg:
    case Kind::Plus:
    case Kind::Not: return unary(n);
    case Kind::And:
    case Kind::Or: return logic(n);
    case Kind::Len:
    case Kind::IsNaN:
    case Kind::IsInf:
    case Kind::Default: return function(n);
    case Kind::All:
    case Kind::Any: return quantifier(n);
    default: break;
  }
  auto a = eval(n.a);
  if (!a) return a;
  auto b = eval(n.b);
  if (!b) return b;
  switch (n.kind) {
    case Kind::Eq: return Ref::own(Value::boolean(equal(a->get(), b->get())));
    case Kind::Ne: return Ref::own(Value::boolean(!equal(a->get(), b->get())));
    case Kind::Lt:
    case Kind::Le:
    case Kind::Gt:
    case Kind::Ge: return ordering(n, a->get(), b->get());
    default: return arithmetic(n, a->get(), b->get());
  }
}

std::optional<Ref> Evaluator::index(const Node& n) {
  auto base = eval(n.a);
  if (!base) return base;
  auto key = eval(n.b);
  if (!key) return key;
  const Value& v = base->get();
  const Value& k = key->get();
  const auto pick = [&](const Value& member) {
    return base->ptr ? Ref::to(member) : Ref::own(member);  // never point into a temporary
  };
  if (v.type() == Type::List) {
    if (k.type() != Type::Number || std::isnan(k.as_number())) {
      return fail(n, "a list index must be a number, got " +
                         (k.type() == Type::Number ? std::string("NaN") : name(k.type())));
    }
    const auto size = static_cast<double>(v.as_list().size());
    double i = std::trunc(k.as_number());  // expr-lang truncates
    if (i < 0) i += size;                  // result[-1] is the last element
    if (i < 0 || i >= size) {
      return fail(n, "index " + to_text(k) + " out of range (list of " +
                         to_text(Value::number(size)) + ")");
    }
    return pick(v.as_list()[static_cast<size_t>(i)]);
  }
  if (v.type() == Type::Object) {
    if (k.type() != Type::String) {
      return fail(n, "an object key must be a string, got " + name(k.type()));
    }
    const Value* member = v.find(k.as_string());
    return member ? pick(*member) : Ref::own(Value::nil());  // a missing field is nil
  }
  if (k.type() == Type::String) {
    return fail(n, "cannot read field \"" + k.as_string() + "\" of " + name(v.type()));
  }
  return fail(n, "cannot index " + name(v.type()));
}

std::optional<Ref> Evaluator::arithmetic(const Node& n, const Value& a, const Value& b) {
  const std::string op(spelling(n.kind));
  if (n.kind == Kind::Add && a.type() == Type::String && b.type() == Type::String) {
    return Ref::own(Value::string(a.as_string() + b.as_string()));
  }
  if (a.type() != Type::Number || b.type() != Type::Number) {
    return fail(n, op +
                       (n.kind == Kind::Add ? " needs two numbers or two strings, got "
                                            : " needs two numbers, got ") +
                       name(a.type()) + " and " + name(b.type()));
  }
  const double x = a.as_number();
  const double y = b.as_number();
  switch (n.kind) {
    case Kind::Add: return Ref::own(Value::number(x + y));
    case Kind::Sub: return Ref::own(Value::number(x - y));
    case Kind::Mul: return Ref::own(Value::number(x * y));
    case Kind::Div: return Ref::own(Value::number(x / y));  // IEEE: 1/0 is +Inf, 0/0 NaN
    default: break;
  }
  // %: integers only, as in expr-lang
  if (!std::isfinite(x) || !std::isfinite(y) || std::trunc(x) != x || std::trunc(y) != y) {
    return fail(n, "% needs two integers, got " + to_text(a) + " and " + to_text(b));
  }
  if (y == 0) return fail(n, "% by zero");
  return Ref::own(Value::number(std::fmod(x, y)));
}

std::optional<Ref> Evaluator::ordering(const Node& n, const Value& a, const Value& b) {
  bool result = false;
  if (a.type() == Type::Number && b.type() == Type::Number) {
    const double x = a.as_number();
    const double y = b.as_number();
    switch (n.kind) {  // IEEE: every comparison with NaN is false
      case Kind::Lt: result = x < y; break;
      case Kind::Le: result = x <= y; break;
      case Kind::Gt: result = x > y; break;
      default: result = x >= y; break;
    }
    return Ref::own(Value::boolean(result));
  }
  if (a.type() != Type::String || b.type() != Type::String) {
    return fail(n, std::string(spelling(n.kind)) + " needs two numbers or two strings, got " +
                       name(a.type()) + " and " + name(b.type()));
  }
  const int cmp = a.as_string().compare(b.as_string());
  switch (n.kind) {
    case Kind::Lt: result = cmp < 0; break;
    case Kind::Le: result = cmp <= 0; break;
    case Kind::Gt: result = cmp > 0; break;
    default: result = cmp >= 0; break;
  }
  return Ref::own(Value::boolean(result));
}

/// && and ||: both sides must be bools; the right one is only evaluated when it decides.
std::optional<Ref> Evaluator::logic(const Node& n) {
  const std::string op(spelling(n.kind));
  auto a = eval(n.a);
  if (!a) return a;
  if (a->type() != Type::Bool) {
    return fail(n, op + " needs bools, got " + name(a->type()) + " on the left");
  }
  const bool left = a->get().as_bool();
  if (n.kind == Kind::And ? !left : left) return Ref::own(Value::boolean(left));
  auto b = eval(n.b);
  if (!b) return b;
  if (b->type() != Type::Bool) {
    return fail(n, op + " needs bools, got " + name(b->type()) + " on the right");
  }
  return Ref::own(Value::boolean(b->get().as_bool()));
}

std::optional<Ref> Evaluator::unary(const Node& n) {
  auto a = eval(n.a);
  if (!a) return a;
  const Value& v = a->get();
  if (n.kind == Kind::Not) {
    if (v.type() != Type::Bool) return fail(n, "! needs a bool, got " + name(v.type()));
    return Ref::own(Value::boolean(!v.as_bool()));
  }
  if (v.type() != Type::Number) {
    return fail(n, std::string(spelling(n.kind)) + " needs a number, got " + name(v.type()));
  }
  return Ref::own(Value::number(n.kind == Kind::Neg ? -v.as_number() : v.as_number()));
}

std::optional<Ref> Evaluator::function(const Node& n) {
  const std::string fn(spelling(n.kind));
  auto a = eval(n.a);
  if (!a) return a;
  const Value& v = a->get();
  switch (n.kind) {
    case Kind::Len:
      switch (v.type()) {
        case Type::List: return Ref::own(Value::number(static_cast<double>(v.as_list().size())));
        case Type::String:
          return Ref::own(Value::number(static_cast<double>(v.as_string().size())));
        case Type::Object:
          return Ref::own(Value::number(static_cast<double>(v.as_object().size())));
        default: return fail(n, fn + " needs a list, string or object, got " + name(v.type()));
      }
    case Kind::IsNaN:
    case Kind::IsInf:
      if (v.type() != Type::Number) return fail(n, fn + " needs a number, got " + name(v.type()));
      return Ref::own(Value::boolean(n.kind == Kind::IsNaN ? std::isnan(v.as_number())
                                                           : std::isinf(v.as_number())));
    default:  // default(x, y): y when x is nil, NaN or empty
      if (!needs_default(v)) return a;
      return eval(n.b);
  }
}

std::optional<Ref> Evaluator::quantifier(const Node& n) {
  const std::string fn(spelling(n.kind));
  const auto list = eval(n.a);  // stays put while `#` points into it
  if (!list) return list;
  if (list->type() != Type::List) return fail(n, fn + " needs a list, got " + name(list->type()));
  const bool all = n.kind == Kind::All;
  for (const Value& element : list->get().as_list()) {
    elements_.push_back(&element);
    auto verdict = eval(n.b);
    elements_.pop_back();
    if (!verdict) return verdict;
    if (verdict->type() != Type::Bool) {
      return fail(n, "the predicate of " + fn + " gave " + name(verdict->type()) + ", not a bool");
    }
    if (verdict->get().as_bool() != all) return Ref::own(Value::boolean(!all));
  }
  return Ref::own(Value::boolean(all));  // all() of [] is true, any() of [] false
}

}  // namespace
}  // namespace expression_detail

std::optional<Value> Expression::eval_value(const Value& result, const Value& baseline,
                                            std::string* error) const {
  expression_detail::Evaluator evaluator(*program_, result, baseline);
  auto ref = evaluator.eval(program_->root);
  if (!ref) {
    if (error) *error = evaluator.take_error();
    return std::nullopt;
  }
  return ref->ptr ? *ref->ptr : std::move(ref->owned);
}

EvalResult Expression::eval(const Value& result, const Value& baseline) const {
  std::string error;
  const auto value = eval_value(result, baseline, &error);
  if (!value) return EvalResult::failure(std::move(error));
  if (value->type() != Value::Type::Bool) {
    std::string got(type_name(value->type()));
    if (!value->is_nil()) got += " " + to_short_text(*value);
    return EvalResult::failure("the condition gave " + got + ", not a bool");
  }
  return EvalResult::of(value->as_bool());
}

}  // namespace vane::analysis
