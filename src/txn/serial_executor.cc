#include <string>
#include <unordered_map>

#include "base/assert.h"
#include "txn/executor.h"
#include "txn/txn_run.h"
#include "txn/validate.h"

namespace tri::txn {

namespace {

// The state after the transactions run so far: each key written in the batch
// with its latest value and writer; other keys come from the base.
struct Overlay {
  struct Entry {
    std::optional<std::string> value;
    std::uint32_t writer = 0;
  };
  const StateView& base;
  std::unordered_map<std::string, Entry> written;
};

class SerialRun final : public TxnRun {
 public:
  SerialRun(std::uint32_t index, const Transaction& txn, const ExecuteOptions& options,
            bool enforce_declared, TraceSink* trace, const Overlay& overlay)
      : TxnRun(index, 0, txn, options.limits, enforce_declared, trace), overlay_(overlay) {}

 protected:
  Below ReadBelow(std::string_view key) override {
    auto it = overlay_.written.find(std::string(key));
    if (it != overlay_.written.end()) {
      return Below{it->second.value, Version{it->second.writer, 0}};
    }
    return Below{overlay_.base.Get(key), Version{}};
  }

 private:
  const Overlay& overlay_;
};

}  // namespace

Result<BatchResult> ExecuteSerial(const StateView& base, std::span<const Transaction> batch,
                                  const ExecuteOptions& options, TraceSink* trace) {
  if (Status status = ValidateBatch(batch, options); !status.ok()) return status;
  const bool enforce_declared =
      options.enforce_declared || options.scheduler == Scheduler::kDeclared;
  TraceSink* sink = options.trace ? trace : nullptr;
  Overlay overlay{base, {}};
  BatchResult result;
  result.txns.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    SerialRun run(index, batch[i], options, enforce_declared, sink, overlay);
    run.Run();
    TRI_ASSERT_MSG(!run.must_wait(), "a serial read never waits");
    TxnResult txn = run.TakeResult();
    for (const KeyWrite& write : txn.writes) {
      overlay.written.insert_or_assign(write.key, Overlay::Entry{write.value, index});
    }
    result.txns.push_back(std::move(txn));
  }
  return result;
}

}  // namespace tri::txn
