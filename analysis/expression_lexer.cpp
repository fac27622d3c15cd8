#include "analysis/expression_lexer.hpp"

#include <charconv>
#include <system_error>

namespace vane::analysis::expression_detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(std::string_view text, std::string* error, size_t* error_offset)
      : text_(text), error_(error), error_offset_(error_offset) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      Token token;
      token.offset = pos_;
      if (pos_ >= text_.size()) {
        tokens.push_back(token);
        return tokens;
      }
      if (!next(token)) return tokens;
      token.length = pos_ - token.offset;
      tokens.push_back(std::move(token));
    }
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

  bool fail(size_t offset, std::string message) {
    *error_ = std::move(message);
    *error_offset_ = offset;
    return false;
  }

  bool next(Token& t) {
    const char c = text_[pos_];
    if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) return number(t);
    if (c == '\'' || c == '"') return string(t);
    if (is_name_start(c)) {
      while (is_name_char(at(pos_))) ++pos_;
      t.kind = Tok::Name;
      t.text = std::string(text_.substr(t.offset, pos_ - t.offset));
      return true;
    }
    return punctuation(t, c);
  }

  bool punctuation(Token& t, char c) {
    const char n = at(pos_ + 1);
    const auto two = [&](Tok kind) {
      t.kind = kind;
      pos_ += 2;
      return true;
    };
    const auto one = [&](Tok kind) {
      t.kind = kind;
      pos_ += 1;
      return true;
    };
    switch (c) {
      case '#':  // #index is one token
        if (is_name_start(n)) {
          for (pos_ += 1; is_name_char(at(pos_)); ++pos_) t.text += text_[pos_];
          t.kind = Tok::Hash;
          return true;
        }
        return one(Tok::Hash);
      case '(': return one(Tok::LParen);
      case ')': return one(Tok::RParen);
      case '[': return one(Tok::LBracket);
      case ']': return one(Tok::RBracket);
      case '{': return one(Tok::LBrace);
      case '}': return one(Tok::RBrace);
      case ',': return one(Tok::Comma);
      case '.': return n == '.' ? two(Tok::DotDot) : one(Tok::Dot);
      case ':': return one(Tok::Colon);
      case '^': return one(Tok::Caret);
      case '?':
        if (n == '?') return two(Tok::QuestionQuestion);
        // `a ?.5 : 1` is a conditional, not `?.`
        if (n == '.' && !is_digit(at(pos_ + 2))) return two(Tok::QuestionDot);
        return one(Tok::Question);
      case '+': return one(Tok::Plus);
      case '-': return one(Tok::Minus);
      case '*': return n == '*' ? two(Tok::StarStar) : one(Tok::Star);
      case '/': return one(Tok::Slash);
      case '%': return one(Tok::Percent);
      case '!': return n == '=' ? two(Tok::NotEq) : one(Tok::Bang);
      case '<': return n == '=' ? two(Tok::LessEq) : one(Tok::Less);
      case '>': return n == '=' ? two(Tok::GreaterEq) : one(Tok::Greater);
      case '=':
        if (n == '=') return two(Tok::EqEq);
        return fail(pos_, "unexpected \"=\" (equality is ==)");
      case '&':
        if (n == '&') return two(Tok::AndAnd);
        return fail(pos_, "unexpected \"&\" (logical and is && or and)");
      case '|':
        if (n == '|') return two(Tok::OrOr);
        return fail(pos_, "unexpected \"|\" (logical or is || or or)");
      default: break;
    }
    if (static_cast<unsigned char>(c) >= 0x80) return fail(pos_, "unexpected non-ASCII character");
    return fail(pos_, "unexpected character \"" + std::string(1, c) + "\"");
  }

  /// Digits with `_` separators, a fraction, an exponent; or 0x hex digits.
  bool number(Token& t) {
    std::string clean;
    const auto digits = [&](bool hex) {
      size_t n = 0;
      while (is_digit(at(pos_)) || (hex && is_hex(at(pos_))) || at(pos_) == '_') {
        if (at(pos_) != '_') {
          clean += at(pos_);
          ++n;
        }
        ++pos_;
      }
      return n;
    };
    t.kind = Tok::Number;
    if (at(pos_) == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X')) {
      pos_ += 2;
      if (digits(true) == 0) return fail(t.offset, "bad number: 0x needs hex digits");
      uint64_t v = 0;
      const auto [end, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), v, 16);
      if (ec != std::errc() || end != clean.data() + clean.size()) {
        return fail(t.offset, "bad number: hex literal out of range");
      }
      t.number = static_cast<double>(v);
      return end_of_number(t);
    }
    digits(false);
    if (at(pos_) == '.' && is_digit(at(pos_ + 1))) {
      clean += '.';
      ++pos_;
      digits(false);
    }
    if (at(pos_) == 'e' || at(pos_) == 'E') {
      clean += 'e';
      ++pos_;
      if (at(pos_) == '+' || at(pos_) == '-') clean += text_[pos_++];
      if (digits(false) == 0) return fail(t.offset, "bad number: exponent needs digits");
    }
    if (clean.front() == '.') clean.insert(clean.begin(), '0');
    const auto [end, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), t.number);
    if (ec != std::errc() || end != clean.data() + clean.size()) {
      return fail(t.offset, "bad number: out of range");
    }
    return end_of_number(t);
  }

  bool end_of_number(const Token& t) {
    if (is_name_char(at(pos_))) {
      while (is_name_char(at(pos_))) ++pos_;
      return fail(t.offset,
                  "bad number \"" + std::string(text_.substr(t.offset, pos_ - t.offset)) + "\"");
    }
    return true;
  }

  bool string(Token& t) {
    const char quote = text_[pos_++];
    t.kind = Tok::String;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] != '\\') {
        t.text += text_[pos_++];
        continue;
      }
      if (!escape(t.text)) return false;
    }
    if (pos_ >= text_.size()) return fail(t.offset, "unterminated string");
    ++pos_;
    return true;
  }

  bool escape(std::string& out) {
    const size_t start = pos_;
    const char c = at(pos_ + 1);
    pos_ += 2;
    switch (c) {
      case 'n': out += '\n'; return true;
      case 't': out += '\t'; return true;
      case 'r': out += '\r'; return true;
      case 'a': out += '\a'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'v': out += '\v'; return true;
      case '\\': out += '\\'; return true;
      case '\'': out += '\''; return true;
      case '"': out += '"'; return true;
      case 'x':
      case 'u': {
        const size_t n = c == 'x' ? 2 : 4;
        uint32_t cp = 0;
        for (size_t i = 0; i < n; ++i) {
          if (!is_hex(at(pos_))) {
            return fail(start, "bad escape: \\" + std::string(1, c) + " needs " +
                                   std::to_string(n) + " hex digits");
          }
          cp = cp * 16 + static_cast<uint32_t>(hex_value(text_[pos_++]));
        }
        if (c == 'x') {
          out += static_cast<char>(cp);
        } else {
          append_utf8(out, cp);
        }
        return true;
      }
      default:
        if (c == '\0' && start + 1 >= text_.size()) return fail(start, "unterminated string");
        return fail(start, "unknown escape \\" + std::string(1, c));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string* error_;
  size_t* error_offset_;
};

}  // namespace

std::vector<Token> lex(std::string_view text, std::string* error, size_t* error_offset) {
  error->clear();
  return Lexer(text, error, error_offset).run();
}

}  // namespace vane::analysis::expression_detail
