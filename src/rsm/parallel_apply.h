#pragma once

// Applying a batch of committed entries through a transaction executor
// (docs/transactions.md, "In the node"). StateMachine::ApplyBatch answers exactly what
// Apply called on each entry in turn answers, and leaves exactly the same state
// (store, history, revisions, leases, watch events); only the work is split:
//
//  - The batch is cut into maximal runs of eligible KV entries (Range, Put,
//    single-key DeleteRange, Txn whose compares and deletes name single keys);
//    every other entry, every run shorter than min_batch and every run with
//    no Txn (phase 2 would repeat all of its work) applies by Apply.
//  - Phase 1 (the executor, on its threads): each entry of a run is one
//    txn::Transaction over an image of the store (one executor key per KV key,
//    holding the key's value, lease, version and create/mod revision, where a
//    revision written inside the run is "written by entry j"). Its body
//    predicts the entry: the stateless checks, the txn's branch choices (the
//    compares), whether it fails, and its writes to the image. A compare that
//    needs the number of a revision written inside the run stops the
//    prediction there ("serial from here").
//  - Phase 2 (this thread, in log order): each entry is applied to the real
//    store through the store's own code; a Txn predicted to succeed skips only
//    its checks and compares (MvccStore::TxnOnPath with the predicted path).
//    If an entry's outcome (ok or error) differs from the prediction (quota,
//    a lease filling up, a range revision), or the prediction stopped, or the
//    executor aborted the transaction (a bound), that entry and the rest of
//    the run apply by Apply.
//
// Why it is the serial apply: phase 1 changes nothing, so any entry may fall
// back to Apply. By induction over the run, while every outcome matched its
// prediction the image equals the real store before the next entry (a
// succeeding request writes exactly the ops of its path, a failing one writes
// nothing), so the executor's serial-equivalence contract gives each entry the
// compares the serial apply would see, and phase 2 runs the store's code on
// the same state with the same path.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "txn/executor.h"
#include "txn/options.h"

namespace tri::rsm {

// One committed entry for StateMachine::ApplyBatch (the entry's bytes are
// only borrowed for the call).
struct BatchEntry {
  std::uint64_t index = 0;
  std::string_view data;
};

// What ApplyBatch did, summed over calls (observation, not replicated state).
struct ParallelApplyStats {
  std::uint64_t runs = 0;             // runs handed to the executor
  std::uint64_t planned_entries = 0;  // entries applied on a prediction
  std::uint64_t serial_entries = 0;   // entries applied by Apply
  std::uint64_t fallbacks = 0;        // runs that fell back part way
};

struct ParallelApplyOptions {
  // Not owned. nullptr: every entry applies by Apply.
  txn::BatchExecutor* executor = nullptr;
  // Runs of eligible entries shorter than this apply by Apply (the executor
  // has a fixed cost per batch). At least 1.
  std::size_t min_batch = 256;
  // Longest run handed to the executor at once (txn::TxnLimits::max_batch_size
  // bounds it too); a longer run is cut.
  std::size_t max_batch = 10'000;
  txn::Scheduler scheduler = txn::Scheduler::kOptimistic;
  // Filled when set.
  ParallelApplyStats* stats = nullptr;
};

}  // namespace tri::rsm
