#pragma once

// One node's queue of tasks for the work-stealing policy (steal_node.h). Pinned
// and unpinned tasks wait in two lanes, each ordered by estimated cost, largest
// first, then by arrival (tasks without an estimate, cost 0, come after those
// with one, in arrival order: FIFO when no task has an estimate). The owner runs
// from the hot end: largest first (LPT, the classic makespan rule: a large task
// started late is what stretches a schedule) and, with `pinned_first`, pinned
// tasks before unpinned ones (only this node can run them; thieves can take the
// others). Thieves take unpinned tasks from the cold end: the smallest and
// newest. O(log n) per task moved.
//
// A third lane holds the tasks this node accepted from slower nodes (offers,
// steal_node.h): they run before everything else, in the order accepted, and
// no thief takes them. Each was accepted on an estimate of the work ahead of
// it (the rest of the running task and the kept lane), which later arrivals
// do not change.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <vector>

#include "routing/steal_types.h"

namespace tri::routing {

class StealQueue {
 public:
  explicit StealQueue(bool pinned_first = true) : pinned_first_(pinned_first) {}

  std::size_t size() const { return kept_.size() + pinned_.size() + unpinned_.size(); }
  bool empty() const { return size() == 0; }
  // Queued tasks that are not pinned: what a thief may take.
  std::size_t stealable() const { return unpinned_.size(); }

  // Appends at the cold end.
  void PushBack(const StealTask& task);
  // Appends to the kept lane (an accepted offer; the task must not be pinned).
  void PushKept(const StealTask& task);
  // Tasks in the kept lane, and the sum of their cost estimates.
  std::size_t kept() const { return kept_.size(); }
  std::uint64_t kept_cost() const { return kept_cost_; }
  // The unpinned task of the largest estimate (the hot end of the stealable
  // lane), and its removal: what a node may offer to a faster one.
  std::optional<StealTask> PeekLargestStealable() const;
  void PopLargestStealable();
  // Removes and returns the task at the hot end, or nothing when empty.
  std::optional<StealTask> PopFront();

  // Removes up to `count` unpinned tasks from the cold end and returns them,
  // hottest first. Deliberate bugs for the simulator's checkers: with
  // `include_pinned`, pinned tasks are taken first; with `keep_copies` nothing is
  // removed (the grant duplicates its tasks).
  std::vector<StealTask> TakeFromColdEnd(std::size_t count, bool include_pinned = false,
                                         bool keep_copies = false);

  // Every queued task, in the order the owner would run them.
  std::vector<StealTask> Snapshot() const;

 private:
  struct Entry {
    std::uint64_t arrival = 0;
    StealTask task;
  };
  // Hot end first: larger cost, then earlier arrival.
  struct HotFirst {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.task.cost != b.task.cost) return a.task.cost > b.task.cost;
      return a.arrival < b.arrival;
    }
  };
  using Lane = std::set<Entry, HotFirst>;
  static void TakeBack(Lane& lane, std::size_t count, bool keep_copies, std::vector<Entry>& out);
  bool PinnedIsNext() const;

  bool pinned_first_;
  std::uint64_t next_arrival_ = 0;
  std::deque<StealTask> kept_;
  std::uint64_t kept_cost_ = 0;
  Lane pinned_;
  Lane unpinned_;
};

}  // namespace tri::routing
