#include "cli/options.hpp"

#include <charconv>
#include <iostream>

#include "cli/admin_client.hpp"
#include "config/duration.hpp"

namespace vane::cli {
namespace {

constexpr OptionSpec kHelp{"--help", "-h", ValueKind::None};

const OptionSpec* find_option(const CommandSpec& spec, std::string_view word) {
  if (word == kHelp.name || word == kHelp.alias) return &kHelp;
  for (const OptionSpec& option : spec.options) {
    if (word == option.name || (!option.alias.empty() && word == option.alias)) return &option;
  }
  return nullptr;
}

std::string quoted(std::string_view word) { return "'" + std::string(word) + "'"; }

/// Whether `word` is an option rather than a value: "-" alone (stdin/stderr) is a value.
bool looks_like_option(std::string_view word) { return word.size() > 1 && word[0] == '-'; }

/// Parses the words in order; stops at the first error.
class Parser {
 public:
  Parser(const CommandSpec& spec, std::span<const std::string_view> words) : spec_(spec), words_(words) {}

  ParseResult run() {
    bool only_positional = false;
    for (i_ = 0; i_ < words_.size() && result_.error.empty(); ++i_) {
      const std::string_view word = words_[i_];
      if (only_positional || !looks_like_option(word)) {
        result_.args.positional.emplace_back(word);
      } else if (word == "--") {
        only_positional = true;
      } else {
        option(word);
      }
    }
    if (result_.error.empty() && !result_.args.help) check_required();
    return std::move(result_);
  }

 private:
  void option(std::string_view word) {
    const auto eq = word.find('=');
    const std::string_view name = word.substr(0, eq);
    const OptionSpec* spec = find_option(spec_, name);
    if (!spec) return fail("unknown option " + quoted(name));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = word.substr(eq + 1);
    if (spec->value == ValueKind::None) {
      if (value) return fail("option " + quoted(name) + " takes no value (" + quoted(word) + ")");
      if (spec == &kHelp) result_.args.help = true;
      result_.args.options[std::string(spec->name)] = "";
      return;
    }
    if (!value && i_ + 1 < words_.size() && !looks_like_option(words_[i_ + 1])) value = words_[++i_];
    if (!value || value->empty()) return fail("option " + quoted(name) + " needs a value");
    if (auto why = check_value(spec->value, *value)) {
      return fail("option " + quoted(name) + ": " + quoted(*value) + " is " + *why);
    }
    result_.args.options[std::string(spec->name)] = std::string(*value);
    result_.args.values[std::string(spec->name)].emplace_back(*value);
  }

  void check_required() {
    for (const OptionSpec& option : spec_.options) {
      if (option.required && !result_.args.has(std::string(option.name))) {
        return fail("missing option " + quoted(option.alias.empty() ? option.name : option.alias));
      }
    }
    const std::size_t n = result_.args.positional.size();
    if (n < spec_.min_positional) {
      fail("missing argument " + std::string(spec_.positional));
    } else if (n > spec_.max_positional) {
      fail("unexpected argument " + quoted(result_.args.positional[spec_.max_positional]));
    }
  }

  void fail(std::string message) { result_.error = std::move(message); }

  const CommandSpec& spec_;
  std::span<const std::string_view> words_;
  std::size_t i_ = 0;
  ParseResult result_;
};

}  // namespace

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

ParseResult parse_args(const CommandSpec& spec, std::span<const std::string_view> words) {
  return Parser(spec, words).run();
}

std::optional<std::string> check_value(ValueKind kind, std::string_view text) {
  switch (kind) {
    case ValueKind::None:
    case ValueKind::Path:
      return std::nullopt;
    case ValueKind::Duration:
      if (config::parse_duration(text)) return std::nullopt;
      return "not a duration (e.g. 30s, 10m)";
    case ValueKind::Url:
      if (admin_url_error(text).empty()) return std::nullopt;
      return "not an admin URL (http://HOST[:PORT][/PREFIX])";
    case ValueKind::LogLevel:
      if (text == "debug" || text == "info" || text == "warn" || text == "error") return std::nullopt;
      return "not a log level (debug, info, warn, error)";
    case ValueKind::Seconds: {
      int seconds = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
      if (ec == std::errc{} && end == text.data() + text.size() && seconds > 0) return std::nullopt;
      return "not a whole number of seconds";
    }
  }
  return std::nullopt;
}

int usage_error(const CommandSpec& spec, std::string_view message) {
  std::cerr << "vane " << spec.name << ": " << message << "\n\n" << spec.usage;
  return 2;
}

}  // namespace vane::cli
