#pragma once

// Saga commands in the replicated log (payload of CommandKind::kSaga), and
// what applying them answers. docs/rsm.md, "Saga commands", has the layout.
//
// Clients propose kDefine, kStart and kAbort through any member. The leader's
// executor proposes kInputs: what happened to the attempts and timers of
// running sagas (an attempt really started, an attempt's result, a timer
// fired), many of them in one entry.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.h"
#include "saga/events.h"

namespace tri::rsm {

// Register a definition: the document (YAML or JSON), parsed and validated on
// every replica. Registering the newest version's exact document again is a
// no-op that answers that version.
struct SagaDefineCommand {
  std::string document;
  std::string source_name;
};

// Start an instance of a registered definition (version 0 = the newest) or of
// an inline document. `saga_id` is always set (the proposing node generates a
// ULID when the client gave none); a saga with that id already existing is
// answered, not started again.
struct SagaStartCommand {
  std::string saga_id;
  std::string definition_name;
  std::uint32_t definition_version = 0;
  std::string inline_document;
  std::vector<std::pair<std::string, std::string>> inputs;
};

struct SagaAbortCommand {
  std::string saga_id;
};

// One orchestrator input observed by the leader.
struct SagaInput {
  enum class Kind : std::uint8_t {
    kStarted = 1,    // the attempt's action is about to start (dispatch)
    kSucceeded = 2,  // payload = output
    kFailed = 3,     // code, retryable, payload = message
    kTimerFired = 4,
  };
  Kind kind = Kind::kStarted;
  std::string saga_id;
  saga::AttemptPhase phase = saga::AttemptPhase::kForward;
  saga::StepIndex step = 0;
  std::uint32_t attempt = 0;
  // Results: the dispatch this result belongs to (the log index of the
  // kStarted input that dispatched it; 0 = an action that is not dispatched
  // through the log, such as noop). A result whose dispatch is not the
  // attempt's current one is stale: counted and dropped.
  std::uint64_t dispatch = 0;
  int code = 0;
  bool retryable = true;
  saga::TimerId timer = 0;
  std::string payload;
};

struct SagaInputsCommand {
  std::vector<SagaInput> inputs;
};

using SagaCommand =
    std::variant<SagaDefineCommand, SagaStartCommand, SagaAbortCommand, SagaInputsCommand>;

// Bounds of a decoded command (the document bound comes from saga::SagaLimits).
struct SagaDecodeLimits {
  std::uint64_t max_document_bytes = 4ull << 20;
  std::uint64_t max_inputs_per_entry = 100'000;
};

std::string EncodeSagaCommand(const SagaCommand& command);
// InvalidArgument naming the field and byte offset on truncation, an unknown
// operation or input kind, a bound exceeded, or trailing bytes.
Result<SagaCommand> DecodeSagaCommand(std::string_view bytes, const SagaDecodeLimits& limits = {});

// What applying a saga command answers (on success; errors are KvErrors).
struct SagaReply {
  // kDefine
  std::string name;
  std::uint32_t version = 0;
  // kStart
  std::string saga_id;
  // kDefine, kStart: the definition or saga existed already.
  bool already_existed = false;
  // kInputs: per input, in order: the dispatch token (the entry's index) of an
  // accepted kStarted input; 0 for every other input and for rejected ones.
  std::vector<std::uint64_t> dispatch_tokens;
};

}  // namespace tri::rsm
