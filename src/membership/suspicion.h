#pragma once

// Suspicion timeouts (docs/membership.md, "Suspicion"), after Lifeguard's
// "local health aware suspicion" (the dogpile) and memberlist's suspicion.go.

#include <cstdint>

#include "membership/config.h"
#include "membership/types.h"

namespace tri::membership {

struct SuspicionBounds {
  Millis min = 0;
  Millis max = 0;
  int confirmations_wanted = 0;  // k; 0 = the timeout is min from the start
};

// min = suspicion_multiplier * max(1, log10(live)) * suspicion_unit,
// max = suspicion_max_multiplier * min (min again without the dogpile),
// k = suspicion_confirmations unless fewer than k + 2 members are live.
SuspicionBounds ComputeSuspicionBounds(const Config& config, std::size_t live_members);

// The dogpile: the whole timeout given `confirmations` independent suspicions
// beyond the first, max - (max - min) * log(n + 1) / log(k + 1), never below min.
Millis SuspicionTimeout(const SuspicionBounds& bounds, int confirmations);

}  // namespace tri::membership
