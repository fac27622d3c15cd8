// A Rollout → a vane rollout: its Services become upstreams, its canary steps and analyses become
// vane's (steps vane cannot take are left out and noted), blue/green keeps its promotion settings.
#include <algorithm>
#include <cctype>
#include <limits>

#include "cli/argo_importer.hpp"
#include "config/validate.hpp"
#include "config/duration.hpp"

namespace vane::cli::argo {
namespace {

constexpr long long kMaxU32 = std::numeric_limits<uint32_t>::max();

std::optional<bool> boolean(Notes& notes, const Node& at) {
  const auto text = at.text();
  if (text == "true") return true;
  if (text == "false") return false;
  notes.add(at, "expected true or false");
  return std::nullopt;
}

/// `{exact|prefix|regex: VALUE}`; nullopt (noted) when it is none of them, or a regex RE2 refuses.
std::optional<config::StringMatch> string_match(Notes& notes, const config::ExternalChecks& checks,
                                                const Node& node) {
  Fields f(notes, node);
  using Kind = config::StringMatch::Kind;
  for (const auto& [key, kind] : {std::pair{"exact", Kind::Exact}, std::pair{"prefix", Kind::Prefix},
                                  std::pair{"regex", Kind::Regex}}) {
    const auto v = f.take(key);
    if (!v || !v->text()) continue;
    if (kind == Kind::Regex && checks.regex) {
      if (const std::string why = checks.regex(*v->text()); !why.empty()) {
        notes.add(*v, "a regex vane (RE2) cannot read: " + why);
        return std::nullopt;
      }
    }
    return config::StringMatch{kind, *v->text()};
  }
  notes.add(node, "needs exact, prefix or regex");
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

}  // namespace

void Importer::rollout(const Document& doc) {
  const auto spec_node = spec_of(doc);
  if (!spec_node) return;
  Fields spec(notes_, *spec_node);
  config::Rollout r;
  r.name = doc.name;
  r.mark.line = doc.root.line;
  if (const auto v = spec.take("progressDeadlineSeconds")) {
    if (const auto n = integer(notes_, *v, 1, kMaxU32)) r.progress_deadline_seconds = static_cast<uint32_t>(*n);
  }
  if (const auto v = spec.take("progressDeadlineAbort")) r.progress_deadline_abort = boolean(notes_, *v).value_or(false);
  const auto strategy_node = spec.take("strategy");
  if (!strategy_node) return notes_.add(*spec_node, "a Rollout without strategy is not imported");
  Fields s(notes_, *strategy_node);
  const std::size_t index = out_.config.rollouts.size();
  if (const auto c = s.take("canary")) {
    canary(doc, *c, r);
  } else if (const auto b = s.take("blueGreen")) {
    blue_green(doc, *b, r);
  } else {
    return notes_.add(*strategy_node, "neither canary nor blueGreen: the Rollout is not imported");
  }
  if (r.upstream.empty()) {
    notes_.add(*strategy_node, "names no stable (or active) Service: the desired upstream is named after the Rollout");
    r.upstream = upstream_for(*strategy_node, doc.name, doc.ns);
  }
  rollout_nodes_[r.name] = doc.root;
  out_.comments[config::item_path("rollouts", index)] = doc.title();
  out_.config.rollouts.push_back(std::move(r));
}

std::string Importer::services(const Document& doc, Fields& f, const ServiceKeys& keys, config::Rollout& out) {
  const auto current_node = f.take(keys.current);
  const auto current = current_node ? current_node->text() : std::nullopt;
  const auto next_node = f.take(keys.next);
  const std::string next = next_node ? next_node->text().value_or("") : "";
  if (current) {
    out.upstream = upstream_for(*current_node, *current, doc.ns);
    roles_[doc.ns + "/" + *current] = {out.name, ServiceRole::Kind::Stable};
  }
  const std::string next_upstream = next.empty() ? "" : upstream_for(*next_node, next, doc.ns);
  if (!next.empty()) roles_[doc.ns + "/" + next] = {out.name, keys.next_kind};
  if (current) {
    out_.comments[config::item_path("rollouts", out_.config.rollouts.size(), "upstream")] =
        "the " + std::string(keys.what) + " Service" + (next.empty() ? "" : "; set " + next_upstream + " to release it");
  }
  return next;
}

void Importer::canary(const Document& doc, const Node& node, config::Rollout& out) {
  Fields c(notes_, node);
  config::CanaryStrategy& canary = out.canary.emplace();
  services(doc, c, {"stableService", "canaryService", ServiceRole::Kind::Canary, "stable"}, out);
  if (const auto routing = c.take("trafficRouting")) istio_routing(doc, *routing, out.name);
  std::vector<std::size_t> first_step{0};  // Argo step index → the index of its first vane step
  if (const auto v = c.take("steps")) steps(*v, canary, first_step);
  if (const auto v = c.take("analysis")) {
    canary.analysis = analysis_spec(*v, true);
    if (canary.analysis && canary.analysis->starting_step > 0) {
      const std::size_t argo = std::min<std::size_t>(canary.analysis->starting_step, first_step.size() - 1);
      canary.analysis->starting_step = static_cast<uint32_t>(first_step[argo]);
      if (first_step[argo] >= canary.steps.size()) {
        notes_.add(*v, "startingStep is past the last imported step: the background analysis is left out");
        canary.analysis.reset();
      }
    }
  }
  if (const auto v = c.take("scaleDownDelaySeconds")) {
    if (const auto n = integer(notes_, *v, 0, kMaxU32)) out.scale_down_delay_seconds = static_cast<uint32_t>(*n);
  }
}

void Importer::steps(const Node& node, config::CanaryStrategy& out, std::vector<std::size_t>& first_step) {
  for (const Node& item : node.items()) {
    for (config::Step& s : step(item)) out.steps.push_back(std::move(s));
    first_step.push_back(out.steps.size());  // where the next Argo step starts
  }
}

// vane is the traffic router: of the mesh or ingress settings only Istio's matter, for the
// VirtualService's hosts (routes) and a DestinationRule's subsets (versions vane cannot tell apart).
void Importer::istio_routing(const Document& doc, const Node& routing, const std::string& rollout) {
  const YAML::Node istio = member(routing.yaml, "istio");
  for (const auto& entry : istio.IsMap() ? istio : YAML::Node()) {
    if (entry.first.Scalar() != "destinationRule") continue;
    notes_.add(routing.child(entry.second, "istio.destinationRule", entry.first.Mark().line + 1),
               "stable and canary as subsets of one Service: vane needs a Service (an upstream) per version");
  }
  std::vector<YAML::Node> services;
  if (const YAML::Node vs = member(istio, "virtualService"); vs.IsMap()) services.push_back(vs);
  const YAML::Node list = member(istio, "virtualServices");
  for (std::size_t i = 0; list.IsSequence() && i < list.size(); ++i) services.push_back(list[i]);
  for (const YAML::Node& vs : services) {
    const YAML::Node name = member(vs, "name");
    const std::string key = doc.ns + "/" + (name.IsScalar() ? name.Scalar() : "");
    const auto found = virtual_services_.find(key);
    if (found == virtual_services_.end()) continue;
    used_services_.insert("VirtualService/" + key);
    const YAML::Node hosts = member(member(found->second->root.yaml, "spec"), "hosts");
    for (std::size_t i = 0; hosts.IsSequence() && i < hosts.size(); ++i) {
      if (hosts[i].IsScalar()) rollout_hosts_[rollout].emplace_back(hosts[i].Scalar(), "a host of " + found->second->title());
    }
  }
}

std::vector<config::Step> Importer::step(const Node& node) {
  Fields f(notes_, node, "a step vane does not have");
  std::vector<config::Step> out;
  if (const auto v = f.take("setWeight")) {
    if (const auto n = integer(notes_, *v, 0, 100)) {
      config::Step& s = out.emplace_back();
      s.kind = config::Step::Kind::SetWeight;
      s.weight_centi = static_cast<uint32_t>(*n * 100);
    }
  }
  if (const auto v = f.take("pause")) {
    config::Step s;
    s.kind = config::Step::Kind::Pause;
    Fields p(notes_, *v);
    bool ok = true;
    if (const auto d = p.take("duration")) {
      const std::string text = d->text().value_or("");
      const bool seconds = !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char ch) { return std::isdigit(ch); });
      s.pause.duration = config::parse_duration(seconds ? text + "s" : text);
      ok = s.pause.duration.has_value();
      if (!ok) notes_.add(*d, "not a duration vane reads ('" + text + "'): the pause is left out");
    }
    if (ok) out.push_back(s);
  }
  if (const auto v = f.take("analysis")) {
    if (auto spec = analysis_spec(*v, false)) {
      config::Step& s = out.emplace_back();
      s.kind = config::Step::Kind::Analysis;
      s.analysis = std::move(*spec);
    }
  }
  if (const auto v = f.take("setHeaderRoute")) {
    if (auto s = route_step(*v, false)) out.push_back(std::move(*s));
  }
  if (const auto v = f.take("setMirrorRoute")) {
    if (auto s = route_step(*v, true)) out.push_back(std::move(*s));
  }
  return out;
}

