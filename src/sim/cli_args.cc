#include "sim/cli_args.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <vector>

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

int RunSeedBatch(const SeedBatch& batch,
                 const std::function<std::string(std::uint64_t)>& run_seed) {
  std::uint64_t first = batch.seed;
  std::uint64_t last = batch.seed;
  if (!batch.seeds_text.empty() && !ParseSeedRange(batch.seeds_text, &first, &last)) {
    fmt::print(stderr, "tri-sim {}: --seeds wants A..B with A <= B, got '{}'\n", batch.name,
               batch.seeds_text);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> failed;
  std::vector<std::uint64_t> expected_hits;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    const std::string violated = run_seed(seed);
    if (!violated.empty()) {
      failed.push_back(seed);
      if (!batch.expect_violation.empty() && ExpectedViolation(batch.expect_violation, violated)) {
        expected_hits.push_back(seed);
      }
    }
    std::fflush(stdout);
    if (batch.stop_at_expected && !expected_hits.empty()) {
      last = seed;  // found: the rest adds nothing
      break;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t runs = last - first + 1;
  if (runs > 1 || !batch.expect_violation.empty()) {
    fmt::print("tri-sim {}: {} seed(s) {}..{}, {} failed{}{}, {:.1f}s\n", batch.name, runs, first,
               last, failed.size(), failed.empty() ? "" : ": ",
               fmt::format("{}", fmt::join(failed, " ")), seconds);
  }
  if (!batch.expect_violation.empty()) {
    if (expected_hits.empty()) {
      fmt::print("tri-sim {}: expected a '{}' violation, but no seed produced one\n", batch.name,
                 batch.expect_violation);
      return 1;
    }
    fmt::print("tri-sim {}: '{}' caught, first at seed {}\n", batch.name, batch.expect_violation,
               expected_hits.front());
    return 0;
  }
  return failed.empty() ? 0 : 1;
}

}  // namespace tri::sim
