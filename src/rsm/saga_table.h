#pragma once

// The replicated saga table: registered definitions and saga instances, driven
// by committed saga commands (rsm/saga_codec.h). Every replica applies the same
// entries with the same log time to the same pure saga::Orchestrator per
// instance, so every replica holds the same saga state (the state hash checks
// it). A pure core: no I/O, clock or randomness of its own (a saga's backoff
// jitter comes from a generator seeded by its id, whose state is part of the
// snapshot).
//
// What the leader must do next is part of the state, for its executor to read:
// per instance, the attempts the orchestrator scheduled that have no result yet
// (`wanted`, with the dispatch that runs each) and the armed timers. A new
// leader re-reads them and carries on; nothing is kept only in a leader's
// memory (docs/sagas-cluster.md).
//
// Retention: a finished saga is dropped once `retention_ms` of log time passed
// since it finished, or, beyond `max_finished_sagas`, the oldest finished first;
// each drop is reported through TakeSwept() for the node to log.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "base/rng.h"
#include "rsm/kv_error.h"
#include "rsm/saga_codec.h"
#include "saga/definition.h"
#include "saga/orchestrator.h"

namespace tri::rsm {

struct SagaOptions {
  // Bounds of definitions and instances (steps, document and output bytes).
  saga::SagaLimits limits;
  // Starts beyond this many running sagas fail with "too many running sagas".
  std::uint32_t max_running_sagas = 10'000;
  // Finished sagas are kept this long (log time), and at most this many.
  std::uint64_t retention_ms = 7ull * 24 * 3600 * 1000;
  std::uint32_t max_finished_sagas = 100'000;
  // Definitions (every version of every name counts).
  std::uint32_t max_definitions = 10'000;
  // Events kept per saga for watchers; the oldest are dropped beyond it.
  std::uint32_t max_events_per_saga = 20'000;
};

// One transition of a saga, as its orchestrator traced it.
struct SagaEventRecord {
  std::uint64_t time_ms = 0;
  saga::StepIndex step = saga::kNoStep;
  saga::TraceEvent event = saga::TraceEvent::kSagaStarted;
  std::uint32_t attempt = 0;
  int code = 0;
};

struct SagaDefinitionEntry {
  std::string name;
  std::uint32_t version = 0;  // 0: an inline definition of one saga
  std::string document;
  std::string source_name;
  std::shared_ptr<const saga::SagaDefinition> definition;
};

// An attempt the orchestrator scheduled and whose result is not in yet.
struct SagaWantedAttempt {
  std::uint32_t attempt = 0;
  // The log index of the kStarted input that dispatched it (the fencing token
  // handed to the action); 0 = not dispatched through the log yet.
  std::uint64_t dispatch = 0;
  std::uint64_t scheduled_ms = 0;
};

struct SagaInstance {
  std::string id;
  std::shared_ptr<const SagaDefinitionEntry> definition;
  saga::SagaInputs inputs;
  std::uint64_t created_ms = 0;
  std::uint64_t finished_ms = 0;   // 0 while running
  std::unique_ptr<SeededRng> rng;  // stable address: the orchestrator holds it
  std::unique_ptr<saga::Orchestrator> orchestrator;
  // Keyed by (phase, step).
  std::map<std::pair<saga::AttemptPhase, saga::StepIndex>, SagaWantedAttempt> wanted;
  std::map<saga::TimerId, std::uint64_t> timers;  // id -> fire time (log ms)
  std::deque<SagaEventRecord> events;
  std::uint64_t first_event_position = 0;  // position of events.front()
  std::uint64_t stale_results_dropped = 0;

  bool finished() const { return finished_ms != 0; }
  std::uint64_t next_event_position() const { return first_event_position + events.size(); }
  const saga::SagaDefinition& def() const { return *definition->definition; }
};

struct SagaSweepRecord {
  std::string saga_id;
  std::string outcome;
  std::uint64_t finished_ms = 0;
  const char* reason = "";  // "retention" or "count bound"
};

class SagaTable {
 public:
  explicit SagaTable(SagaOptions options = {});
  SagaTable(SagaTable&&) noexcept = default;
  SagaTable& operator=(SagaTable&&) noexcept = default;

