#pragma once

// SagaExecutor: what the leader does for the replicated saga table
// (rsm/saga_table.h). Deterministic and single-threaded, like NodeCore: the
// node's loop (or the simulator) calls Round() after every Process() with the
// sagas that changed and its clock, and hands back what the action runner and
// the proposals report. Only a leader that has applied everything committed
// before its term (NodeCore::LeaderReady) executes anything.
//
// For each attempt the table wants (scheduled by a saga's orchestrator, no
// result yet) the executor:
// - noop: proposes its success at once (nothing to dispatch: no effect);
// - any other action: proposes a "started" input (the dispatch). Only once it
//   is committed, with the dispatch token it got (the entry's log index, handed
//   to the action as its fencing token), the action runs: sleep and fail on
//   the executor's own timers, exec and http through the ActionRunner. The
//   state machine refuses a dispatch that arrives after the attempt was
//   cancelled or the saga began to stop, so no forward action starts after the
//   stop in log order;
// - proposes the result with the dispatch token; a result of a superseded
//   dispatch is dropped by the state machine.
// An attempt dispatched by an earlier leader and still without a result is
// dispatched again (same idempotency key, new token) once `redispatch_grace_ms`
// passed since this leader became ready: its action may run twice, so actions
// must be idempotent on the key (at-least-once per attempt).
// A new attempt of a step (a retry, or its compensation) starts only after the
// previous attempt's action of that step ended here (its process reaped).
// Due timers are proposed as "timer fired" inputs. Inputs of one round share
// one log entry.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/status.h"
#include "rsm/saga_codec.h"
#include "rsm/saga_table.h"
#include "saga/spec.h"

namespace tri::server {

struct SagaExecutorOptions {
  std::uint64_t redispatch_grace_ms = 5000;
  // A proposal that did not come back (lost with a leader change inside the
  // same term is impossible; a timeout is not) is made again after this long.
  std::uint64_t repropose_after_ms = 2000;
  // Inputs per proposed entry.
  std::size_t max_inputs_per_entry = 4096;
};

// An exec or http action to run, templates rendered.
struct AttemptJob {
  std::uint64_t job_id = 0;
  std::string saga_id;
  std::string step_id;
  saga::AttemptPhase phase = saga::AttemptPhase::kForward;
  std::uint32_t attempt = 0;
  std::uint64_t dispatch = 0;  // the fencing token
  std::string idempotency_key;
  saga::Action action;
};

struct AttemptOutcome {
  bool succeeded = false;
  int code = 0;
  bool retryable = true;
  std::string output;   // succeeded
  std::string message;  // failed
};

// Runs exec and http actions (threads, processes: a driver). Each started job
// ends with exactly one SagaExecutor::OnActionDone, on the loop thread, after
// its process was reaped (or its request ended), also when cancelled.
class ActionRunner {
 public:
  virtual ~ActionRunner() = default;
  virtual void Start(AttemptJob job) = 0;
  virtual void Cancel(std::uint64_t job_id) = 0;
};

// Proposes a saga command through the log; `done` runs once with the apply
// result (ok + reply) or the failure (no leader, timeout).
class SagaProposer {
 public:
  virtual ~SagaProposer() = default;
  virtual void ProposeSaga(std::string payload,
                           std::function<void(Status, const rsm::SagaReply*)> done) = 0;
};

struct SagaExecutorStats {
  std::uint64_t dispatches = 0;  // started inputs committed (incl. re-dispatches)
  std::uint64_t redispatches = 0;
  std::uint64_t results_proposed = 0;
  std::uint64_t timers_proposed = 0;
  std::uint64_t entries_proposed = 0;
  std::uint64_t cancelled = 0;  // running actions stopped (cancel, stop, leadership lost)
};

class SagaExecutor {
 public:
  // `table` returns the node's current saga table (a snapshot install replaces
  // the state machine, so the executor never keeps a pointer to it).
  SagaExecutor(SagaExecutorOptions options, ActionRunner* runner, SagaProposer* proposer,
               std::function<const rsm::SagaTable&()> table);

  // One round: `changed` = sagas whose state changed since the last round
  // (rsm::StateMachine::TakeChangedSagas). Not leader-ready: everything running
  // here is cancelled and forgotten.
  void Round(bool leader_ready, std::uint64_t now_ms, const std::vector<std::string>& changed);
  // The runner's report (loop thread).
  void OnActionDone(std::uint64_t job_id, AttemptOutcome outcome);
  // When Round() wants to run again without a new input (sleep/fail ends,
  // timers, the re-dispatch grace): UINT64_MAX when never.
  std::uint64_t next_wake_ms() const;

  const SagaExecutorStats& stats() const { return stats_; }
  std::size_t running_jobs() const { return jobs_.size(); }

 private:
  using SlotKey = std::tuple<std::string, saga::AttemptPhase, saga::StepIndex>;
  enum class JobState : std::uint8_t {
    kDispatching,  // "started" proposed, waiting for its token
    kRunning,      // action running (runner or own timer)
    kReporting,    // result proposed
  };
  struct Job {
    std::uint64_t id = 0;
    std::uint32_t attempt = 0;
    std::uint64_t dispatch = 0;
    JobState state = JobState::kDispatching;
    bool external = false;  // exec/http through the runner
    bool cancel_sent = false;
    std::uint64_t done_at_ms = 0;  // sleep/fail: when it ends
    AttemptOutcome outcome;        // sleep/fail: the outcome at done_at_ms
    std::uint64_t proposed_at_ms = 0;
  };

  void Reset();
  void Reconcile(const rsm::SagaTable& table, const std::string& saga_id);
  void StartSlot(const rsm::SagaInstance& instance, const SlotKey& key,
                 const rsm::SagaWantedAttempt& wanted, Job& job);
  void RunAction(const SlotKey& key, Job& job);
  void Report(const SlotKey& key, Job& job, AttemptOutcome outcome);
  void CancelJob(Job& job);
  void Flush();
  void OnProposed(std::uint64_t generation, std::vector<rsm::SagaInput> inputs, Status status,
                  const rsm::SagaReply* reply);
  Job* FindJob(const SlotKey& key, std::uint32_t attempt);

  const SagaExecutorOptions options_;
  ActionRunner* const runner_;
  SagaProposer* const proposer_;
  const std::function<const rsm::SagaTable&()> table_;

  bool ready_ = false;
  std::uint64_t generation_ = 0;  // bumped on every loss of leadership
  std::uint64_t ready_since_ms_ = 0;
  std::uint64_t now_ms_ = 0;
  std::map<SlotKey, Job> jobs_;
  std::map<std::uint64_t, SlotKey> job_keys_;  // job id -> slot
  std::uint64_t next_job_id_ = 1;
  // Sagas to look at again (a job of theirs ended, or a grace passed).
  std::set<std::string> revisit_;
  std::uint64_t redispatch_wake_ms_ = UINT64_MAX;
  // Timers proposed and when (not re-proposed before repropose_after_ms).
  std::map<std::tuple<std::uint64_t, std::string, saga::TimerId>, std::uint64_t> timers_proposed_;
  std::uint64_t sweep_proposed_at_ms_ = 0;
  std::vector<rsm::SagaInput> pending_;
  SagaExecutorStats stats_;
};

}  // namespace tri::server
