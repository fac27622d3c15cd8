// Documents in, config out: reads the files, indexes Services, turns Ingress rules into routes and
// gives every rollout the routes it needs; the kinds with more to convert have files of their own.
#include "cli/argo_import.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/argo_importer.hpp"
#include "config/validate.hpp"
#include "cli/command_table.hpp"
#include "control/config_checks.hpp"

namespace vane::cli::argo {
namespace {

std::string key_of(const std::string& ns, const std::string& name) { return ns + "/" + name; }

/// An Ingress path as a vane pathPrefix: `/x`, `/x/*` and `/x*` → `/x`; nullopt for a regex.
std::optional<std::string> path_prefix(std::string path) {
  if (path.ends_with("/*")) path.resize(path.size() - 2);
  if (path.ends_with('*')) path.pop_back();
  if (path.empty()) path = "/";
  if (path.front() != '/' || path.find_first_of("*()[]^$|?+\\{}") != std::string::npos) return std::nullopt;
  return path;
}

/// A name no item (route, upstream) has yet: `base`, `base-2`, …
template <class Item>
std::string unique_name(const std::vector<Item>& items, const std::string& base) {
  std::string name = base;
  for (int n = 2;; ++n) {
    const bool taken = std::any_of(items.begin(), items.end(), [&](const Item& i) { return i.name == name; });
    if (!taken) return name;
    name = base + "-" + std::to_string(n);
  }
}

std::optional<std::string> field_text(const YAML::Node& map, const char* key) {
  const YAML::Node value = member(map, key);
  if (!value.IsScalar()) return std::nullopt;
  return value.Scalar();
}

/// The Service an Ingress backend names (v1 `service.name`, v1beta1 `serviceName`).
std::optional<std::string> backend_service(Notes& notes, const Node& backend) {
  Fields b(notes, backend);
  if (const auto v1 = b.take("service")) {
    Fields s(notes, *v1);
    s.ignore("port");  // the upstream's port is the Service's own first port
    const auto name = s.take("name");
    return name ? name->text() : std::nullopt;
  }
  b.ignore("servicePort");
  const auto beta = b.take("serviceName");
  return beta ? beta->text() : std::nullopt;
}

/// The Service's first `port`; 80, noted, when it has none that vane can use.
long long service_port(Notes& notes, const Document& service) {
  const YAML::Node ports = member(member(service.root.yaml, "spec"), "ports");
  if (!ports.IsSequence() || ports.size() == 0) {
    notes.add(service.root, "a Service without ports: its upstream gets port 80");
    return 80;
  }
  const YAML::Node port = member(ports[0], "port");
  const Node at{port, service.root.file, service.root.path + ".spec.ports[0].port",
                (port.IsNull() ? ports[0] : port).Mark().line + 1};
  return integer(notes, at, 1, 65535, "its upstream gets port 80").value_or(80);
}

}  // namespace

std::string Document::title() const {
  return kind + "/" + name + " (" + root.file + ":" + std::to_string(root.line) + ")";
}

ImportResult import_argo(const std::vector<SourceFile>& files, const config::ExternalChecks& checks) {
  return Importer(checks).run(files);
}

ImportResult Importer::run(const std::vector<SourceFile>& files) {
  for (const SourceFile& file : files) read_file(file);
  for (const Document& doc : documents_) {
    if (doc.kind == "Service") services_[key_of(doc.ns, doc.name)] = &doc;
    if (doc.kind == "VirtualService") virtual_services_[key_of(doc.ns, doc.name)] = &doc;
  }
  for (const Document& doc : documents_) {
    if (doc.kind == "AnalysisTemplate" || doc.kind == "ClusterAnalysisTemplate")
      analysis_template(doc, doc.kind == "ClusterAnalysisTemplate");
  }
  for (const Document& doc : documents_) {
    if (doc.kind == "Rollout") rollout(doc);
  }
  for (const Document& doc : documents_) {
    if (doc.kind == "Ingress") ingress(doc);
  }
  default_routes();
  for (const auto& [key, doc] : services_) {
    if (!used_services_.contains(key))
      notes_.add(doc->root, "no Rollout or Ingress of the files uses this Service");
  }
  for (const auto& [key, doc] : virtual_services_) {
    if (!used_services_.contains("VirtualService/" + key))
      notes_.add(doc->root, "no Rollout of the files routes through this VirtualService");
  }
  ImportResult result;
  result.notes = notes_.take();
  std::map<std::string, std::size_t> order;  // notes in the order of the files, then of lines
  for (const SourceFile& file : files) order.emplace(file.name, order.size());
  std::stable_sort(result.notes.begin(), result.notes.end(), [&](const Note& a, const Note& b) {
    return std::pair(order[a.file], a.line) < std::pair(order[b.file], b.line);
  });
  const config::Config& c = out_.config;
  if (c.rollouts.empty() && c.routes.empty() && c.analysis_templates.empty()) return result;
  config::Listener listener;
  listener.name = "public";
  listener.address = "0.0.0.0:8080";
  out_.config.listeners.push_back(listener);
  std::string sources;
  for (const SourceFile& file : files) sources += (sources.empty() ? "" : ", ") + file.name;
  out_.header = {"Imported from Argo Rollouts by `vane import argo` (" + sources + ").",
                 "Each upstream is one version of an app (one Service): to release a version, point",
                 "its rollout's `upstream` at it."};
  result.config = write_config(out_);
  return result;
}

void Importer::read_file(const SourceFile& file) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(file.text);
  } catch (const YAML::Exception& e) {
    notes_.add(file.name, e.mark.line + 1, "document", "not valid YAML: " + e.msg);
    return;
  }
  for (const YAML::Node& yaml : docs) {
    if (yaml.IsNull()) continue;  // an empty document between `---` lines
    read_document(Node{yaml, file.name, "", yaml.Mark().line + 1});
  }
}

