// Properties of the generated programs themselves (tests/txn/batch_gen.h),
// which the scheduler properties rely on: a body is a total, deterministic
// function of what its reads answer (a speculative execution may read any
// bytes), and it returns the error of a failed context call, as TxnContext
// requires.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "txn/batch_gen.h"

namespace tri::txn::testing {
namespace {

// Answers reads from a script of arbitrary values, records every call, and
// fails the call numbered `fail_at` (0-based; past the end: none fails).
class ScriptedContext final : public TxnContext {
 public:
  ScriptedContext(const std::vector<std::optional<std::string>>& answers, std::size_t fail_at)
      : answers_(answers), fail_at_(fail_at) {}

  Result<std::optional<std::string>> Read(std::string_view key) override {
    if (Status status = Call("R", key); !status.ok()) return status;
    if (answers_.empty()) return std::optional<std::string>();
    return answers_[reads_++ % answers_.size()];
  }
  Status Write(std::string_view key, std::string_view value) override {
    return Call("W", std::string(key) + "=" + std::string(value));
  }
  Status Delete(std::string_view key) override { return Call("D", key); }
  Status Charge(std::uint64_t gas) override { return Call("C", std::to_string(gas)); }

  const std::string& log() const { return log_; }
  bool failed() const { return failed_; }

 private:
  Status Call(std::string_view kind, std::string_view what) {
    log_ += std::string(kind) + std::string(what) + ";";
    if (calls_++ != fail_at_) return Status::Ok();
    failed_ = true;
    return Unavailable("scripted failure");
  }

  const std::vector<std::optional<std::string>>& answers_;
  const std::size_t fail_at_;
  std::size_t calls_ = 0;
  std::size_t reads_ = 0;
  bool failed_ = false;
  std::string log_;
};

RC_GTEST_PROP(BatchGen, BodiesAreTotalDeterministicAndReturnContextErrors, ()) {
  BatchShape shape;
  shape.max_txns = 8;
  const BatchSpec spec = *GenBatch(shape);
  // Any bytes, or absent in one answer of 4.
  const auto answers = *rc::gen::container<std::vector<std::optional<std::string>>>(rc::gen::map(
      rc::gen::pair(rc::gen::inRange(0, 4), rc::gen::string<std::string>()),
      [](const std::pair<int, std::string>& answer) {
        return answer.first == 0 ? std::nullopt : std::optional<std::string>(answer.second);
      }));
  const auto fail_at = *rc::gen::inRange<std::size_t>(0, 64);
  for (std::size_t i = 0; i < spec.programs.size(); ++i) {
    const Transaction txn = ToTransaction(spec.programs[i], static_cast<std::uint32_t>(i));
    ScriptedContext first(answers, fail_at);
    ScriptedContext second(answers, fail_at);
    const Status first_status = txn.body(first);
    const Status second_status = txn.body(second);
    RC_ASSERT(first.log() == second.log());
    RC_ASSERT(first_status.code() == second_status.code());
    RC_ASSERT(first_status.message() == second_status.message());
    if (first.failed()) {
      RC_ASSERT(first_status.code() == StatusCode::kUnavailable);
      RC_ASSERT(first_status.message() == "scripted failure");
    }
  }
}

}  // namespace
}  // namespace tri::txn::testing
