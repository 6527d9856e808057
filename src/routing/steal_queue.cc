#include "routing/steal_queue.h"

#include <algorithm>
#include <iterator>

#include "base/assert.h"

namespace tri::routing {

void StealQueue::PushBack(const StealTask& task) {
  const bool inserted = (task.pinned ? pinned_ : unpinned_).insert({next_arrival_++, task}).second;
  TRI_ASSERT(inserted);
}

bool StealQueue::PinnedIsNext() const {
  if (pinned_.empty()) return false;
  if (unpinned_.empty() || pinned_first_) return true;
  return HotFirst{}(*pinned_.begin(), *unpinned_.begin());
}

std::optional<StealTask> StealQueue::PopFront() {
  if (empty()) return std::nullopt;
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
