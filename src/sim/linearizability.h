#pragma once

// Linearizability of a key-value history (put, get, compare-and-swap), checked
// with the Wing & Gong search as refined by Lowe ("Testing for
// linearizability", 2016) and used by Knossos and porcupine:
//  - P-compositionality: every operation touches one key, so the history is
//    linearizable iff each per-key sub-history is; keys are checked apart.
//  - Memoization: a (set of linearized operations, model state) pair that was
//    already explored is never explored again.
// Operations that timed out (outcome kUnknown, return time "infinity") may be
// linearized anywhere after their call, or left out as never effective.

#include <cstdint>
#include <string>

#include "sim/history.h"

namespace tri::sim {

enum class LinearizabilityVerdict : std::uint8_t {
  kLinearizable,
  kNotLinearizable,
  kInconclusive,  // the search budget ran out; neither answer is proven
};

struct LinearizabilityOptions {
  // Bound on search steps per key; the search is exponential in the worst case.
  std::uint64_t max_search_steps_per_key = 20'000'000;
};

struct LinearizabilityResult {
  LinearizabilityVerdict verdict = LinearizabilityVerdict::kLinearizable;
  KvKey failing_key = 0;           // meaningful unless kLinearizable
  std::string explanation;         // human-readable reason when not linearizable
  std::uint64_t search_steps = 0;  // summed over keys
  std::uint64_t keys_checked = 0;
};

LinearizabilityResult CheckKvLinearizability(const KvHistory& history,
                                             const LinearizabilityOptions& options = {});

std::string_view VerdictName(LinearizabilityVerdict verdict);

}  // namespace tri::sim
