// libFuzzer target: the config loader (config/: YAML -> load -> validate), with the checks of
// control/config_checks that link without Asio (regex patterns through RE2, analysis conditions);
// the TLS file checks read files and are left unset. Properties, beyond "no crash, no UB":
//  - load_string() never throws: every problem is an Error with a message and a position;
//  - a config, or errors, never both;
//  - loading is deterministic: the same text gives the same errors, or the same config;
//  - a config that loads and validates keeps what validate() promises the data plane: routes and
//    rollouts name upstreams that exist, one strategy per rollout, one provider per metric,
//    weights within 100%, conditions that parse;
//  - the same document (well-formed UTF-8) written again by yaml-cpp's emitter loads to the
//    same config.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/expression.hpp"
#include "config/loader.hpp"
#include "rollout/regex.hpp"
#include "tests/fuzz/config_dump.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::config {
namespace {

using fuzz::check;

const ExternalChecks& checks() {
  static const ExternalChecks c = [] {
    ExternalChecks out;
    out.regex = [](std::string_view pattern) { return rollout::regex_error(pattern); };
    out.condition = [](std::string_view text) { return analysis::condition_error(text); };
    return out;
  }();
  return c;
}

LoadResult load(const std::string& text) {
  try {
    return load_string(text, "fuzz.yaml", checks());
  } catch (const std::exception& e) {
    check(false, std::string("load_string threw: ") + e.what());
  }
  return {};
}

std::vector<std::string> texts(const std::vector<Error>& errors) {
  std::vector<std::string> out;
  for (const Error& e : errors) {
    check(!e.message.empty() && e.file == "fuzz.yaml", "an error has a message and the file");
    check(e.line >= 0 && e.column >= 0 && (e.line == 0 || e.column > 0), "a position");
    out.push_back(e.to_string());
  }
  return out;
}

void check_analysis(const Config& c, const AnalysisSpec& spec) {
  for (const AnalysisTemplateRef& ref : spec.templates) {
    check(c.find_template(ref.template_name) != nullptr, "an analysis names a template that exists");
  }
}

void check_rollout(const Config& c, const Rollout& r) {
  check(r.canary.has_value() != r.blue_green.has_value(), "a rollout has one strategy");
  check(c.find_upstream(r.upstream) != nullptr, "a rollout's upstream exists");
  if (r.canary) {
    for (const Step& s : r.canary->steps) {
      check(s.weight_centi <= 10000, "setWeight within 100%");
      check(s.mirror_route.percentage >= 0 && s.mirror_route.percentage <= 100, "mirror 0-100%");
      if (s.kind == Step::Kind::Analysis) check_analysis(c, s.analysis);
    }
    if (r.canary->analysis) check_analysis(c, *r.canary->analysis);
  }
  if (r.blue_green && r.blue_green->pre_promotion_analysis) {
    check_analysis(c, *r.blue_green->pre_promotion_analysis);
  }
  if (r.blue_green && r.blue_green->post_promotion_analysis) {
    check_analysis(c, *r.blue_green->post_promotion_analysis);
  }
}

void check_valid(const Config& c) {
  check(!c.listeners.empty(), "a config has a listener");
  for (const Route& r : c.routes) {
    check(r.upstream.empty() != r.rollout.empty(), "a route names an upstream or a rollout");
    check(r.upstream.empty() || c.find_upstream(r.upstream) != nullptr, "route upstream exists");
    check(r.rollout.empty() || c.find_rollout(r.rollout) != nullptr, "route rollout exists");
  }
  for (const Rollout& r : c.rollouts) check_rollout(c, r);
  for (const AnalysisTemplate& t : c.analysis_templates) {
    for (const Metric& m : t.metrics) {
      const int providers = int{m.builtin.has_value()} + int{m.prometheus.has_value()} +
                            int{m.web.has_value()};
      check(providers == 1, "a metric has one provider");
      check(analysis::condition_error(m.success_condition).empty() &&
                analysis::condition_error(m.failure_condition).empty(),
            "conditions parse");
    }
  }
}

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF). YAML is Unicode: yaml-cpp's emitter writes a malformed byte as U+FFFD, so only a
/// well-formed document can be expected to come back the same.
bool valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const size_t n = b < 0x80 ? 1 : b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3
                     : b >= 0xF0 && b < 0xF5 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    uint32_t cp = n == 1 ? b : b & (0xFFU >> (n + 1));
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3FU);
    }
    const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

/// The document as yaml-cpp writes it back; empty when yaml-cpp cannot (its own limits).
std::string reemit(const std::string& text) {
  try {
    YAML::Emitter out;
    out << YAML::Load(text);
    return out.good() ? std::string(out.c_str()) : std::string();
  } catch (const YAML::Exception&) {
    return {};
  }
}

}  // namespace
}  // namespace vane::config

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace vane::config;
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  const LoadResult first = load(text);
  const LoadResult second = load(text);
  check((first.config == nullptr) != first.errors.empty(), "a config, or errors");
  check(texts(first.errors) == texts(second.errors), "the same text gives the same errors");
  if (!first.config) return 0;
  check(vane::fuzz::dump(*first.config, true) == vane::fuzz::dump(*second.config, true),
        "the same text gives the same config");
  check_valid(*first.config);
  if (!valid_utf8(text)) return 0;
  const std::string again = reemit(text);
  if (again.empty()) return 0;
  const LoadResult third = load(again);
  check(third.errors.empty(), "the document written again by yaml-cpp loads");
  check(vane::fuzz::dump(*first.config, false) == vane::fuzz::dump(*third.config, false),
        "the document written again by yaml-cpp loads to the same config");
  return 0;
}
