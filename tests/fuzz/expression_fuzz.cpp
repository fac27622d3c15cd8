// libFuzzer target: the condition language (analysis/expression*: lexer, parser, evaluator) on
// Argo's expr-lang syntax (operators, closures, ranges, slices, regexes), evaluated against
// `result` values of every kind a provider gives (number, NaN, infinity, string, list, object,
// nil). Properties, beyond "no crash, no UB":
//  - parsing is deterministic, keeps the text, and an error says "column N: ..." (N >= 1);
//  - condition_error() (the config check) agrees with parse() and non_boolean();
//  - evaluating twice gives the same result; eval() is eval_value() read as a bool;
//  - a condition flagged non_boolean() never gives a bool;
//  - to_short_text() of any value is bounded.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/expression.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::analysis {
namespace {

using fuzz::check;

std::vector<Value> results() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Value::Object object;
  object.push_back({"ok", Value::boolean(true)});
  object.push_back({"v", Value::nil()});
  object.push_back({"n", Value::number(3)});
  object.push_back({"items", Value::numbers({0.5, 2, nan})});
  object.push_back({"name", Value::string("canary")});
  return {Value::number(0.97),
          Value::number(nan),
          Value::number(-inf),
          Value::string("ok"),
          Value::string("1.5"),  // asFloat() / asInt() paths
          Value::list({Value::number(1), Value::number(2.5), Value::number(nan),
                       Value::string("x"), Value::nil()}),
          Value::object(std::move(object)),
          Value::nil()};
}

bool starts_with_column(const std::string& error) {
  if (!error.starts_with("column ")) return false;
  size_t i = 7;
  while (i < error.size() && error[i] >= '0' && error[i] <= '9') ++i;
  return i > 7 && error[7] != '0' && error.compare(i, 2, ": ") == 0;
}

/// Same type and same text: NaN is not equal() to itself, but prints alike.
bool same_value(const Value& a, const Value& b) {
  return a.type() == b.type() && to_text(a) == to_text(b);
}

void check_parse(std::string_view text, const std::optional<Expression>& expr,
                 const std::string& error) {
  std::string error2;
  const auto again = Expression::parse(text, &error2);
  check(again.has_value() == expr.has_value(), "parsing is deterministic");
  if (!expr) {
    check(error2 == error && starts_with_column(error), "a parse error is \"column N: ...\"");
    return;
  }
  check(expr->text() == text, "the expression keeps its text");
  check(expr->non_boolean().empty() || starts_with_column(expr->non_boolean()),
        "non_boolean() is \"column N: ...\"");
  if (text.empty() || text.find("{{") != std::string_view::npos) return;
  check(condition_error(text) == expr->non_boolean(), "condition_error() agrees with parse()");
}

void check_eval(const Expression& expr, const Value& result, const Value& baseline) {
  std::string e1;
  std::string e2;
  const std::optional<Value> v1 = expr.eval_value(result, baseline, &e1);
  const std::optional<Value> v2 = expr.eval_value(result, baseline, &e2);
  check(v1.has_value() == v2.has_value() && e1 == e2, "evaluating twice: the same outcome");
  const EvalResult r = expr.eval(result, baseline);
  if (!v1) {
    check(starts_with_column(e1), "an evaluation error is \"column N: ...\"");
    check(!r.ok() && r.error() == e1 && !r.value(), "eval() fails as eval_value() does");
    return;
  }
  check(same_value(*v1, *v2), "evaluating twice: the same value");
  check(to_short_text(*v1).size() <= kMaxShortText + 3, "to_short_text() is bounded");
  const bool is_bool = v1->type() == Value::Type::Bool;
  check(r.ok() == is_bool, "eval() is ok exactly when the value is a bool");
  if (is_bool) check(r.value() == v1->as_bool(), "eval() gives the value");
  if (!expr.non_boolean().empty()) check(!is_bool, "a non_boolean() condition gives no bool");
}

}  // namespace
}  // namespace vane::analysis

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace vane::analysis;
  static const std::vector<Value> kResults = results();
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  std::string error;
  const std::optional<Expression> expr = Expression::parse(text, &error);
  check_parse(text, expr, error);
  condition_error(text);  // placeholders masked: must not crash either
  if (!expr) return 0;
  const Value baseline = Value::number(0.9);
  for (const Value& result : kResults) check_eval(*expr, result, baseline);
  check_eval(*expr, kResults[1], kResults[6]);  // NaN result, object baseline
  return 0;
}
