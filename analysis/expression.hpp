// The condition language of analysis metrics (SPEC §5): Argo Rollouts' expr-lang over `result`
// and `baseline`, with Argo's functions. Parsed once (config load checks it; a run parses its
// conditions after substituting {{args.NAME}}), then evaluated for every measurement. Control
// thread. docs/config.md lists every element with an example.
//
//   ?:  <  or ||  <  and &&  <  == != < <= > >= in contains startsWith endsWith matches (the
//   words negatable with `not`; as in expr-lang only orderings chain: a < b < c is
//   a < b && b < c, while a == b == c is (a == b) == c)  <  ..  <  + -  <
//   unary ! not  <  * / %  <  unary - +  <  ** ^ (right)  <  ??  <  postfix x[i] x[a:b] x.f x?.f
//
// Literals: numbers (1, 0.5, .5, 1e-3, 1_000, 0x1F), 'strings' and "strings" (\n \t \r \\ \'
// \" \xHH \uHHHH escapes), true, false, nil, [lists], {maps: 1}. Functions: len abs max min int
// float string asInt asFloat isNaN isInf isNil default, and the closures all any none one filter
// map count, whose second argument `{...}` runs per item with `#` the item, `#index` its
// position and `.name` meaning `#.name` (the braces may be omitted).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/expression_value.hpp"

namespace vane::analysis {

namespace expression_detail {
struct Program;
}

/// The outcome of evaluating a condition: a bool, or why it could not be evaluated (a
/// measurement Error in SPEC terms).
class EvalResult {
 public:
  static EvalResult of(bool value) { return EvalResult(value, {}); }
  static EvalResult failure(std::string error) { return EvalResult(false, std::move(error)); }

  bool ok() const { return error_.empty(); }
  bool value() const { return value_; }  ///< false when !ok()
  const std::string& error() const { return error_; }

 private:
  EvalResult(bool value, std::string error) : value_(value), error_(std::move(error)) {}
  bool value_ = false;
  std::string error_;
};

/// A parsed condition; immutable, cheap to copy (the program is shared).
class Expression {
 public:
  /// Parses `text`; on failure returns nullopt and sets *error to "column N: ..." (N 1-based,
  /// in characters). Unknown identifiers are parse errors: only `result`, `baseline`, the
  /// functions above and `#` inside a closure are known. Like expr-lang's checker, operands whose
  /// types are known to clash are errors (`asFloat(result) == "1.1"`); a literal `matches`
  /// pattern is compiled here.
  static std::optional<Expression> parse(std::string_view text, std::string* error);

  /// Evaluates the condition. NaN compares false with everything (`result >= 0.95` is false on
  /// NaN, `result != result` true); && and || short-circuit. Errors ("column N: ..."): a
  /// non-boolean result, a type error (`<` between a string and a number, arithmetic on nil),
  /// an index out of range, a field of a non-object, asFloat() of text that is no number, more
  /// work than kMaxEvalSteps.
  EvalResult eval(const Value& result, const Value& baseline) const;

  /// Evaluates to any value (tests, diagnostics); nullopt and *error on failure.
  std::optional<Value> eval_value(const Value& result, const Value& baseline,
                                  std::string* error) const;

  /// The text as parsed.
  const std::string& text() const;
  /// Whether the text reads `baseline` (messages then show its value too).
  bool uses_baseline() const;
  /// "column N: the condition gives a number, not a bool" when the top operator can never give
  /// a bool (`result * 2`, `len(result)`, `1`), else "". condition_error() refuses those; eval()
  /// would report them as errors on every measurement.
  const std::string& non_boolean() const;

 private:
  explicit Expression(std::shared_ptr<const expression_detail::Program> program);
  std::shared_ptr<const expression_detail::Program> program_;
};

/// Replaces every `{{args.NAME}}` (spaces inside the braces allowed) by the value of NAME in
/// `args`. On an unknown NAME, another placeholder or a `{{` without `}}`, returns "" and sets
/// *error. Used for conditions, queries, URLs, headers and bodies (SPEC §5).
std::string substitute_args(std::string_view text,
                            const std::vector<std::pair<std::string, std::string>>& args,
                            std::string* error);

/// For config::ExternalChecks::condition: "" when `text` (placeholders not yet substituted) is a
/// valid condition, else "column N: ..." (a parse error, or non_boolean()). Each `{{...}}` stands
/// for a number while checking; an empty text is fine (no condition).
std::string condition_error(std::string_view text);

}  // namespace vane::analysis
