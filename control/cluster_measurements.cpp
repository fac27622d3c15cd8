#include "control/cluster_measurements.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <optional>

#include <boost/json.hpp>

namespace vane::control {
namespace {

namespace json = boost::json;

/// The sides the leader's builtin measurements read: stable, canary and the experiment slots
/// (SPEC §14: an experiment's analyses judge every replica's template traffic).
constexpr std::array<analysis::Target, 6> kTargets{
    analysis::Target::Stable,      analysis::Target::Canary,      analysis::Target::Experiment0,
    analysis::Target::Experiment1, analysis::Target::Experiment2, analysis::Target::Experiment3};

/// A non-negative integer field, or nullopt.
std::optional<uint64_t> count_of(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
  return std::nullopt;
}

std::optional<int64_t> integer_of(const json::value* v) {
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64() && v->get_uint64() <= uint64_t(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

/// One second of a series as published: {"s","c":[6 classes],"f","l","h":[bucket,n,...]}.
json::object second_json(int64_t second, const analysis::OutcomeCounts& counts,
                         const analysis::LatencyHistogram& latency) {
  json::array classes;
  for (const uint64_t n : counts.by_class) classes.push_back(n);
  json::array buckets;
  for (size_t b = 0; b < analysis::LatencyHistogram::kBucketCount; ++b) {
    if (const uint64_t n = latency.bucket_count(b); n > 0) {
      buckets.push_back(b);
      buckets.push_back(n);
    }
  }
  return json::object{{"s", second},
                      {"c", std::move(classes)},
                      {"f", counts.failures},
                      {"l", counts.latency_sum_micros},
                      {"h", std::move(buckets)}};
}

/// The counts and latencies of a published second; false when it is not one.
bool read_second(const json::object& o, analysis::OutcomeCounts& counts,
                 analysis::LatencyHistogram& latency) {
  const auto* classes = o.if_contains("c");
  const auto* failures = o.if_contains("f");
  const auto* sum = o.if_contains("l");
  const auto* buckets = o.if_contains("h");
  if (!classes || !classes->is_array() || classes->get_array().size() != analysis::kCodeClassCount ||
      !failures || !sum || !buckets || !buckets->is_array() || buckets->get_array().size() % 2) {
    return false;
  }
  for (size_t i = 0; i < analysis::kCodeClassCount; ++i) {
    const auto n = count_of(classes->get_array()[i]);
    if (!n) return false;
    counts.by_class[i] = *n;
    counts.requests += *n;
  }
  const auto f = count_of(*failures);
  const auto l = count_of(*sum);
  if (!f || !l || *f > counts.requests) return false;
  counts.failures = *f;
  counts.latency_sum_micros = *l;
  const auto& h = buckets->get_array();
  for (size_t i = 0; i < h.size(); i += 2) {
    const auto b = count_of(h[i]);
    const auto n = count_of(h[i + 1]);
    if (!b || !n || *b >= analysis::LatencyHistogram::kBucketCount) return false;
    latency.add_to_bucket(*b, *n);
  }
  return true;
}

}  // namespace

ClusterMeasurements::ClusterMeasurements(std::chrono::milliseconds publish_interval)
    : span_seconds_((publish_interval.count() + 999) / 1000 * 2 + 1) {}

void ClusterMeasurements::set_layout(std::shared_ptr<const config::Config> config,
                                     std::shared_ptr<const proxy::StatsLayout> layout) {
  if (layout_ && layout && *layout_ == *layout && config_ && config &&
      config_->digest == config->digest) {
    return;  // the same series: keep what was merged
  }
  config_ = std::move(config);
  layout_ = std::move(layout);
  members_.clear();
  series_.clear();
  if (!config_ || !layout_) return;
  for (uint32_t r = 0; r < layout_->rollouts(); ++r) {
    for (const uint32_t u : layout_->rollout_upstreams(r)) {
      for (const analysis::Target target : kTargets) {
        const uint32_t id = layout_->rollout_series(r, u, target);
        series_.push_back({config_->rollouts[r].name, config_->upstreams[u].name, target, id});
      }
    }
  }
}

std::string ClusterMeasurements::publish(std::span<const analysis::OutcomeShard* const> local,
                                         int64_t now_seconds) {
  json::array list;
  const int64_t last = now_seconds - kSettleSeconds;
  for (const SeriesName& name : series_) {
    json::array seconds;
    for (int64_t s = last - span_seconds_ + 1; s <= last; ++s) {
      analysis::OutcomeCounts counts;
      analysis::LatencyHistogram latency;
      for (const analysis::OutcomeShard* shard : local) {
        if (!shard) continue;
        shard->add_seconds(name.id, s, s, counts);
        shard->add_latency(name.id, 0, s, latency);  // ring 0: one-second periods
      }
      uint64_t requests = 0;
      for (const uint64_t n : counts.by_class) requests += n;
      if (requests > 0) seconds.push_back(second_json(s, counts, latency));
    }
    if (seconds.empty()) continue;
    list.push_back(json::object{{"rollout", name.rollout},
                                {"upstream", name.upstream},
                                {"target", std::string(analysis::to_string(name.target))},
                                {"seconds", std::move(seconds)}});
  }
  return json::serialize(json::object{{"now", now_seconds}, {"series", std::move(list)}});
}

bool ClusterMeasurements::receive(const std::string& member, std::string_view value,
                                  int64_t now_seconds, std::string* error) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(value, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto their_now = integer_of(object ? object->if_contains("now") : nullptr);
  const auto* list = object ? object->if_contains("series") : nullptr;
  if (!their_now || !list || !list->is_array()) {
    *error = "not vane measurements";
    return false;
  }
  if (!layout_) return true;
  Member& m = members_[member];
  if (!m.shard) {
    m.shard = std::make_unique<analysis::OutcomeShard>(layout_->series_count(), layout_->windowed());
    m.last_remote.assign(layout_->series_count(), INT64_MIN);
    m.last_local.assign(layout_->series_count(), INT64_MIN);
  }
  m.heard = now_seconds;
  for (const json::value& item : list->get_array()) {
    const auto* o = item.if_object();
    const auto* rollout = o ? o->if_contains("rollout") : nullptr;
    const auto* upstream = o ? o->if_contains("upstream") : nullptr;
    const auto* target = o ? o->if_contains("target") : nullptr;
    const auto* seconds = o ? o->if_contains("seconds") : nullptr;
    if (!rollout || !rollout->is_string() || !upstream || !upstream->is_string() || !target ||
        !target->is_string() || !seconds || !seconds->is_array()) {
      *error = "a series without rollout, upstream, target or seconds";
      return false;
    }
    // Series this file does not have (another file's rollout or upstream) are skipped.
    const auto named = std::find_if(series_.begin(), series_.end(), [&](const SeriesName& n) {
      return n.rollout == rollout->get_string() && n.upstream == upstream->get_string() &&
             analysis::to_string(n.target) == target->get_string();
    });
    if (named == series_.end()) continue;
    for (const json::value& second : seconds->get_array()) {
      const auto* so = second.if_object();
      const auto s = integer_of(so ? so->if_contains("s") : nullptr);
      analysis::OutcomeCounts counts;
      analysis::LatencyHistogram latency;
      if (!s || !read_second(*so, counts, latency)) {
        *error = "a malformed second";
        return false;
      }
      if (*s <= m.last_remote[named->id] || *s > *their_now) continue;  // merged already
      const int64_t at = std::max(now_seconds - (*their_now - *s), m.last_local[named->id]);
      m.shard->add(named->id, at, counts, latency);
      m.last_remote[named->id] = *s;
      m.last_local[named->id] = at;
    }
  }
  return true;
}

std::vector<const analysis::OutcomeShard*> ClusterMeasurements::shards(int64_t now_seconds) {
  std::vector<const analysis::OutcomeShard*> out;
  for (auto it = members_.begin(); it != members_.end();) {
    if (now_seconds - it->second.heard > analysis::kMaxWindowSeconds) {
      it = members_.erase(it);  // a member gone for longer than any window
      continue;
    }
    out.push_back(it->second.shard.get());
    ++it;
  }
  return out;
}

}  // namespace vane::control
