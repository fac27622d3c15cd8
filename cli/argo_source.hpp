// Walking the Kubernetes YAML that `vane import argo` reads (SPEC §13): nodes that know their
// file, field path and line, and the notes for every field that is not carried over. Main thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vane::cli::argo {

/// One field that was not imported: printed `FILE:LINE: PATH: not imported: REASON`.
struct Note {
  std::string file;
  int line = 0;
  std::string path;  ///< "Rollout/shop.spec.strategy.canary.steps[0].setCanaryScale"
  std::string reason;

  std::string to_string() const;
};

/// A node of a source document: its value, where it is and the path that names it in notes.
struct Node {
  YAML::Node yaml;
  std::string file;
  std::string path;
  int line = 0;  ///< 1-based line of the field's key (of the value for list items)

  Node child(const YAML::Node& value, std::string_view key, int key_line) const;
  /// The items of a sequence (none when it is not one).
  std::vector<Node> items() const;
  /// The scalar's text; nullopt when the node is not a scalar.
  std::optional<std::string> text() const;
};

class Notes {
 public:
  void add(const Node& at, std::string reason) { add(at.file, at.line, at.path, std::move(reason)); }
  void add(std::string file, int line, std::string path, std::string reason);
  const std::vector<Note>& all() const { return notes_; }
  std::vector<Note> take() { return std::move(notes_); }

 private:
  std::vector<Note> notes_;
};

/// The entries of one map, taken by name; when it goes out of scope every entry not taken is
/// noted as not imported, with the reason known for its key (or `fallback`).
class Fields {
 public:
  Fields(Notes& notes, const Node& map, std::string_view fallback = "vane has no such field");
  ~Fields();
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;

  bool is_map() const { return is_map_; }
  std::optional<Node> take(std::string_view key);
  /// Marks a key as handled without reading it (nothing of it needs carrying over).
  void ignore(std::string_view key) { (void)take(key); }
  /// Marks every entry as handled: the map was noted as a whole (e.g. left out for a missing name).
  void ignore_rest();
  /// Notes `key` (when present) with `reason`.
  void drop(std::string_view key, std::string reason);

 private:
  struct Entry {
    std::string key;
    Node node;
    bool taken = false;
  };
  Notes& notes_;
  std::string fallback_;
  std::vector<Entry> entries_;
  bool is_map_ = false;
};

/// `map[key]`, or a null node when `map` is not a map or has no such key (never throws).
YAML::Node member(const YAML::Node& map, const char* key);

/// An integer field within [min, max]; nullopt, noted (with `otherwise`, what happens then, when
/// given), otherwise.
std::optional<long long> integer(Notes& notes, const Node& at, long long min, long long max,
                                 std::string_view otherwise = {});

}  // namespace vane::cli::argo
