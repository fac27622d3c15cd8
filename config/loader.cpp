#include "config/loader.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

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

std::string hex(uint64_t hash) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

/// SPEC §9 `configDigest`: of the four sections that decide routing and rollouts, from the
/// nodes' own hashes, so comments and layout do not count. A mismatch detector between replicas,
/// not a security measure.
std::string digest_of(const YamlNode& root) {
  uint64_t hash = 0xcbf29ce484222325;
  for (const char* key : {"upstreams", "routes", "rollouts", "analysisTemplates"}) {
    const YamlNode* section = root.find(key);
    hash = (hash ^ (section ? section : &YamlNode::null())->hash) * 0x100000001b3;
  }
  return hex(hash);
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
  out.digest = digest_of(*root.node);
  // The whole document, the same way: whether a reload changed anything (SPEC §11).
  out.content_digest = hex(root.node->hash);
}

LoadResult load_string(std::string_view yaml, const std::string& file,
                       const ExternalChecks& checks) {
  const YamlDocument document(yaml);
  Reader reader(file, checks, document.root());
  if (const auto& syntax = document.error()) {
    reader.error(syntax->mark, "", "YAML syntax error: " + syntax->message);
    return LoadResult{nullptr, reader.take_errors()};
  }
  if (!document.extra_documents().empty()) {
    reader.error(document.extra_documents().front(), "", "only one YAML document is allowed");
  }
  auto config = std::make_shared<Config>();
  config->file = file;
  parse_document(reader, Value{&document.root(), "", Mark{1, 1}}, *config);
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
