#pragma once

// The replicated table of barriers (docs/coordination.md, "Barriers"), driven
// by committed barrier commands (rsm/barrier_codec.h) with the entry's log
// time. A pure core: every replica applies the same entries and holds the same
// table.
//
// A barrier of N participants releases when `threshold` distinct participants
// have arrived (full: N; or a count; or a fraction of N rounded up), exactly
// once, at the arrival that meets the threshold, and never before. States:
//
//   waiting_for_predecessor --(predecessor released)--> collecting
//   collecting --(threshold met)--> released
//   waiting_for_predecessor | collecting --(deadline <= log time, expire)--> timed_out
//   waiting_for_predecessor | collecting --(cancel)--> cancelled
//
// released, timed_out and cancelled are final; a barrier stays in the table
// until removed. Cascading: a barrier waiting for a predecessor that ends
// without releasing (timed out, cancelled) or is removed is cancelled itself,
// and so on down the chain. A waiting barrier's predecessor is always in the
// table, not ended, and created before it (so chains have no cycles).
//
// Costs: n barriers (<= max_barriers), N participants of one barrier: Create
// O(N log N), Arrive O(N), Expire, Cancel, Remove and NextDeadline O(n).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "rsm/barrier_codec.h"
#include "rsm/kv_error.h"

namespace tri::rsm {

// Checked when a command applies (a clear error, nothing changed) and when a
// snapshot is read. Every replica must run with the same options.
struct BarrierOptions {
  // Barriers in the table, ended ones included (remove them to make room).
  std::uint32_t max_barriers = 64;
  std::uint32_t max_participants = 1024;
  std::uint32_t max_name_bytes = 256;
  std::uint32_t max_participant_bytes = 256;
  // Longest timeout a create may ask for (30 days).
  std::uint64_t max_timeout_ms = 30ull * 24 * 3600 * 1000;
};

struct BarrierArrival {
  std::string participant;
  std::uint64_t time_ms = 0;  // log time of the arriving entry
  friend bool operator==(const BarrierArrival&, const BarrierArrival&) = default;
};

struct Barrier {
  std::uint32_t participants = 0;              // N
  std::vector<std::string> participant_names;  // empty, or N distinct names
  std::uint32_t threshold = 0;                 // resolved: 1..N
  std::uint64_t deadline_ms = 0;               // log time; 0 = none
  std::string predecessor;                     // empty = none
  std::uint64_t created_index = 0;
  std::uint64_t created_ms = 0;
  BarrierState state = BarrierState::kCollecting;
  // Released, timed out or cancelled at this log time; 0 while not ended.
  std::uint64_t ended_ms = 0;
  // In arrival order; a released barrier keeps exactly the `threshold`
  // arrivals that released it.
  std::vector<BarrierArrival> arrivals;

  bool ended() const {
    return state == BarrierState::kReleased || state == BarrierState::kTimedOut ||
           state == BarrierState::kCancelled;
  }
  friend bool operator==(const Barrier&, const Barrier&) = default;
};

// The named participants that have not arrived, in creation order (empty for a
// barrier without names: then N - arrivals.size() are absent).
std::vector<std::string> AbsentParticipants(const Barrier& barrier);

class BarrierTable {
 public:
  explicit BarrierTable(BarrierOptions options = {});

  // Applies a decoded barrier command committed at `index` with log time
  // `now_ms` (monotone across calls). Errors name the barrier and leave the
  // table unchanged.
  KvOr<BarrierReply> Apply(std::uint64_t index, std::uint64_t now_ms,
                           const BarrierCommand& command);

  // The earliest deadline of a barrier not ended, for the leader's timer
  // (UINT64_MAX: none). An expire entry stamped at or after it times it out.
  std::uint64_t NextDeadline() const;

  // --- reads ---------------------------------------------------------------
  const Barrier* Find(std::string_view name) const;
  const std::map<std::string, Barrier, std::less<>>& barriers() const { return barriers_; }

  // --- observation (not replicated state) -----------------------------------
  // Barriers created, arrived at, ended or removed since the last call, each
  // once, in the order of their first change (for the node's Arrive streams).
  std::vector<std::string> TakeChanged();

  // --- snapshots -------------------------------------------------------------
  void EncodeTo(std::string& out) const;
  // Checks every invariant above and every bound of `options`; a barrier may
  // not be created after `applied_index`. Errors name the barrier.
  static Result<BarrierTable> DecodeFrom(coding::Decoder& in, const BarrierOptions& options,
                                         std::uint64_t applied_index);

  const BarrierOptions& options() const { return options_; }

 private:
  using Map = std::map<std::string, Barrier, std::less<>>;

  KvOr<BarrierReply> Create(std::uint64_t index, std::uint64_t now_ms,
                            const BarrierCreateCommand& c);
  KvOr<BarrierReply> Arrive(std::uint64_t now_ms, const BarrierArriveCommand& c);
  BarrierReply Expire(std::uint64_t now_ms);
  KvOr<BarrierReply> Cancel(std::uint64_t now_ms, const BarrierCancelCommand& c);
  KvOr<BarrierReply> Remove(std::uint64_t now_ms, const BarrierRemoveCommand& c);
  std::optional<KvError> CheckName(std::string_view name) const;
  // `name` ended (or was removed) at `now_ms`: barriers waiting for it are
  // released into collecting (when it released) or cancelled, recursively.
  void OnEnded(const std::string& name, bool released, std::uint64_t now_ms,
               std::vector<std::string>& cancelled);
  void End(Map::iterator it, BarrierState state, std::uint64_t now_ms,
           std::vector<std::string>& cancelled);
  static BarrierReply ReplyFor(const std::string& name, const Barrier& barrier);
  void MarkChanged(const std::string& name);

  BarrierOptions options_;
  Map barriers_;

  std::vector<std::string> changed_;
  std::set<std::string, std::less<>> changed_set_;
};

}  // namespace tri::rsm
