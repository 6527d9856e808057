#pragma once

// One node's queue of tasks for the work-stealing policy (steal_node.h). The
// owner runs from the hot end (front, oldest first); thieves take from the cold
// end (back, the tasks the owner would reach last), skipping pinned tasks, which
// keep their place.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "routing/steal_types.h"

namespace tri::routing {

class StealQueue {
 public:
  std::size_t size() const { return tasks_.size(); }
  bool empty() const { return tasks_.empty(); }
  // Queued tasks that are not pinned: what a thief may take.
  std::size_t stealable() const { return unpinned_; }

  // Appends at the cold end.
  void PushBack(const StealTask& task);
  // Removes and returns the task at the hot end, or nothing when empty.
  std::optional<StealTask> PopFront();

  // Removes up to `count` unpinned tasks from the cold end (with `include_pinned`,
  // pinned ones too) and returns them in queue order. Pinned tasks passed over
  // stay, in order. With `keep_copies` nothing is removed (a deliberate bug for
  // the simulator's checkers: the grant duplicates its tasks).
  std::vector<StealTask> TakeFromColdEnd(std::size_t count, bool include_pinned, bool keep_copies);

  const std::deque<StealTask>& tasks() const { return tasks_; }

 private:
  std::deque<StealTask> tasks_;
  std::size_t unpinned_ = 0;
};

}  // namespace tri::routing