void Importer::read_document(const Node& root) {
  Document doc;
  doc.root = root;
  doc.kind = field_text(root.yaml, "kind").value_or("");
  const YAML::Node metadata = member(root.yaml, "metadata");
  doc.name = field_text(metadata, "name").value_or("");
  doc.ns = field_text(metadata, "namespace").value_or("default");
  doc.root.path = doc.kind.empty() ? "document" : doc.kind + "/" + doc.name;
  static const std::set<std::string> kKinds = {"Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate",
                                               "Service", "Ingress", "VirtualService"};
  if (!root.yaml.IsMap() || doc.kind.empty()) {
    notes_.add(doc.root, "not a Kubernetes object (no kind)");
  } else if (!kKinds.contains(doc.kind)) {
    notes_.add(doc.root, "kind " + doc.kind + " has no counterpart in vane");
  } else if (doc.name.empty()) {
    notes_.add(doc.root, "an object without metadata.name");
  } else {
    documents_.push_back(std::move(doc));
  }
}

std::string Importer::upstream_for(const Node& at, const std::string& service, const std::string& ns) {
  const std::string key = key_of(ns, service);
  if (const auto it = upstream_names_.find(key); it != upstream_names_.end()) return it->second;
  used_services_.insert(key);
  auto& upstreams = out_.config.upstreams;
  config::Upstream upstream;
  upstream.name = unique_name(upstreams, service);
  if (upstream.name != service) {  // a Service of the same name in another namespace (`kubectl get -A`)
    upstream.name = unique_name(upstreams, service + "-" + ns);
    const auto other = std::find_if(upstream_names_.begin(), upstream_names_.end(),
                                    [&](const auto& entry) { return entry.second == service; });
    const std::string owner = other == upstream_names_.end() ? "another object" : other->first;
    notes_.add(at, "upstream " + service + " is that of " + owner + ": this one is named " + upstream.name);
  }
  long long port = 80;
  std::string comment = "Service/" + service + " (not in the files)";
  if (const auto it = services_.find(key); it != services_.end()) {
    port = service_port(notes_, *it->second);
    comment = it->second->title();
  } else {
    notes_.add(at, "Service " + service + " is not among the files: its upstream gets port 80");
  }
  config::Endpoint endpoint;
  endpoint.text = service + "." + ns + ".svc:" + std::to_string(port);
  upstream.endpoints.push_back(endpoint);
  out_.comments[config::item_path("upstreams", upstreams.size())] = comment;
  upstream_names_[key] = upstream.name;
  upstreams.push_back(std::move(upstream));
  return upstream_names_[key];
}

const config::Route* Importer::add_route(const Node& at, config::Route route, const std::string& comment) {
  const std::string match = route.match.host + " " + route.match.path_prefix;
  if (!route_matches_.insert(match).second) {
    notes_.add(at, "another route already has host '" + route.match.host + "' and path " +
                       route.match.path_prefix);
    return nullptr;
  }
  route.name = unique_name(out_.config.routes, route.name);
  out_.comments[config::item_path("routes", out_.config.routes.size())] = comment;
  return &out_.config.routes.emplace_back(std::move(route));
}

std::optional<Node> Importer::spec_of(const Document& doc) {
  Fields top(notes_, doc.root);
  for (const char* key : {"apiVersion", "kind", "metadata", "status"}) top.ignore(key);
  auto spec = top.take("spec");
  if (!spec) notes_.add(doc.root, "an object without spec");
  return spec;
}

void Importer::ingress(const Document& doc) {
  const auto spec_node = spec_of(doc);
  if (!spec_node) return;
  Fields spec(notes_, *spec_node);
  spec.ignore("ingressClassName");
  const auto rules = spec.take("rules");
  for (const Node& rule : rules ? rules->items() : std::vector<Node>{}) {
    Fields r(notes_, rule);
    const auto host = r.take("host");
    const auto http = r.take("http");
    if (!http) continue;
    Fields h(notes_, *http);
    const auto paths = h.take("paths");
    for (const Node& item : paths ? paths->items() : std::vector<Node>{}) {
      ingress_path(doc, host && host->text() ? *host->text() : "", item);
    }
  }
}

