// Helpers of the table-driven validation tests: a valid base file, and cases that map a file to
// the exact `FILE:LINE:COL: PATH: MESSAGE` lines expected, in file order.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.hpp"

namespace vane::config::test {

/// Lines 1-2 of most cases: a listener and two upstreams, u and v.
inline constexpr const char* base = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}, {name: v, endpoints: ["127.0.0.1:2"]}]
)";

struct Case {
  const char* name;
  std::string yaml;
  std::vector<std::string> errors;
};

inline std::vector<std::string> error_lines(const std::string& yaml) {
  const LoadResult result = load_string(yaml, "vane.yaml");
  std::vector<std::string> lines;
  for (const Error& e : result.errors) lines.push_back(e.to_string());
  EXPECT_EQ(result.config == nullptr, !lines.empty());
  return lines;
}

/// The file's lines with a caret under each reported position, to read a failure at a glance.
inline std::string annotate(const std::string& yaml) {
  std::vector<std::string> lines(1);
  for (const char ch : yaml) {
    if (ch == '\n') {
      lines.emplace_back();
    } else {
      lines.back().push_back(ch);
    }
  }
  std::string out;
  for (const Error& e : load_string(yaml, "vane.yaml").errors) {
    const std::size_t line = static_cast<std::size_t>(e.line);
    if (line == 0 || line > lines.size()) continue;
    out += lines[line - 1] + "\n" + std::string(static_cast<std::size_t>(e.column - 1), ' ') +
           "^ " + e.to_string() + "\n";
  }
  return out;
}

inline void run(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(error_lines(c.yaml), c.errors) << "case " << c.name << "\n" << annotate(c.yaml);
  }
}

/// Lines 1-8: base, a route to rollout `ro`, then `rollouts:` with ro down to `canary:`.
inline std::string canary(const std::string& body) {
  return std::string(base) +
         "routes: [{name: r, rollout: ro}]\nrollouts:\n  - name: ro\n    upstream: v\n"
         "    strategy:\n      canary:\n" +
         body;
}

/// Lines 1-2 base, 3: route, 4: rollouts:, 5-8: ro down to `canary:`, 9: `steps:`; steps from 10.
inline std::string with_steps(const std::string& steps, const std::string& rest = "") {
  return canary("        steps:\n" + steps) + rest;
}

}  // namespace vane::config::test
