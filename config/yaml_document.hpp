// The config file as a tree of YAML nodes, built in one pass of libyaml's event parser. It holds
// what the reader needs (kind, scalar text, whether plain, position) and nothing more: YAML::Load's
// node graph took a second parse and about 400 B per node, which made a file of 100,000 routes
// take seconds and half a gigabyte; yaml-cpp's own event parser scans 13x slower than libyaml
// (1.40 s against 0.11 s for those 100,000 routes). Control thread, while loading only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace vane::config {

/// One node. An alias is the node it names (shared, not copied: nested aliases stay linear).
struct YamlNode {
  enum class Kind : uint8_t { Null, Scalar, Sequence, Map };

  Kind kind = Kind::Null;
  bool plain = false;  ///< a scalar, plain and untagged (not quoted): numbers, booleans, durations
  Mark mark;           ///< 1-based; an empty value's mark points past it
  uint64_t hash = 0;   ///< of kind, text and children (layout and comments do not count)
  std::string scalar;
  std::vector<const YamlNode*> children;  ///< a sequence's items; a map's key, value, key, value…

  bool is_null() const { return kind == Kind::Null; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_sequence() const { return kind == Kind::Sequence; }
  bool is_map() const { return kind == Kind::Map; }
  /// A map's value for the scalar key `key` (the first such entry), or nullptr.
  const YamlNode* find(std::string_view key) const;
  /// The null node, for keys a file lacks.
  static const YamlNode& null();
};

/// A YAML file's first document, or its syntax error.
class YamlDocument {
 public:
  struct SyntaxError {
    Mark mark;
    std::string message;
  };

  /// Parses `text`. A second document is no syntax error: `extra_documents` says where each starts.
  explicit YamlDocument(std::string_view text);
  YamlDocument(const YamlDocument&) = delete;
  YamlDocument& operator=(const YamlDocument&) = delete;

  /// The first document's root (the null node for an empty file or a syntax error).
  const YamlNode& root() const { return root_ ? *root_ : YamlNode::null(); }
  const std::optional<SyntaxError>& error() const { return error_; }
  const std::vector<Mark>& extra_documents() const { return extra_documents_; }

 private:
  friend class YamlBuilder;
  std::deque<YamlNode> nodes_;  // stable addresses for children and aliases
  const YamlNode* root_ = nullptr;
  std::optional<SyntaxError> error_;
  std::vector<Mark> extra_documents_;
};

}  // namespace vane::config
