#include "config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>

#include "config/duration.hpp"

namespace vane::config {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// ---- Reader ---------------------------------------------------------------------------------

Reader::Reader(std::string file, const ExternalChecks& checks, const YamlNode& root)
    : file_(std::move(file)), checks_(checks), root_(root) {}

void Reader::error(Mark mark, std::string path, std::string message) {
  errors_.push_back(Error{file_, mark.line, mark.column, std::move(path), std::move(message)});
}

std::optional<std::string> Reader::string(const Value& v) {
  if (!v.node->is_scalar()) {
    error(v, "must be a string");
    return std::nullopt;
  }
  return v.node->scalar;
}

std::optional<int64_t> Reader::integer(const Value& v, Range range, int64_t type_max) {
  const std::string_view text = v.node->plain ? v.node->scalar : std::string_view();
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) {
    error(v, "is too large");
    return std::nullopt;
  }
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    error(v, "must be an integer");
    return std::nullopt;
  }
  const bool bounded = range.max != std::numeric_limits<int64_t>::max();
  if (n < range.min || n > range.max) {
    error(v, bounded ? "must be between " + std::to_string(range.min) + " and " +
                           std::to_string(range.max)
                     : "must be at least " + std::to_string(range.min));
    return std::nullopt;
  }
  if (n > type_max) {
    error(v, "is too large");
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Reader::boolean(const Value& v) {
  const std::string_view text = v.node->plain ? v.node->scalar : std::string_view();
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  error(v, "must be true or false");
  return std::nullopt;
}

std::optional<Duration> Reader::duration(const Value& v, bool allow_zero) {
  const auto d = v.node->is_scalar() ? parse_duration(v.node->scalar) : std::nullopt;
  if (!d) {
    error(v, "must be a duration such as 250ms, 30s, 5m or 1h30m");
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    error(v, "must be greater than 0");
    return std::nullopt;
  }
  return d;
}

std::vector<Value> Reader::list(const Value& v, Presence presence) {
  std::vector<Value> items;
  if (!v.node->is_null() && !v.node->is_sequence()) {
    error(v, "must be a list");
    return items;
  }
  items.reserve(v.node->children.size());
  for (const YamlNode* item : v.node->children) {
    items.push_back(Value{item, index_path(v.path, items.size()), item->mark});
  }
  if (items.empty() && presence == Presence::Required) error(v, "must not be empty");
  return items;
}

void Reader::check_regex(const Value& v, std::string_view pattern) {
  if (!checks_.regex) return;
  if (std::string message = checks_.regex(pattern); !message.empty()) error(v, std::move(message));
}

void Reader::check_condition(const Value& v, std::string_view expression) {
  if (!checks_.condition) return;
  if (std::string message = checks_.condition(expression); !message.empty()) {
    error(v, std::move(message));
  }
}

void Reader::check_json_path(const Value& v, std::string_view json_path) {
  if (!checks_.json_path) return;
  if (std::string message = checks_.json_path(json_path); !message.empty()) {
    error(v, std::move(message));
  }
}

void Reader::check_certificate(const Value& map, const TlsCertificate& certificate) {
  if (!checks_.certificate || certificate.cert_file.empty()) return;
  const std::string cert_path = join_path(map.path, "certFile");
  if (std::string message = checks_.certificate(certificate.cert_file); !message.empty()) {
    error_at(cert_path, map.mark, std::move(message));
    return;
  }
  if (!checks_.private_key || certificate.key_file.empty()) return;
  std::string message = checks_.private_key(certificate.cert_file, certificate.key_file);
  if (!message.empty()) error_at(join_path(map.path, "keyFile"), map.mark, std::move(message));
}

void Reader::check_ca_file(const Value& v, const std::string& file) {
  if (!checks_.ca_file) return;
  if (std::string message = checks_.ca_file(file); !message.empty()) error(v, std::move(message));
}

void Reader::check_access_log(const Value& v, const std::string& path) {
  if (path.empty()) {
    error(v, "must not be empty");
    return;
  }
  if (!checks_.access_log) return;
  if (std::string message = checks_.access_log(path); !message.empty()) error(v, std::move(message));
}

Mark Reader::mark_of(std::string_view path, Mark fallback) const {
  const YamlNode* node = &root_;
  Mark mark = root_.mark;
  while (!path.empty()) {
    if (path.front() == '[') {  // [index]
      size_t index = 0;
      const auto [end, ec] = std::from_chars(path.data() + 1, path.data() + path.size(), index);
      if (ec != std::errc{} || end == path.data() + path.size() || *end != ']') return fallback;
      if (!node->is_sequence() || index >= node->children.size()) return fallback;
      node = node->children[index];
      mark = node->mark;
      path.remove_prefix(static_cast<size_t>(end - path.data()) + 1);
    } else {  // key, after a '.' unless first; the longest key that fits (keys may hold dots)
      if (path.front() == '.') path.remove_prefix(1);
      if (!node->is_map()) return fallback;
      const std::vector<const YamlNode*>& entries = node->children;  // key, value, …
      size_t best = entries.size();
      for (size_t i = 0; i + 1 < entries.size(); i += 2) {
        const std::string& k = entries[i]->scalar;
        const char after = path.size() > k.size() ? path[k.size()] : '.';
        const bool fits = entries[i]->is_scalar() && path.starts_with(k) &&
                          (after == '.' || after == '[');
        if (fits && (best == entries.size() || k.size() > entries[best]->scalar.size())) best = i;
      }
      if (best == entries.size()) return fallback;
      const YamlNode* key = entries[best];
      node = entries[best + 1];
      // An empty value's mark points past it (often at the next line): the key's instead.
      mark = node->is_null() ? key->mark : node->mark;
      path.remove_prefix(key->scalar.size());
    }
  }
  return mark;
}

std::vector<Error> Reader::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return std::move(errors_);
}

