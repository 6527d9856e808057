#pragma once

// Where an execution records its trace events. The pure code fills in what
// happened; the sink (a driver's) stamps time and thread. Each worker thread
// owns its own sink, so recording takes no lock.

#include "txn/types.h"

namespace tri::txn {

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void Record(TraceEvent event) = 0;
};

}  // namespace tri::txn
