#include "sim/history.h"

#include <fmt/format.h>

namespace tri::sim {

std::string DescribeOperation(const KvOperation& op) {
  std::string call;
  switch (op.kind) {
    case OpKind::kPut:
      call = fmt::format("put(k{}, {})", op.key, op.value);
      break;
    case OpKind::kGet:
      call = fmt::format("get(k{})", op.key);
      break;
    case OpKind::kCas:
      call = fmt::format("cas(k{}, {} -> {})", op.key, op.expected, op.value);
      break;
  }
  std::string outcome;
  switch (op.outcome) {
    case OpOutcome::kOk:
      outcome = op.kind == OpKind::kGet ? fmt::format("{}", op.read_value) : "ok";
      break;
    case OpOutcome::kCasFailed:
      outcome = "cas-failed";
      break;
    case OpOutcome::kUnknown:
      outcome = "unknown (timed out)";
      break;
  }
  const std::string ret =
      op.return_time == kNeverReturned ? std::string("inf") : fmt::format("{}", op.return_time);
  std::string when;
  if (op.call_sim_us >= 0) {
    when = op.return_sim_us >= 0
               ? fmt::format(" at {:.3f}s..{:.3f}s", op.call_sim_us / 1e6, op.return_sim_us / 1e6)
               : fmt::format(" at {:.3f}s..", op.call_sim_us / 1e6);
  }
  return fmt::format("#{} {} -> {} [client {} t={}..{}{}]", op.id, call, outcome, op.client_id,
                     op.call_time, ret, when);
}

}  // namespace tri::sim
