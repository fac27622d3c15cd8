// The condition language (SPEC §5): precedence, literals, lists and objects, functions and
// predicates, the NaN / Inf / empty idioms, evaluation and parse errors with their columns,
// {{args.NAME}} substitution and the load-time check.
#include "analysis/expression.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace vane::analysis {
namespace {

const std::string kKnownNames =
    " (a condition can use result, baseline and the functions len, abs, max, min, int, float, "
    "string, asInt, asFloat, isNaN, isInf, isNil, default, all, any, none, one, filter, map, "
    "count)";

const std::string kClosures = " (the {...} of all, any, none, one, filter, map, count)";

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Value num(double n) { return Value::number(n); }
Value str(std::string s) { return Value::string(std::move(s)); }
Value nums(std::vector<double> items) { return Value::numbers(items); }
Value obj(Value::Object members) { return Value::object(std::move(members)); }

/// {"data": {"ok": true, "a.b": 3, "name": "v2"}, "list": [{"ok": true}, {"ok": false}]}
Value sample_object() {
  return obj({{"data", obj({{"ok", Value::boolean(true)}, {"a.b", num(3)}, {"name", str("v2")}})},
              {"list", Value::list({obj({{"ok", Value::boolean(true)}}),
                                    obj({{"ok", Value::boolean(false)}})})}});
}

/// The value of `text` as to_text() shows it, or "error: MESSAGE".
std::string value_of(std::string_view text, const Value& result = {}, const Value& baseline = {}) {
  std::string error;
  const auto e = Expression::parse(text, &error);
  if (!e) return "parse error: " + error;
  const auto v = e->eval_value(result, baseline, &error);
  if (!v) return "error: " + error;
  return to_text(*v);
}

/// "true", "false" or "error: MESSAGE" from Expression::eval.
std::string verdict_of(std::string_view text, const Value& result, const Value& baseline = {}) {
  std::string error;
  const auto e = Expression::parse(text, &error);
  if (!e) return "parse error: " + error;
  const EvalResult r = e->eval(result, baseline);
  if (!r.ok()) return "error: " + r.error();
  return r.value() ? "true" : "false";
}

std::string parse_error(std::string_view text) {
  std::string error;
  const auto e = Expression::parse(text, &error);
  return e ? "parsed" : error;
}

struct ValueCase {
  std::string_view text;
  std::string expected;
};

TEST(Expression, LiteralsAndArithmetic) {
  const ValueCase cases[] = {
      {"1", "1"},
      {"0.97", "0.97"},
      {".5", "0.5"},
      {"1e-3", "0.001"},
      {"2.5E2", "250"},
      {"1e+2", "100"},
      {"1_000_000", "1000000"},
      {"0x1F", "31"},
      {"'single'", "single"},
      {"\"double\"", "double"},
      {R"('it\'s')", "it's"},
      {R"("say \"hi\"")", "say \"hi\""},
      {R"('a\tb')", "a\tb"},
      {R"('\u00e9\x41')", "\u00e9A"},
      {"true", "true"},
      {"false", "false"},
      {"nil", "nil"},
      {"1 + 2", "3"},
      {"7 / 2", "3.5"},
      {"7 % 3", "1"},
      {"-7 % 3", "-1"},
      {"10 - 4 - 3", "3"},  // left-associative
      {"24 / 4 / 2", "3"},  // left-associative
      {"-2", "-2"},
      {"- -2", "2"},
      {"+3", "3"},
      {"-result", "-0.5"},
      {"1 / 0", "+Inf"},  // IEEE, as expr-lang's float division
      {"-1 / 0", "-Inf"},
      {"0 / 0", "NaN"},
      {"'ab' + \"cd\"", "abcd"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(value_of(c.text, num(0.5)), c.expected) << c.text;
  }
}

TEST(Expression, PrecedenceFollowsExprLang) {
  const ValueCase cases[] = {
      {"1 + 2 * 3", "7"},
      {"(1 + 2) * 3", "9"},
      {"2 * 3 % 4", "2"},  // (2 * 3) % 4: same level, left to right
      {"2 + 6 / 3", "4"},
      {"-2 * 3", "-6"},
      {"-(2 * 3)", "-6"},
      {"-2 + 3", "1"},        // unary binds tighter than +
      {"1 + 2 < 4", "true"},  // arithmetic before comparison
      {"1 < 2 && 3 < 2", "false"},
      {"true || false && false", "true"},  // && before ||
      {"(true || false) && false", "false"},
      {"true or false and false", "true"},  // the keyword forms
      {"not true or true", "true"},         // (not true) or true
      {"!false && false", "false"},         // (!false) && false
      {"not (1 > 2)", "true"},
      {"!!true", "true"},
      {"not true == false", "true"},  // (not true) == false
      {"1 < 2 < 3", "true"},          // chained: 1 < 2 && 2 < 3
      {"3 > 2 > 1", "true"},
      {"1 < 3 < 2", "false"},
      {"1 < 2 == true", "true"},  // only orderings chain (expr-lang): (1 < 2) == true
      {"0 <= result <= 1", "true"},
      {"result * 2 >= 1 and result - 0.5 == 0", "true"},
      {"-result[0]", "-0.5"},  // postfix before unary
  };
  for (const auto& c : cases) {
    const Value result = c.text == std::string_view("-result[0]") ? nums({0.5}) : num(0.5);
    EXPECT_EQ(value_of(c.text, result), c.expected) << c.text;
  }
}

TEST(Expression, EqualityAndOrdering) {
  const ValueCase cases[] = {
      {"1 == 1.0", "true"},          {"1 != 2", "true"},     {"'a' == 'a'", "true"},
      // expr-lang's checker refuses types it knows differ; at run time they are unequal
      {"'1' == 1", "parse error: column 5: invalid operation: == (mismatched types: a string and "
                   "a number)"},
      {"result == 1", "false"},        {"nil == nil", "true"}, {"nil != false", "true"},
      {"'abc' < 'abd'", "true"},     {"'b' >= 'a'", "true"}, {"'B' < 'a'", "true"},  // bytewise
      {"0.1 + 0.2 == 0.3", "false"},  // doubles, honestly
  };
  for (const auto& c : cases) EXPECT_EQ(value_of(c.text), c.expected) << c.text;
  EXPECT_EQ(value_of("result == baseline", nums({1, 2}), nums({1, 2})), "true");
  EXPECT_EQ(value_of("result == baseline", nums({1, 2}), nums({2, 1})), "false");
  EXPECT_EQ(value_of("result == baseline", sample_object(), sample_object()), "true");
  EXPECT_EQ(value_of("result.data == result.list[0]", sample_object()), "false");
  EXPECT_EQ(value_of("result == nil", Value::nil()), "true");
  EXPECT_EQ(value_of("result != nil", num(1)), "true");
}

/// Every comparison with NaN is false, != is true; the SPEC §5 idioms handle it.
TEST(Expression, NaNInfAndEmptyIdioms) {
  struct Case {
    std::string_view text;
    Value result;
    Value baseline;
    std::string expected;
  };
  const Case cases[] = {
      {"result >= 0.95", num(kNaN), {}, "false"},
      {"result < 0.95", num(kNaN), {}, "false"},
      {"result == result", num(kNaN), {}, "false"},
      {"result != result", num(kNaN), {}, "true"},
      {"isNaN(result) || result >= 0.95", num(kNaN), {}, "true"},
      {"isNaN(result) || result >= 0.95", num(0.97), {}, "true"},
      {"isNaN(result) || result >= 0.95", num(0.5), {}, "false"},
      {"!isNaN(result) && result >= 0.95", num(kNaN), {}, "false"},
      {"isNaN(result)", num(1), {}, "false"},
      {"isInf(result)", num(kInf), {}, "true"},
      {"isInf(result)", num(-kInf), {}, "true"},
      {"isInf(result)", num(kNaN), {}, "false"},
      {"isInf(result)", num(1e308), {}, "false"},
      {"result > 1e308", num(kInf), {}, "true"},
      {"len(result) == 0 || result[0] >= 0.95", nums({}), {}, "true"},
      {"len(result) == 0 || result[0] >= 0.95", nums({0.97}), {}, "true"},
      {"len(result) == 0 || result[0] >= 0.95", nums({0.5}), {}, "false"},
      {"len(result) > 0 && result[0] >= 0.95", nums({}), {}, "false"},
      {"result <= baseline * 1.2", num(0.11), num(0.1), "true"},
      {"result <= baseline * 1.2", num(0.13), num(0.1), "false"},
      {"result <= baseline * 1.2", num(0.11), num(kNaN), "false"},  // stable short of requests
      {"isNaN(baseline) || result <= baseline * 1.2", num(0.5), num(kNaN), "true"},
      {"default(result, 0) > 1", Value::nil(), {}, "false"},
      {"default(result, 0) > 1", num(kNaN), {}, "false"},
      {"default(result, 2) > 1", num(kNaN), {}, "true"},
      {"default(result, 0) > 1", num(1.5), {}, "true"},
      {"default(result, 0) == 0", num(0), {}, "true"},  // 0 is not empty
      {"default(result, [0])", nums({}), {}, "[0]"},
      {"len(default(result, 'x'))", str(""), {}, "1"},
      {"default(result, 7)", nums({}), {}, "7"},
      {"default(result.missing, 'none')", sample_object(), {}, "none"},
      {"default(result, 7)", nums({1}), {}, "[1]"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(value_of(c.text, c.result, c.baseline), c.expected) << c.text;
  }
}

TEST(Expression, ListsAndObjects) {
  const Value list = nums({0.97, 0.5, 0.25});
  const ValueCase on_list[] = {
      {"result[0]", "0.97"},
      {"result[2]", "0.25"},
      {"result[-1]", "0.25"},
      {"result[-3]", "0.97"},
      {"result[1.9]", "0.5"},
      {"len(result)", "3"},
      {"result[len(result) - 1]", "0.25"},
      {"result", "[0.97,0.5,0.25]"},
      {"result[0] + result[1]", "1.47"},
  };
  for (const auto& c : on_list) EXPECT_EQ(value_of(c.text, list), c.expected) << c.text;

  const ValueCase on_object[] = {
      {"result.data.ok", "true"},
      {"result['data']['a.b']", "3"},
      {"result.data['a.b'] + 1", "4"},
      {"result[\"data\"].name", "v2"},
      {"result.data.name == 'v2'", "true"},
      {"result.missing", "nil"},  // a missing field is nil, as expr-lang's map fetch
      {"result.missing == nil", "true"},
      {"result.data.missing == nil", "true"},
      {"len(result.data)", "3"},
      {"len(result.list)", "2"},
      {"result.list[1].ok", "false"},
      {"result.list[-1]", "{\"ok\":false}"},
      {"len(result.data.name)", "2"},
      {"len('h\xc3\xa9')", "3"},  // bytes, as expr-lang's len of a string
  };
  for (const auto& c : on_object) {
    EXPECT_EQ(value_of(c.text, sample_object()), c.expected) << c.text;
  }
  // Keywords and function names are fine as field names.
  const Value keys = obj({{"and", num(1)}, {"len", num(2)}, {"result", num(3)}});
  EXPECT_EQ(value_of("result.and + result.len + result.result", keys), "6");
}

TEST(Expression, AllAndAnyWithClosures) {
  struct Case {
    std::string_view text;
    Value result;
    std::string expected;
  };
  const Value nested = Value::list({nums({0, 2}), nums({3})});
  const Case cases[] = {
      {"all(result, {# > 0.9})", nums({0.95, 0.99}), "true"},
      {"all(result, {# > 0.9})", nums({0.95, 0.5}), "false"},
      {"any(result, {# > 0.9})", nums({0.5, 0.95}), "true"},
      {"any(result, {# > 0.9})", nums({0.5, 0.6}), "false"},
      {"all(result, {# > 0.9})", nums({}), "true"},
      {"any(result, {# > 0.9})", nums({}), "false"},
      {"all(result, # > 0.9)", nums({0.95}), "true"},  // braces may be omitted
      {"all(result, {isNaN(#) || # >= 0.9})", nums({kNaN, 0.95}), "true"},
      {"all(result, {# > 0.9},)", nums({1}), "true"},         // a trailing comma
      {"all(result.list, {.ok})", sample_object(), "false"},  // .ok is #.ok
      {"any(result.list, {#.ok})", sample_object(), "true"},
      {"any(result.list, {.ok == false})", sample_object(), "true"},
      {"all(result, {any(#, {# > 1})})", nested, "true"},  // # is the innermost element
      {"all(result, {all(#, {# > 1})})", nested, "false"},
      {"all(result, {len(#) > 0})", nested, "true"},
      {"not any(result, {# < 0}) and len(result) > 1", nums({1, 2}), "true"},
      // A false element stops all(): the bad element after it is never evaluated.
      {"all(result, {# > 1})", Value::list({num(0), str("x")}), "false"},
      {"any(result, {# > 1})", Value::list({num(2), str("x")}), "true"},
  };
  for (const auto& c : cases) EXPECT_EQ(verdict_of(c.text, c.result), c.expected) << c.text;
}

TEST(Expression, ShortCircuitSkipsTheOtherSide) {
  EXPECT_EQ(verdict_of("false && result[5] > 0", nums({})), "false");
  EXPECT_EQ(verdict_of("true || nil > 1", nums({})), "true");
  EXPECT_EQ(verdict_of("false and result", num(1)), "false");
  EXPECT_EQ(verdict_of("true or result", str("x")), "true");
  EXPECT_EQ(verdict_of("true && result", num(1)),
            "error: column 6: && needs bools, got number on the right");
  // Like expr-lang's checker, a side whose type is known to be wrong fails at load.
  EXPECT_EQ(verdict_of("false and 1", nums({})),
            "parse error: column 7: && needs bools, got a number");
}

TEST(Expression, EvaluationErrorsNameTheColumn) {
  struct Case {
    std::string_view text;
    Value result;
    std::string expected;
  };
  const Case cases[] = {
      {"result > 'a'", num(1),
       "column 8: > needs two numbers or two strings, got number and string"},
      {"result >= 0.95", str("0.97"),
       "column 8: >= needs two numbers or two strings, got string and number"},
      {"result[2] > 0", nums({1}), "column 7: index 2 out of range (list of 1)"},
      {"result[-2] > 0", nums({1}), "column 7: index -2 out of range (list of 1)"},
      {"result + 1 > 0", Value::nil(),
       "column 8: + needs two numbers or two strings, got nil and number"},
      {"result * 2 > 0", str("a"), "column 8: * needs two numbers, got string and number"},
      {"result.x > 0", num(1), "column 8: cannot read field \"x\" of number"},
      {"result.x.y > 0", sample_object(), "column 10: cannot read field \"y\" of nil"},
      {"result[0] > 0", num(1), "column 7: cannot index number"},
      {"result['a'] > 0", nums({1}), "column 7: a list index must be a number, got string"},
      {"result[0/0] > 0", nums({1}), "column 7: a list index must be a number, got NaN"},
      {"result[0] > 0", sample_object(), "column 7: an object key must be a string, got number"},
      {"!result", num(1), "column 1: ! needs a bool, got number"},
      {"not result", num(1), "column 1: ! needs a bool, got number"},
      {"-result > 0", str("a"), "column 1: - needs a number, got string"},
      {"result && true", num(1), "column 8: && needs bools, got number on the left"},
      {"result || true", num(1), "column 8: || needs bools, got number on the left"},
      {"len(result) > 0", num(1), "column 1: len() needs a list, string or object, got number"},
      {"len(result) > 0", Value::nil(), "column 1: len() needs a list, string or object, got nil"},
      {"isNaN(result)", nums({1}), "column 1: isNaN() needs a number, got list"},
      {"isInf(result)", Value::nil(), "column 1: isInf() needs a number, got nil"},
      {"all(result, {# > 1})", Value::nil(), "column 1: all() needs a list, got nil"},
      {"any(result, {#})", nums({1}), "column 1: the predicate of any() gave number, not a bool"},
      {"7.5 % 2 == 1", {}, "column 5: % needs two integers, got 7.5 and 2"},
      {"1 % 0 == 1", {}, "column 3: % by zero"},
      {"result", num(0.97), "the condition gave number 0.97, not a bool"},
      {"result[0]", nums({0.97}), "the condition gave number 0.97, not a bool"},
      {"result", str("ok"), "the condition gave string ok, not a bool"},
      {"result", Value::nil(), "the condition gave nil, not a bool"},
      {"result.data", sample_object(),
       "the condition gave object {\"ok\":true,\"a.b\":3,\"name\":\"v2\"}, not a bool"},
      {"result + 1", num(1), "the condition gave number 2, not a bool"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(verdict_of(c.text, c.result), "error: " + c.expected) << c.text;
  }
}

TEST(Expression, ParseErrorsNameTheColumn) {
  const ValueCase cases[] = {
      {"", "column 1: empty condition"},
      {"   ", "column 4: empty condition"},
      {"result >=", "column 10: unexpected end of condition"},
      {"result >= 0.95 )", "column 16: unexpected \")\""},
      {"(result > 1", "column 12: expected \")\", got end of condition"},
      {"result[0 > 1", "column 13: expected \"]\", got end of condition"},
      {"result.", "column 8: expected a field name after \".\""},
      {"result.0", "column 7: unexpected \".0\""},
      {"result = 1", "column 8: unexpected \"=\" (equality is ==)"},
      {"result & 1", "column 8: unexpected \"&\" (logical and is && or and)"},
      {"result | 1", "column 8: unexpected \"|\" (logical or is || or or)"},
      {"result @ 1", "column 8: unexpected character \"@\""},
      {"result > 1 and", "column 15: unexpected end of condition"},
      {"not", "column 4: unexpected end of condition"},
      {"and true", "column 1: unexpected \"and\""},
      {"{# > 1}", "column 2: expected a key (a name or a string)"},
      {"'abc", "column 1: unterminated string"},
      {"'abc\\", "column 5: unterminated string"},
      {R"('\q')", "column 2: unknown escape \\q"},
      {R"('\u12')", "column 2: bad escape: \\u needs 4 hex digits"},
      {"12abc > 1", "column 1: bad number \"12abc\""},
      {"1e > 1", "column 1: bad number: exponent needs digits"},
      {"1e+ > 1", "column 1: bad number: exponent needs digits"},
      {"0x > 1", "column 1: bad number: 0x needs hex digits"},
      {"1.5.3", "column 4: unexpected \".3\""},
      {"'\xc3\xa9' == x", "column 8: unknown name x" + kKnownNames},  // characters
      {"r\xc3\xa9sult", "column 2: unexpected non-ASCII character"},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_error(c.text), c.expected) << c.text;
}

/// SPEC §2: any identifier other than result, baseline and the functions is an error at load.
TEST(Expression, OnlyKnownNamesParse) {
  const ValueCase cases[] = {
      {"foo > 1", "column 1: unknown name foo" + kKnownNames},
      {"result > threshold", "column 10: unknown name threshold" + kKnownNames},
      {"asInteger(result) > 1",
       "column 1: unknown function asInteger (functions: len, abs, max, min, int, float, string, "
       "asInt, asFloat, isNaN, isInf, isNil, default, all, any, none, one, filter, map, count)"},
      {"len > 1", "column 1: len is a function: call it as len(...)"},
      {"result(1)", "column 1: result is not a function"},
      {"# > 1", "column 1: # is only valid inside a closure" + kClosures},
      {".ok",
       "column 1: a field of # (\".name\") is only valid inside a closure" + kClosures},
      {"all(result, {# > 1}) && # > 1",
       "column 25: # is only valid inside a closure" + kClosures},
      {"all(result, {x > 1})", "column 14: unknown name x" + kKnownNames},
      {"len(result, 1) > 0", "column 1: len() takes 1 argument, got 2"},
      {"len() > 0", "column 1: len() takes 1 argument, got 0"},
      {"default(result) > 0", "column 1: default() takes 2 arguments, got 1"},
      {"all(result)", "column 1: all() takes 2 arguments, got 1"},
      {"any(result, {# > 1}, 2)", "column 1: any() takes 2 arguments, got 3"},
      {"isNaN(result result)", "column 14: expected \",\" or \")\", got \"result\""},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_error(c.text), c.expected) << c.text;
  for (const std::string_view ok :
       {"result > 1", "baseline > 1", "result.baseline", "isNaN(result) || isInf(baseline)",
        "default(result, 1) > len(baseline)", "all(result, {any(#, {# > 0})})"}) {
    EXPECT_EQ(parse_error(ok), "parsed") << ok;
  }
}

/// A top operator that can never give a bool is refused at load (as expr-lang's AsBool());
/// anything that may give one is left to evaluation.
TEST(Expression, KnowsConditionsThatCanNeverBeBool) {
  const ValueCase cases[] = {
      {"result * 2", "column 8: the condition gives a number, not a bool"},
      {"result + 'x'", "column 8: the condition gives a number or a string, not a bool"},
      {"(result % 2)", "column 9: the condition gives a number, not a bool"},
      {"len(result)", "column 1: the condition gives a number, not a bool"},
      {"-result", "column 1: the condition gives a number, not a bool"},
      {"0.95", "column 1: the condition gives a number, not a bool"},
      {"'ok'", "column 1: the condition gives a string, not a bool"},
      {"nil", "column 1: the condition gives nil, not a bool"},
      {"result", ""},
      {"result[0]", ""},
      {"result.data.ok", ""},
      {"default(result, false)", ""},
      {"true", ""},
      {"isNaN(result)", ""},
      {"all(result, {#})", ""},
      {"result > 1 || result", ""},
  };
  for (const auto& c : cases) {
    std::string error;
    const auto e = Expression::parse(c.text, &error);
    ASSERT_TRUE(e) << c.text << ": " << error;
    EXPECT_EQ(e->non_boolean(), c.expected) << c.text;
    EXPECT_EQ(condition_error(c.text), c.expected) << c.text;
  }
  EXPECT_EQ(condition_error("result * {{args.factor}}"),
            "column 8: the condition gives a number, not a bool");
}

TEST(Expression, RefusesDeepNesting) {
  const std::string parens = std::string(300, '(') + "1" + std::string(300, ')');
  EXPECT_NE(parse_error(parens).find("nested too deeply"), std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 300; ++i) chain += " + 1";
  EXPECT_NE(parse_error(chain).find("nested too deeply"), std::string::npos);
  std::string nots(300, '!');
  EXPECT_NE(parse_error(nots + "true").find("nested too deeply"), std::string::npos);
  std::string fine = "1";
  for (int i = 0; i < 100; ++i) fine += " + 1";
  EXPECT_EQ(value_of(fine), "101");
}

TEST(Expression, KnowsItsTextAndWhetherItReadsBaseline) {
  std::string error;
  const auto a = Expression::parse("result <= baseline * 1.2", &error);
  const auto b = Expression::parse("result >= 0.99", &error);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->text(), "result <= baseline * 1.2");
  EXPECT_TRUE(a->uses_baseline());
  EXPECT_FALSE(b->uses_baseline());
  const Expression copy = *a;  // copies share the parsed program
  EXPECT_TRUE(copy.eval(num(1), num(1)).value());
  EXPECT_FALSE(copy.eval(num(2), num(1)).value());
}

TEST(SubstituteArgs, ReplacesEveryPlaceholder) {
  const std::vector<std::pair<std::string, std::string>> args{
      {"threshold", "0.99"}, {"rev", "v2"}, {"braces", "{{args.rev}}"}};
  const ValueCase cases[] = {
      {"result >= {{args.threshold}}", "result >= 0.99"},
      {"result >= {{ args.threshold }}", "result >= 0.99"},
      {"{{args.rev}}-{{args.rev}}/{{args.threshold}}", "v2-v2/0.99"},
      {"no placeholders", "no placeholders"},
      {"", ""},
      {"x{{args.braces}}x", "x{{args.rev}}x"},  // substituted text is not scanned again
  };
  for (const auto& c : cases) {
    std::string error = "stale";
    EXPECT_EQ(substitute_args(c.text, args, &error), c.expected) << c.text;
    EXPECT_EQ(error, "") << c.text;
  }
}

TEST(SubstituteArgs, ReportsUnknownNames) {
  const std::vector<std::pair<std::string, std::string>> args{{"threshold", "0.99"}};
  const ValueCase cases[] = {
      {"result >= {{args.thresold}}", "unknown arg \"thresold\" in \"{{args.thresold}}\""},
      {"{{secrets.token}}",
       "unknown placeholder \"{{secrets.token}}\": only {{args.NAME}} is supported"},
      {"result >= {{args.threshold", "\"{{\" without a closing \"}}\""},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_EQ(substitute_args(c.text, args, &error), "") << c.text;
    EXPECT_EQ(error, c.expected) << c.text;
  }
}

TEST(SubstituteArgs, TheSubstitutedConditionEvaluates) {
  std::string error;
  const std::string text =
      substitute_args("result >= {{args.threshold}}", {{"threshold", "0.99"}}, &error);
  const auto e = Expression::parse(text, &error);
  ASSERT_TRUE(e) << error;
  EXPECT_TRUE(e->eval(num(0.995), {}).value());
  EXPECT_FALSE(e->eval(num(0.98), {}).value());
}

/// config::ExternalChecks::condition: placeholders unsubstituted, columns as written.
TEST(ConditionError, AcceptsPlaceholdersAndKeepsColumns) {
  const ValueCase cases[] = {
      {"", ""},
      {"result >= {{args.threshold}}", ""},
      {"result >= {{ args.threshold }}", ""},
      {"result == '{{args.status}}'", ""},
      {"{{args.a}}{{args.b}} < result", ""},
      {"result[{{args.i}}] > {{args.t}}.5", ""},
      {"result >= {{args.t}} && foo", "column 25: unknown name foo" + kKnownNames},
      {"{{args.\xc3\xa9}} > x", "column 14: unknown name x" + kKnownNames},
      {"result >= {{args.t", "column 11: \"{{\" without a closing \"}}\""},
      {"result >=", "column 10: unexpected end of condition"},
      {"   ", "column 4: empty condition"},
  };
  for (const auto& c : cases) EXPECT_EQ(condition_error(c.text), c.expected) << c.text;
}

}  // namespace
}  // namespace vane::analysis

