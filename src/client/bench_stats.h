#pragma once

// Latency summaries shared by the coordination benchmarks (lock, watch,
// lease): exact percentiles of a sample kept whole (its size is bounded by the
// benchmark's options), and their JSON form.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tri::client {

struct LatencySummary {
  std::uint64_t count = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};

// Sorts `samples_ms` and summarizes it; an empty sample gives all zeros.
// Percentile p is the sample of rank ceil(p * n) (nearest rank).
LatencySummary Summarize(std::vector<double>& samples_ms);

// {"count":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"mean_ms":..}
nlohmann::json LatencySummaryJson(const LatencySummary& summary);

// "p50 1.23  p90 ..  p99 ..  max ..  mean .. ms (n samples)"
std::string LatencySummaryText(const LatencySummary& summary);

}  // namespace tri::client
