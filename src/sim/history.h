#pragma once

// The client history of a simulated key-value workload: one record per client
// operation, with its invocation and response times. The linearizability
// checker (linearizability.h) reads it; the workload (workload.h) writes it.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tri::sim {

// Values are integers; 0 means "key absent", so puts never write 0.
using KvValue = std::int64_t;
using KvKey = std::uint32_t;
inline constexpr KvValue kAbsent = 0;

// An operation whose response never arrived (client timeout) returns at
// "infinity": it may have taken effect at any point after its call, or never.
inline constexpr std::int64_t kNeverReturned = std::numeric_limits<std::int64_t>::max();

enum class OpKind : std::uint8_t { kPut, kGet, kCas };

enum class OpOutcome : std::uint8_t {
  kOk,         // put done; get returned `read_value`; cas swapped
  kCasFailed,  // cas saw a value other than `expected` and changed nothing
  kUnknown,    // timed out: may or may not have taken effect
};

struct KvOperation {
  std::uint64_t id = 0;  // unique within a history
  std::uint32_t client_id = 0;
  OpKind kind = OpKind::kGet;
  KvKey key = 0;
  KvValue value = kAbsent;     // put / cas: value written
  KvValue expected = kAbsent;  // cas: value compared against
  OpOutcome outcome = OpOutcome::kUnknown;
  KvValue read_value = kAbsent;  // get with kOk: value observed
  // Times are any monotonic order; the simulator uses a global event counter
  // so no two events tie. Equal call/return times are treated as concurrent.
  std::int64_t call_time = 0;
  std::int64_t return_time = kNeverReturned;
  // Simulated wall time in microseconds, for reports only (-1 when unknown).
  std::int64_t call_sim_us = -1;
  std::int64_t return_sim_us = -1;
};

using KvHistory = std::vector<KvOperation>;

// "put(k1, 5) -> ok [c2 t=10..14]" for failure reports.
std::string DescribeOperation(const KvOperation& op);

}  // namespace tri::sim
