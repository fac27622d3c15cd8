// Inside analysis/expression: the parsed form of a condition, shared by the parser
// (expression_parser.cpp) and the evaluator (expression_eval.cpp). Not for other modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/expression_value.hpp"

namespace vane::analysis::expression_detail {

/// One node of the tree, stored flat in Program::nodes; children are indices into it.
struct Node {
  enum class Kind : uint8_t {
    Constant,  ///< constants[a]
    Result,
    Baseline,
    Element,  ///< `#` of the innermost predicate
    Index,    ///< nodes[a][nodes[b]]; also `a.name` (b is a string constant)
    Neg,      ///< -a
    Plus,     ///< +a
    Not,      ///< !a
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Len,      ///< len(a)
    IsNaN,    ///< isNaN(a)
    IsInf,    ///< isInf(a)
    Default,  ///< default(a, b)
    All,      ///< all(a, b): b evaluated with `#` bound to each element
    Any,
  };
  Kind kind = Kind::Constant;
  uint32_t a = 0;
  uint32_t b = 0;
  uint32_t column = 1;  ///< 1-based, in characters: where errors about this node point
};

struct Program {
  std::string text;
  std::vector<Node> nodes;
  std::vector<Value> constants;
  uint32_t root = 0;
  bool uses_baseline = false;
  std::string non_boolean;  ///< Expression::non_boolean()
};

/// The operator's spelling, for messages ("<", "&&", "len()").
std::string_view spelling(Node::Kind kind);

/// 1-based column, in characters (UTF-8 code points), of byte `offset` of `text`.
uint32_t column_of(std::string_view text, size_t offset);

}  // namespace vane::analysis::expression_detail
