// Values of the condition language: their text in RUN JSON and messages, member lookup and
// expression equality.
#include "analysis/expression_value.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace vane::analysis {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Value num(double n) { return Value::number(n); }
Value str(std::string s) { return Value::string(std::move(s)); }
Value nums(std::vector<double> items) { return Value::numbers(items); }
Value obj(Value::Object members) { return Value::object(std::move(members)); }

TEST(Value, TextForRunJson) {
  struct Case {
    Value value;
    std::string expected;
  };
  const Case cases[] = {
      {num(0.97), "0.97"},
      {num(1), "1"},
      {num(-0.5), "-0.5"},
      {num(1e-5), "1e-05"},
      {num(1234567), "1234567"},
      {num(1e6), "1000000"},  // whole numbers as digits, not "1e+06"
      {num(-3), "-3"},
      {num(0), "0"},
      {num(1e15), "1e+15"},
      {num(123.456), "123.456"},
      {num(kNaN), "NaN"},
      {num(kInf), "+Inf"},
      {num(-kInf), "-Inf"},
      {nums({0.97}), "[0.97]"},
      {nums({0.97, kNaN}), "[0.97,NaN]"},
      {nums({}), "[]"},
      {str("ok"), "ok"},
      {Value::list({str("a\"b"), Value::nil(), Value::boolean(true)}), "[\"a\\\"b\",null,true]"},
      {obj({{"a", num(1)}, {"b", obj({})}}), "{\"a\":1,\"b\":{}}"},
      {Value::nil(), "nil"},
      {Value::boolean(false), "false"},
  };
  for (const auto& c : cases) EXPECT_EQ(to_text(c.value), c.expected);
  EXPECT_EQ(to_short_text(str(std::string(500, 'x'))), std::string(kMaxShortText, 'x') + "...");
  EXPECT_EQ(to_short_text(num(0.5)), "0.5");
  // The cut never splits a UTF-8 character.
  EXPECT_EQ(to_short_text(str(std::string(119, 'x') + "\u00e9yyy")), std::string(119, 'x') + "...");
}

TEST(Value, FindAndTypes) {
  const Value v = obj({{"data", obj({{"ok", Value::boolean(true)}})}, {"n", num(1)}});
  ASSERT_NE(v.find("data"), nullptr);
  EXPECT_EQ(v.find("data")->type(), Value::Type::Object);
  EXPECT_EQ(v.find("nope"), nullptr);
  EXPECT_EQ(num(1).find("data"), nullptr);
  EXPECT_EQ(type_name(Value::Type::List), "list");
  EXPECT_TRUE(Value().is_nil());
  EXPECT_FALSE(equal(num(kNaN), num(kNaN)));
  EXPECT_TRUE(equal(v, obj({{"n", num(1)}, {"data", obj({{"ok", Value::boolean(true)}})}})));
  EXPECT_FALSE(equal(v, obj({{"n", num(1)}})));
  EXPECT_FALSE(equal(nums({1, 2}), nums({1})));
  EXPECT_TRUE(equal(Value(), Value::nil()));
  EXPECT_FALSE(equal(num(1), str("1")));
}

}  // namespace
}  // namespace vane::analysis