// ---- MapReader ------------------------------------------------------------------------------

MapReader::MapReader(Reader& reader, const Value& map) : reader_(reader), self_(map) {
  if (self_.node->is_null()) {
    valid_ = true;
    return;
  }
  if (!self_.node->is_map()) {
    reader_.error(self_, "must be a map");
    return;
  }
  valid_ = true;
  const std::vector<const YamlNode*>& children = self_.node->children;
  entries_.reserve(children.size() / 2);
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    const YamlNode& key_node = *children[i];
    const Mark key_mark = key_node.mark;
    if (!key_node.is_scalar()) {
      reader_.error(key_mark, self_.path, "keys must be strings");
      continue;
    }
    const std::string& key = key_node.scalar;
    if (const std::size_t first = find(key); first < entries_.size()) {
      reader_.error(key_mark, join_path(self_.path, key),
                    "duplicate key (first at line " + std::to_string(entries_[first].key_mark.line) + ")");
      continue;
    }
    entries_.push_back(Entry{key, key_mark, children[i + 1]});
    if (!index_.empty()) {
      index_.emplace(key, entries_.size() - 1);
    } else if (entries_.size() == kIndexFrom) {
      index_.reserve(children.size() / 2);
      for (std::size_t at = 0; at < entries_.size(); ++at) index_.emplace(entries_[at].key, at);
    }
  }
}

MapReader::~MapReader() {
  for (const Entry& e : entries_) {
    if (e.used) continue;
    reader_.error(e.key_mark, join_path(self_.path, e.key), "unknown key" + suggestion(e.key));
  }
}

std::string MapReader::suggestion(std::string_view unknown) const {
  const std::string* best = nullptr;
  std::size_t best_distance = 3;  // suggest only near misses
  for (const std::string& known : asked_) {
    const std::size_t distance = edit_distance(unknown, known);
    if (distance < best_distance) {
      best = &known;
      best_distance = distance;
    }
  }
  return best ? " (did you mean \"" + *best + "\"?)" : std::string();
}

std::size_t MapReader::find(std::string_view key) const {
  if (!index_.empty()) {
    const auto at = index_.find(key);
    return at == index_.end() ? entries_.size() : at->second;
  }
  const auto at =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
  return static_cast<std::size_t>(at - entries_.begin());
}

bool MapReader::has(std::string_view key) const { return find(key) < entries_.size(); }

Value MapReader::value_of(Entry& e) {
  e.used = true;
  // An empty value's mark points past it (often at the next line): use the key's instead.
  const Mark mark = e.value->is_null() ? e.key_mark : e.value->mark;
  return Value{e.value, join_path(self_.path, e.key), mark};
}

std::optional<Value> MapReader::take(std::string_view key) {
  asked_.emplace_back(key);
  const std::size_t at = find(key);
  if (at == entries_.size()) return std::nullopt;
  return value_of(entries_[at]);
}

std::vector<std::pair<std::string, Value>> MapReader::take_all() {
  std::vector<std::pair<std::string, Value>> all;
  all.reserve(entries_.size());
  for (Entry& e : entries_) all.emplace_back(e.key, value_of(e));
  return all;
}

std::optional<Value> MapReader::require(std::string_view key) {
  auto v = take(key);
  if (!v && valid_) missing(key);
  return v;
}

void MapReader::missing(std::string_view key) {
  reader_.error(self_.mark, join_path(self_.path, key), "is required");
}

bool MapReader::get(std::string_view key, std::string& out, Presence presence) {
  const auto v = presence == Presence::Required ? require(key) : take(key);
  if (!v) return false;
  auto text = reader_.string(*v);
  if (!text) return false;
  if (presence == Presence::Required && text->empty()) {
    reader_.error(*v, "must not be empty");
    return false;
  }
  out = std::move(*text);
  return true;
}

bool MapReader::get(std::string_view key, bool& out) {
  const auto v = take(key);
  if (!v) return false;
  const auto b = reader_.boolean(*v);
  if (b) out = *b;
  return b.has_value();
}

bool MapReader::get_duration(std::string_view key, Duration& out, bool allow_zero) {
  const auto v = take(key);
  if (!v) return false;
  const auto d = reader_.duration(*v, allow_zero);
  if (d) out = *d;
  return d.has_value();
}

bool MapReader::get_duration(std::string_view key, std::optional<Duration>& out, bool allow_zero) {
  Duration d{};
  if (!get_duration(key, d, allow_zero)) return false;
  out = d;
  return true;
}

}  // namespace vane::config
