#include "config/yaml_document.hpp"

#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace vane::config {
namespace {

Mark to_mark(const YAML::Mark& mark) { return Mark{mark.line + 1, mark.column + 1}; }

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

/// Builds the first document's nodes from the parser's events; of later documents it notes only
/// where each starts.
class YamlBuilder : public YAML::EventHandler {
 public:
  explicit YamlBuilder(YamlDocument& doc) : doc_(doc) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp 0.7 (Debian 12) hands out the same empty document forever when a token such as ","
    // stands where no node may start (yaml-cpp issue #1040): a document that starts where the
    // previous one did is a syntax error here.
    if (documents_ > 0 && mark.pos == last_start_) {
      throw YAML::ParserException(mark, "unexpected character");
    }
    last_start_ = mark.pos;
    ++documents_;
    anchors_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (YamlNode* n = open(mark)) close(*n, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (!keeping()) return root_seen(mark);
    // Anchors count from 1; one is known once its node is complete, so a node cannot contain
    // itself (yaml-cpp would make a cycle).
    if (anchor == 0 || anchor > anchors_.size() || !anchors_[anchor - 1]) {
      throw YAML::ParserException(mark, "an alias inside the node it names");
    }
    attach(anchors_[anchor - 1]);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    YamlNode* n = open(mark);
    if (!n) return;
    n->kind = YamlNode::Kind::Scalar;
    n->plain = tag == "?";  // yaml-cpp's tag of an untagged plain scalar ("!" when quoted)
    n->scalar = value;
    close(*n, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    start(mark, YamlNode::Kind::Sequence, anchor);
  }
  void OnSequenceEnd() override { end(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    start(mark, YamlNode::Kind::Map, anchor);
  }
  void OnMapEnd() override { end(); }

 private:
  struct Open {
    YamlNode* node;
    YAML::anchor_t anchor;
  };

  bool keeping() const { return documents_ == 1; }

  void root_seen(const YAML::Mark& mark) {
    if (depth_ == 0 && doc_.extra_documents_.size() + 1 < documents_) {
      doc_.extra_documents_.push_back(to_mark(mark));
    }
  }

  /// A new node in the first document, or nullptr past it.
  YamlNode* open(const YAML::Mark& mark) {
    if (!keeping()) {
      root_seen(mark);
      return nullptr;
    }
    YamlNode& n = doc_.nodes_.emplace_back();
    n.mark = to_mark(mark);
    return &n;
  }

  /// `n` is complete: hashed, named by its anchor, attached to its parent.
  void close(YamlNode& n, YAML::anchor_t anchor) {
    n.hash = hash_of(n);
    if (anchor != 0) {
      if (anchors_.size() < anchor) anchors_.resize(anchor, nullptr);
      anchors_[anchor - 1] = &n;
    }
    attach(&n);
  }

  void attach(const YamlNode* n) {
    if (stack_.empty()) {
      doc_.root_ = n;
    } else {
      stack_.back().node->children.push_back(n);
    }
  }

  void start(const YAML::Mark& mark, YamlNode::Kind kind, YAML::anchor_t anchor) {
    YamlNode* n = open(mark);
    if (!n) {
      ++depth_;
      return;
    }
    n->kind = kind;
    stack_.push_back(Open{n, anchor});
  }

  void end() {
    if (!keeping()) {
      --depth_;
      return;
    }
    const Open top = stack_.back();
    stack_.pop_back();
    close(*top.node, top.anchor);
  }

  YamlDocument& doc_;
  size_t documents_ = 0;
  int last_start_ = -1;
  std::vector<Open> stack_;                // the first document's open containers
  size_t depth_ = 0;                       // later documents' open containers
  std::vector<const YamlNode*> anchors_;   // by anchor id - 1
};

YamlDocument::YamlDocument(std::string_view text) {
  std::istringstream in{std::string(text)};
  YamlBuilder builder(*this);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YAML::Exception& e) {  // the parser's only way to report; caught right here
    error_ = SyntaxError{to_mark(e.mark), e.msg};
    root_ = nullptr;
    extra_documents_.clear();
  }
}

}  // namespace vane::config
