// StateStore: the rollout state as JSON on disk, written atomically, read with a fallback.
#include "rollout/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

namespace vane::rollout {
namespace json = boost::json;
namespace {

constexpr int64_t kVersion = 1;

std::string errno_text(int err) { return std::generic_category().message(err); }

json::value time_value(const std::optional<WallTime>& time) {
  if (!time) return nullptr;
  return json::string(format_time(*time));
}

/// Reads the fields of a version-1 document; the first problem found goes to `error`.
class FieldReader {
 public:
  FieldReader(const json::object& object, std::string& error) : object_(object), error_(error) {}

  bool ok() const { return error_.empty(); }

  const json::value* field(const char* name) {
    const json::value* v = object_.if_contains(name);
    if (v == nullptr) fail(std::string("missing field \"") + name + "\"");
    return ok() ? v : nullptr;
  }
  void string(const char* name, std::string& out) {
    const json::value* v = field(name);
    if (v == nullptr) return;
    if (!v->is_string()) return fail(std::string("\"") + name + "\" must be a string");
    out = std::string(v->get_string());
  }
  void boolean(const char* name, bool& out) {
    const json::value* v = field(name);
    if (v == nullptr) return;
    if (!v->is_bool()) return fail(std::string("\"") + name + "\" must be true or false");
    out = v->get_bool();
  }
  void index(const char* name, uint32_t& out) {
    const json::value* v = field(name);
    if (v == nullptr) return;
    const auto* i = v->if_int64();
    const auto* u = v->if_uint64();
    const uint64_t max = std::numeric_limits<uint32_t>::max();
    if (i != nullptr && *i >= 0 && static_cast<uint64_t>(*i) <= max) {
      out = static_cast<uint32_t>(*i);
    } else if (u != nullptr && *u <= max) {
      out = static_cast<uint32_t>(*u);
    } else {
      fail(std::string("\"") + name + "\" must be an integer 0..4294967295");
    }
  }
  void time(const char* name, std::optional<WallTime>& out) {
    const json::value* v = field(name);
    if (v == nullptr || v->is_null()) return;
    const auto parsed = v->is_string() ? parse_time(v->get_string()) : std::nullopt;
    if (!parsed) return fail(std::string("\"") + name + "\" must be an RFC 3339 time or null");
    out = parsed;
  }
  /// Like time(), but an absent field keeps `out` (fields added after version 1 was written).
  void optional_time(const char* name, std::optional<WallTime>& out) {
    if (object_.if_contains(name) != nullptr) time(name, out);
  }
  /// Like name(), but an absent field keeps `out` (fields added after version 1 was written).
  template <typename E>
  void optional_name(const char* key, E& out, std::optional<E> (*from)(std::string_view)) {
    if (object_.if_contains(key) != nullptr) name(key, out, from);
  }
  /// A list of analysis statuses; an absent field keeps `out`.
  void optional_statuses(const char* key, std::vector<AnalysisStatus>& out) {
    const json::value* v = object_.if_contains(key);
    if (v == nullptr) return;
    if (!v->is_array()) return fail(std::string("\"") + key + "\" must be a list");
    out.clear();
    for (const json::value& item : v->get_array()) {
      const auto parsed =
          item.is_string() ? analysis_status_from_string(item.get_string()) : std::nullopt;
      if (!parsed) return fail(std::string("unknown status in ") + key);
      out.push_back(*parsed);
    }
  }
  template <typename E>
  void name(const char* key, E& out, std::optional<E> (*from)(std::string_view)) {
    std::string text;
    string(key, text);
    if (!ok()) return;
    const auto parsed = from(text);
    if (!parsed) return fail(std::string("unknown ") + key + " \"" + text + "\"");
    out = *parsed;
  }

