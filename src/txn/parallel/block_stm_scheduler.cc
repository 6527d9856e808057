#include "txn/parallel/block_stm_scheduler.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"

namespace tri::txn {

namespace {
using Task = BlockStmScheduler::Task;
}  // namespace

BlockStmScheduler::BlockStmScheduler(std::uint32_t txn_count)
    : txn_count_(txn_count), txns_(std::make_unique<TxnState[]>(txn_count)) {
  if (txn_count == 0) done_.store(true);
}

Task BlockStmScheduler::NextTask() {
  if (validation_idx_.load() < execution_idx_.load()) {
    return NextVersionToValidate();
  }
  return NextVersionToExecute();
}

Task BlockStmScheduler::NextVersionToExecute() {
  if (execution_idx_.load() >= txn_count_) {
    CheckDone();
    return {};
  }
  num_active_tasks_.fetch_add(1);
  const std::uint64_t index = execution_idx_.fetch_add(1);
  if (index < txn_count_) {
    Task task = TryIncarnate(static_cast<std::uint32_t>(index));
    if (task.kind != Task::Kind::kNone) return task;
  }
  num_active_tasks_.fetch_sub(1);
  return {};
}

Task BlockStmScheduler::NextVersionToValidate() {
  if (validation_idx_.load() >= txn_count_) {
    CheckDone();
    return {};
  }
  num_active_tasks_.fetch_add(1);
  const std::uint64_t index = validation_idx_.fetch_add(1);
  if (index < txn_count_) {
    TxnState& state = txns_[index];
    std::lock_guard lock(state.mu);
    if (state.status == Status::kExecuted) {
      return Task{Task::Kind::kValidate, static_cast<std::uint32_t>(index), state.incarnation};
    }
  }
  num_active_tasks_.fetch_sub(1);
  return {};
}

Task BlockStmScheduler::TryIncarnate(std::uint32_t txn) {
  TxnState& state = txns_[txn];
  std::lock_guard lock(state.mu);
  if (state.status != Status::kReadyToExecute) return {};
  state.status = Status::kExecuting;
  return Task{Task::Kind::kExecute, txn, state.incarnation};
}

bool BlockStmScheduler::AddDependency(std::uint32_t txn, std::uint32_t blocking) {
  TRI_ASSERT_MSG(blocking < txn, "a transaction waits only for a lower one");
  TxnState& blocker = txns_[blocking];
  TxnState& waiter = txns_[txn];
  {
    // Lock order: the lower index first (the only place two are held).
    std::lock_guard blocker_lock(blocker.mu);
    if (blocker.status == Status::kExecuted) return false;
    {
      std::lock_guard waiter_lock(waiter.mu);
      TRI_ASSERT(waiter.status == Status::kExecuting);
      waiter.status = Status::kAborting;
    }
    blocker.dependents.push_back(txn);
  }
  dependency_waits_.fetch_add(1, std::memory_order_relaxed);
  num_active_tasks_.fetch_sub(1);
  return true;
}

std::uint32_t BlockStmScheduler::RetryIncarnation(std::uint32_t txn) {
  TxnState& state = txns_[txn];
  std::lock_guard lock(state.mu);
  TRI_ASSERT(state.status == Status::kExecuting);
  TRI_ASSERT(state.incarnation < std::numeric_limits<std::uint32_t>::max());
  return ++state.incarnation;
}

void BlockStmScheduler::SetReadyStatus(std::uint32_t txn) {
  TxnState& state = txns_[txn];
  std::lock_guard lock(state.mu);
  TRI_ASSERT(state.status == Status::kAborting);
  TRI_ASSERT(state.incarnation < std::numeric_limits<std::uint32_t>::max());
  ++state.incarnation;
  state.status = Status::kReadyToExecute;
}

Task BlockStmScheduler::FinishExecution(std::uint32_t txn, std::uint32_t incarnation,
                                        bool wrote_new_location) {
  TxnState& state = txns_[txn];
  std::vector<std::uint32_t> waiting;
  {
    std::lock_guard lock(state.mu);
    TRI_ASSERT(state.status == Status::kExecuting && state.incarnation == incarnation);
    state.status = Status::kExecuted;
    waiting.swap(state.dependents);
  }
  if (!waiting.empty()) {
    for (std::uint32_t dependent : waiting)
      SetReadyStatus(dependent);
    // They are above txn; execution_idx may have passed them.
    DecreaseExecutionIdx(*std::min_element(waiting.begin(), waiting.end()));
  }
  if (validation_idx_.load() > txn) {
    // Validation already passed this index, so nobody else will validate this
    // execution. A new key may invalidate reads above it: validate them all
    // again from here; otherwise only this execution needs validating.
    if (!wrote_new_location) return Task{Task::Kind::kValidate, txn, incarnation};
    DecreaseValidationIdx(txn);
  }
  num_active_tasks_.fetch_sub(1);
  return {};
}

bool BlockStmScheduler::TryValidationAbort(std::uint32_t txn, std::uint32_t incarnation) {
  TxnState& state = txns_[txn];
  std::lock_guard lock(state.mu);
  if (state.status != Status::kExecuted || state.incarnation != incarnation) return false;
  state.status = Status::kAborting;
  validation_aborts_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Task BlockStmScheduler::FinishValidation(std::uint32_t txn, bool aborted) {
  if (aborted) {
    SetReadyStatus(txn);
    // Reads above may have seen the aborted writes.
    DecreaseValidationIdx(static_cast<std::uint64_t>(txn) + 1);
    if (execution_idx_.load() > txn) {
      // No worker will reach this index through execution_idx: run it here.
      Task task = TryIncarnate(txn);
      if (task.kind != Task::Kind::kNone) return task;
    }
  }
  num_active_tasks_.fetch_sub(1);
  return {};
}

BlockStmScheduler::Latest BlockStmScheduler::LatestOf(std::uint32_t txn) const {
  TRI_ASSERT(txn < txn_count_);
  const TxnState& state = txns_[txn];
  std::lock_guard lock(state.mu);
  return Latest{state.incarnation, state.status == Status::kExecuted};
}

void BlockStmScheduler::DecreaseExecutionIdx(std::uint64_t target) {
  std::uint64_t current = execution_idx_.load();
  while (current > target && !execution_idx_.compare_exchange_weak(current, target)) {
  }
  decrease_cnt_.fetch_add(1);
}

void BlockStmScheduler::DecreaseValidationIdx(std::uint64_t target) {
  std::uint64_t current = validation_idx_.load();
  while (current > target && !validation_idx_.compare_exchange_weak(current, target)) {
  }
  decrease_cnt_.fetch_add(1);
}

void BlockStmScheduler::CheckDone() {
  const std::uint64_t observed = decrease_cnt_.load();
  if (std::min(execution_idx_.load(), validation_idx_.load()) >= txn_count_ &&
      num_active_tasks_.load() == 0 && observed == decrease_cnt_.load()) {
    done_.store(true);
  }
}

}  // namespace tri::txn
