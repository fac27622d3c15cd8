// Argo Rollouts' own condition tests, ported as tables (SPEC §5: where vane and Argo differ on
// one of them, vane is wrong). Each row is a result and the metric's successCondition /
// failureCondition, with the measurement phase Argo's test expects. A condition vane refuses at
// config load (condition_error) counts as Argo's Error: Argo fails the measurement, vane refuses
// the template before a run starts. Rows that test a provider (HTTP status, JSON parsing) and not
// a condition are not ported.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/expression.hpp"
#include "analysis/judge.hpp"

namespace vane::analysis {
namespace {

Value num(double n) { return Value::number(n); }
Value str(std::string s) { return Value::string(std::move(s)); }
Value boolean(bool b) { return Value::boolean(b); }
Value obj(Value::Object members) { return Value::object(std::move(members)); }

struct ArgoCase {
  Value result;
  std::string_view success;  ///< "" when the metric has none
  std::string_view failure;
  std::string_view phase;  ///< what Argo's test expects: Successful, Failed, Inconclusive, Error
};

/// The measurement phase vane gives, "Error" for a condition refused at load.
std::string phase_of(const ArgoCase& c) {
  std::optional<Expression> success;
  std::optional<Expression> failure;
  for (const auto& [text, slot] :
       {std::pair{c.success, &success}, std::pair{c.failure, &failure}}) {
    if (text.empty()) continue;
    if (!condition_error(text).empty()) return "Error";
    std::string error;
    *slot = Expression::parse(text, &error);
    if (!*slot) return "Error";
  }
  const MeasurementVerdict v = judge_value(success ? &*success : nullptr,
                                           failure ? &*failure : nullptr, c.result, Value());
  return std::string(to_string(v.phase));
}

/// Checks every row and prints "agreed N of M" for the source file.
void check(std::string_view source, std::span<const ArgoCase> cases) {
  size_t agreed = 0;
  for (const ArgoCase& c : cases) {
    const std::string got = phase_of(c);
    EXPECT_EQ(got, c.phase) << source << ": result " << to_text(c.result) << ", success \""
                            << c.success << "\", failure \"" << c.failure << "\"";
    if (got == c.phase) ++agreed;
  }
  std::cout << source << ": agreed " << agreed << " of " << cases.size() << "\n";
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// argoproj/argo-rollouts utils/evaluate/evaluate_test.go: EvaluateResult with both, one or no
// condition; EvalCondition (a success condition alone: true is Successful, false Failed);
// asInt/asFloat/isInf/isNil/default as the env functions a condition calls.
TEST(ArgoConditions, EvaluateTest) {
  const Value service_apdex = obj(
      {{"service_apdex",
        obj({{"label", Value::nil()}, {"values", obj({{"values", Value::numbers({2, 2})}})}})}});
  const ArgoCase cases[] = {
      // TestEvaluateResult*
      {boolean(true), "true", "false", "Successful"},
      {boolean(true), "true", "true", "Failed"},
      {boolean(true), "false", "false", "Inconclusive"},
      {boolean(true), "", "false", "Successful"},
      {boolean(true), "false", "", "Failed"},
      {boolean(true), "", "", "Successful"},
      {boolean(true), "a == true", "true", "Error"},
      {boolean(true), "true", "a == true", "Error"},
      // TestEvaluateConditionWith*, TestErrorWith*
      {boolean(true), "result == true", "", "Successful"},
      {boolean(true), "result == false", "", "Failed"},
      {boolean(true), "1", "", "Error"},
      {boolean(true), "invalidVariable", "", "Error"},
      // TestEvaluateArray, TestEvaluateInOperator, TestEvaluateFloat64, TestEvaluateInvalidStruct
      {service_apdex, "all(result.service_apdex.values.values, {# > 1})", "", "Successful"},
      {Value::numbers({2, 2}), "2 in result", "", "Successful"},
      {num(5), "result > 1", "", "Successful"},
      {boolean(true), "result.Name() == 'hi'", "", "Error"},
      // TestEvaluateAsIntPanic, TestEvaluateAsInt
      {str("1.1"), "asInt(result) == 1.1", "", "Error"},
      {str("1"), "asInt(result) == 1", "", "Successful"},
      {num(1), "asInt(result) == 1", "", "Successful"},
      {num(1.123), "asInt(result) == 1", "", "Successful"},
      // TestEvaluateAsFloatError, TestEvaluateAsFloat
      {str("NotANum"), "asFloat(result) == 1.1", "", "Error"},
      {str("1.1"), "asFloat(result) == \"1.1\"", "", "Error"},
      {str("1.1"), "asFloat(result) == 1.1", "", "Successful"},
      {str("1.1"), "asFloat(result) >= 1.1", "", "Successful"},
      {str("1.1"), "asFloat(result) <= 1.1", "", "Successful"},
      {num(1.1), "asFloat(result) == 1.1", "", "Successful"},
      {num(1), "asFloat(result) == 1", "", "Successful"},
      {num(1), "asFloat(result) >= 1", "", "Successful"},
      {num(1), "asFloat(result) >= 1", "", "Successful"},
      // TestAsInt, TestAsFloat: the functions on strings
      {str("1"), "asInt(result) == 1", "", "Successful"},
      {str("notint"), "asInt(result) == 1", "", "Error"},
      {str("1.1"), "asInt(result) == 1", "", "Error"},
      {str("1"), "asFloat(result) == 1", "", "Successful"},
      {str("notfloat"), "asFloat(result) == 1", "", "Error"},
      {str("1.1"), "asFloat(result) == 1.1", "", "Successful"},
      // TestIsInf
      {num(kInf), "isInf(result)", "", "Successful"},
      {num(0), "isInf(result)", "", "Failed"},
      // TestIsNil, TestIsNilFunc: a nil pointer and a nil slice are nil; 1.0, a list, 1, false not
      {Value::nil(), "isNil(result)", "", "Successful"},
      {Value::nil(), "isNil(result)", "", "Successful"},
      {num(1), "isNil(result)", "", "Failed"},
      {Value::list({str("hi"), str("hello")}), "isNil(result)", "", "Failed"},
      {num(1), "isNil(result)", "", "Failed"},
      {boolean(false), "isNil(result)", "", "Failed"},
      // TestDefaultFunc: the default when result is nil, else result
      {Value::nil(), "default(result, 0) == 0", "", "Successful"},
      {Value::nil(), "default(result, 1) == 1", "", "Successful"},
      {Value::nil(), "default(result, 2) == 2", "", "Successful"},
      {num(1), "default(result, 0) == 1", "", "Successful"},
  };
  check("utils/evaluate/evaluate_test.go", cases);
}

// argoproj/argo-rollouts metricproviders/prometheus/prometheus_test.go: processResponse on a
// scalar, NaN, +Inf and a vector.
TEST(ArgoConditions, PrometheusTest) {
  const ArgoCase cases[] = {
      {num(10), "result == 10", "result != 10", "Successful"},  // TestRunSuccessfully & co
      {num(kNaN), "result >= 0.9", "result < 0.9", "Inconclusive"},
      {num(kNaN), "result >= 0.9 || isNaN(result)", "", "Successful"},
      {num(kNaN), "result >= 0.9", "", "Failed"},
      {num(kInf), "result >= 0.9", "", "Successful"},
      {num(kInf), "", "isInf(result)", "Failed"},
      {Value::numbers({10, 11}), "10 in result", "len(result) != 2", "Successful"},
  };
  check("metricproviders/prometheus/prometheus_test.go", cases);
}

// argoproj/argo-rollouts metricproviders/webmetric/webmetric_test.go: the JSON value a web
// metric's jsonPath selects (numbers, numeric strings, strings, bools, lists, objects).
TEST(ArgoConditions, WebMetricTest) {
  const Value body = obj({{"a", num(1)},
                          {"b", boolean(true)},
                          {"c", Value::numbers({1, 2, 3, 4})},
                          {"d", Value::nil()}});
  const Value map = obj({{"num", num(1.2)},
                         {"bool", boolean(true)},
                         {"mapfield", obj({{"foo", str("bar")}})}});
  constexpr std::string_view kBody =
      "result.a > 0 && result.b && all(result.c, {# < 5}) && result.d == nil";
  constexpr std::string_view kMap =
      "result.num > 1.1 && result.bool && result.mapfield.foo == \"bar\"";
  const ArgoCase cases[] = {
      {body, kBody, "", "Successful"},
      {body, "result.a >= 2 && result.b && all(result.c, {# < 5}) && result.d == nil",
       "result.a <= 0 && result.b && all(result.c, {# < 5}) && result.d == nil", "Inconclusive"},
      {str("1"), "asInt(result) > 0", "asInt(result) <= 0", "Successful"},
      {str("0"), "asInt(result) > 0", "asInt(result) <= 0", "Failed"},
      {str("1.2"), "asFloat(result) > 1.1", "asFloat(result) <= 0", "Successful"},
      {str("1.2"), "asFloat(result) > 1.1", "asFloat(result) < 1.3", "Failed"},
      {num(1), "result > 0", "result <= 0", "Successful"},
      {num(0), "result > 0", "result <= 0", "Failed"},
      {num(1.1), "result > 0", "result <= 0", "Successful"},
      {num(-1.1), "result > 0", "result <= 0", "Failed"},
      {str("true"), "result == \"true\"", "result == \"false\"", "Successful"},
      {str("true"), "result == \"true\"", "result == \"true\"", "Failed"},
      {boolean(true), "result == true", "result == false", "Successful"},
      {boolean(false), "result == true", "result == false", "Failed"},
      {Value::numbers({1, 2, 3, 4, 5, 6}), "any(result, {# > 5})", "", "Successful"},
      {Value::numbers({1, 2, 3, 4, 5, 6}), "any(result, {# > 6})", "", "Failed"},
      {map, kMap, "", "Successful"},
      {map, kMap, kMap, "Failed"},
      {body, kBody, "", "Successful"},  // When_methodGET/POST/PUT...: the same condition
      // The file's earlier version: asInt/asFloat on JSON numbers, constant conditions
      {num(1), "asInt(result) > 0", "asInt(result) <= 0", "Successful"},
      {num(0), "asInt(result) > 0", "asInt(result) <= 0", "Failed"},
      {num(1.1), "asFloat(result) > 0", "asFloat(result) <= 0", "Successful"},
      {num(-1.1), "asFloat(result) > 0", "asFloat(result) <= 0", "Failed"},
      {str("true"), "true", "false", "Successful"},
      {str("true"), "true", "true", "Failed"},
  };
  check("metricproviders/webmetric/webmetric_test.go", cases);
}

// argoproj/argo-rollouts metricproviders/datadog/datadog_test.go (the v1 API table): the last
// point of the series, or nil when the series is empty.
TEST(ArgoConditions, DatadogTest) {
  const ArgoCase cases[] = {
      {num(0.0003332881882246533), "result < 0.001", "result >= 0.001", "Successful"},
      {num(0.006121378742186943), "result < 0.001", "result >= 0.001", "Failed"},
      {num(0.006121378742186943), "default(result, 0) < 0.05", "", "Successful"},
      {Value::nil(), "result < 0.05", "", "Error"},
      {Value::nil(), "default(result, 0) < 0.05", "", "Successful"},
      {Value::nil(), "default(result, 1) < 0.05", "", "Failed"},
      {num(0.006121378742186943), "default(result, 1) < 0.05", "", "Successful"},
  };
  check("metricproviders/datadog/datadog_test.go", cases);
}

}  // namespace
}  // namespace vane::analysis
