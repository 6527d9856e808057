#pragma once

// How `tri demo` prints its measurements: a table for people, JSON for tools.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "demo/scenarios.h"

namespace tri::demo {

// {"scenarios": [{"name", "sagas", "completed", "compensated", "steps_succeeded",
//   "compensations", "timed_out", "cancelled", "max_parallelism",
//   "avg_parallelism", "wall_ms", "saga_p50_ms", "saga_p99_ms",
//   "compensation_failed", "failed", "details": [{"saga", "count", "outcome",
//   "steps_succeeded", "compensations", "timed_out", "cancelled",
//   "max_parallelism"}]}]}
nlohmann::json ReportsToJson(const std::vector<ScenarioReport>& reports);

// One row per scenario, then one indented line per distinct saga outcome.
std::string ReportsTable(const std::vector<ScenarioReport>& reports);

}  // namespace tri::demo
