// Inside analysis/expression: splits a condition into tokens for the parser (control thread, at
// parse time). Not for other modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vane::analysis::expression_detail {

enum class Tok : uint8_t {
  End,
  Number,
  String,
  Name,  ///< identifiers and the keywords and, or, not, true, false, nil
  Hash,  ///< # (text "index" for #index)
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Dot,
  DotDot,
  QuestionDot,  ///< ?.
  Question,
  QuestionQuestion,
  Colon,
  Plus,
  Minus,
  Star,
  StarStar,
  Caret,
  Slash,
  Percent,
  Bang,
  EqEq,
  NotEq,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  AndAnd,
  OrOr,
};

struct Token {
  Tok kind = Tok::End;
  size_t offset = 0;  ///< byte offset in the text
  size_t length = 0;  ///< bytes of source text
  std::string text;   ///< Name: the name; String: the unescaped value
  double number = 0;  ///< Number
};

/// The tokens of `text`, ending with one End token. On a lexical error returns what was read
/// so far and sets *error to the message and *error_offset to where it is.
std::vector<Token> lex(std::string_view text, std::string* error, size_t* error_offset);

}  // namespace vane::analysis::expression_detail
