#include "txn/parallel/trace_buffer.h"

#include <algorithm>
#include <chrono>

namespace tri::txn {

TraceBuffers::TraceBuffers(std::size_t workers, bool on) {
  if (!on) return;
  buffers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i)
    buffers_.emplace_back(static_cast<std::uint32_t>(i));
}

void TraceBuffers::Buffer::Record(TraceEvent event) {
  event.time_ns =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  event.thread = worker_;
  events.push_back(std::move(event));
}

std::vector<TraceEvent> TraceBuffers::Merge() {
  std::vector<TraceEvent> all;
  std::size_t total = 0;
  for (const Buffer& buffer : buffers_)
    total += buffer.events.size();
  all.reserve(total);
  for (Buffer& buffer : buffers_) {
    std::move(buffer.events.begin(), buffer.events.end(), std::back_inserter(all));
    buffer.events.clear();
  }
  // Each buffer is already in time order; a stable sort keeps one thread's
  // equal-time events in the order they were recorded.
  std::stable_sort(all.begin(), all.end(), [](const TraceEvent& a, const TraceEvent& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.thread < b.thread;
  });
  return all;
}

}  // namespace tri::txn
