#pragma once

// Summary statistics of `tri-sim swim` (docs/membership.md).

#include <cstdint>
#include <vector>

namespace tri::sim {

// The nearest-rank q-quantile (q in [0, 1]) of `values`; -1 when empty.
// Sorts `values`.
double NearestRank(std::vector<double>& values, double q);

// The one-sided upper confidence bound on a Poisson rate when `events` were
// seen in `exposure` (node-hours): the 95% bound, 3.0 / exposure when none were
// seen (the "rule of three"); exact for 0..10 events, normal approximation above.
double PoissonUpper95(std::uint64_t events, double exposure);

}  // namespace tri::sim
