#include "analysis/expression.hpp"

#include <algorithm>

#include <re2/re2.h>

#include "analysis/expression_program.hpp"

namespace vane::analysis {
namespace expression_detail {

std::string_view spelling(const Node& node) {
  switch (node.kind) {
    case Node::Kind::Neg: return "-";
    case Node::Kind::Plus: return "+";
    case Node::Kind::Not: return "!";
    case Node::Kind::Add: return "+";
    case Node::Kind::Sub: return "-";
    case Node::Kind::Mul: return "*";
    case Node::Kind::Div: return "/";
    case Node::Kind::Mod: return "%";
    case Node::Kind::Pow: return "**";
    case Node::Kind::Eq: return "==";
    case Node::Kind::Ne: return "!=";
    case Node::Kind::Lt: return "<";
    case Node::Kind::Le: return "<=";
    case Node::Kind::Gt: return ">";
    case Node::Kind::Ge: return ">=";
    case Node::Kind::In: return "in";
    case Node::Kind::Contains: return "contains";
    case Node::Kind::StartsWith: return "startsWith";
    case Node::Kind::EndsWith: return "endsWith";
    case Node::Kind::Matches: return "matches";
    case Node::Kind::Range: return "..";
    case Node::Kind::And: return "&&";
    case Node::Kind::Or: return "||";
    case Node::Kind::Coalesce: return "??";
    case Node::Kind::Conditional: return "?:";
    case Node::Kind::Call: break;
    default: return "";
  }
  switch (node.fn) {
    case Fn::Len: return "len()";
    case Fn::Abs: return "abs()";
    case Fn::Max: return "max()";
    case Fn::Min: return "min()";
    case Fn::Int: return "int()";
    case Fn::Float: return "float()";
    case Fn::AsInt: return "asInt()";
    case Fn::AsFloat: return "asFloat()";
    case Fn::String: return "string()";
    case Fn::IsNaN: return "isNaN()";
    case Fn::IsInf: return "isInf()";
    case Fn::IsNil: return "isNil()";
    case Fn::Default: return "default()";
    case Fn::All: return "all()";
    case Fn::Any: return "any()";
    case Fn::None: return "none()";
    case Fn::One: return "one()";
    case Fn::Filter: return "filter()";
    case Fn::Map: return "map()";
    case Fn::Count: return "count()";
  }
  return "";
}

std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, std::string* error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // bounds the compiled program of a hostile pattern
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (re->ok()) return re;
  *error = "invalid regular expression: " + re->error();
  return nullptr;
}

uint32_t column_of(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  uint32_t column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;  // not a continuation
  }
  return column;
}

}  // namespace expression_detail

Expression::Expression(std::shared_ptr<const expression_detail::Program> program)
    : program_(std::move(program)) {}

const std::string& Expression::text() const { return program_->text; }

bool Expression::uses_baseline() const { return program_->uses_baseline; }

const std::string& Expression::non_boolean() const { return program_->non_boolean; }

namespace {

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string substitute_args(std::string_view text,
                            const std::vector<std::pair<std::string, std::string>>& args,
                            std::string* error) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      *error = "\"{{\" without a closing \"}}\"";
      return {};
    }
    const std::string_view tag = trim(text.substr(open + 2, close - open - 2));
    if (!tag.starts_with("args.")) {
      *error =
          "unknown placeholder \"{{" + std::string(tag) + "}}\": only {{args.NAME}} is supported";
      return {};
    }
    const std::string_view name = tag.substr(5);
    const auto it =
        std::find_if(args.begin(), args.end(), [&](const auto& arg) { return arg.first == name; });
    if (it == args.end()) {
      *error = "unknown arg \"" + std::string(name) + "\" in \"{{" + std::string(tag) + "}}\"";
      return {};
    }
    out.append(text.substr(pos, open - pos));
    out += it->second;
    pos = close + 2;
  }
  out.append(text.substr(pos));
  error->clear();
  return out;
}

std::string condition_error(std::string_view text) {
  if (text.empty()) return {};
  // Each placeholder becomes a number of as many characters ("0000000000"), so that columns
  // in the message are those of the text as written.
  std::string masked;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return "column " + std::to_string(expression_detail::column_of(text, open)) +
             ": \"{{\" without a closing \"}}\"";
    }
    masked.append(text.substr(pos, open - pos));
    for (size_t i = open; i < close + 2; ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) masked += '0';
    }
    pos = close + 2;
  }
  masked.append(text.substr(pos));
  std::string error;
  const auto expression = Expression::parse(masked, &error);
  return expression ? expression->non_boolean() : error;
}

}  // namespace vane::analysis
