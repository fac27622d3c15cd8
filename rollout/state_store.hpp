// Persists each rollout's progress in the state dir (SPEC §4): one JSON file per rollout, written
// with write + fsync + rename, the previous file kept as NAME.json.bak. Control thread only.
#pragma once

#include <optional>
#include <string>

#include "rollout/state_backend.hpp"

namespace vane::rollout {

class StateStore : public StateBackend {
 public:
  /// `dir` is created on the first save when missing.
  explicit StateStore(std::string dir);

  /// Writes NAME.json.tmp, fsyncs it, renames NAME.json (if any) to NAME.json.bak, renames the
  /// tmp file to NAME.json and fsyncs the dir. False with `*error` (when not null) on failure.
  /// Never throws.
  bool save(const std::string& rollout, const RolloutState& state, std::string* error) override;

  /// Reads NAME.json, else the backup. A corrupt file (bad JSON, a missing field, an unknown
  /// name) is renamed aside to NAME.json.corrupt-TIME (TIME = `now`, e.g. 20240501T120030.250Z)
  /// and the backup used. Never throws.
  LoadResult load(const std::string& rollout, WallTime now) override;
  LoadResult load(const std::string& rollout) { return load(rollout, WallClock::now()); }

  /// The file a rollout's state lives in: DIR/NAME.json, NAME with every byte other than
  /// [A-Za-z0-9._-] written as %XX (so distinct names never share a file).
  std::string path_of(const std::string& rollout) const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

/// `rollout` as a file name: [A-Za-z0-9._-] kept, any other byte as %XX (upper-case hex).
std::string sanitize_file_name(const std::string& rollout);

/// The JSON text of a state, and back (nullopt with `*error` when it is not a valid state).
std::string state_to_json(const RolloutState& state);
std::optional<RolloutState> state_from_json(const std::string& text, std::string* error);

}  // namespace vane::rollout
