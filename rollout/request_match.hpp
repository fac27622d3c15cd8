// Compiled request conditions of header and mirror routes (SPEC §2, §3): exact, prefix or RE2
// full-match on method, path and headers. Built on the control thread, then shared read-only by
// every worker inside a RoutingTable.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace re2 {
class RE2;
}

namespace vane::rollout {

/// The parts of a request that routing looks at. `header` finds the first value of a field by
/// case-insensitive name; a function pointer keeps this free of proxy types and allocations.
struct RequestView {
  using HeaderLookup = bool (*)(const void* context, std::string_view name, std::string_view& value);

  std::string_view method;
  std::string_view host;
  std::string_view path;
  const void* context = nullptr;
  HeaderLookup header = nullptr;

  std::optional<std::string_view> find(std::string_view name) const {
    std::string_view value;
    if (header && header(context, name, value)) return value;
    return std::nullopt;
  }
};

class StringMatcher {
 public:
  explicit StringMatcher(const config::StringMatch& match);
  bool matches(std::string_view text) const;

 private:
  config::StringMatch::Kind kind_;
  std::string value_;
  std::shared_ptr<const re2::RE2> regex_;
};

/// One entry of a route's `match` list: its conditions AND.
class RequestCondition {
 public:
  explicit RequestCondition(const config::RouteCondition& condition);
  bool matches(const RequestView& request) const;

 private:
  std::optional<StringMatcher> method_;
  std::optional<StringMatcher> path_;
  std::vector<std::pair<std::string, StringMatcher>> headers_;
};

/// A route's `match` list: entries OR. An empty list matches every request.
class RequestMatcher {
 public:
  explicit RequestMatcher(const std::vector<config::RouteCondition>& conditions);
  bool matches(const RequestView& request) const;

 private:
  std::vector<RequestCondition> any_;
};

}  // namespace vane::rollout
