#include "client/bench_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tri::client {

LatencySummary Summarize(std::vector<double>& samples_ms) {
  LatencySummary s;
  if (samples_ms.empty()) return s;
  std::sort(samples_ms.begin(), samples_ms.end());
  const std::size_t n = samples_ms.size();
  auto rank = [&](double p) {
    auto r = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
    return samples_ms[std::clamp<std::size_t>(r, 1, n) - 1];
  };
  s.count = n;
  s.p50_ms = rank(0.50);
  s.p90_ms = rank(0.90);
  s.p99_ms = rank(0.99);
  s.max_ms = samples_ms.back();
  long double sum = 0;
  for (double v : samples_ms)
    sum += v;
  s.mean_ms = static_cast<double>(sum / static_cast<long double>(n));
  return s;
}

nlohmann::json LatencySummaryJson(const LatencySummary& s) {
  return {{"count", s.count},   {"p50_ms", s.p50_ms}, {"p90_ms", s.p90_ms},
          {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

std::string LatencySummaryText(const LatencySummary& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f ms (%llu)",
                s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms, s.mean_ms,
                static_cast<unsigned long long>(s.count));
  return buf;
}

}  // namespace tri::client