namespace vane::analysis {
namespace {

/// The rest of expr-lang's language (its Language Definition), as vane evaluates it.
TEST(Expression, ExprLangOperators) {
  const ValueCase cases[] = {
      {"2 ** 10", "1024"},
      {"2 ^ 3 ^ 2", "512"},  // right-associative
      {"-2 ** 2", "-4"},     // unary minus binds looser than **
      {"7 / 2", "3.5"},
      {"1..3", "[1,2,3]"},
      {"3..1", "[]"},
      {"'John' in ['John', 'Jane']", "true"},
      {"'Bob' not in ['John', 'Jane']", "true"},
      {"'name' in {name: 'John', age: 30}", "true"},
      {"'x' in nil", "false"},
      {"'abc' contains 'b'", "true"},
      {"'abc' not contains 'z'", "true"},
      {"'abc' startsWith 'ab' and 'abc' endsWith 'bc'", "true"},
      {"'v2.1.0' matches '^v2\\\\.'", "true"},
      {"'v3' not matches '^v2'", "true"},
      {"true ? 1 : 2", "1"},
      {"false ? 1 : true ? 2 : 3", "2"},
      {"nil ?? 5", "5"},
      {"0 ?? 5", "0"},
      {"1 + nil ?? 2", "3"},  // ?? binds tighter than +
      {"[1, 2, 3][1:]", "[2,3]"},
      {"[1, 2, 3, 4, 5][1:-1]", "[2,3,4]"},
      {"[1, 2, 3][:2]", "[1,2]"},
      {"'hello'[1:3]", "el"},
      {"{a: 1, 'b.c': 2}['b.c']", "2"},
      {"[1, 2, 3][-1]", "3"},
      {"not ('a' in ['b'])", "true"},
  };
  for (const auto& c : cases) EXPECT_EQ(value_of(c.text), c.expected) << c.text;
}

TEST(Expression, ExprLangFunctions) {
  const Value list = nums({1, 5, 3});
  const Value people = Value::list({obj({{"name", str("ann")}, {"age", num(31)}}),
                                    obj({{"name", str("bob")}, {"age", num(17)}})});
  const struct {
    std::string_view text;
    Value result;
    std::string expected;
  } cases[] = {
      {"abs(-5)", {}, "5"},
      {"max(5, 7)", {}, "7"},
      {"min(5, 7, 2)", {}, "2"},
      {"max(result)", list, "5"},
      {"min(result)", list, "1"},
      {"int(1.9)", {}, "1"},
      {"int('-12')", {}, "-12"},
      {"float('1.5e3')", {}, "1500"},
      {"asFloat('+Inf')", {}, "+Inf"},
      {"asFloat('nan') != asFloat('nan')", {}, "true"},
      {"asInt(result)", str("42"), "42"},
      {"string(1.5) + '!'", {}, "1.5!"},
      {"string(result)", list, "[1,5,3]"},
      {"len(string(nil))", {}, "5"},  // Go prints nil as <nil>
      {"isNil(result)", Value::nil(), "true"},
      {"isNil(result.missing)", obj({}), "true"},
      {"none(result, {# > 5})", list, "true"},
      {"one(result, {# > 4})", list, "true"},
      {"one(result, {# > 0})", list, "false"},
      {"filter(result, {# > 1})", list, "[5,3]"},
      {"map(result, {# * 2})", list, "[2,10,6]"},
      {"map(result, {#index})", list, "[0,1,2]"},
      {"count(result, {# >= 3})", list, "2"},
      {"count([true, false, true])", {}, "2"},
      {"map(filter(result, {.age >= 18}), {.name})", people, "[\"ann\"]"},
      {"all(result, .age > 10)", people, "true"},
      {"filter(0..9, {# % 2 == 0})", {}, "[0,2,4,6,8]"},
      {"result?.a?.b", Value::nil(), "nil"},
      {"result?.a.b ?? 'none'", Value::nil(), "none"},
      {"result.name matches result.pattern",
       obj({{"name", str("canary-7")}, {"pattern", str("^canary-[0-9]+$")}}), "true"},
  };
  for (const auto& c : cases) EXPECT_EQ(value_of(c.text, c.result), c.expected) << c.text;
}

TEST(Expression, ExprLangErrors) {
  const struct {
    std::string_view text;
    Value result;
    std::string expected;
  } cases[] = {
      {"asInt(result) > 0", Value::boolean(true),
       "error: column 1: asInt() needs a string or a number, got bool"},
      {"asFloat(result) > 0", str(" 1"),
       "error: column 1: asFloat() cannot parse \" 1\" as a number"},
      {"asInt(result) > 0", str("9223372036854775808"),
       "error: column 1: asInt() cannot parse \"9223372036854775808\" as an integer"},
      {"result in 5", str("a"), "parse error: column 8: in needs a list or an object on the right, "
                                "got a number"},
      {"1 in result", obj({}), "error: column 3: in needs a string key for an object, got number"},
      {"result contains 'a'", num(1),
       "error: column 8: contains needs two strings, got number and string"},
      {"result matches '('", str("a"),
       "parse error: column 16: invalid regular expression: missing ): ("},
      {"result matches result", str("("),
       "error: column 8: matches: invalid regular expression: missing ): ("},
      {"result ? 1 : 2", num(1), "error: column 8: ?: needs a bool condition, got number"},
      {"max(result) > 0", nums({}), "error: column 1: max() of an empty list"},
      {"len(0..100000) > 0", {}, "error: column 6: .. would build 100001 items (limit 100000)"},
      {"len(result..1) > 0", num(-std::numeric_limits<double>::infinity()),
       "error: column 11: .. needs two integers, got -Inf and 1"},  // found by the fuzzer
      {"result.a.b > 0", obj({}), "error: column 10: cannot read field \"b\" of nil"},
      {"result[1:2] == nil", num(1), "error: column 7: cannot slice number"},
      {"count(result)", nums({1}), "error: column 1: count() of a list needs bools, got number"},
      // Nested closures over big ranges stop at the step budget instead of running for minutes.
      {"any(0..99999, {any(0..99999, {# < 0})})", {}, "error: column 35: the condition needs "
                                                       "more than 2000000 steps to evaluate"},
  };
  for (const auto& c : cases) EXPECT_EQ(verdict_of(c.text, c.result), c.expected) << c.text;
  const ValueCase parse_errors[] = {
      {"'a' + 1 > 0", "column 5: + needs two numbers or two strings, got a string and a number"},
      {"!'a'", "column 1: ! needs a bool, got a string"},
      {"abs('a') > 0", "column 1: abs() needs a number, got a string"},
      {"true ? 1", "column 9: expected \":\", got end of condition"},
      {"#foo > 1", "column 1: # is only valid inside a closure" + kClosures},
      {"all(result, {#foo > 1})", "column 14: unknown closure variable #foo (# and #index exist)"},
      {"max() > 1", "column 1: max() takes 1 or more arguments, got 0"},
      {"count(result, {#}, 1)", "column 1: count() takes 1 or 2 arguments, got 3"},
      {"result.size() > 1", "column 8: methods are not supported: size()"},
  };
  for (const auto& c : parse_errors) EXPECT_EQ(parse_error(c.text), c.expected) << c.text;
  EXPECT_EQ(condition_error("1 ?? 2"), "column 3: the condition gives a number, not a bool");
  EXPECT_EQ(condition_error("map(result, {# > 1})"),
            "column 1: the condition gives a list, not a bool");
}

}  // namespace
}  // namespace vane::analysis

