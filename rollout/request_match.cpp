#include "rollout/request_match.hpp"

#include <re2/re2.h>

namespace vane::rollout {

StringMatcher::StringMatcher(const config::StringMatch& match)
    : kind_(match.kind), value_(match.value) {
  if (kind_ == config::StringMatch::Kind::Regex) {
    RE2::Options options;
    options.set_log_errors(false);
    regex_ = std::make_shared<const RE2>(value_, options);  // validated at config load
  }
}

bool StringMatcher::matches(std::string_view text) const {
  switch (kind_) {
    case config::StringMatch::Kind::Exact: return text == value_;
    case config::StringMatch::Kind::Prefix: return text.starts_with(value_);
    case config::StringMatch::Kind::Regex:
      return regex_->ok() && RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *regex_);
  }
  return false;
}

RequestCondition::RequestCondition(const config::RouteCondition& condition) {
  if (condition.method) method_.emplace(*condition.method);
  if (condition.path) path_.emplace(*condition.path);
  for (const auto& header : condition.headers) headers_.emplace_back(header.name, StringMatcher(header.value));
}

bool RequestCondition::matches(const RequestView& request) const {
  if (method_ && !method_->matches(request.method)) return false;
  if (path_ && !path_->matches(request.path)) return false;
  for (const auto& [name, matcher] : headers_) {
    const auto value = request.find(name);  // an absent header matches nothing (Istio)
    if (!value || !matcher.matches(*value)) return false;
  }
  return true;
}

RequestMatcher::RequestMatcher(const std::vector<config::RouteCondition>& conditions) {
  any_.reserve(conditions.size());
  for (const auto& condition : conditions) any_.emplace_back(condition);
}

bool RequestMatcher::matches(const RequestView& request) const {
  if (any_.empty()) return true;
  for (const auto& condition : any_) {
    if (condition.matches(request)) return true;
  }
  return false;
}

}  // namespace vane::rollout
