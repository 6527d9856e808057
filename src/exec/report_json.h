#pragma once

// JSON renderings of what the runtime reports, shared by `tri run --json`,
// `--trace-json` and tests (docs/cli.md documents the schemas).

#include <nlohmann/json.hpp>
#include <string>

#include "exec/runtime.h"

namespace tri::exec {

// {"saga", "name", "outcome", "stop_cause", "wall_ms", "started_unix_ms",
//  "stats": {...},
//  "steps": [{"id", "state", "forward_state", "attempts",
//             "compensation_attempts", "code", "message", "output",
//             "started_unix_ms", "ended_unix_ms", "started_at", "ended_at",
//             "compensation_started_unix_ms", "compensation_ended_unix_ms"}],
//  "compensation_failed_steps": [...]}. A step output that is JSON is
// embedded as JSON, any other output as a string. Times are null when the
// step never got there or the run did not record them
// (SubmitOptions::record_step_times); *_at are RFC 3339 UTC with milliseconds.
nlohmann::json SagaResultToJson(const SagaResult& result);

// "2026-11-27T08:01:02.345Z".
std::string Rfc3339Millis(std::int64_t unix_ms);

// One `--trace-json` line (no newline): {"ts_ns", "unix_ms", "saga", "step"
// (absent for saga-level events), "event", "attempt", "code"}.
std::string TraceLineJson(const SagaEvent& event);

}  // namespace tri::exec
