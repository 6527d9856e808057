#include "routing/steal_queue.h"

#include <algorithm>
#include <iterator>

#include "base/assert.h"

namespace tri::routing {

void StealQueue::PushBack(const StealTask& task) {
  const bool inserted = (task.pinned ? pinned_ : unpinned_).insert({next_arrival_++, task}).second;
  TRI_ASSERT(inserted);
}

void StealQueue::PushKept(const StealTask& task) {
  TRI_ASSERT(!task.pinned);
  kept_.push_back(task);
  kept_cost_ += task.cost;
}

std::optional<StealTask> StealQueue::PeekLargestStealable() const {
  if (unpinned_.empty()) return std::nullopt;
  return unpinned_.begin()->task;
}

void StealQueue::PopLargestStealable() {
  TRI_ASSERT(!unpinned_.empty());
  unpinned_.erase(unpinned_.begin());
}

bool StealQueue::PinnedIsNext() const {
  if (pinned_.empty()) return false;
  if (unpinned_.empty() || pinned_first_) return true;
  return HotFirst{}(*pinned_.begin(), *unpinned_.begin());
}

std::optional<StealTask> StealQueue::PopFront() {
  if (empty()) return std::nullopt;
  if (!kept_.empty()) {
    const StealTask task = kept_.front();
    kept_.pop_front();
    kept_cost_ -= task.cost;
    return task;
  }
  Lane& lane = PinnedIsNext() ? pinned_ : unpinned_;
  const StealTask task = lane.begin()->task;
  lane.erase(lane.begin());
  return task;
}

void StealQueue::TakeBack(Lane& lane, std::size_t count, bool keep_copies,
                          std::vector<Entry>& out) {
  count = std::min(count, lane.size());
  auto first = std::prev(lane.end(), static_cast<std::ptrdiff_t>(count));
  out.insert(out.end(), first, lane.end());
  if (!keep_copies) lane.erase(first, lane.end());
}

std::vector<StealTask> StealQueue::TakeFromColdEnd(std::size_t count, bool include_pinned,
                                                   bool keep_copies) {
  std::vector<Entry> taken;
  taken.reserve(std::min(count, size()));
  if (include_pinned) TakeBack(pinned_, count, keep_copies, taken);
  TakeBack(unpinned_, count - taken.size(), keep_copies, taken);
  std::sort(taken.begin(), taken.end(), HotFirst{});
  std::vector<StealTask> tasks;
  tasks.reserve(taken.size());
  for (const Entry& e : taken)
    tasks.push_back(e.task);
  TRI_ASSERT(tasks.size() <= count);
  return tasks;
}

std::vector<StealTask> StealQueue::Snapshot() const {
  std::vector<StealTask> out;
  out.reserve(size());
  out.insert(out.end(), kept_.begin(), kept_.end());
  auto p = pinned_.begin();
  auto u = unpinned_.begin();
  while (p != pinned_.end() || u != unpinned_.end()) {
    const bool take_pinned =
        p != pinned_.end() && (u == unpinned_.end() || pinned_first_ || HotFirst{}(*p, *u));
    out.push_back(take_pinned ? (p++)->task : (u++)->task);
  }
  return out;
}

}  // namespace tri::routing
