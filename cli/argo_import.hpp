// `vane import argo` (SPEC §13): Argo Rollouts objects (Rollout, AnalysisTemplate,
// ClusterAnalysisTemplate, Service, Ingress, VirtualService hosts) in, a vane config out, with a
// note for every field that could not be carried over. A pure function of its inputs; main thread.
#pragma once

#include <string>
#include <vector>

#include "cli/argo_source.hpp"
#include "cli/options.hpp"
#include "config/loader.hpp"

namespace vane::cli::argo {

struct SourceFile {
  std::string name;  ///< as given on the command line; used in notes and comments
  std::string text;
};

struct ImportResult {
  std::string config;       ///< the vane.yaml text; empty when nothing could be imported
  std::vector<Note> notes;  ///< what was not imported, in file order
};

/// Converts every document of `files`. `checks` (conditions, regexes) decide which conditions and
/// header regexes vane can read: a metric or match entry it cannot is left out with a note.
ImportResult import_argo(const std::vector<SourceFile>& files, const config::ExternalChecks& checks = {});

/// `vane import argo -f FILE [-f FILE…] [-o OUT]`: 0 when a config was written, 1 when none could be.
int cmd_import(const Args& args);

}  // namespace vane::cli::argo
