#pragma once

// Argument helpers shared by the tri-sim subcommands.

#include <cstdint>
#include <functional>
#include <string>

namespace tri::sim {

// "A..B" or "A" (A <= B); false on anything else.
bool ParseSeedRange(const std::string& text, std::uint64_t* first, std::uint64_t* last);

// True when `violated` is one of the invariant names in the comma-separated `list`.
bool ExpectedViolation(const std::string& list, const std::string& violated);

// A batch of seeds of one tri-sim subcommand (`name`: "node", "saga"): runs
// `run_seed(seed)` -> the violated invariant ("" = ok) for each seed of
// `seeds_text` ("A..B"; empty = `seed` alone), prints the batch summary and,
// with `expect_violation`, whether it was caught (stopping at the first catch
// when `stop_at_expected`). Returns the exit code: 0 ok / caught, 1 a failure /
// not caught, 2 a bad --seeds.
struct SeedBatch {
  std::string name;
  std::uint64_t seed = 1;
  std::string seeds_text;
  std::string expect_violation;
  bool stop_at_expected = false;
};
int RunSeedBatch(const SeedBatch& batch, const std::function<std::string(std::uint64_t)>& run_seed);

}  // namespace tri::sim
