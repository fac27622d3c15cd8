// Writes a config as YAML that reads like a hand-written vane.yaml (SPEC §2 key order, flow maps
// for short values, a comment above each item saying where it came from). Used by
// `vane import argo`; main thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace vane::cli {

/// A config to write, with comments: `header` lines open the file; `comments` go above the item
/// of a section at a path ("upstreams[0]", "rollouts[1]") or, for a rollout's `upstream`
/// ("rollouts[1].upstream"), after it on its line.
struct CommentedConfig {
  config::Config config;
  std::vector<std::string> header;
  std::map<std::string, std::string> comments;
};

/// The YAML text: listeners, upstreams, routes, rollouts, analysisTemplates (the sections the
/// import fills); fields at their default are left out.
std::string write_config(const CommentedConfig& in);

/// `text` as a YAML scalar in block context: plain when that reads back as the same string,
/// else double-quoted (a multi-line text is a literal block when `indent` allows one).
std::string yaml_scalar(std::string_view text, int indent = -1);

/// `text` as a scalar inside a flow collection (`{…}`, `[…]`): plain only for simple words.
std::string flow_scalar(std::string_view text);

}  // namespace vane::cli