 private:
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  const json::object& object_;
  std::string& error_;
};

void read_fields(FieldReader& r, RolloutState& s) {
  r.string("stable", s.stable);
  r.string("canary", s.canary);
  r.index("stepIndex", s.step_index);
  r.name("phase", s.phase, &phase_from_string);
  r.string("message", s.message);
  r.boolean("aborted", s.aborted);
  r.string("abortReason", s.abort_reason);
  r.name("pauseReason", s.pause_reason, &pause_reason_from_string);
  r.time("pausedSince", s.paused_since);
  r.time("pauseUntil", s.pause_until);
  r.time("waitingSince", s.waiting_since);
  r.boolean("deadlineExceeded", s.deadline_exceeded);
  r.time("scaleDownAt", s.scale_down_at);
  r.string("previousStable", s.previous_stable);
  r.name("stepAnalysis", s.step_analysis, &analysis_status_from_string);
  r.name("backgroundAnalysis", s.background_analysis, &analysis_status_from_string);
  r.optional_name("gate", s.gate, &gate_from_string);
  r.optional_time("gateStepDeadline", s.gate_step_deadline);
  r.optional_time("experimentDeadline", s.experiment_deadline);
  r.optional_statuses("experimentRuns", s.experiment_runs);
}

enum class ReadStatus : uint8_t { Ok, Missing, Failed };

/// The whole file; on Failed, `text` holds the reason.
ReadStatus read_file(const std::string& path, std::string& text) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    text = "cannot open: " + errno_text(err);
    return err == ENOENT ? ReadStatus::Missing : ReadStatus::Failed;
  }
  text.clear();
  std::array<char, 8192> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      text = "cannot read: " + errno_text(errno);
      ::close(fd);
      return ReadStatus::Failed;
    }
    text.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return ReadStatus::Ok;
}

/// Writes `data` to a new file at `path` and fsyncs it.
bool write_synced(const std::string& path, const std::string& data, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + path + ": " + errno_text(errno);
    return false;
  }
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot write " + path + ": " + errno_text(errno);
      ::close(fd);
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    error = "cannot fsync " + path + ": " + errno_text(errno);
    ::close(fd);
    return false;
  }
  if (::close(fd) != 0) {
    error = "cannot close " + path + ": " + errno_text(errno);
    return false;
  }
  return true;
}

bool sync_dir(const std::string& dir, std::string& error) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    error = "cannot fsync directory " + dir + ": " + errno_text(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

bool rename_file(const std::string& from, const std::string& to, std::string& error) {
  if (::rename(from.c_str(), to.c_str()) == 0) return true;
  error = "cannot rename " + from + " to " + to + ": " + errno_text(errno);
  return false;
}

/// "2024-05-01T12:00:30.250Z" -> "20240501T120030.250Z".
std::string compact_time(WallTime now) {
  std::string text = format_time(now);
  std::erase_if(text, [](char c) { return c == '-' || c == ':'; });
  return text;
}

/// Renames a corrupt file to PATH.corrupt-TIME (-N appended if that exists); describes it.
std::string set_aside(const std::string& path, WallTime now) {
  const std::string base = path + ".corrupt-" + compact_time(now);
  std::string target = base;
  std::error_code ec;
  for (int n = 1; std::filesystem::exists(target, ec) && n < 1000; ++n) {
    target = base + "-" + std::to_string(n);
  }
  std::string error;
  if (!rename_file(path, target, error)) return "could not set it aside: " + error;
  return "set aside as " + target;
}

/// One candidate file: its state, or why there is none (`missing` when it does not exist).
struct Candidate {
  std::optional<RolloutState> state;
  bool missing = false;
  std::string problem;
};

Candidate read_candidate(const std::string& path) {
  Candidate c;
  std::string text;
  switch (read_file(path, text)) {
    case ReadStatus::Missing:
      c.missing = true;
      return c;
    case ReadStatus::Failed:
      c.problem = text;
      return c;
    case ReadStatus::Ok:
      break;
  }
  c.state = state_from_json(text, &c.problem);
  return c;
}

}  // namespace

std::string sanitize_file_name(const std::string& rollout) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : rollout) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (keep) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += hex[byte >> 4];
    out += hex[byte & 0xF];
  }
  return out;
}