std::optional<config::Step> Importer::route_step(const Node& node, bool mirror) {
  Fields f(notes_, node);
  config::Step s;
  s.kind = mirror ? config::Step::Kind::SetMirrorRoute : config::Step::Kind::SetHeaderRoute;
  const auto name = f.take("name");
  if (!name || !name->text()) {
    notes_.add(node, "a route step without a name is left out");
    f.ignore_rest();
    return std::nullopt;
  }
  std::vector<config::RouteCondition> match;
  if (mirror) {
    if (const auto v = f.take("percentage")) {
      if (const auto n = integer(notes_, *v, 0, 100)) s.mirror_route.percentage = static_cast<double>(*n);
    }
  }
  const auto match_node = f.take("match");
  for (const Node& entry : match_node ? match_node->items() : std::vector<Node>{}) {
    if (auto condition = match_entry(entry, mirror)) match.push_back(std::move(*condition));
  }
  if (match_node && match.empty()) {
    notes_.add(node, "no match entry could be imported: the step is left out");
    return std::nullopt;
  }
  auto& route_name = mirror ? s.mirror_route.name : s.header_route.name;
  auto& route_match = mirror ? s.mirror_route.match : s.header_route.match;
  route_name = *name->text();
  route_match = std::move(match);
  return s;
}

