#include "sim/swim_stats.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace tri::sim {

double NearestRank(std::vector<double>& values, double q) {
  TRI_ASSERT(q >= 0.0 && q <= 1.0);
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return values[rank - 1];
}

double PoissonUpper95(std::uint64_t events, double exposure) {
  TRI_ASSERT(exposure > 0);
  // Upper 95% limits of a Poisson mean for k observed events (chi-square / 2,
  // 2k + 2 degrees of freedom, one-sided).
  static constexpr double kUpper[] = {2.996,  4.744,  6.296,  7.754,  9.154, 10.513,
                                      11.842, 13.148, 14.435, 15.705, 16.962};
  if (events <= 10) return kUpper[events] / exposure;
  const double k = static_cast<double>(events);
  return (k + 1.645 * std::sqrt(k) + 1.0) / exposure;
}

}  // namespace tri::sim
