// Inside analysis/expression: the parsed form of a condition, shared by the parser
// (expression_parser.cpp) and the evaluator (expression_eval.cpp). Not for other modules.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/expression_value.hpp"

namespace re2 {
class RE2;
}

namespace vane::analysis::expression_detail {

inline constexpr uint32_t kNone = UINT32_MAX;

/// expr-lang's builtins and Argo's own functions (Node::Kind::Call).
enum class Fn : uint8_t {
  Len,
  Abs,
  Max,
  Min,
  Int,
  Float,
  AsInt,    ///< Argo's: the same conversion as int()
  AsFloat,  ///< Argo's: the same conversion as float()
  String,
  IsNaN,
  IsInf,
  IsNil,
  Default,
  All,  ///< the closures: All..Count take a list and a predicate run with `#` bound
  Any,
  None,
  One,
  Filter,
  Map,
  Count,
};

/// One node of the tree, stored flat in Program::nodes; children are indices into it.
struct Node {
  enum class Kind : uint8_t {
    Constant,  ///< constants[a]
    Result,
    Baseline,
    Element,  ///< `#` of the innermost closure (`#index` when a == 1)
    Index,    ///< nodes[a][nodes[b]]; also `a.name`; c == 1: `?.` (nil base gives nil)
    Slice,    ///< nodes[a][b:c], b or c kNone when left out
    Neg,      ///< -a
    Plus,     ///< +a
    Not,      ///< !a
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,  ///< ** and ^
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    StartsWith,
    EndsWith,
    Matches,  ///< c: regexes[c] when the pattern is a literal, else kNone
    Range,    ///< a..b
    And,
    Or,
    Coalesce,     ///< a ?? b
    Conditional,  ///< a ? b : c
    List,         ///< [args[a] .. args[a+b])
    Map,          ///< {key: value}: args[a+2i] a string constant, args[a+2i+1] the value
    Call,         ///< fn(args[a] .. args[a+b])
  };
  Kind kind = Kind::Constant;
  Fn fn = Fn::Len;
  uint32_t a = 0;
  uint32_t b = 0;
  uint32_t c = kNone;
  /// Byte offset in Program::text where errors about this node point; column_of() turns it into
  /// a column only for a message (computing it per node would make parsing quadratic).
  size_t offset = 0;
};

struct Program {
  std::string text;
  std::vector<Node> nodes;
  std::vector<uint32_t> args;  ///< children of List, Map and Call nodes
  std::vector<Value> constants;
  std::vector<std::shared_ptr<const re2::RE2>> regexes;  ///< literal `matches` patterns
  uint32_t root = 0;
  bool uses_baseline = false;
  std::string non_boolean;  ///< Expression::non_boolean()
};

/// The operator's or function's spelling, for messages ("<", "&&", "len()").
std::string_view spelling(const Node& node);

/// 1-based column, in characters (UTF-8 code points), of byte `offset` of `text`.
uint32_t column_of(std::string_view text, size_t offset);

/// Bounds on what one evaluation may build (SPEC §5: a condition can never hang the control
/// thread): the work of one eval() — nodes visited plus items and bytes/16 built or compared —
/// and the size of one string or list it computes.
inline constexpr uint64_t kMaxEvalSteps = 2'000'000;
inline constexpr size_t kMaxBuiltString = 1 << 20;
inline constexpr size_t kMaxBuiltItems = 100'000;

/// A compiled RE2 with a bounded program size; null with *error when `pattern` is invalid.
std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, std::string* error);

}  // namespace vane::analysis::expression_detail
