#include "config/loader.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "config/parse.hpp"
#include "config/validate.hpp"

namespace vane::config {

std::string Error::to_string() const {
  std::string out = file + ":";
  if (line > 0) out += std::to_string(line) + ":" + std::to_string(column) + ":";
  if (!path.empty()) out += " " + path + ":";
  return out + " " + message;
}

namespace {

/// `node` in block style whatever style it was written in (yaml-cpp keeps flow maps flow).
void emit_block(YAML::Emitter& out, const YAML::Node& node) {
  if (!node.IsDefined()) {  // a key the file lacks
    out << YAML::Null;
    return;
  }
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        emit_block(out, entry.first);
        out << YAML::Value;
        emit_block(out, entry.second);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) emit_block(out, item);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      out << node.Scalar();
      return;
    default:
      out << YAML::Null;
  }
}

/// FNV-1a (64 bits, hex) of `text`.
std::string fnv_hex(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325;
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

/// SPEC §9 `configDigest`: the four sections that decide routing and rollouts, re-emitted by
/// yaml-cpp so comments and layout do not count. A mismatch detector between replicas, not a
/// security measure.
std::string digest_of(const YAML::Node& root) {
  YAML::Emitter out;
  for (const char* key : {"upstreams", "routes", "rollouts", "analysisTemplates"}) {
    out << YAML::BeginMap << YAML::Key << key << YAML::Value;
    emit_block(out, root.IsMap() ? root[key] : YAML::Node());
    out << YAML::EndMap;
  }
  return fnv_hex(std::string_view(out.c_str(), out.size()));
}

/// The whole document, the same way: whether a reload changed anything (SPEC §11).
std::string content_digest_of(const YAML::Node& root) {
  YAML::Emitter out;
  emit_block(out, root);
  return fnv_hex(std::string_view(out.c_str(), out.size()));
}

}  // namespace

void parse_document(Reader& r, const Value& root, Config& out) {
  MapReader m(r, root);
  if (!m.valid()) return;
  if (const auto v = m.take("listeners")) parse_listeners(r, *v, out.listeners);
  if (out.listeners.empty()) {
    r.error_at("listeners", root.mark, "at least one listener is required");
  }
  if (const auto v = m.take("admin")) parse_admin(r, *v, out.admin);
  if (const auto v = m.take("state")) parse_state(r, *v, out.state);
  if (const auto v = m.take("limits")) parse_limits(r, *v, out.limits);
  if (const auto v = m.take("workers")) parse_workers(r, *v, out.workers);
  if (const auto v = m.take("upstreams")) parse_upstreams(r, *v, out.upstreams);
  if (const auto v = m.take("routes")) parse_routes(r, *v, out.routes);
  if (const auto v = m.take("rollouts")) parse_rollouts(r, *v, out.rollouts);
  if (const auto v = m.take("analysisTemplates")) {
    parse_analysis_templates(r, *v, out.analysis_templates);
  }
  if (const auto v = m.take("cluster")) parse_cluster(r, *v, out.cluster.emplace());
  if (const auto v = m.take("notifications")) parse_notifications(r, *v, out.notifications);
  if (const auto v = m.take("accessLog")) parse_access_log(r, *v, out.access_log.emplace());
  out.digest = digest_of(root.node);
  out.content_digest = content_digest_of(root.node);
}

namespace {

/// Notes where each document starts and where its root node is; YAML::Load builds the nodes.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> roots;  ///< Node::Mark() of each document's root

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (roots.size() < starts.size()) roots.push_back(mark);
  }
};

/// YAML::LoadAll, less its endless loop: yaml-cpp 0.7 (Debian 12) hands out the same empty
/// document forever when a token such as "," stands where no node may start (yaml-cpp issue
/// #1040), eating all memory. A document that starts where the previous one did is a syntax
/// error here. Returns the first document (null when there is none) and where the others start.
YAML::Node load_documents(const std::string& text, std::vector<YAML::Mark>& others) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts documents;
  while (parser.HandleNextDocument(documents)) {
    const std::vector<YAML::Mark>& starts = documents.starts;
    const size_t n = starts.size();
    if (n >= 2 && starts[n - 1].pos == starts[n - 2].pos) {
      throw YAML::ParserException(starts[n - 1], "unexpected character");
    }
  }
  if (documents.roots.size() > 1) others.assign(documents.roots.begin() + 1, documents.roots.end());
  return documents.starts.empty() ? YAML::Node() : YAML::Load(text);
}

}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& file,
                       const ExternalChecks& checks) {
  Reader reader(file, checks);
  YAML::Node root;
  std::vector<YAML::Mark> others;
  try {
    root = load_documents(std::string(yaml), others);
  } catch (const YAML::Exception& e) {  // the parser's only way to report; caught right here
    reader.error(to_mark(e.mark), "", "YAML syntax error: " + e.msg);
    return LoadResult{nullptr, reader.take_errors()};
  }
  if (!others.empty()) {
    reader.error(to_mark(others.front()), "", "only one YAML document is allowed");
  }
  auto config = std::make_shared<Config>();
  config->file = file;
  parse_document(reader, Value{root, "", Mark{1, 1}}, *config);
  validate(*config, reader);
  LoadResult result{nullptr, reader.take_errors()};
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_file(const std::string& path, const ExternalChecks& checks) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) {
    const std::string reason = std::strerror(errno);
    return LoadResult{nullptr, {Error{path, 0, 0, "", "cannot read the file: " + reason}}};
  }
  return load_string(text.str(), path, checks);
}

}  // namespace vane::config
