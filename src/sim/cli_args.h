#pragma once

// Argument helpers shared by the tri-sim subcommands.

#include <cstdint>
#include <string>

namespace tri::sim {

// "A..B" or "A" (A <= B); false on anything else.
bool ParseSeedRange(const std::string& text, std::uint64_t* first, std::uint64_t* last);

// True when `violated` is one of the invariant names in the comma-separated `list`.
bool ExpectedViolation(const std::string& list, const std::string& violated);

}  // namespace tri::sim
