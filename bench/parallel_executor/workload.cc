#include "workload.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

#include "base/assert.h"
#include "base/coding.h"
#include "base/result.h"
#include "base/rng.h"
#include "txn/str.h"

namespace tri::txn::bench {

namespace {

std::string EncodeBalance(std::uint64_t balance) {
  std::string out;
  coding::PutFixed64(out, balance);
  return out;
}

Result<std::uint64_t> DecodeBalance(std::string_view key, const std::optional<std::string>& value) {
  if (!value) return NotFound(Str("account '", key, "' does not exist"));
  if (value->size() != 8) {
    return Corruption(Str("balance of '", key, "' has ", value->size(), " bytes, not 8"));
  }
  return coding::DecodeFixed64(value->data());
}

Result<std::uint64_t> ReadBalance(TxnContext& ctx, std::string_view key) {
  TRI_ASSIGN_OR_RETURN(std::optional<std::string> value, ctx.Read(key));
  return DecodeBalance(key, value);
}

// Reads both balances, spends the compute (charged as gas first, so a budget
// too small times out before the work), moves an amount the work decides.
TxnBody TransferBody(std::string from, std::string to, std::uint64_t salt,
                     std::uint64_t compute_rounds) {
  return [from = std::move(from), to = std::move(to), salt,
          compute_rounds](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::uint64_t from_balance, ReadBalance(ctx, from));
    TRI_ASSIGN_OR_RETURN(std::uint64_t to_balance, ReadBalance(ctx, to));
    if (compute_rounds > 0) TRI_RETURN_IF_ERROR(ctx.Charge(compute_rounds));
    const std::uint64_t mix = ComputeMix(salt ^ from_balance ^ (to_balance << 1), compute_rounds);
    const std::uint64_t amount = 1 + mix % kMaxTransfer;
    if (from_balance < amount) {
      return Aborted(Str("'", from, "' holds ", from_balance, ", less than ", amount));
    }
    TRI_RETURN_IF_ERROR(ctx.Write(from, EncodeBalance(from_balance - amount)));
    return ctx.Write(to, EncodeBalance(to_balance + amount));
  };
}

// Reads every balance, spends the compute on their sum and records the result
// under the transaction's own receipt key (no other transaction writes it), so
// a check that read a wrong balance shows up as a mismatch against the serial
// run.
TxnBody BalanceCheckBody(std::vector<std::string> keys, std::string receipt, std::uint64_t salt,
                         std::uint64_t compute_rounds) {
  return [keys = std::move(keys), receipt = std::move(receipt), salt,
          compute_rounds](TxnContext& ctx) -> Status {
    std::uint64_t sum = 0;
    for (const std::string& key : keys) {
      TRI_ASSIGN_OR_RETURN(std::uint64_t balance, ReadBalance(ctx, key));
      sum += balance;
    }
    if (compute_rounds > 0) TRI_RETURN_IF_ERROR(ctx.Charge(compute_rounds));
    return ctx.Write(receipt, EncodeBalance(ComputeMix(salt ^ sum, compute_rounds)));
  };
}

Transaction MakeTransfer(SeededRng& rng, const WorkloadSpec& spec) {
  const auto from = static_cast<std::uint32_t>(rng.Uniform(spec.accounts));
  auto to = static_cast<std::uint32_t>(rng.Uniform(spec.accounts - 1));
  if (to >= from) ++to;  // uniform over the other accounts: from != to
  Transaction txn;
  txn.write_set = {AccountKey(from), AccountKey(to)};
  txn.body = TransferBody(AccountKey(from), AccountKey(to), rng.Next(), spec.compute_rounds);
  return txn;
}

Transaction MakeBalanceCheck(SeededRng& rng, const WorkloadSpec& spec, std::uint32_t index) {
  const std::uint32_t reads = std::min(spec.reads_per_txn, spec.accounts);
  std::vector<std::uint32_t> accounts;
  while (accounts.size() < reads) {
    const auto account = static_cast<std::uint32_t>(rng.Uniform(spec.accounts));
    if (std::find(accounts.begin(), accounts.end(), account) == accounts.end()) {
      accounts.push_back(account);
    }
  }
  Transaction txn;
  for (std::uint32_t account : accounts)
    txn.read_set.push_back(AccountKey(account));
  txn.write_set = {ReceiptKey(index)};
  txn.body = BalanceCheckBody(txn.read_set, ReceiptKey(index), rng.Next(), spec.compute_rounds);
  return txn;
}

}  // namespace

namespace {
std::string PaddedKey(std::string_view prefix, std::uint32_t number) {
  std::string digits = std::to_string(number);
  return std::string(prefix) + std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
}
}  // namespace

std::string AccountKey(std::uint32_t account) {
  return PaddedKey("acct/", account);
}
std::string ReceiptKey(std::uint32_t txn) {
  return PaddedKey("check/", txn);
}

std::uint64_t ComputeMix(std::uint64_t x, std::uint64_t rounds) {
  for (std::uint64_t i = 0; i < rounds; ++i) {
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    x ^= x >> 29;
  }
  return x;
}

Workload MakeWorkload(const WorkloadSpec& spec) {
  TRI_ASSERT_MSG(spec.accounts >= 2, "a transfer needs two accounts");
  TRI_ASSERT_MSG(spec.txns >= 1, "an empty batch measures nothing");
  Workload workload;
  workload.spec = spec;
  workload.name = spec.kind == WorkloadKind::kP2P ? "p2p" : "read-heavy";
  for (std::uint32_t account = 0; account < spec.accounts; ++account) {
    workload.base.Put(AccountKey(account), EncodeBalance(kInitialBalance));
  }
  SeededRng rng(spec.seed);
  workload.batch.reserve(spec.txns);
  for (std::uint32_t i = 0; i < spec.txns; ++i) {
    const bool check =
        spec.kind == WorkloadKind::kReadHeavy && rng.Uniform(100) < spec.check_percent;
    workload.batch.push_back(check ? MakeBalanceCheck(rng, spec, i) : MakeTransfer(rng, spec));
  }
  return workload;
}

}  // namespace tri::txn::bench
