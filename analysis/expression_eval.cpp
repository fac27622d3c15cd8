// Expression::eval: walks the Program over `result` and `baseline`. Values read from them are
// referenced, not copied; only what an operator computes is owned. No exceptions: the first
// error stops the walk. Every walk is bounded by kMaxEvalSteps (nodes visited, items and bytes
// built or compared), so nested closures over big ranges or big inputs end with an error instead
// of hanging.
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>
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

std::string_view lower_ascii(std::string_view s, std::string& buf) {
  buf.assign(s);
  for (char& c : buf) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return buf;
}

/// Go's strconv.ParseFloat (what Argo's asFloat uses) for decimal text: a sign, digits with a
/// fraction and exponent, or inf / infinity / nan in any case; no spaces. Out of range fails.
bool parse_float(std::string_view s, double* out) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  std::string buf;
  const std::string_view lower = lower_ascii(s, buf);
  if (lower == "inf" || lower == "infinity") {
    *out = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (lower == "nan") {
    *out = std::nan("");
    return true;
  }
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s.front())) || s.front() == '.')) {
    return false;
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  if (negative) *out = -*out;
  return true;
}

/// Go's strconv.ParseInt(s, 10, 64): a sign and decimal digits, in int64's range.
bool parse_int(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return false;
  *out = static_cast<double>(v);
  return true;
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
    if (error_.empty()) {
      error_ = "column " + std::to_string(column_of(p_.text, n.offset)) + ": " + std::move(message);
    }
    return std::nullopt;
  }
  /// Counts `n` steps of work; false (with the error set) past kMaxEvalSteps.
  bool charge(uint64_t n, const Node& at) {
    steps_ += n;
    if (steps_ <= kMaxEvalSteps) return true;
    fail(at, "the condition needs more than " + std::to_string(kMaxEvalSteps) +
                 " steps to evaluate");
    return false;
  }
  /// equal() charged for the values and bytes it compares; nullopt past the budget.
  std::optional<bool> same(const Value& a, const Value& b, const Node& at) {
    uint64_t work = 0;
    const auto result = equal(a, b, kMaxEvalSteps - std::min(steps_, kMaxEvalSteps), &work);
    if (!charge(work, at)) return std::nullopt;
    return result;
  }
  /// Charges for copying `v` (one step per value inside it) and copies it.
  std::optional<Value> copy(const Value& v, const Node& at);
  bool charge_items(const Value& v, const Node& at);
  std::optional<Ref> own_or_ref(Ref&& base, const Value& member, const Node& n);

  std::optional<Ref> index(const Node& n);
  std::optional<Ref> slice(const Node& n);
  std::optional<Ref> arithmetic(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> ordering(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> membership(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> text(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> range(const Node& n, const Value& a, const Value& b);
  std::optional<Ref> logic(const Node& n);
  std::optional<Ref> unary(const Node& n);
  std::optional<Ref> literal(const Node& n);
  std::optional<Ref> call(const Node& n);
  std::optional<Ref> extremum(const Node& n);
  std::optional<Ref> convert(const Node& n, const Value& v);
  std::optional<Ref> closure(const Node& n);

  uint32_t arg(const Node& n, uint32_t i) const { return p_.args[n.a + i]; }

  const Program& p_;
  const Value& result_;
  const Value& baseline_;
  struct Bound {
    const Value* item;
    size_t index;
  };
  std::vector<Bound> elements_;  ///< `#` of each enclosing closure, innermost last
  uint64_t steps_ = 0;
  std::string error_;
};

bool Evaluator::charge_items(const Value& v, const Node& at) {
  if (!charge(1 + (v.type() == Type::String ? v.as_string().size() / 16 : 0), at)) return false;
  if (v.type() == Type::List) {
    for (const Value& item : v.as_list()) {
      if (!charge_items(item, at)) return false;
    }
  } else if (v.type() == Type::Object) {
    for (const ObjectMember& m : v.as_object()) {
      if (!charge_items(m.value, at)) return false;
    }
  }
  return true;
}

std::optional<Value> Evaluator::copy(const Value& v, const Node& at) {
  if (!charge_items(v, at)) return std::nullopt;
  return v;
}

/// `member` lives inside `base`: refer to it when base is a reference, else copy it out of the
/// temporary (never point into one).
std::optional<Ref> Evaluator::own_or_ref(Ref&& base, const Value& member, const Node& n) {
  if (base.ptr) return Ref::to(member);
  auto v = copy(member, n);
  if (!v) return std::nullopt;
  return Ref::own(std::move(*v));
}

std::optional<Ref> Evaluator::eval(uint32_t i) {
  const Node& n = p_.nodes[i];
  if (!charge(1, n)) return std::nullopt;
  switch (n.kind) {
    case Kind::Constant: return Ref::to(p_.constants[n.a]);
    case Kind::Result: return Ref::to(result_);
    case Kind::Baseline: return Ref::to(baseline_);
    case Kind::Element:
      if (n.a == 1) return Ref::own(Value::number(static_cast<double>(elements_.back().index)));
      return Ref::to(*elements_.back().item);
    case Kind::Index: return index(n);
    case Kind::Slice: return slice(n);
    case Kind::Neg:
    case Kind::Plus:
    case Kind::Not: return unary(n);
    case Kind::And:
    case Kind::Or: return logic(n);
    case Kind::Coalesce: {
      auto a = eval(n.a);
      if (!a || !a->get().is_nil()) return a;
      return eval(n.b);
    }
    case Kind::Conditional: {
      const auto cond = eval(n.a);
      if (!cond) return std::nullopt;
      if (cond->type() != Type::Bool) {
        return fail(n, "?: needs a bool condition, got " + name(cond->type()));
      }
      return eval(cond->get().as_bool() ? n.b : n.c);
    }
    case Kind::List:
    case Kind::Map: return literal(n);
    case Kind::Call: return call(n);
    default: break;
  }
  auto a = eval(n.a);
  if (!a) return a;
  auto b = eval(n.b);
  if (!b) return b;
  switch (n.kind) {
    case Kind::Eq:
    case Kind::Ne: {
      const auto eq = same(a->get(), b->get(), n);
      if (!eq) return std::nullopt;
      return Ref::own(Value::boolean(*eq == (n.kind == Kind::Eq)));
    }
    case Kind::Lt:
    case Kind::Le:
    case Kind::Gt:
    case Kind::Ge: return ordering(n, a->get(), b->get());
    case Kind::In: return membership(n, a->get(), b->get());
    case Kind::Contains:
    case Kind::StartsWith:
    case Kind::EndsWith:
    case Kind::Matches: return text(n, a->get(), b->get());
    case Kind::Range: return range(n, a->get(), b->get());
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
  if (v.type() == Type::Nil && n.c == 1) return Ref::own(Value::nil());  // `?.`
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
    return own_or_ref(std::move(*base), v.as_list()[static_cast<size_t>(i)], n);
  }
  if (v.type() == Type::Object) {
    if (k.type() != Type::String) {
      return fail(n, "an object key must be a string, got " + name(k.type()));
    }
    const Value* member = v.find(k.as_string());
    if (!member) return Ref::own(Value::nil());  // a missing field is nil
    return own_or_ref(std::move(*base), *member, n);
  }
  if (k.type() == Type::String) {
    return fail(n, "cannot read field \"" + k.as_string() + "\" of " + name(v.type()));
  }
  return fail(n, "cannot index " + name(v.type()));
}

/// x[a:b] of a list or a string: negative bounds count from the end, both are clamped.
std::optional<Ref> Evaluator::slice(const Node& n) {
  auto base = eval(n.a);
  if (!base) return base;
  const Value& v = base->get();
  if (v.type() != Type::List && v.type() != Type::String) {
    return fail(n, "cannot slice " + name(v.type()));
  }
  const size_t size = v.type() == Type::List ? v.as_list().size() : v.as_string().size();
  const auto bound = [&](uint32_t node, size_t absent) -> std::optional<size_t> {
    if (node == kNone) return absent;
    const auto b = eval(node);
    if (!b) return std::nullopt;
    if (b->type() != Type::Number || !std::isfinite(b->get().as_number())) {
      fail(n, "a slice bound must be a number, got " + to_short_text(b->get()));
      return std::nullopt;
    }
    double i = std::trunc(b->get().as_number());
    if (i < 0) i += static_cast<double>(size);
    return static_cast<size_t>(std::clamp(i, 0.0, static_cast<double>(size)));
  };
  const auto from = bound(n.b, 0);
  if (!from) return std::nullopt;
  const auto to = bound(n.c, size);
  if (!to) return std::nullopt;
  const size_t end = std::max(*from, *to);
  if (v.type() == Type::String) {
    if (!charge((end - *from) / 16, n)) return std::nullopt;
    return Ref::own(Value::string(v.as_string().substr(*from, end - *from)));
  }
  Value::List items;
  for (size_t i = *from; i < end; ++i) {
    auto item = copy(v.as_list()[i], n);
    if (!item) return std::nullopt;
    items.push_back(std::move(*item));
  }
  return Ref::own(Value::list(std::move(items)));
}

std::optional<Ref> Evaluator::arithmetic(const Node& n, const Value& a, const Value& b) {
  const std::string op(spelling(n));
  if (n.kind == Kind::Add && a.type() == Type::String && b.type() == Type::String) {
    const size_t size = a.as_string().size() + b.as_string().size();
    if (size > kMaxBuiltString) {
      return fail(n, "+ would build a string of " + std::to_string(size) + " bytes (limit " +
                         std::to_string(kMaxBuiltString) + ")");
    }
    if (!charge(size / 16, n)) return std::nullopt;
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
    case Kind::Pow: return Ref::own(Value::number(std::pow(x, y)));
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
    return fail(n, std::string(spelling(n)) + " needs two numbers or two strings, got " +
                       name(a.type()) + " and " + name(b.type()));
  }
  const std::string& s = a.as_string();
  const std::string& t = b.as_string();
  if (!charge(std::min(s.size(), t.size()) / 16, n)) return std::nullopt;
  const int cmp = s.compare(t);
  switch (n.kind) {
    case Kind::Lt: result = cmp < 0; break;
    case Kind::Le: result = cmp <= 0; break;
    case Kind::Gt: result = cmp > 0; break;
    default: result = cmp >= 0; break;
  }
  return Ref::own(Value::boolean(result));
}

/// `x in list` (an equal element), `key in object` (a member), `x in nil` (false).
std::optional<Ref> Evaluator::membership(const Node& n, const Value& a, const Value& b) {
  switch (b.type()) {
    case Type::Nil: return Ref::own(Value::boolean(false));
    case Type::List:
      for (const Value& item : b.as_list()) {
        const auto eq = same(item, a, n);
        if (!eq) return std::nullopt;
        if (*eq) return Ref::own(Value::boolean(true));
      }
      return Ref::own(Value::boolean(false));
    case Type::Object:
      if (a.type() != Type::String) {
        return fail(n, "in needs a string key for an object, got " + name(a.type()));
      }
      return Ref::own(Value::boolean(b.find(a.as_string()) != nullptr));
    default: return fail(n, "in needs a list or an object on the right, got " + name(b.type()));
  }
}

std::optional<Ref> Evaluator::text(const Node& n, const Value& a, const Value& b) {
  if (a.type() != Type::String || b.type() != Type::String) {
    return fail(n, std::string(spelling(n)) + " needs two strings, got " + name(a.type()) +
                       " and " + name(b.type()));
  }
  const std::string& s = a.as_string();
  const std::string& t = b.as_string();
  if (!charge((s.size() + t.size()) / 16, n)) return std::nullopt;
  switch (n.kind) {
    case Kind::Contains: return Ref::own(Value::boolean(s.find(t) != std::string::npos));
    case Kind::StartsWith: return Ref::own(Value::boolean(s.starts_with(t)));
    case Kind::EndsWith: return Ref::own(Value::boolean(s.ends_with(t)));
    default: break;
  }
  std::shared_ptr<const RE2> re;
  if (n.c != kNone) {
    re = p_.regexes[n.c];
  } else {  // a pattern computed from the result: compiled for this evaluation only
    std::string error;
    re = compile_regex(t, &error);
    if (!re) return fail(n, "matches: " + error);
  }
  return Ref::own(Value::boolean(RE2::PartialMatch(s, *re)));  // Go's MatchString: unanchored
}

/// a..b: the integers from a to b, empty when b < a.
std::optional<Ref> Evaluator::range(const Node& n, const Value& a, const Value& b) {
  if (a.type() != Type::Number || b.type() != Type::Number) {
    return fail(n, ".. needs two integers, got " + name(a.type()) + " and " + name(b.type()));
  }
  const double from = a.as_number();
  const double to = b.as_number();
  if (!std::isfinite(from) || !std::isfinite(to) || std::trunc(from) != from ||
      std::trunc(to) != to) {
    return fail(n, ".. needs two integers, got " + to_text(a) + " and " + to_text(b));
  }
  if (to >= from && to - from >= static_cast<double>(kMaxBuiltItems)) {
    return fail(n, ".. would build " + to_text(Value::number(to - from + 1)) + " items (limit " +
                       std::to_string(kMaxBuiltItems) + ")");
  }
  const size_t size = to < from ? 0 : static_cast<size_t>(to - from) + 1;
  if (!charge(size, n)) return std::nullopt;
  Value::List items;
  items.reserve(size);
  for (size_t i = 0; i < size; ++i) items.push_back(Value::number(from + static_cast<double>(i)));
  return Ref::own(Value::list(std::move(items)));
}

/// && and ||: both sides must be bools; the right one is only evaluated when it decides.
std::optional<Ref> Evaluator::logic(const Node& n) {
  const std::string op(spelling(n));
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
    return fail(n, std::string(spelling(n)) + " needs a number, got " + name(v.type()));
  }
  return Ref::own(Value::number(n.kind == Kind::Neg ? -v.as_number() : v.as_number()));
}

/// [a, b] and {key: value}
std::optional<Ref> Evaluator::literal(const Node& n) {
  Value::List items;
  Value::Object members;
  for (uint32_t i = 0; i < n.b; ++i) {
    if (n.kind == Kind::Map && i % 2 == 0) continue;  // the key: read with its value
    auto item = eval(arg(n, i));
    if (!item) return item;
    auto v = item->ptr ? copy(*item->ptr, n) : std::optional<Value>(std::move(item->owned));
    if (!v) return std::nullopt;
    if (n.kind == Kind::List) {
      items.push_back(std::move(*v));
    } else {
      members.push_back({p_.constants[p_.nodes[arg(n, i - 1)].a].as_string(), std::move(*v)});
    }
  }
  return Ref::own(n.kind == Kind::List ? Value::list(std::move(items))
                                       : Value::object(std::move(members)));
}

std::optional<Ref> Evaluator::call(const Node& n) {
  if (n.fn >= Fn::All) return closure(n);
  if (n.fn == Fn::Max || n.fn == Fn::Min) return extremum(n);
  const std::string fn(spelling(n));
  auto a = eval(arg(n, 0));
  if (!a) return a;
  const Value& v = a->get();
  switch (n.fn) {
    case Fn::Len:
      switch (v.type()) {
        case Type::List: return Ref::own(Value::number(static_cast<double>(v.as_list().size())));
        case Type::String:
          return Ref::own(Value::number(static_cast<double>(v.as_string().size())));
        case Type::Object:
          return Ref::own(Value::number(static_cast<double>(v.as_object().size())));
        default: return fail(n, fn + " needs a list, string or object, got " + name(v.type()));
      }
    case Fn::Abs:
    case Fn::IsNaN:
    case Fn::IsInf: {
      if (v.type() != Type::Number) return fail(n, fn + " needs a number, got " + name(v.type()));
      const double x = v.as_number();
      if (n.fn == Fn::Abs) return Ref::own(Value::number(std::fabs(x)));
      return Ref::own(Value::boolean(n.fn == Fn::IsNaN ? std::isnan(x) : std::isinf(x)));
    }
    case Fn::IsNil: return Ref::own(Value::boolean(v.is_nil()));
    case Fn::String: {
      if (v.type() == Type::String) return a;
      std::string s = v.is_nil() ? "<nil>" : to_text(v);  // Go's fmt prints nil as <nil>
      if (s.size() > kMaxBuiltString) return fail(n, fn + " would build a string over the limit");
      if (!charge(s.size() / 16, n)) return std::nullopt;
      return Ref::own(Value::string(std::move(s)));
    }
    case Fn::Default:  // default(x, y): y when x is nil, NaN or empty
      if (!needs_default(v)) return a;
      return eval(arg(n, 1));
    default: return convert(n, v);
  }
}

/// int(), float() and Argo's asInt(), asFloat(): a number or its decimal text.
std::optional<Ref> Evaluator::convert(const Node& n, const Value& v) {
  const std::string fn(spelling(n));
  const bool integer = n.fn == Fn::Int || n.fn == Fn::AsInt;
  double x = 0;
  if (v.type() == Type::Number) {
    x = v.as_number();
    if (integer) {
      if (!std::isfinite(x)) return fail(n, fn + " of " + to_text(v) + ": not a finite number");
      x = std::trunc(x);  // Go's int64(f)
    }
    return Ref::own(Value::number(x));
  }
  if (v.type() != Type::String) {
    return fail(n, fn + " needs a string or a number, got " + name(v.type()));
  }
  if (!charge(v.as_string().size() / 16, n)) return std::nullopt;  // parsing reads every byte
  if (!(integer ? parse_int(v.as_string(), &x) : parse_float(v.as_string(), &x))) {
    return fail(n, fn + " cannot parse \"" + to_short_text(v) + "\" as " +
                       (integer ? "an integer" : "a number"));
  }
  return Ref::own(Value::number(x));
}

/// max(a, b, ...) and min(...) over numbers, or over the numbers of one list.
std::optional<Ref> Evaluator::extremum(const Node& n) {
  const std::string fn(spelling(n));
  std::vector<Ref> held;  // keeps a computed list alive while its items are compared
  std::vector<const Value*> items;
  for (uint32_t i = 0; i < n.b; ++i) {
    auto v = eval(arg(n, i));
    if (!v) return v;
    held.push_back(std::move(*v));
  }
  for (const Ref& r : held) {
    if (held.size() == 1 && r.type() == Type::List) {
      for (const Value& item : r.get().as_list()) items.push_back(&item);
    } else {
      items.push_back(&r.get());
    }
  }
  if (!charge(items.size(), n)) return std::nullopt;
  if (items.empty()) return fail(n, fn + " of an empty list");
  double best = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i]->type() != Type::Number) {
      return fail(n, fn + " needs numbers, got " + name(items[i]->type()));
    }
    const double x = items[i]->as_number();
    if (i == 0 || (n.fn == Fn::Max ? x > best : x < best)) best = x;
  }
  return Ref::own(Value::number(best));
}