std::optional<config::RouteCondition> Importer::match_entry(const Node& entry, bool mirror) {
  Fields e(notes_, entry);
  config::RouteCondition condition;
  bool ok = true;
  const auto read = [&](const Node& node) {
    auto m = string_match(notes_, checks_, node);
    ok = ok && m.has_value();
    return m;
  };
  if (mirror) {
    if (const auto v = e.take("method")) condition.method = read(*v);
    if (const auto v = e.take("path")) condition.path = read(*v);
    if (const auto headers = e.take("headers")) {
      for (const auto& header : headers->yaml.IsMap() ? headers->yaml : YAML::Node()) {
        const std::string key = header.first.Scalar();
        auto m = read(headers->child(header.second, key, header.first.Mark().line + 1));
        if (m) condition.headers.push_back({key, *m});
      }
    }
  } else {
    const auto header = e.take("headerName");
    const auto value = e.take("headerValue");
    const auto m = value ? read(*value) : std::nullopt;
    if (header && header->text() && m) condition.headers.push_back({*header->text(), *m});
  }
  if (!ok) return std::nullopt;  // a dropped condition would widen the entry: leave it all out
  if (condition == config::RouteCondition{}) {
    notes_.add(entry, "a match entry without a condition");
    return std::nullopt;
  }
  return condition;
}

void Importer::blue_green(const Document& doc, const Node& node, config::Rollout& out) {
  Fields b(notes_, node);
  config::BlueGreenStrategy& bg = out.blue_green.emplace();
  const std::string preview =
      services(doc, b, {"activeService", "previewService", ServiceRole::Kind::Preview, "active"}, out);
  if (!preview.empty()) preview_services_[out.name] = preview;
  if (const auto v = b.take("autoPromotionEnabled")) bg.auto_promotion_enabled = boolean(notes_, *v).value_or(true);
  if (const auto v = b.take("autoPromotionSeconds")) {
    if (const auto n = integer(notes_, *v, 0, kMaxU32)) bg.auto_promotion_seconds = static_cast<uint32_t>(*n);
  }
  if (const auto v = b.take("prePromotionAnalysis")) bg.pre_promotion_analysis = analysis_spec(*v, false);
  if (const auto v = b.take("postPromotionAnalysis")) bg.post_promotion_analysis = analysis_spec(*v, false);
  if (const auto v = b.take("scaleDownDelaySeconds")) {
    if (const auto n = integer(notes_, *v, 0, kMaxU32)) bg.scale_down_delay_seconds = static_cast<uint32_t>(*n);
  }
  if (const auto v = b.take("abortScaleDownDelaySeconds")) {
    if (const auto n = integer(notes_, *v, 0, kMaxU32)) bg.abort_scale_down_delay_seconds = static_cast<uint32_t>(*n);
  }
}

