#pragma once

// Validation errors of a saga document. Every error names where it is
// (file:line:column), the step (when inside one) and the field, so a user can
// fix all of them in one pass:
//   saga.yaml:12:7: step 'charge': field 'needs': unknown step 'paymnt'

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"
#include "saga/spec.h"

namespace tri::saga {

struct Diagnostic {
  SourceLocation location;  // line 0 = the whole file
  std::string step_id;      // empty = not inside a step (or the step has no usable id)
  std::string field;  // dotted path inside the step or saga ("retry.backoff.initial"); may be empty
  std::string message;

  // "file:line:column: step 'id': field 'f': message" (parts absent when empty).
  std::string ToString() const;
};

// An ordered, bounded collection of diagnostics. Past `max_kept` errors only
// the count grows (garbage input must not produce megabytes of messages).
class Diagnostics {
 public:
  static constexpr std::size_t kDefaultMaxKept = 200;
  explicit Diagnostics(std::size_t max_kept = kDefaultMaxKept) : max_kept_(max_kept) {}

  void Add(Diagnostic d);
  bool empty() const { return total_ == 0; }
  std::size_t total() const { return total_; }
  // Kept diagnostics, sorted by position (line, column) then insertion order.
  std::vector<Diagnostic> Sorted() const;

  // One line per diagnostic (sorted), plus "... and N more errors" when some
  // were dropped. Empty when there are none.
  std::string ToString() const;
  // Ok when empty; otherwise kInvalidArgument carrying ToString().
  Status ToStatus() const;

 private:
  std::size_t max_kept_;
  std::size_t total_ = 0;
  std::vector<Diagnostic> kept_;
};

}  // namespace tri::saga