void Importer::ingress_path(const Document& doc, const std::string& host, const Node& item) {
  Fields p(notes_, item);
  const auto path = p.take("path");
  const auto type = p.take("pathType");
  const auto backend = p.take("backend");
  const auto prefix = path_prefix(path && path->text() ? *path->text() : "/");
  if (!prefix) return notes_.add(*path, "a regular-expression path: vane routes by path prefix");
  if (type && type->text() == "Exact") notes_.add(*type, "an Exact path is imported as a prefix");
  const auto service = backend ? backend_service(notes_, *backend) : std::nullopt;
  if (!service) return;
  config::Route route;
  route.match.host = host;
  route.match.path_prefix = *prefix;
  route.name = doc.name;
  const auto role = roles_.find(key_of(doc.ns, *service));
  const bool preview = role != roles_.end() && role->second.kind == ServiceRole::Kind::Preview;
  if (role == roles_.end()) {
    route.upstream = upstream_for(*backend, *service, doc.ns);
  } else {
    used_services_.insert(key_of(doc.ns, *service));
    if (role->second.kind == ServiceRole::Kind::Canary)
      return notes_.add(*backend, "the canary Service: vane sends the canary's share of the stable route there");
    route.rollout = role->second.rollout;
    if (preview) route.name += "-preview";
  }
  const std::string source = doc.kind + "/" + doc.name + " (" + item.file + ":" + std::to_string(item.line) + ")";
  const config::Route* added = add_route(item, route, source + (preview ? ", to the preview Service" : ""));
  if (preview && added) set_preview_route(route.rollout, added->name);
}

void Importer::set_preview_route(const std::string& rollout, const std::string& route) {
  for (auto& r : out_.config.rollouts) {
    if (r.name == rollout && r.blue_green && r.blue_green->preview_route.empty()) r.blue_green->preview_route = route;
  }
}

/// Every rollout gets a route: its VirtualService hosts, else `pathPrefix: /`; a blue/green
/// rollout with a preview Service and no preview route gets one on that Service's name as host.
void Importer::default_routes() {
  for (std::size_t i = 0; i < out_.config.rollouts.size(); ++i) {
    const std::string name = out_.config.rollouts[i].name;
    const Node& at = rollout_nodes_.at(name);
    auto& bg = out_.config.rollouts[i].blue_green;
    const std::string preview = bg ? bg->preview_route : "";
    const auto& routes = out_.config.routes;
    const bool routed = std::any_of(routes.begin(), routes.end(), [&](const config::Route& r) {
      return r.rollout == name && r.name != preview;
    });
    if (!routed) {
      auto hosts = rollout_hosts_[name];  // (host, the VirtualService it comes from)
      if (hosts.empty()) {
        hosts.emplace_back(route_matches_.contains(" /") ? name : "",
                           "Rollout/" + name + ": no Ingress in the files routes to it");
      }
      for (const auto& [host, source] : hosts) {
        config::Route route;
        route.name = name;
        route.rollout = name;
        route.match.host = host == "*" ? "" : host;
        add_route(at, route, source);
      }
    }
    const auto service = preview_services_.find(name);
    if (!bg || !preview.empty() || service == preview_services_.end()) continue;
    config::Route route;  // reached as the preview Service was: by its name
    route.name = name + "-preview";
    route.rollout = name;
    route.match.host = service->second;
    if (const auto* added = add_route(at, route, "the preview Service, by its name as host: point that name at vane"))
      bg->preview_route = added->name;
  }
}

int cmd_import(const Args& args) {
  if (args.positional.front() != "argo") {
    return usage_error(command_spec("import"), "unknown source '" + args.positional.front() + "' (only argo)");
  }
  std::vector<SourceFile> files;
  for (const std::string& name : args.all("--filename")) {
    std::ifstream in(name, std::ios::binary);
    std::ostringstream text;
    if (!(in && text << in.rdbuf())) {
      std::cerr << "vane import: cannot read " << name << "\n";
      return 1;
    }
    files.push_back(SourceFile{name, text.str()});
  }
  const ImportResult result = import_argo(files, control::config_checks());
  for (const Note& note : result.notes) std::cerr << note.to_string() << "\n";
  if (result.config.empty()) {
    std::cerr << "vane import: nothing in the files could be imported\n";
    return 1;
  }
  const std::string output = args.get("--output", "-");
  const auto check = config::load_string(result.config, output, control::config_checks());
  for (const auto& error : check.errors) std::cerr << "vane import: the written config is invalid: " << error.to_string() << "\n";
  if (!check.errors.empty()) return 1;
  if (output == "-") {
    std::cout << result.config;
    return 0;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (!(out << result.config) || !out.flush()) {
    std::cerr << "vane import: cannot write " << output << "\n";
    return 1;
  }
  return 0;
}

}  // namespace vane::cli::argo
