#include "routing/steal_queue.h"

#include <algorithm>

#include "base/assert.h"

namespace tri::routing {

void StealQueue::PushBack(const StealTask& task) {
  tasks_.push_back(task);
  if (!task.pinned) ++unpinned_;
}

std::optional<StealTask> StealQueue::PopFront() {
  if (tasks_.empty()) return std::nullopt;
  StealTask task = tasks_.front();
  tasks_.pop_front();
  if (!task.pinned) {
    TRI_ASSERT(unpinned_ > 0);
    --unpinned_;
  }
  return task;
}

std::vector<StealTask> StealQueue::TakeFromColdEnd(std::size_t count, bool include_pinned,
                                                   bool keep_copies) {
  const std::size_t available = include_pinned ? tasks_.size() : unpinned_;
  count = std::min(count, available);
  std::vector<StealTask> taken;
  taken.reserve(count);
  if (keep_copies) {
    for (auto it = tasks_.rbegin(); it != tasks_.rend() && taken.size() < count; ++it) {
      if (include_pinned || !it->pinned) taken.push_back(*it);
    }
    std::reverse(taken.begin(), taken.end());
    return taken;
  }
  // Pop from the back; pinned tasks passed over are put back in their order.
  std::vector<StealTask> passed_over;
  while (taken.size() < count) {
    TRI_ASSERT(!tasks_.empty());
    StealTask task = tasks_.back();
    tasks_.pop_back();
    if (task.pinned && !include_pinned) {
      passed_over.push_back(task);
      continue;
    }
    if (!task.pinned) --unpinned_;
    taken.push_back(task);
  }
  for (auto it = passed_over.rbegin(); it != passed_over.rend(); ++it)
    tasks_.push_back(*it);
  std::reverse(taken.begin(), taken.end());
  TRI_ASSERT(unpinned_ <= tasks_.size());
  return taken;
}

}  // namespace tri::routing
