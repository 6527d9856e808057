#pragma once

// Reads a client history recorded outside the simulator (for instance by the
// multi-process tests in tests/integration/) as JSON lines, one operation per
// line, into a KvHistory for the linearizability checker:
//
//   {"client": 3, "kind": "put", "key": 1, "value": 17, "outcome": "ok",
//    "call_time": 1200, "return_time": 1450}
//
// Fields: client (uint32), kind (put | get | cas), key (uint32), value (int64,
// put/cas: the value written, never 0), expected (int64, cas only), outcome
// (ok | cas_failed | unknown), read_value (int64, get with outcome ok; 0 means
// the key was absent), call_time and return_time (int64 in any monotonic unit;
// return_time >= call_time). An operation with outcome unknown may have taken
// effect at any time after its call, so its return_time is ignored. Blank
// lines are skipped. The format is documented in docs/testing.md.

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "sim/history.h"

namespace tri::sim {

struct HistoryJsonOptions {
  // Bounds on the input, checked before the operations are built.
  std::uint64_t max_line_bytes = 64 * 1024;
  std::uint64_t max_operations = 1'000'000;
};

// Parses `text`; every error names `source` and the 1-based line number.
// Operation ids are assigned in line order.
Result<KvHistory> ParseHistoryJsonLines(std::string_view text, std::string_view source,
                                        const HistoryJsonOptions& options = {});

}  // namespace tri::sim
