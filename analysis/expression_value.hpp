// The values a condition works on (SPEC §5): a provider's `result` and `baseline`, and what an
// expression computes from them — nil, bool, number, string, list, object. Plain data; built by
// the providers and read by the evaluator, both on the control thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vane::analysis {

struct ObjectMember;

class Value {
 public:
  using List = std::vector<Value>;
  /// Members in the order the provider gave them (a JSON object's order); lookups are linear.
  using Object = std::vector<ObjectMember>;
  enum class Type : uint8_t { Nil, Bool, Number, String, List, Object };

  Value() = default;  ///< nil

  static Value nil();
  static Value boolean(bool b);
  static Value number(double n);
  static Value string(std::string s);
  static Value list(List items);
  static Value object(Object members);
  /// A list of numbers, e.g. a Prometheus vector.
  static Value numbers(const std::vector<double>& items);

  Type type() const { return static_cast<Type>(data_.index()); }
  bool is_nil() const { return type() == Type::Nil; }
  /// The accessors below require the matching type().
  bool as_bool() const { return std::get<1>(data_); }
  double as_number() const { return std::get<2>(data_); }
  const std::string& as_string() const { return std::get<3>(data_); }
  const List& as_list() const { return std::get<4>(data_); }
  const Object& as_object() const { return std::get<5>(data_); }

  /// The member `key` of an object (the first one, should the object repeat a key); null when
  /// this is not an object or has no such member.
  const Value* find(std::string_view key) const;

 private:
  using Data = std::variant<std::monostate, bool, double, std::string, List, Object>;
  explicit Value(Data data);

  Data data_;
};

struct ObjectMember {
  std::string key;
  Value value;
};

// Defined here, where ObjectMember is complete.
inline Value::Value(Data data) : data_(std::move(data)) {}
inline Value Value::nil() { return {}; }
inline Value Value::boolean(bool b) { return Value(Data(std::in_place_index<1>, b)); }
inline Value Value::number(double n) { return Value(Data(std::in_place_index<2>, n)); }
inline Value Value::string(std::string s) {
  return Value(Data(std::in_place_index<3>, std::move(s)));
}
inline Value Value::list(List items) {
  return Value(Data(std::in_place_index<4>, std::move(items)));
}
inline Value Value::object(Object members) {
  return Value(Data(std::in_place_index<5>, std::move(members)));
}

/// "nil", "bool", "number", "string", "list", "object": for error messages.
std::string_view type_name(Value::Type type);

/// The value as text, for RUN JSON `value` and messages (SPEC §6): numbers in their shortest
/// round-trip form ("0.97", "1e-05", "NaN", "+Inf", "-Inf"; whole numbers as digits: "1000000"), a
/// top-level string as is, lists and objects JSON-like ("[0.97,0.5]", `{"ok":true,"v":null}`), a
/// top-level nil as "nil".
std::string to_text(const Value& value);

/// to_text() cut to at most kMaxShortText bytes (then "..."), for messages.
inline constexpr size_t kMaxShortText = 120;
std::string to_short_text(const Value& value);

/// Expression equality (`==`): numbers as IEEE doubles (NaN equals nothing), lists element-wise,
/// objects as sets of members; values of different types are unequal, never an error.
bool equal(const Value& a, const Value& b);

/// equal() that adds its work to *steps (one per value compared or member looked at, plus bytes/16
/// of the strings compared) and gives up, with nullopt, once *steps passes `limit`: comparing two
/// big inputs costs what walking them costs, so the evaluator's step budget bounds it.
std::optional<bool> equal(const Value& a, const Value& b, uint64_t limit, uint64_t* steps);

}  // namespace vane::analysis
