#pragma once

// Per-worker trace buffers: each worker records into its own vector (no lock,
// no shared cache line on the hot path); Merge orders every event by time.

#include <cstdint>
#include <vector>

#include "txn/trace_sink.h"
#include "txn/types.h"

namespace tri::txn {

class TraceBuffers {
 public:
  // No buffers (and sink() is null) when `on` is false.
  TraceBuffers(std::size_t workers, bool on);

  TraceSink* sink(std::uint32_t worker) { return buffers_.empty() ? nullptr : &buffers_[worker]; }
  // Every event, ordered by time then thread. Empties the buffers.
  std::vector<TraceEvent> Merge();

 private:
  class Buffer final : public TraceSink {
   public:
    explicit Buffer(std::uint32_t worker) : worker_(worker) {}
    void Record(TraceEvent event) override;
    std::vector<TraceEvent> events;

   private:
    std::uint32_t worker_;
  };
  std::vector<Buffer> buffers_;
};

}  // namespace tri::txn
