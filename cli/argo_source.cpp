#include "cli/argo_source.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace vane::cli::argo {
namespace {

struct Reason {
  std::string_view key;
  std::string_view reason;
};

constexpr std::string_view kPods = "vane routes requests between Services; it does not run pods";
constexpr std::string_view kProvider =
    "vane's providers are builtin, prometheus, web and exec; this one has no counterpart";

// Why well-known Argo fields have no place in vane; any other key gets the caller's fallback.
constexpr std::array kReasons = {
    Reason{"replicas", kPods},
    Reason{"selector", kPods},
    Reason{"template", kPods},
    Reason{"workloadRef", kPods},
    Reason{"minReadySeconds", kPods},
    Reason{"revisionHistoryLimit", kPods},
    Reason{"setCanaryScale", kPods},
    Reason{"maxSurge", kPods},
    Reason{"maxUnavailable", kPods},
    Reason{"dynamicStableScale", kPods},
    Reason{"minPodsPerReplicaSet", kPods},
    Reason{"replicaProgressThreshold", kPods},
    Reason{"previewReplicaCount", kPods},
    Reason{"scaleDownDelayRevisionLimit", kPods},
    Reason{"antiAffinity", kPods},
    Reason{"canaryMetadata", kPods},
    Reason{"stableMetadata", kPods},
    Reason{"activeMetadata", kPods},
    Reason{"previewMetadata", kPods},
    Reason{"pingPong", kPods},
    Reason{"experiment", "experiment steps are not imported (write a vane experiment step by hand)"},
    Reason{"plugin", "step plugins have no counterpart in vane"},
    Reason{"paused", "pause a running rollout with `vane pause`"},
    Reason{"restartAt", "vane does not restart pods"},
    Reason{"analysisRunMetadata", "analysis runs carry no labels in vane"},
    Reason{"valueFrom", "a value from a Secret or a field of the Rollout: give the arg a value by hand"},
    Reason{"job", "the job provider runs a pod; vane's exec provider runs a local command, written by hand"},
    Reason{"datadog", kProvider},
    Reason{"newRelic", kProvider},
    Reason{"wavefront", kProvider},
    Reason{"kayenta", kProvider},
    Reason{"cloudWatch", kProvider},
    Reason{"graphite", kProvider},
    Reason{"influxdb", kProvider},
    Reason{"skywalking", kProvider},
    Reason{"authentication", "provider authentication (sigv4, oauth2) is not supported: use headers"},
    Reason{"insecure", "TLS verification of a provider cannot be turned off"},
    Reason{"tls", "TLS is set on vane's listeners (certFile, keyFile), not per Ingress"},
    Reason{"defaultBackend", "an Ingress default backend is not imported: add a route by hand"},
};

std::string_view reason_for(std::string_view key, std::string_view fallback) {
  const auto it = std::find_if(kReasons.begin(), kReasons.end(),
                               [&](const Reason& r) { return r.key == key; });
  return it == kReasons.end() ? fallback : it->reason;
}

}  // namespace

std::string Note::to_string() const {
  return file + ":" + std::to_string(line) + ": " + path + ": not imported: " + reason;
}

Node Node::child(const YAML::Node& value, std::string_view key, int key_line) const {
  return Node{value, file, path.empty() ? std::string(key) : path + "." + std::string(key), key_line};
}

std::vector<Node> Node::items() const {
  std::vector<Node> out;
  if (!yaml.IsSequence()) return out;
  for (std::size_t i = 0; i < yaml.size(); ++i) {
    const YAML::Node item = yaml[i];
    out.push_back(Node{item, file, path + "[" + std::to_string(i) + "]", item.Mark().line + 1});
  }
  return out;
}

std::optional<std::string> Node::text() const {
  if (!yaml.IsScalar()) return std::nullopt;
  return yaml.Scalar();
}

void Notes::add(std::string file, int line, std::string path, std::string reason) {
  notes_.push_back(Note{std::move(file), line, std::move(path), std::move(reason)});
}

Fields::Fields(Notes& notes, const Node& map, std::string_view fallback)
    : notes_(notes), fallback_(fallback), is_map_(map.yaml.IsMap() || map.yaml.IsNull()) {
  if (!map.yaml.IsMap()) {
    if (!is_map_) notes_.add(map, "expected a map");
    return;
  }
  for (const auto& entry : map.yaml) {
    const std::string key = entry.first.Scalar();
    entries_.push_back(Entry{key, map.child(entry.second, key, entry.first.Mark().line + 1), false});
  }
}

Fields::~Fields() {
  for (const Entry& e : entries_) {
    if (!e.taken) notes_.add(e.node, std::string(reason_for(e.key, fallback_)));
  }
}

std::optional<Node> Fields::take(std::string_view key) {
  for (Entry& e : entries_) {
    if (e.key != key || e.taken) continue;
    e.taken = true;
    return e.node;
  }
  return std::nullopt;
}

void Fields::ignore_rest() {
  for (Entry& e : entries_) e.taken = true;
}

void Fields::drop(std::string_view key, std::string reason) {
  if (const auto node = take(key)) notes_.add(*node, std::move(reason));
}

YAML::Node member(const YAML::Node& map, const char* key) {
  if (!map.IsMap()) return YAML::Node();
  const YAML::Node value = map[key];
  return value ? value : YAML::Node();
}

std::optional<long long> integer(Notes& notes, const Node& at, long long min, long long max,
                                 std::string_view otherwise) {
  const auto text = at.text();
  long long n = 0;
  if (text && !text->empty()) {
    const char* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, n);
    if (ec == std::errc() && ptr == end && n >= min && n <= max) return n;
  }
  notes.add(at, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                    (text ? ", not '" + *text + "'" : "") + (otherwise.empty() ? "" : ": ") + std::string(otherwise));
  return std::nullopt;
}

}  // namespace vane::cli::argo
