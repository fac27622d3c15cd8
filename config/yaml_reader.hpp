// Walks the config's YAML nodes for the loader: typed reads that know each value's field path and position,
// report unknown and duplicate keys, and collect every problem. Control thread, while loading only.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/loader.hpp"
#include "config/yaml_document.hpp"

namespace vane::config {

/// A YAML node with its field path ("routes[0].match.host") and its 1-based position.
struct Value {
  const YamlNode* node = &YamlNode::null();
  std::string path;
  Mark mark;
};

/// Inclusive bounds of an integer field.
struct Range {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();

  static constexpr Range at_least(int64_t n) { return {n, std::numeric_limits<int64_t>::max()}; }
  static constexpr Range between(int64_t lo, int64_t hi) { return {lo, hi}; }
};

enum class Presence { Optional, Required };

std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

/// Collects errors; finds where a field path is in the document (for validate.cpp).
class Reader {
 public:
  Reader(std::string file, const ExternalChecks& checks, const YamlNode& root);

  void error(Mark mark, std::string path, std::string message);
  void error(const Value& at, std::string message) { error(at.mark, at.path, std::move(message)); }
  /// At the value read at `path`, or at `fallback` when there was none.
  void error_at(const std::string& path, Mark fallback, std::string message) {
    error(mark_of(path, fallback), path, std::move(message));
  }

  std::optional<std::string> string(const Value& v);
  std::optional<int64_t> integer(const Value& v, Range range, int64_t type_max);
  std::optional<bool> boolean(const Value& v);
  std::optional<Duration> duration(const Value& v, bool allow_zero);
  /// The items of a list; null counts as an empty list, which Required reports.
  std::vector<Value> list(const Value& v, Presence presence = Presence::Optional);

  /// Runs the checks plugged in by other modules (RE2, expressions), reporting at `v`.
  void check_regex(const Value& v, std::string_view pattern);
  void check_condition(const Value& v, std::string_view expression);
  void check_json_path(const Value& v, std::string_view json_path);
  /// The TLS file checks (see ExternalChecks), reported at `map`'s certFile / keyFile values.
  void check_certificate(const Value& map, const TlsCertificate& certificate);
  void check_ca_file(const Value& v, const std::string& file);
  void check_access_log(const Value& v, const std::string& path);

  /// Position of the value at `path` ("routes[3].match.host"), or `fallback` when the file has
  /// none there. Found by walking the document: errors are few, values read are many.
  Mark mark_of(std::string_view path, Mark fallback) const;

  /// Every error so far, in file order.
  std::vector<Error> take_errors();

 private:
  std::string file_;
  const ExternalChecks& checks_;
  std::vector<Error> errors_;
  const YamlNode& root_;
};

/// Reads one YAML map: ask for fields by name; keys never asked for are reported as unknown when
/// the reader goes out of scope. Duplicate keys are reported at once (the parser keeps both).
class MapReader {
 public:
  MapReader(Reader& reader, const Value& map);
  ~MapReader();
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  /// False when the node is not a map (already reported); null counts as an empty map.
  bool valid() const { return valid_; }
  const Value& self() const { return self_; }
  std::size_t size() const { return entries_.size(); }
  bool has(std::string_view key) const;

  std::optional<Value> take(std::string_view key);
  /// Every entry, for maps whose keys are names rather than fields (mirror `headers`).
  std::vector<std::pair<std::string, Value>> take_all();
  /// Like take(), reporting a missing key at the map's position.
  std::optional<Value> require(std::string_view key);
  void missing(std::string_view key);

  /// Typed fields: `out` keeps its default unless the key is present and valid.
  bool get(std::string_view key, std::string& out, Presence presence = Presence::Optional);
  bool get(std::string_view key, bool& out);
  bool get_duration(std::string_view key, Duration& out, bool allow_zero = false);
  bool get_duration(std::string_view key, std::optional<Duration>& out, bool allow_zero = false);

  template <class Int>
  bool get(std::string_view key, Int& out, Range range, Presence presence = Presence::Optional) {
    const auto v = presence == Presence::Required ? require(key) : take(key);
    if (!v) return false;
    constexpr auto type_max = std::numeric_limits<Int>::max();
    constexpr int64_t max = type_max > std::numeric_limits<int64_t>::max()
                                ? std::numeric_limits<int64_t>::max()
                                : static_cast<int64_t>(type_max);
    const auto n = reader_.integer(*v, range, max);
    if (n) out = static_cast<Int>(*n);
    return n.has_value();
  }

  template <class Int>
  bool get(std::string_view key, std::optional<Int>& out, Range range) {
    Int n{};
    if (!get(key, n, range)) return false;
    out = n;
    return true;
  }

 private:
  struct Entry {
    std::string_view key;  ///< the YAML tree's own scalar, which outlives the reader
    Mark key_mark;
    const YamlNode* value;
    bool used = false;
  };

  std::string suggestion(std::string_view unknown) const;
  /// The position of `key` in entries_, or entries_.size(): a scan of a small map, the index
  /// of a large one.
  std::size_t find(std::string_view key) const;
  Value value_of(Entry& e);

  /// Maps from this size on get an index, so that a map of n keys costs O(n), not O(n²).
  static constexpr std::size_t kIndexFrom = 16;

  Reader& reader_;
  Value self_;
  std::vector<Entry> entries_;
  /// Key -> entries_ position, once entries_ reaches kIndexFrom.
  std::unordered_map<std::string_view, std::size_t> index_;
  std::vector<std::string> asked_;
  bool valid_ = false;
};

}  // namespace vane::config
