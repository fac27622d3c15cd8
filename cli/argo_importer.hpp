// The state of one `vane import argo` run, shared by the files that convert each kind of object
// (argo_import.cpp: documents, Services, routes; argo_rollout.cpp; argo_template.cpp). Main thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/argo_import.hpp"
#include "cli/argo_source.hpp"
#include "cli/config_writer.hpp"

namespace vane::cli::argo {

/// One Kubernetes object of the input.
struct Document {
  std::string kind;
  std::string name;
  std::string ns = "default";
  Node root;

  std::string title() const;  ///< "Rollout/shop (rollouts.yaml:12)", for comments
};

/// An imported analysis template, as analysis specs need to know it.
struct TemplateInfo {
  std::string name;  ///< its vane name
  std::set<std::string> args;
  std::set<std::string> required_args;  ///< args without a value
  std::vector<std::string> metrics;
  std::vector<std::string> indefinite_metrics;  ///< interval without count: background only
};

/// What a Service is to a rollout, so that Ingress backends find their rollout.
struct ServiceRole {
  std::string rollout;
  enum class Kind { Stable, Canary, Preview } kind = Kind::Stable;
};

/// A rollout's two Services: `current` (stable/active) is the desired upstream, `next`
/// (canary/preview) is declared for the next release.
struct ServiceKeys {
  const char* current;
  const char* next;
  ServiceRole::Kind next_kind;
  const char* what;  ///< "stable", "active": for the comment
};

class Importer {
 public:
  explicit Importer(const config::ExternalChecks& checks) : checks_(checks) {}
  ImportResult run(const std::vector<SourceFile>& files);

 private:
  // argo_import.cpp
  void read_file(const SourceFile& file);
  void read_document(const Node& root);
  /// The object's `spec` (apiVersion, kind, metadata and status are not noted); nullopt, noted, when absent.
  std::optional<Node> spec_of(const Document& doc);
  /// The upstream of Service ns/service, added on first use (named `service`, or `service-ns`, noted,
  /// when another namespace's Service has that name).
  std::string upstream_for(const Node& at, const std::string& service, const std::string& ns);
  void ingress(const Document& doc);
  void ingress_path(const Document& doc, const std::string& host, const Node& item);
  void set_preview_route(const std::string& rollout, const std::string& route);
  /// The route as added (its name made unique); null, noted, when another has its host and path.
  const config::Route* add_route(const Node& at, config::Route route, const std::string& comment);
  void default_routes();

  // argo_rollout.cpp
  void rollout(const Document& doc);
  std::string services(const Document& doc, Fields& f, const ServiceKeys& keys, config::Rollout& out);
  void canary(const Document& doc, const Node& node, config::Rollout& out);
  void istio_routing(const Document& doc, const Node& routing, const std::string& rollout);
  void steps(const Node& node, config::CanaryStrategy& out, std::vector<std::size_t>& first_step);
  std::vector<config::Step> step(const Node& node);
  std::optional<config::Step> route_step(const Node& node, bool mirror);
  /// One entry of a route step's `match`; nullopt, noted, when any of its conditions is not imported.
  std::optional<config::RouteCondition> match_entry(const Node& entry, bool mirror);
  void blue_green(const Document& doc, const Node& node, config::Rollout& out);
  /// An analysis step, background analysis or (pre|post)PromotionAnalysis; nullopt, noted, when
  /// `vane validate` would refuse it (a template or a required arg's value not imported, …).
  std::optional<config::AnalysisSpec> analysis_spec(const Node& node, bool background);
  std::vector<config::Arg> analysis_args(const Node& node, const std::vector<const TemplateInfo*>& used);
  void check_use(const config::AnalysisSpec& spec, const std::vector<const TemplateInfo*>& used, bool background,
                 std::vector<std::string>& problems);

  // argo_template.cpp
  void analysis_template(const Document& doc, bool cluster);
  std::optional<config::Metric> metric(const Node& node, const std::set<std::string>& args,
                                       const std::vector<config::Arg>& values);
  bool provider(const Node& node, const std::set<std::string>& args, config::Metric& out);

  const config::ExternalChecks& checks_;
  Notes notes_;
  CommentedConfig out_;
  std::vector<Document> documents_;
  std::map<std::string, const Document*> services_;        ///< "ns/name"
  std::map<std::string, const Document*> virtual_services_;  ///< "ns/name"
  std::map<std::string, TemplateInfo> templates_;         ///< "AnalysisTemplate/name", "ClusterAnalysisTemplate/name"
  std::map<std::string, ServiceRole> roles_;               ///< "ns/name" of a Service
  std::set<std::string> used_services_;                    ///< "ns/name"
  std::map<std::string, std::string> upstream_names_;      ///< "ns/name" of a Service → its upstream
  std::set<std::string> route_matches_;                    ///< "host pathPrefix"
  /// A rollout's VirtualService hosts, each with the title of its VirtualService.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> rollout_hosts_;
  std::map<std::string, std::string> preview_services_;  ///< rollout → its preview Service
  std::map<std::string, Node> rollout_nodes_;  ///< each imported rollout's document, for notes
};

}  // namespace vane::cli::argo