std::optional<config::AnalysisSpec> Importer::analysis_spec(const Node& node, bool background) {
  Fields f(notes_, node);
  config::AnalysisSpec spec;
  std::vector<std::string> problems;
  std::vector<const TemplateInfo*> used;
  const auto templates = f.take("templates");
  for (const Node& item : templates ? templates->items() : std::vector<Node>{}) {
    Fields t(notes_, item);
    const auto name = t.take("templateName");
    const auto scope = t.take("clusterScope");
    const std::string kind = scope && scope->text() == "true" ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
    const std::string text = name ? name->text().value_or("") : "";
    const auto found = templates_.find(kind + "/" + text);
    if (found == templates_.end()) {
      problems.push_back(kind + " " + text + " is not among the imported templates");
    } else if (std::find(used.begin(), used.end(), &found->second) != used.end()) {
      problems.push_back("template " + text + " is listed twice");
    } else {
      used.push_back(&found->second);
      spec.templates.push_back({found->second.name});
    }
  }
  if (used.empty() && problems.empty()) problems.push_back("no template");
  if (const auto args = f.take("args")) spec.args = analysis_args(*args, used);
  f.drop("name", "vane names analysis runs itself");
  f.drop("dryRun", "set dryRun in the analysis template instead");
  f.drop("measurementRetention", "set measurementRetention in the analysis template instead");
  if (const auto v = background ? f.take("startingStep") : std::nullopt) {
    if (const auto n = integer(notes_, *v, 0, kMaxU32)) spec.starting_step = static_cast<uint32_t>(*n);
  }
  check_use(spec, used, background, problems);
  if (problems.empty()) return spec;
  notes_.add(node, "left out: " + join(problems));
  return std::nullopt;
}

std::vector<config::Arg> Importer::analysis_args(const Node& node, const std::vector<const TemplateInfo*>& used) {
  std::vector<config::Arg> out;
  for (const Node& item : node.items()) {
    Fields a(notes_, item);
    const auto name = a.take("name");
    const auto value = a.take("value");
    if (!name || !name->text() || !value || !value->text()) continue;  // valueFrom: noted by `a`
    const bool known = std::any_of(used.begin(), used.end(), [&](const TemplateInfo* t) { return t->args.contains(*name->text()); });
    if (known || used.empty()) {
      out.push_back(config::Arg{*name->text(), *value->text()});
    } else {
      notes_.add(item, "no template of this analysis has this arg");
    }
  }
  return out;
}

/// What `vane validate` would refuse in this use of the templates (SPEC §2, validate_analysis).
void Importer::check_use(const config::AnalysisSpec& spec, const std::vector<const TemplateInfo*>& used,
                         bool background, std::vector<std::string>& problems) {
  std::set<std::string> metric_names;
  for (const TemplateInfo* t : used) {
    for (const std::string& arg : t->required_args) {
      const bool given = std::any_of(spec.args.begin(), spec.args.end(), [&](const config::Arg& a) { return a.name == arg; });
      if (!given) problems.push_back("template " + t->name + " needs arg " + arg + ", which has no imported value");
    }
    if (!background && !t->indefinite_metrics.empty())
      problems.push_back("metric " + t->indefinite_metrics.front() + " of template " + t->name +
                         " has an interval and no count: only a background analysis may run it");
    for (const std::string& m : t->metrics) {
      if (!metric_names.insert(m).second) problems.push_back("two templates have a metric " + m);
    }
  }
}

}  // namespace vane::cli::argo
