#include "config/loader.hpp"

#include <cerrno>
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
}

LoadResult load_string(std::string_view yaml, const std::string& file,
                       const ExternalChecks& checks) {
  Reader reader(file, checks);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {  // the parser's only way to report; caught right here
    reader.error(to_mark(e.mark), "", "YAML syntax error: " + e.msg);
    return LoadResult{nullptr, reader.take_errors()};
  }
  if (documents.size() > 1) {
    reader.error(to_mark(documents[1].Mark()), "", "only one YAML document is allowed");
  }
  auto config = std::make_shared<Config>();
  config->file = file;
  const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
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