  // Applies a decoded command committed at `index` with log time `now_ms`
  // (monotone across calls). Errors are the client's (unknown saga, bad
  // inputs, ...); state is unchanged by a failed command.
  KvOr<SagaReply> Apply(std::uint64_t index, std::uint64_t now_ms, const SagaCommand& command);

  // Drops finished sagas past retention at log time `now_ms` (called for every
  // applied entry, so that time passing alone sweeps).
  void Sweep(std::uint64_t now_ms);
  // Log time at which the next retention drop is due (UINT64_MAX: none).
  std::uint64_t next_sweep_ms() const;

  // --- reads ---------------------------------------------------------------
  const SagaInstance* Find(std::string_view saga_id) const;
  const std::map<std::string, std::unique_ptr<SagaInstance>, std::less<>>& sagas() const {
    return sagas_;
  }
  const std::set<std::string, std::less<>>& running() const { return running_; }
  // Version 0 = the newest. nullptr when unknown.
  const SagaDefinitionEntry* FindDefinition(std::string_view name, std::uint32_t version) const;
  std::size_t definition_count() const { return definition_count_; }
  std::uint64_t stale_results_dropped() const { return stale_results_dropped_; }
  // Armed timers of running sagas, earliest first: (fire ms, saga id, timer).
  const std::set<std::tuple<std::uint64_t, std::string, saga::TimerId>>& timers() const {
    return timer_index_;
  }

  // --- observation (not replicated state) -----------------------------------
  // Sagas whose state changed since the last call (new events, attempts or
  // timers), each once; for the executor and the watchers.
  std::vector<std::string> TakeChanged();
  std::vector<SagaSweepRecord> TakeSwept();

  // --- snapshots -------------------------------------------------------------
  void EncodeTo(std::string& out) const;
  // Re-parses the definitions and restores every orchestrator (which validates
  // its state); errors name the saga or definition.
  static Result<SagaTable> DecodeFrom(coding::Decoder& in, const SagaOptions& options);

  const SagaOptions& options() const { return options_; }

 private:
  KvOr<SagaReply> ApplyDefine(const SagaDefineCommand& c);
  KvOr<SagaReply> ApplyStart(std::uint64_t now_ms, const SagaStartCommand& c);
  KvOr<SagaReply> ApplyAbort(std::uint64_t now_ms, const SagaAbortCommand& c);
  KvOr<SagaReply> ApplyInputs(std::uint64_t index, std::uint64_t now_ms,
                              const SagaInputsCommand& c);
  // Runs the orchestrator's commands and trace after one input.
  void AfterInput(SagaInstance& instance, std::uint64_t now_ms);
  void Finish(SagaInstance& instance, std::uint64_t now_ms);
  void Drop(const std::string& saga_id, const char* reason);
  void MarkChanged(const std::string& saga_id);
  SagaInstance* FindMutable(std::string_view saga_id);

  SagaOptions options_;
  // name -> version -> entry.
  std::map<std::string, std::map<std::uint32_t, std::shared_ptr<const SagaDefinitionEntry>>,
           std::less<>>
      definitions_;
  std::size_t definition_count_ = 0;
  std::map<std::string, std::unique_ptr<SagaInstance>, std::less<>> sagas_;
  std::set<std::string, std::less<>> running_;
  std::set<std::pair<std::uint64_t, std::string>> finished_index_;  // (finished ms, id)
  std::set<std::tuple<std::uint64_t, std::string, saga::TimerId>> timer_index_;
  std::uint64_t stale_results_dropped_ = 0;

  std::vector<saga::Command> commands_;  // scratch
  std::vector<std::string> changed_;
  std::set<std::string, std::less<>> changed_set_;
  std::vector<SagaSweepRecord> swept_;
};

}  // namespace tri::rsm
