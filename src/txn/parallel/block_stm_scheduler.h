#pragma once

// The collaborative scheduler of Block-STM (arXiv 2203.06871, section 4),
// written for this project. Workers ask it for the next task, an execution or
// a validation of a transaction incarnation, always preferring the lowest
// index, and report how each task ended; it decides what must run again.
//
// State: two shared counters, execution_idx and validation_idx (the lowest
// index that may still need executing / validating; each only moves down when
// work below it reappears, counted by decrease_cnt), num_active_tasks (tasks
// handed out and not yet finished), and per transaction a status with its
// incarnation number and the list of transactions waiting for it, under one
// small mutex. The batch is done when both counters passed the end, no task is
// active, and no counter went down meanwhile.
//
// Thread safety: every method may be called from any worker at once.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace tri::txn {

class BlockStmScheduler {
 public:
  struct Task {
    enum class Kind : std::uint8_t { kNone, kExecute, kValidate };
    Kind kind = Kind::kNone;
    std::uint32_t txn = 0;
    std::uint32_t incarnation = 0;
  };

  explicit BlockStmScheduler(std::uint32_t txn_count);
  BlockStmScheduler(const BlockStmScheduler&) = delete;
  BlockStmScheduler& operator=(const BlockStmScheduler&) = delete;

  bool done() const { return done_.load(); }

  // The lowest validation or execution there is to do, or kNone (none now;
  // ask again unless done()).
  Task NextTask();

  // The execution of (txn, incarnation) read an ESTIMATE of `blocking`
  // (< txn). True: txn is suspended until `blocking` finishes its next
  // execution (the task ends). False: `blocking` has already finished; run txn
  // again at once, as the incarnation RetryIncarnation returns.
  bool AddDependency(std::uint32_t txn, std::uint32_t blocking);
  // A fresh incarnation number for an execution retried at once after
  // AddDependency returned false (each execution has its own, so a trace names
  // each one apart).
  std::uint32_t RetryIncarnation(std::uint32_t txn);

  // The execution finished and its writes and reads are recorded. Wakes the
  // transactions waiting for it. Returns its validation when validation has
  // already passed it and it wrote no new key (else the transactions from it
  // up are validated again through validation_idx).
  Task FinishExecution(std::uint32_t txn, std::uint32_t incarnation, bool wrote_new_location);

  // Claims the abort of a finished execution whose validation failed: true for
  // exactly one caller while (txn, incarnation) is the latest execution.
  bool TryValidationAbort(std::uint32_t txn, std::uint32_t incarnation);
  // After a validation. When `aborted`, the transaction is made ready for its
  // next incarnation, every transaction above it is validated again, and the
  // re-execution is returned if execution_idx has already passed it.
  Task FinishValidation(std::uint32_t txn, bool aborted);

  // The status of `txn`'s latest incarnation: its number, and whether that
  // execution finished (and was not aborted since). For the serial finish,
  // after the workers stopped.
  struct Latest {
    std::uint32_t incarnation = 0;
    bool executed = false;
  };
  Latest LatestOf(std::uint32_t txn) const;

  // Counters for tests and reports (read after the run).
  std::uint64_t validation_aborts() const { return validation_aborts_.load(); }
  std::uint64_t dependency_waits() const { return dependency_waits_.load(); }

 private:
  enum class Status : std::uint8_t { kReadyToExecute, kExecuting, kExecuted, kAborting };
  struct TxnState {
    mutable std::mutex mu;
    std::uint32_t incarnation = 0;
    Status status = Status::kReadyToExecute;
    // Transactions suspended until this one's current execution finishes.
    std::vector<std::uint32_t> dependents;
  };

  Task NextVersionToExecute();
  Task NextVersionToValidate();
  // Marks a ready transaction executing; kNone if it is not ready.
  Task TryIncarnate(std::uint32_t txn);
  void SetReadyStatus(std::uint32_t txn);
  void DecreaseExecutionIdx(std::uint64_t target);
  void DecreaseValidationIdx(std::uint64_t target);
  void CheckDone();

  const std::uint32_t txn_count_;
  std::unique_ptr<TxnState[]> txns_;
  // Sequentially consistent on purpose: the termination check reads three
  // counters and relies on one total order of their updates.
  alignas(64) std::atomic<std::uint64_t> execution_idx_{0};
  alignas(64) std::atomic<std::uint64_t> validation_idx_{0};
  alignas(64) std::atomic<std::uint64_t> decrease_cnt_{0};
  alignas(64) std::atomic<std::int64_t> num_active_tasks_{0};
  alignas(64) std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> validation_aborts_{0};
  std::atomic<std::uint64_t> dependency_waits_{0};
};

}  // namespace tri::txn
