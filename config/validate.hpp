// Checks that span fields or sections, run once the file is parsed: references, duplicate names,
// template args, where an analysis may run. Control thread, while loading only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace vane::config {

/// Reports every problem through `reader`, at the position of the value concerned.
void validate(const Config& config, Reader& reader);

/// The analysis part of validate() (validate_analysis.cpp): templates and the specs that use them.
void validate_analysis(const Config& config, Reader& reader);

/// `"text"`, for names in messages.
std::string quoted(std::string_view text);

/// 1250 -> "12.5": a percentage in hundredths, for messages.
std::string format_centi(uint32_t centi);

/// "routes[3].upstream"; "routes[3]" when `field` is empty.
std::string item_path(std::string_view list, std::size_t index, std::string_view field = {});

}  // namespace vane::config
