#include "sim/cli_args.h"

#include <algorithm>
#include <exception>

namespace tri::sim {

bool ParseSeedRange(const std::string& text, std::uint64_t* first, std::uint64_t* last) {
  const auto dots = text.find("..");
  try {
    if (dots == std::string::npos) {
      *first = *last = std::stoull(text);
    } else {
      *first = std::stoull(text.substr(0, dots));
      *last = std::stoull(text.substr(dots + 2));
    }
  } catch (const std::exception&) {
    return false;
  }
  return *first <= *last;
}

bool ExpectedViolation(const std::string& list, const std::string& violated) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    if (list.compare(start, comma - start, violated) == 0) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace tri::sim
