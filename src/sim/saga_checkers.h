#pragma once

// Checkers of the saga simulation (`tri-sim saga`, saga_sim.h). Each violation
// names the rule, the saga and (where there is one) the step.
//
// Rules:
//  - "one terminal state": a finished saga's history holds exactly one terminal
//    event (saga_completed, saga_compensated, saga_compensation_failed,
//    saga_failed), as its last event, matching its outcome; a running saga none;
//    once finished, a saga never changes its outcome; at the end every started
//    saga is finished on every replica with the same outcome.
//  - "replicas agree": replicas at the same applied index hold identical saga
//    tables (the state hash, node_checkers.h, and the encoded table at the end).
//  - "no forward start after stop": no step_started event after the saga's stop
//    in its history (its first step_cancelled, compensation_started or
//    non-completed terminal event: a final step failure, the deadline and an
//    abort are each followed at once by one of these), and in log order no forward
//    dispatch (an accepted "started" input) and no forward result (a noop's
//    success among them) applied once the saga stopped.
//  - "compensation order": a step's first compensation_started comes after every
//    step of the compensation set that depends on it (transitively) finished
//    compensating (compensation_succeeded, or its last compensation_failed).
//  - "no superseded result applied": a result applied to the table carries the
//    dispatch token of the attempt's latest accepted dispatch, and an attempt's
//    result applies once.
//
// CheckSagaEvents reads one saga's event history (the table's per-saga events).
// SagaLogObserver reads the committed log in order into a saga table of its
// own (the same code and options as the replicas, so it decides what they
// decide) applying each input of an entry on its own, and judges each applied
// input against the dispatch tokens it saw handed out.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "raft/types.h"
#include "rsm/saga_table.h"
#include "rsm/state_machine.h"
#include "saga/definition.h"

namespace tri::sim {

inline constexpr std::string_view kRuleOneTerminalState = "one terminal state";
inline constexpr std::string_view kRuleReplicasAgree = "replicas agree";
inline constexpr std::string_view kRuleNoStartAfterStop = "no forward start after stop";
inline constexpr std::string_view kRuleCompensationOrder = "compensation order";
inline constexpr std::string_view kRuleNoSupersededResult = "no superseded result applied";

struct SagaViolation {
  std::string rule;
  std::string saga_id;
  std::string step;  // empty when the rule is about the whole saga
  std::string details;

  // "saga 'ID', step 'S': DETAILS" (what and where, without the rule).
  std::string Describe() const;
  // "RULE: " + Describe().
  std::string ToString() const;
};

// Checks one saga's history. `events` are complete (nothing dropped by the
// per-saga bound) and in log order; `finished` and `outcome` are the table's.
std::optional<SagaViolation> CheckSagaEvents(std::string_view saga_id,
                                             const saga::SagaDefinition& def,
                                             const std::deque<rsm::SagaEventRecord>& events,
                                             bool finished, saga::SagaOutcome outcome);

// CheckSagaEvents on every saga of `table` whose history is complete.
std::optional<SagaViolation> CheckSagaTable(const rsm::SagaTable& table);

struct SagaObserverStats {
  std::uint64_t entries = 0;  // saga entries read
  std::uint64_t dispatches = 0;
  std::uint64_t results_applied = 0;
  std::uint64_t stale_results_refused = 0;  // results the table dropped
  std::uint64_t resyncs = 0;                // ResyncFrom calls
};

class SagaLogObserver {
 public:
  explicit SagaLogObserver(rsm::SagaOptions options);

  // The committed entry after the last one observed (the caller reads the
  // committed log in order; a gap is the caller's bug).
  void Observe(const raft::Entry& entry);
  std::uint64_t observed_index() const { return observed_index_; }
  // The committed entries after observed_index() up to `state`'s applied index
  // are in no node's log any more, only in snapshots (a node that snapshots an
  // entry and restarts keeps only what follows): the observer goes on from
  // `state`'s saga table. What the skipped entries did is not judged; each
  // attempt's latest dispatch is taken from the table's wanted attempts, and a
  // saga finished before keeps its outcome (checked).
  void ResyncFrom(const rsm::StateMachine& state);

  const rsm::SagaTable& table() const { return table_; }
  const std::optional<SagaViolation>& violation() const { return violation_; }
  const SagaObserverStats& stats() const { return stats_; }

 private:
  using AttemptKey = std::tuple<std::string, saga::AttemptPhase, saga::StepIndex, std::uint32_t>;
  void ApplyInput(std::uint64_t index, const rsm::SagaInput& input);
  void CheckOutcomeKept(const std::string& saga_id);
  void Violate(std::string_view rule, std::string saga_id, std::string step, std::string details);
  std::string StepName(const std::string& saga_id, saga::StepIndex step) const;

  rsm::SagaTable table_;
  std::uint64_t observed_index_ = 0;
  std::uint64_t time_ms_ = 0;  // the log's time: max of the entries' timestamps
  // The latest accepted dispatch token of each attempt, and the attempts whose
  // result was applied.
  std::map<AttemptKey, std::uint64_t> dispatch_;
  std::set<AttemptKey> resulted_;
  // Outcomes of finished sagas, as first seen.
  std::map<std::string, saga::SagaOutcome, std::less<>> finished_;
  SagaObserverStats stats_;
  std::optional<SagaViolation> violation_;
};

}  // namespace tri::sim
