#include "txn/validate.h"

#include "txn/str.h"
#include "txn/types.h"

namespace tri::txn {

Status ValidateBatch(std::span<const Transaction> batch, const ExecuteOptions& options) {
  const TxnLimits& limits = options.limits;
  if (batch.size() > limits.max_batch_size) {
    return InvalidArgument(Str("batch of ", batch.size(), " transactions exceeds max_batch_size ",
                               limits.max_batch_size));
  }
  if (batch.size() >= Version::kStorage) {
    return InvalidArgument(Str("batch of ", batch.size(), " transactions: at most ",
                               Version::kStorage - 1, " fit a version"));
  }
  if (limits.default_gas_budget == 0 || limits.default_gas_budget > limits.max_gas_budget) {
    return InvalidArgument(Str("default_gas_budget ", limits.default_gas_budget,
                               " must be in 1..max_gas_budget ", limits.max_gas_budget));
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Transaction& txn = batch[i];
    if (!txn.body) return InvalidArgument(Str("transaction ", i, ": no body"));
    if (txn.gas_budget > limits.max_gas_budget) {
      return InvalidArgument(Str("transaction ", i, ": gas_budget ", txn.gas_budget,
                                 " exceeds max_gas_budget ", limits.max_gas_budget));
    }
  }
  return Status::Ok();
}

}  // namespace tri::txn
