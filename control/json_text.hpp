// JSON text as vane writes it (admin API answers, `vane ... --json`): Boost.JSON's serializer
// writes doubles in exponent form (`6.424E1`); people and scripts read `64.24`. Any thread.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace vane::control {

/// What boost::json::serialize(value) writes, except that a double is the shortest decimal that
/// reads back as the same double, without an exponent when 1e-6 <= |d| < 1e21 (`64`, `64.24`,
/// `0.5`); outside that range the shortest form, which may have one (`1e+21`). NaN and infinities,
/// which JSON cannot hold, are written `null`.
std::string to_text(const boost::json::value& value);

}  // namespace vane::control
