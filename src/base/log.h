#pragma once

#include <string_view>

#include "base/status.h"

namespace tri {

// Configures the process-wide spdlog logger: level by name (trace, debug,
// info, warn, error, off) and output to stderr. Drivers log; cores never do.
Status SetupLogging(std::string_view level);

}  // namespace tri
