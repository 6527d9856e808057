#include "txn/types.h"

#include "txn/options.h"

namespace tri::txn {

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCommitted:
      return "committed";
    case Outcome::kAborted:
      return "aborted";
    case Outcome::kTimedOut:
      return "timed_out";
  }
  return "unknown";
}

std::string_view TraceKindName(TraceKind kind) {
  switch (kind) {
    case TraceKind::kStart:
      return "START";
    case TraceKind::kRead:
      return "READ";
    case TraceKind::kWrite:
      return "WRITE";
    case TraceKind::kCommit:
      return "COMMIT";
    case TraceKind::kAbort:
      return "ABORT";
  }
  return "UNKNOWN";
}

std::string_view SchedulerName(Scheduler scheduler) {
  switch (scheduler) {
    case Scheduler::kSerial:
      return "serial";
    case Scheduler::kDeclared:
      return "declared";
    case Scheduler::kOptimistic:
      return "optimistic";
  }
  return "unknown";
}

bool SameOutcomes(const BatchResult& a, const BatchResult& b) {
  return a.txns == b.txns;
}

}  // namespace tri::txn
