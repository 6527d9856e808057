#include "demo/report.h"

#include <cstdio>

namespace tri::demo {

nlohmann::json ReportsToJson(const std::vector<ScenarioReport>& reports) {
  nlohmann::json scenarios = nlohmann::json::array();
  for (const ScenarioReport& r : reports) {
    nlohmann::json details = nlohmann::json::array();
    for (const auto& [summary, count] : r.details) {
      details.push_back({{"saga", summary.name},
                         {"count", count},
                         {"outcome", summary.outcome},
                         {"steps_succeeded", summary.steps_succeeded},
                         {"compensations", summary.compensations},
                         {"timed_out", summary.timed_out},
                         {"cancelled", summary.cancelled},
                         {"max_parallelism", summary.max_parallelism}});
    }
    scenarios.push_back({{"name", r.name},
                         {"sagas", r.sagas},
                         {"completed", r.completed},
                         {"compensated", r.compensated},
                         {"steps_succeeded", r.steps_succeeded},
                         {"compensations", r.compensations},
                         {"timed_out", r.timed_out},
                         {"cancelled", r.cancelled},
                         {"max_parallelism", r.max_parallelism},
                         {"avg_parallelism", r.avg_parallelism},
                         {"wall_ms", r.wall_ms},
                         {"saga_p50_ms", r.saga_p50_ms},
                         {"saga_p99_ms", r.saga_p99_ms},
                         {"compensation_failed", r.compensation_failed},
                         {"failed", r.failed},
                         {"entries_per_saga", r.entries_per_saga},
                         {"fsyncs_per_saga", r.fsyncs_per_saga},
                         {"note", r.note},
                         {"details", std::move(details)}});
  }
  return {{"scenarios", std::move(scenarios)}};
}

std::string ReportsTable(const std::vector<ScenarioReport>& reports) {
  std::string out;
  char line[256];
  std::snprintf(
      line, sizeof(line), "%-9s %5s %9s %11s %10s %13s %9s %9s %7s %7s %8s %8s %8s %9s %9s\n",
      "scenario", "sagas", "completed", "compensated", "steps_ok", "compensations", "timed_out",
      "cancelled", "max_par", "avg_par", "wall_ms", "p50_ms", "p99_ms", "entries/s", "fsyncs/s");
  out += line;
  for (const ScenarioReport& r : reports) {
    std::snprintf(line, sizeof(line),
                  "%-9s %5u %9u %11u %10u %13u %9u %9u %7u %7.2f %8.1f %8.1f %8.1f %9.1f %9.1f\n",
                  r.name.c_str(), r.sagas, r.completed, r.compensated, r.steps_succeeded,
                  r.compensations, r.timed_out, r.cancelled, r.max_parallelism, r.avg_parallelism,
                  r.wall_ms, r.saga_p50_ms, r.saga_p99_ms, r.entries_per_saga, r.fsyncs_per_saga);
    out += line;
  }
  out +=
      "(entries/s and fsyncs/s: log entries applied and fdatasyncs of all members, per saga)\n\n";
  for (const ScenarioReport& r : reports) {
    if (!r.note.empty()) out += "  " + r.name + ": " + r.note + "\n";
    for (const auto& [summary, count] : r.details) {
      std::snprintf(line, sizeof(line),
                    "  %-9s %3u x %-18s %-13s %u succeeded, %u compensated, %u timed out (408), "
                    "%u cancelled (499), max parallelism %u\n",
                    r.name.c_str(), count, summary.name.c_str(), summary.outcome.c_str(),
                    summary.steps_succeeded, summary.compensations, summary.timed_out,
                    summary.cancelled, summary.max_parallelism);
      out += line;
    }
  }
  return out;
}

}  // namespace tri::demo