/// all any none one filter map count: the closure runs once per item with `#` bound to it.
std::optional<Ref> Evaluator::closure(const Node& n) {
  const std::string fn(spelling(n));
  const auto list = eval(arg(n, 0));  // stays put while `#` points into it
  if (!list) return list;
  if (list->type() != Type::List) return fail(n, fn + " needs a list, got " + name(list->type()));
  const Value::List& items = list->get().as_list();
  if (!charge(items.size(), n)) return std::nullopt;
  Value::List built;
  size_t trues = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (n.b == 1) {  // count(list): its true items
      if (items[i].type() != Type::Bool) {
        return fail(n, fn + " of a list needs bools, got " + name(items[i].type()));
      }
      if (items[i].as_bool()) ++trues;
      continue;
    }
    elements_.push_back({&items[i], i});
    auto out = eval(arg(n, 1));
    elements_.pop_back();
    if (!out) return out;
    if (n.fn == Fn::Map) {
      auto v = out->ptr ? copy(*out->ptr, n) : std::optional<Value>(std::move(out->owned));
      if (!v) return std::nullopt;
      built.push_back(std::move(*v));
      continue;
    }
    if (out->type() != Type::Bool) {
      return fail(n, "the predicate of " + fn + " gave " + name(out->type()) + ", not a bool");
    }
    const bool yes = out->get().as_bool();
    if (yes) ++trues;
    switch (n.fn) {  // stop as soon as the answer is known
      case Fn::All:
        if (!yes) return Ref::own(Value::boolean(false));
        break;
      case Fn::Any:
        if (yes) return Ref::own(Value::boolean(true));
        break;
      case Fn::None:
        if (yes) return Ref::own(Value::boolean(false));
        break;
      case Fn::One:
        if (trues > 1) return Ref::own(Value::boolean(false));
        break;
      case Fn::Filter:
        if (yes) {
          auto v = copy(items[i], n);
          if (!v) return std::nullopt;
          built.push_back(std::move(*v));
        }
        break;
      default: break;
    }
  }
  switch (n.fn) {
    case Fn::All: return Ref::own(Value::boolean(true));  // all() of [] is true
    case Fn::Any: return Ref::own(Value::boolean(false));
    case Fn::None: return Ref::own(Value::boolean(true));
    case Fn::One: return Ref::own(Value::boolean(trues == 1));
    case Fn::Count: return Ref::own(Value::number(static_cast<double>(trues)));
    default: return Ref::own(Value::list(std::move(built)));
  }
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
