#pragma once

// One node's queue of tasks for the work-stealing policy (steal_node.h). Pinned
// and unpinned tasks wait in two FIFO lanes, each in arrival order. The owner
// runs from the hot end (the oldest task; with `pinned_first`, the oldest pinned
// task before any unpinned one: only this node can run pinned tasks, while
// thieves can take the others); thieves take unpinned tasks from the cold end
// (the newest, which the owner would reach last). Every operation is O(1) per
// task moved.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "routing/steal_types.h"

namespace tri::routing {

class StealQueue {
 public:
  explicit StealQueue(bool pinned_first = true) : pinned_first_(pinned_first) {}

  std::size_t size() const { return pinned_.size() + unpinned_.size(); }
  bool empty() const { return size() == 0; }
  // Queued tasks that are not pinned: what a thief may take.
  std::size_t stealable() const { return unpinned_.size(); }

  // Appends at the cold end.
  void PushBack(const StealTask& task);
  // Removes and returns the task at the hot end, or nothing when empty.
  std::optional<StealTask> PopFront();

  // Removes up to `count` unpinned tasks from the cold end and returns them in
  // arrival order. Deliberate bugs for the simulator's checkers: with
  // `include_pinned`, pinned tasks are taken too (after the unpinned ones run
  // out); with `keep_copies` nothing is removed (the grant duplicates its tasks).
  std::vector<StealTask> TakeFromColdEnd(std::size_t count, bool include_pinned = false,
                                         bool keep_copies = false);

  // Every queued task, in the order the owner would run them.
  std::vector<StealTask> Snapshot() const;

 private:
  struct Entry {
    std::uint64_t arrival = 0;
    StealTask task;
  };
  static void TakeBack(std::deque<Entry>& lane, std::size_t count, bool keep_copies,
                       std::vector<Entry>& out);
  bool PinnedIsNext() const;

  bool pinned_first_;
  std::uint64_t next_arrival_ = 0;
  std::deque<Entry> pinned_;
  std::deque<Entry> unpinned_;
};

}  // namespace tri::routing
