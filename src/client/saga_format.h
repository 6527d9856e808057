#pragma once

// How `tri saga ...` shows sagas in its table form (-w table); the JSON form
// is saga_json.h. Pure functions of the messages, so they are tested alone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trinity/v1/sagas.pb.h"

namespace tri::client {

// Exit statuses of a terminal saga, as `tri run` uses them (docs/cli.md).
inline constexpr int kExitSagaCompleted = 0;
inline constexpr int kExitSagaFailed = 1;
inline constexpr int kExitSagaCompensated = 3;
inline constexpr int kExitSagaCompensationFailed = 4;

// The exit status for a terminal state; nullopt for "running" or an unknown state.
std::optional<int> ExitCodeOfSagaState(std::string_view state);

// Unix milliseconds as RFC 3339 UTC with milliseconds ("2026-11-27T07:50:42.123Z");
// "-" for 0 (not yet).
std::string FormatUnixMs(std::uint64_t unix_ms);

// One event as `tri run` prints it, with its time since `base_ms`:
// "[    0.123s] step pay: step_failed (attempt 2) code 503", or
// "[    0.000s] saga ID: saga_started" for saga-level events.
std::string SagaEventLine(const trinity::v1::SagaEvent& event, const std::string& saga_id,
                          std::uint64_t base_ms);

// What stopped the saga in words: "failure of step pay (code 503)",
// "deadline", "abort"; empty when nothing stopped it.
std::string StopCauseText(const trinity::v1::Saga& saga);

// The end of `tri saga watch` and `start --wait`: "saga ID: STATE in 1.234s
// (2 succeeded, 1 failed, 1 compensated)", then "  stopped by: ..." and one
// line per step with a code or a message, and the steps whose compensation failed.
std::string SagaSummary(const trinity::v1::Saga& saga);

// `tri saga get -w table`: the saga's fields, then a table of its steps.
std::string RenderSagaDetail(const trinity::v1::Saga& saga);

// `tri saga list -w table`.
std::string RenderSagaList(const trinity::v1::ListSagasResponse& page);

}  // namespace tri::client
