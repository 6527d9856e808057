#pragma once

// Durations as written in the saga DSL: a number with a unit, or several
// concatenated ("1m30s"). Units: ns, us, ms, s, m, h. Fractions are allowed
// ("1.5s"); a bare "0" is zero. Negative values are not durations.

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"

namespace tri::saga {

// Parses `text`; the error message names the text and says what is wrong.
Result<Duration> ParseDuration(std::string_view text);

// The shortest exact DSL spelling of `d` ("250ms", "1m30s", "0"); round-trips
// through ParseDuration. REQUIRES: d >= 0.
std::string FormatDuration(Duration d);

}  // namespace tri::saga
