#include "membership/suspicion.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace tri::membership {

SuspicionBounds ComputeSuspicionBounds(const Config& config, std::size_t live_members) {
  const double scale =
      std::max(1.0, std::log10(static_cast<double>(std::max<std::size_t>(live_members, 1))));
  SuspicionBounds bounds;
  bounds.min = static_cast<Millis>(config.suspicion_multiplier * scale *
                                   static_cast<double>(config.suspicion_unit));
  if (config.lifeguard_dogpile) {
    bounds.max = bounds.min * config.suspicion_max_multiplier;
    bounds.confirmations_wanted = config.suspicion_confirmations;
    if (live_members < static_cast<std::size_t>(bounds.confirmations_wanted) + 2) {
      bounds.confirmations_wanted = 0;
    }
  } else {
    bounds.max = bounds.min;
  }
  TRI_ASSERT(bounds.min > 0 && bounds.max >= bounds.min);
  return bounds;
}

Millis SuspicionTimeout(const SuspicionBounds& bounds, int confirmations) {
  TRI_ASSERT(confirmations >= 0);
  const int k = bounds.confirmations_wanted;
  if (k <= 0 || confirmations >= k) return bounds.min;
  const double fraction =
      std::log(static_cast<double>(confirmations) + 1.0) / std::log(static_cast<double>(k) + 1.0);
  const double raw =
      static_cast<double>(bounds.max) - fraction * static_cast<double>(bounds.max - bounds.min);
  return std::max(bounds.min, static_cast<Millis>(std::floor(raw)));
}

}  // namespace tri::membership
