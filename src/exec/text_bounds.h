#pragma once

// Bounding text that ends up in failure messages, without splitting a UTF-8
// sequence at the cut (the reports are JSON, which wants valid UTF-8 where
// the input was valid).

#include <cstdint>
#include <string>

namespace tri::exec {

// The first at most `max_bytes` bytes of `text`.
std::string TruncateHead(std::string text, std::uint64_t max_bytes);

// The last at most `max_bytes` bytes of `text`.
std::string TruncateTail(std::string text, std::uint64_t max_bytes);

}  // namespace tri::exec