namespace vane::analysis {
namespace {

/// A chained ordering reads its middle operand twice; nested chains would double that at every
/// level, and the step budget turns such a condition into an Error instead of a hang.
TEST(Expression, NestedChainsStopAtTheStepBudget) {
  std::string text = "result";
  for (int i = 0; i < 40; ++i) text = "0 < (" + text + " ? 1 : 1) < 2";
  const std::string verdict = verdict_of(text, Value::boolean(true));
  EXPECT_NE(verdict.find("steps to evaluate"), std::string::npos) << verdict;
}

/// `not in` after a tighter operator: the looser `not in` is the caller's, with its `not`.
TEST(Expression, NegatedOperatorAfterTighterOne) {
  EXPECT_EQ(value_of("1 + 2 not in [3]"), "false");
  EXPECT_EQ(value_of("result.code ?? 0 not in [500, 503]", obj({{"code", num(503)}})), "false");
  EXPECT_EQ(value_of("result.code ?? 0 not in [500, 503]", obj({{"code", num(200)}})), "true");
  EXPECT_EQ(value_of("'a' + 'b' not matches '^ab$'"), "false");
  EXPECT_EQ(value_of("2 * 3 not in [5] and true"), "true");
}

/// expr-lang chains < <= > >= only (operator.IsComparison); == != in ... are left-associative.
TEST(Expression, OnlyOrderingChains) {
  EXPECT_EQ(value_of("result.a == result.b == true", obj({{"a", num(1)}, {"b", num(1)}})), "true");
  EXPECT_EQ(value_of("1 < 2 == true"), "true");
  EXPECT_EQ(value_of("1 == 1 != false"), "true");
  // (x in l) == false, not x in l && l == false
  EXPECT_EQ(value_of("result.x in result.l == false", obj({{"x", num(2)}, {"l", nums({1})}})),
            "true");
  EXPECT_EQ(value_of("1 < 2 < 3 == true"), "true");  // (1 < 2 && 2 < 3) == true
  EXPECT_EQ(value_of("1 == 1 < 2"), "parse error: column 8: < needs two numbers or two strings, "
                                    "got a bool and a number");  // (1 == 1) < 2
}

/// Comparing or parsing big inputs costs steps by their size, so the budget bounds doing it again
/// and again.
TEST(Expression, BigInputsStopAtTheStepBudget) {
  const Value big_string = str(std::string(1 << 20, 'x'));
  const Value big_list = Value::numbers(std::vector<double>(100'000, 1));
  Value::Object members;
  for (int i = 0; i < 10'000; ++i) members.push_back({"k" + std::to_string(i), num(i)});
  const Value input = obj({{"s", big_string},
                           {"z", str(std::string((1 << 20) - 1, '0') + "1")},
                           {"l", big_list},
                           {"ls", Value::list({big_list})},
                           {"o", obj(std::move(members))}});
  for (const std::string text : {"all(0..99999, {result.s <= result.s})",
                                 "all(0..99999, {result.s == result.s})",
                                 "all(0..9999, {result.l == result.l})",
                                 "all(0..9999, {result.l != [] and result.l in result.ls})",
                                 "result.o == result.o",
                                 "all(0..99999, {asFloat(result.z) == 1})"}) {
    const std::string verdict = verdict_of(text, input);
    EXPECT_NE(verdict.find("steps to evaluate"), std::string::npos) << text << ": " << verdict;
  }
  EXPECT_EQ(verdict_of("result.s == result.s and result.l == result.l and asInt(result.z) == 1",
                       input),
            "true");
}

/// Parsing is linear in the text: a 1 MB list literal parses and evaluates, and errors far into
/// a long text still name their column.
TEST(Expression, LongTextsParseAndNameTheirColumns) {
  std::string items;
  while (items.size() < (1 << 20)) items += "123456789012,";
  EXPECT_EQ(verdict_of("result in [" + items + "1]", num(1)), "true");
  EXPECT_EQ(verdict_of("result in [" + items + "1]", num(2)), "false");

  const std::string head = "result in [" + items;  // the error is at column head.size() + 1
  EXPECT_EQ(parse_error(head + "nope]"),
            "column " + std::to_string(head.size() + 1) + ": unknown name nope" + kKnownNames);
  const std::string list = "len([" + items + "1]) > 0 && ";
  EXPECT_EQ(verdict_of(list + "result < 1", str("a")),
            "error: column " + std::to_string(list.size() + 8) +
                ": < needs two numbers or two strings, got string and number");
}

}  // namespace
}  // namespace vane::analysis
