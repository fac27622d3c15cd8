#include "config/yaml_document.hpp"

#include <yaml.h>

#include <map>

namespace vane::config {
namespace {

Mark to_mark(const yaml_mark_t& mark) {
  return Mark{static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1};
}

/// FNV-1a, 64 bits, fed field by field.
class Fnv {
 public:
  void byte(uint8_t b) { hash_ = (hash_ ^ b) * 0x100000001b3; }
  void word(uint64_t w) {
    for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(w >> (8 * i)));
  }
  void text(std::string_view s) {
    word(s.size());
    for (const char c : s) byte(static_cast<uint8_t>(c));
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325;
};

uint64_t hash_of(const YamlNode& node) {
  Fnv fnv;
  fnv.byte(static_cast<uint8_t>(node.kind));
  fnv.byte(node.plain ? 1 : 0);
  fnv.text(node.scalar);
  fnv.word(node.children.size());
  for (const YamlNode* child : node.children) fnv.word(child->hash);
  return fnv.value();
}

}  // namespace

const YamlNode* YamlNode::find(std::string_view key) const {
  if (!is_map()) return nullptr;
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    if (children[i]->is_scalar() && children[i]->scalar == key) return children[i + 1];
  }
  return nullptr;
}

const YamlNode& YamlNode::null() {
  static const YamlNode node = [] {
    YamlNode n;
    n.hash = hash_of(n);
    return n;
  }();
  return node;
}

/// Builds the first document's nodes from libyaml's events; of later documents it notes only
/// where each starts.
class YamlBuilder {
 public:
  explicit YamlBuilder(YamlDocument& doc) : doc_(doc) {}

  /// Takes one event; false with `error` set when the document cannot be built from it.
  bool take(const yaml_event_t& event) {
    const Mark mark = to_mark(event.start_mark);
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        ++documents_;
        anchors_.clear();
        return true;
      case YAML_ALIAS_EVENT:
        return alias(mark, text_of(event.data.alias.anchor));
      case YAML_SCALAR_EVENT: {
        const auto& scalar = event.data.scalar;
        const std::string_view value(reinterpret_cast<const char*>(scalar.value), scalar.length);
        const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar.tag == nullptr;
        YamlNode* n = open(mark);
        if (!n) return true;
        if (!(plain && is_null_text(value))) {  // else null, as YAML's core schema reads it
          n->kind = YamlNode::Kind::Scalar;
          n->plain = plain;
          n->scalar = value;
        }
        name(*n, text_of(scalar.anchor));
        close(*n);
        return true;
      }
      case YAML_SEQUENCE_START_EVENT:
        start(mark, YamlNode::Kind::Sequence, text_of(event.data.sequence_start.anchor));
        return true;
      case YAML_MAPPING_START_EVENT:
        start(mark, YamlNode::Kind::Map, text_of(event.data.mapping_start.anchor));
        return true;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        end();
        return true;
      default:  // the stream's start and end, a document's end
        return true;
    }
  }

  const std::optional<YamlDocument::SyntaxError>& error() const { return error_; }

 private:
  using Anchors = std::map<std::string, const YamlNode*, std::less<>>;
  struct Open {
    YamlNode* node;
    Anchors::iterator anchor;  ///< its name's entry, or anchors_.end()
  };

  static std::string_view text_of(const yaml_char_t* text) {
    return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view{};
  }
  static bool is_null_text(std::string_view v) {
    return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
  }

  bool keeping() const { return documents_ == 1; }

  bool alias(const Mark& mark, std::string_view anchor) {
    if (!keeping()) {
      root_seen(mark);
      return true;
    }
    // An anchor is known once its node is complete, so a node cannot contain itself.
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end() || it->second == nullptr) {
      error_ = YamlDocument::SyntaxError{mark, it == anchors_.end() ? "an alias to an unknown anchor"
                                                                    : "an alias inside the node it names"};
      return false;
    }
    attach(it->second);
    return true;
  }

  void root_seen(const Mark& mark) {
    if (depth_ == 0 && doc_.extra_documents_.size() + 1 < documents_) {
      doc_.extra_documents_.push_back(mark);
    }
  }

  /// A new node in the first document, or nullptr past it.
  YamlNode* open(const Mark& mark) {
    if (!keeping()) {
      root_seen(mark);
      return nullptr;
    }
    YamlNode& n = doc_.nodes_.emplace_back();
    n.mark = mark;
    return &n;
  }

  /// An anchor names its node from where it stands: a later node of the same name takes it over,
  /// and an alias before `n` is complete (inside it) finds nullptr, an error rather than a cycle.
  Anchors::iterator name(const YamlNode& n, std::string_view anchor) {
    if (anchor.empty()) return anchors_.end();
    return anchors_.insert_or_assign(std::string(anchor), n.is_scalar() || n.is_null() ? &n : nullptr)
        .first;
  }

  /// `n` is complete: hashed, attached to its parent.
  void close(YamlNode& n) {
    n.hash = hash_of(n);
    attach(&n);
  }

  void attach(const YamlNode* n) {
    if (stack_.empty()) {
      doc_.root_ = n;
    } else {
      stack_.back().node->children.push_back(n);
    }
  }

  void start(const Mark& mark, YamlNode::Kind kind, std::string_view anchor) {
    YamlNode* n = open(mark);
    if (!n) {
      ++depth_;
      return;
    }
    n->kind = kind;
    stack_.push_back(Open{n, name(*n, anchor)});
  }

  void end() {
    if (!keeping()) {
      --depth_;
      return;
    }
    const Open top = stack_.back();
    stack_.pop_back();
    // Complete: its name is its own unless a node inside took the name over.
    if (top.anchor != anchors_.end() && top.anchor->second == nullptr) top.anchor->second = top.node;
    close(*top.node);
  }

  YamlDocument& doc_;
  size_t documents_ = 0;
  std::vector<Open> stack_;  // the first document's open containers
  size_t depth_ = 0;         // later documents' open containers
  Anchors anchors_;  // each name's latest node; nullptr while that node is open
  std::optional<YamlDocument::SyntaxError> error_;
};

YamlDocument::YamlDocument(std::string_view text) {
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  YamlBuilder builder(*this);
  for (bool done = false; !done;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) {
      std::string message = parser.problem ? parser.problem : "unreadable YAML";
      if (parser.context) message = std::string(parser.context) + ": " + message;
      error_ = SyntaxError{to_mark(parser.problem_mark), std::move(message)};
      break;
    }
    done = event.type == YAML_STREAM_END_EVENT;
    const bool taken = builder.take(event);
    yaml_event_delete(&event);
    if (!taken) {
      error_ = builder.error();
      break;
    }
  }
  yaml_parser_delete(&parser);
  if (error_) {
    root_ = nullptr;
    extra_documents_.clear();
  }
}

}  // namespace vane::config
