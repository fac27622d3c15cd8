#include "config/config.hpp"

#include <algorithm>

namespace vane::config {
namespace {

template <class T>
const T* find_named(const std::vector<T>& items, std::string_view name) {
  const auto it = std::find_if(items.begin(), items.end(),
                               [&](const T& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const Upstream* Config::find_upstream(std::string_view name) const {
  return find_named(upstreams, name);
}

const Rollout* Config::find_rollout(std::string_view name) const {
  return find_named(rollouts, name);
}

const AnalysisTemplate* Config::find_template(std::string_view name) const {
  return find_named(analysis_templates, name);
}

}  // namespace vane::config
