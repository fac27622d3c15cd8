// The process logger: one line per event on stderr. Any thread; each line is written with a
// single write() so lines from different threads never interleave.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace vane::proxy::log {

enum class Level { Debug, Info, Warn, Error };

void set_level(Level level);
void set_json(bool json);
void write(Level level, std::string_view message);
/// With fields a JSON line carries as string members besides "msg" (text lines: the message only).
using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;
void write(Level level, std::string_view message, Fields fields);

inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warn, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

}  // namespace vane::proxy::log
