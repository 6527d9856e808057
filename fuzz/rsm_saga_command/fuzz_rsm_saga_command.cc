// Arbitrary bytes as the payload of a saga command in a committed entry: the
// state machine must answer an error or a reply, never crash or assert (a log
// may hold a corrupt entry or one written by a newer version), whatever the
// bytes claim about sagas, steps, attempts, dispatch tokens and timers. The
// state holds a registered definition and running sagas, so that inputs can
// reach real orchestrators. After the entry the state must snapshot, restore
// and hash the same; a command that decodes must round-trip.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "rsm/command.h"
#include "rsm/saga_codec.h"
#include "rsm/state_machine.h"

namespace {

using tri::rsm::Command;
using tri::rsm::CommandKind;
using tri::rsm::EncodeCommand;
using tri::rsm::EncodeSagaCommand;
using tri::rsm::SagaCommand;
using tri::rsm::SagaInput;
using tri::rsm::SagaOptions;
using tri::rsm::StateMachine;

constexpr char kDocument[] = R"(name: f
steps:
  - id: a
    run: {sleep: {duration: 10ms}}
    compensate: noop
    timeout: 1s
    retry: {max_attempts: 3}
  - id: b
    needs: [a]
    run: noop
    compensate: noop
)";

SagaOptions Options() {
  SagaOptions options;
  options.max_running_sagas = 8;
  options.max_events_per_saga = 64;
  options.limits.max_document_bytes = 4096;
  return options;
}

std::string Entry(const SagaCommand& c, std::uint64_t ms) {
  return EncodeCommand(Command{CommandKind::kSaga, 1, ms, EncodeSagaCommand(c)});
}

StateMachine Populated() {
  StateMachine sm({}, Options());
  std::uint64_t i = 0;
  TRI_ASSERT(sm.Apply(++i, Entry(tri::rsm::SagaDefineCommand{kDocument, "f.yaml"}, 1000)).result.ok());
  for (const char* id : {"s1", "s2", "s3"}) {
    TRI_ASSERT(sm.Apply(++i, Entry(tri::rsm::SagaStartCommand{.saga_id = id, .definition_name = "f"},
                                   1000))
                   .result.ok());
  }
  SagaInput started{.kind = SagaInput::Kind::kStarted, .saga_id = "s2", .step = 0, .attempt = 1};
  TRI_ASSERT(sm.Apply(++i, Entry(tri::rsm::SagaInputsCommand{{started}}, 1001)).result.ok());
  TRI_ASSERT(sm.Apply(++i, Entry(tri::rsm::SagaAbortCommand{"s3"}, 1002)).result.ok());
  return sm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string populated = Populated().Snapshot();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  StateMachine sm({}, Options());
  TRI_ASSERT(sm.Restore(populated).ok());
  const std::uint64_t index = sm.applied_index() + 1;
  (void)sm.Apply(index, EncodeCommand(Command{CommandKind::kSaga, 3, 2000, std::string(bytes)}));
  // Time passing: every timer of every saga fires, then abort all.
  std::uint64_t i = index;
  for (const char* id : {"s1", "s2", "s3"}) {
    tri::rsm::SagaInputsCommand timers;
    if (const auto* s = sm.sagas().Find(id)) {
      for (const auto& [timer, at] : s->timers)
        timers.inputs.push_back(
            SagaInput{.kind = SagaInput::Kind::kTimerFired, .saga_id = id, .timer = timer});
    }
    (void)sm.Apply(++i, Entry(timers, 60'000));
    (void)sm.Apply(++i, Entry(tri::rsm::SagaAbortCommand{id}, 60'000));
  }

  auto decoded = tri::rsm::DecodeSagaCommand(bytes);
  if (decoded.ok()) {
    // Encoding is canonical from the first re-encoding on (varints may arrive
    // in longer forms than we write).
    const std::string once = EncodeSagaCommand(*decoded);
    auto again = tri::rsm::DecodeSagaCommand(once);
    TRI_ASSERT_MSG(again.ok() && EncodeSagaCommand(*again) == once,
                   "a decoded saga command does not round-trip");
  }
  StateMachine restored({}, Options());
  TRI_ASSERT_MSG(restored.Restore(sm.Snapshot()).ok(), "applied state fails its own checks");
  TRI_ASSERT(restored.StateHash() == sm.StateHash());
  return 0;
}
