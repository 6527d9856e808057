#pragma once

// JSON renderings of what the runtime reports, shared by `tri run --json`,
// `--trace-json` and tests (docs/cli.md documents the schemas).

#include <nlohmann/json.hpp>
#include <string>

#include "exec/runtime.h"

namespace tri::exec {

// {"saga", "name", "outcome", "stop_cause", "wall_ms", "stats": {...},
//  "steps": [{"id", "state", "forward_state", "attempts",
//             "compensation_attempts", "code", "message", "output"}],
//  "compensation_failed_steps": [...]}. A step output that is JSON is
// embedded as JSON, any other output as a string.
nlohmann::json SagaResultToJson(const SagaResult& result);

// One `--trace-json` line (no newline): {"ts_ns", "saga", "step" (absent for
// saga-level events), "event", "attempt", "code"}.
std::string TraceLineJson(const SagaEvent& event);

}  // namespace tri::exec
