#include "routing/steal_queue.h"

#include <algorithm>

#include "base/assert.h"

namespace tri::routing {

void StealQueue::PushBack(const StealTask& task) {
  (task.pinned ? pinned_ : unpinned_).push_back({next_arrival_++, task});
}

bool StealQueue::PinnedIsNext() const {
  if (pinned_.empty()) return false;
  if (unpinned_.empty() || pinned_first_) return true;
  return pinned_.front().arrival < unpinned_.front().arrival;
}

std::optional<StealTask> StealQueue::PopFront() {
  if (empty()) return std::nullopt;
  std::deque<Entry>& lane = PinnedIsNext() ? pinned_ : unpinned_;
  const StealTask task = lane.front().task;
  lane.pop_front();
  return task;
}

void StealQueue::TakeBack(std::deque<Entry>& lane, std::size_t count, bool keep_copies,
                          std::vector<Entry>& out) {
  count = std::min(count, lane.size());
  if (keep_copies) {
    out.insert(out.end(), lane.end() - static_cast<std::ptrdiff_t>(count), lane.end());
    return;
  }
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(lane.back());
    lane.pop_back();
  }
}

std::vector<StealTask> StealQueue::TakeFromColdEnd(std::size_t count, bool include_pinned,
                                                   bool keep_copies) {
  std::vector<Entry> taken;
  taken.reserve(std::min(count, size()));
  TakeBack(unpinned_, count, keep_copies, taken);
  if (include_pinned && taken.size() < count) {
    TakeBack(pinned_, count - taken.size(), keep_copies, taken);
  }
  std::sort(taken.begin(), taken.end(),
            [](const Entry& a, const Entry& b) { return a.arrival < b.arrival; });
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
  std::size_t p = 0;
  std::size_t u = 0;
  while (p < pinned_.size() || u < unpinned_.size()) {
    const bool take_pinned = p < pinned_.size() && (u == unpinned_.size() || pinned_first_ ||
                                                    pinned_[p].arrival < unpinned_[u].arrival);
    out.push_back(take_pinned ? pinned_[p++].task : unpinned_[u++].task);
  }
  return out;
}

}  // namespace tri::routing
