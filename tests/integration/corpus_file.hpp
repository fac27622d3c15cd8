// Reads tests/differential/corpus.txt (its header describes the format): the malformed-request and
// request-smuggling cases with the answer vane must give each. Test thread only.
#pragma once

#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vane::it {

/// One acceptable answer: final statuses in order (each a set: "400|501"), then the connection.
struct CorpusAnswer {
  enum class Connection { Close, Keep, Any };
  std::vector<std::set<int>> statuses;  ///< empty: no answer at all
  Connection connection = Connection::Any;
};

struct CorpusCase {
  std::string id;
  std::vector<std::string> sources;
  std::string rfc;
  std::vector<CorpusAnswer> answers;  ///< any of them passes
  uint64_t forward_min = 0;           ///< requests of the case the upstream may see
  uint64_t forward_max = 0;
  bool canary = true;
  bool half_close = false;
  bool stall = false;
  std::string bytes;
};

/// The corpus's escapes: \r \n \t \\ \0 \xHH.
inline std::string corpus_unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char n = text[++i];
    if (n == 'x') {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += n == 'r' ? '\r' : n == 'n' ? '\n' : n == 't' ? '\t' : n == '0' ? '\0' : n;
    }
  }
  return out;
}

/// "400|501 200 close" -> the statuses and the connection.
inline CorpusAnswer parse_corpus_answer(const std::string& value) {
  std::istringstream words(value);
  std::vector<std::string> tokens;
  for (std::string w; words >> w;) tokens.push_back(w);
  if (tokens.empty()) throw std::runtime_error("empty expect");
  CorpusAnswer answer;
  const std::string& conn = tokens.back();
  answer.connection = conn == "close"  ? CorpusAnswer::Connection::Close
                      : conn == "keep" ? CorpusAnswer::Connection::Keep
                                       : CorpusAnswer::Connection::Any;
  if (conn != "close" && conn != "keep" && conn != "any") throw std::runtime_error("expect: " + value);
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == "none") continue;
    std::set<int> alternatives;
    std::istringstream parts(tokens[i]);
    for (std::string s; std::getline(parts, s, '|');) alternatives.insert(std::stoi(s));
    answer.statuses.push_back(alternatives);
  }
  return answer;
}

inline void apply_corpus_line(CorpusCase& c, std::string_view key, const std::string& value) {
  if (key == "send") {
    c.bytes += corpus_unescape(value);
  } else if (key == "repeat") {
    const size_t space = value.find(' ');
    const std::string text = corpus_unescape(value.substr(space + 1));
    for (uint64_t n = std::stoull(value.substr(0, space)); n > 0; --n) c.bytes += text;
  } else if (key == "source") {
    c.sources.push_back(value);
  } else if (key == "rfc") {
    c.rfc = value;
  } else if (key == "expect") {
    c.answers.push_back(parse_corpus_answer(value));
  } else if (key == "forward") {
    const size_t dots = value.find("..");
    c.forward_min = std::stoull(value.substr(0, dots));
    c.forward_max = dots == std::string::npos ? c.forward_min : std::stoull(value.substr(dots + 2));
  } else if (key == "canary") {
    c.canary = value != "no";
  } else if (key == "client") {
    c.half_close = value == "half-close";
    c.stall = value == "stall";
  }
}

/// Every case of the file; throws std::runtime_error on a malformed line.
inline std::vector<CorpusCase> load_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<CorpusCase> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      CorpusCase c;
      c.id = line.substr(1, line.size() - 2);
      cases.push_back(std::move(c));
      continue;
    }
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || cases.empty()) throw std::runtime_error("corpus line: " + line);
    apply_corpus_line(cases.back(), std::string_view(line).substr(0, colon), line.substr(colon + 2));
  }
  return cases;
}

}  // namespace vane::it
