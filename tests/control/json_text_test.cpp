// to_text (SPEC §6): Boost.JSON's output, with doubles as plain decimals that round-trip.
#include "control/json_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace vane::control {
namespace {

namespace json = boost::json;

TEST(JsonText, DoublesArePlainDecimals) {
  const std::vector<std::pair<double, std::string>> cases = {
      {64.24, "64.24"}, {64.0, "64"},     {0.5, "0.5"},       {100.0, "100"},   {0.0, "0"},
      {-0.0, "-0"},     {33.33, "33.33"}, {0.01, "0.01"},     {12.5, "12.5"},   {-3.25, "-3.25"},
      {1e-6, "0.000001"}, {123456789.125, "123456789.125"}, {0.1 + 0.2, "0.30000000000000004"},
      {1e20, "100000000000000000000"}, {1e21, "1e+21"},      {1e-7, "1e-07"}};
  for (const auto& [d, text] : cases) EXPECT_EQ(to_text(json::value(d)), text) << text;
}

TEST(JsonText, DoublesReadBackTheSame) {
  for (const double d : {64.24, 1.0 / 3, 2.0 / 3 * 100, 99.99, 0.07, 1e-6 * 7, 5e300, 1e-300,
                         std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()}) {
    const json::value back = json::parse(to_text(json::value(d)));
    ASSERT_TRUE(back.is_number()) << d;
    EXPECT_EQ(back.to_number<double>(), d) << to_text(json::value(d));
  }
}

TEST(JsonText, NonFiniteIsNull) {
  EXPECT_EQ(to_text(json::value(std::nan(""))), "null");
  EXPECT_EQ(to_text(json::value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(to_text(json::value(-std::numeric_limits<double>::infinity())), "null");
}

TEST(JsonText, EverythingElseAsBoostWritesIt) {
  const json::value v = json::parse(R"({"name":"shop \"v2\"\n\u00e9\u0001","n":-42,"u":18446744073709551615,)"
                                    R"("ok":true,"no":false,"none":null,"list":[1,"a",[],{}],"o":{"k":{}}})");
  EXPECT_EQ(to_text(v), json::serialize(v));
}

TEST(JsonText, EveryByteInAStringAsBoostWritesIt) {
  std::string every;
  for (int c = 0; c < 256; ++c) every += static_cast<char>(c);
  const json::value v = {{every, every}, {"list", json::array{every, ""}}};
  EXPECT_EQ(to_text(v), json::serialize(v));
}

TEST(JsonText, WeightsNestedInAStatus) {
  const json::value status = {{"weights", {{"stable", 35.76}, {"canary", 64.24}}},
                              {"measuredWeights", {{"stable", 50.0}, {"canary", 50.0}}},
                              {"steps", json::array{{{"setWeight", 20}}}}};
  EXPECT_EQ(to_text(status),
            R"({"weights":{"stable":35.76,"canary":64.24},"measuredWeights":{"stable":50,"canary":50},)"
            R"("steps":[{"setWeight":20}]})");
}

}  // namespace
}  // namespace vane::control