std::string state_to_json(const RolloutState& s) {
  json::object o;
  o["version"] = kVersion;
  o["stable"] = s.stable;
  o["canary"] = s.canary;
  o["stepIndex"] = s.step_index;
  o["phase"] = to_string(s.phase);
  o["message"] = s.message;
  o["aborted"] = s.aborted;
  o["abortReason"] = s.abort_reason;
  o["pauseReason"] = to_string(s.pause_reason);
  o["pausedSince"] = time_value(s.paused_since);
  o["pauseUntil"] = time_value(s.pause_until);
  o["waitingSince"] = time_value(s.waiting_since);
  o["deadlineExceeded"] = s.deadline_exceeded;
  o["scaleDownAt"] = time_value(s.scale_down_at);
  o["previousStable"] = s.previous_stable;
  o["stepAnalysis"] = to_string(s.step_analysis);
  o["backgroundAnalysis"] = to_string(s.background_analysis);
  o["gate"] = to_string(s.gate);
  o["gateStepDeadline"] = time_value(s.gate_step_deadline);
  o["experimentDeadline"] = time_value(s.experiment_deadline);
  json::array runs;
  for (const AnalysisStatus run : s.experiment_runs) runs.emplace_back(to_string(run));
  o["experimentRuns"] = std::move(runs);
  return json::serialize(o) + "\n";
}

std::optional<RolloutState> state_from_json(const std::string& text, std::string* error) {
  std::string problem;
  std::optional<RolloutState> out;
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) {
    problem = "bad JSON: " + ec.message();
  } else if (!doc.is_object()) {
    problem = "not a JSON object";
  } else {
    const json::object& o = doc.get_object();
    const json::value* version = o.if_contains("version");
    if (version == nullptr || !version->is_int64() || version->get_int64() != kVersion) {
      problem = "missing or unsupported \"version\" (expected 1)";
    } else {
      RolloutState s;
      FieldReader reader(o, problem);
      read_fields(reader, s);
      if (reader.ok() && s.stable.empty()) problem = "\"stable\" is empty";
      if (problem.empty()) out = std::move(s);
    }
  }
  if (error != nullptr) *error = problem;
  return out;
}

StateStore::StateStore(std::string dir) : dir_(std::move(dir)) {}

std::string StateStore::path_of(const std::string& rollout) const {
  return (std::filesystem::path(dir_) / (sanitize_file_name(rollout) + ".json")).string();
}

bool StateStore::save(const std::string& rollout, const RolloutState& state, std::string* error) {
  std::string problem;
  try {
    const std::string path = path_of(rollout);
    const std::string tmp = path + ".tmp";
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      problem = "cannot create directory " + dir_ + ": " + ec.message();
    } else if (write_synced(tmp, state_to_json(state), problem)) {
      const bool had_file = std::filesystem::exists(path, ec);
      if ((!had_file || rename_file(path, path + ".bak", problem)) &&
          rename_file(tmp, path, problem)) {
        sync_dir(dir_, problem);
      }
    }
    if (!problem.empty()) ::unlink(tmp.c_str());  // best effort; a no-op once renamed
  } catch (const std::exception& e) {
    problem = std::string("cannot save state: ") + e.what();
  }
  if (!problem.empty() && error != nullptr) *error = problem;
  return problem.empty();
}

StateStore::LoadResult StateStore::load(const std::string& rollout, WallTime now) {
  LoadResult result;
  try {
    const std::string path = path_of(rollout);
    const std::string backup = path + ".bak";
    Candidate main = read_candidate(path);
    if (main.state) {
      result.state = std::move(main.state);
      return result;
    }
    std::string warning = "state file " + path;
    warning += main.missing ? " is missing"
                            : " is corrupt (" + main.problem + "), " + set_aside(path, now);
    Candidate bak = read_candidate(backup);
    if (bak.state) {
      result.state = std::move(bak.state);
      result.warning = warning + "; using the backup " + backup;
      return result;
    }
    if (main.missing && bak.missing) return result;  // a first start
    warning += bak.missing ? "; no backup " + backup
                           : "; backup " + backup + " is corrupt (" + bak.problem + "), " +
                                 set_aside(backup, now);
    result.warning = warning + "; no usable state; starting as on a first start";
  } catch (const std::exception& e) {
    result.state.reset();
    result.warning = std::string("cannot load state: ") + e.what() +
                     "; starting as on a first start";
  }
  return result;
}

}  // namespace vane::rollout
