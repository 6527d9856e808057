#pragma once

// Barrier commands in the replicated log (payload of CommandKind::kBarrier),
// and what applying one answers. Layout (base/coding.h): operation (fixed8),
// then per operation:
//   1 create   name, participant count (varint), participant names (varint
//              count, then each length-prefixed), threshold kind (fixed8: 0 all,
//              1 count, 2 fraction) then the count (varint) or the numerator and
//              denominator (varints), timeout ms (varint, 0 = none), predecessor
//              (length-prefixed, empty = none)
//   2 arrive   name, participant
//   3 expire   (nothing)
//   4 cancel   name
//   5 remove   name
// and nothing after it.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace tri::rsm {

// How many arrivals release a barrier of N participants.
struct BarrierThreshold {
  enum class Kind : std::uint8_t {
    kAll = 0,       // N
    kCount = 1,     // `count`, 1..N
    kFraction = 2,  // ceil(N * numerator / denominator), 0 < numerator <= denominator
  };
  Kind kind = Kind::kAll;
  std::uint32_t count = 0;
  std::uint32_t numerator = 0;
  std::uint32_t denominator = 0;
  friend bool operator==(const BarrierThreshold&, const BarrierThreshold&) = default;
};

// Create a barrier of `participants` (0: as many as `participant_names`).
// With names, only they may arrive and a timeout lists the absent ones; without,
// any distinct participants count. `timeout_ms` (0 = none) is measured from the
// entry's log time. With a `predecessor`, arrivals are accepted only once the
// predecessor released.
struct BarrierCreateCommand {
  std::string name;
  std::uint32_t participants = 0;
  std::vector<std::string> participant_names;
  BarrierThreshold threshold;
  std::uint64_t timeout_ms = 0;
  std::string predecessor;
  friend bool operator==(const BarrierCreateCommand&, const BarrierCreateCommand&) = default;
};

struct BarrierArriveCommand {
  std::string name;
  std::string participant;
  friend bool operator==(const BarrierArriveCommand&, const BarrierArriveCommand&) = default;
};

// The leader's proposal when its timer passes a deadline: applying it times out
// exactly the barriers whose deadline <= the entry's log time (an early or
// repeated one changes nothing).
struct BarrierExpireCommand {
  friend bool operator==(const BarrierExpireCommand&, const BarrierExpireCommand&) = default;
};

struct BarrierCancelCommand {
  std::string name;
  friend bool operator==(const BarrierCancelCommand&, const BarrierCancelCommand&) = default;
};

struct BarrierRemoveCommand {
  std::string name;
  friend bool operator==(const BarrierRemoveCommand&, const BarrierRemoveCommand&) = default;
};

using BarrierCommand =
    std::variant<BarrierCreateCommand, BarrierArriveCommand, BarrierExpireCommand,
                 BarrierCancelCommand, BarrierRemoveCommand>;

// Decoding bounds, above the table's own (which give the clearer errors).
struct BarrierDecodeLimits {
  std::uint64_t max_field_bytes = 64 * 1024;
  std::uint64_t max_participant_names = 1u << 16;
};

std::string EncodeBarrierCommand(const BarrierCommand& command);
// InvalidArgument naming the field and byte offset on truncation, an unknown
// operation or threshold kind, a field above its bound, or trailing bytes.
Result<BarrierCommand> DecodeBarrierCommand(std::string_view bytes,
                                            const BarrierDecodeLimits& limits = {});

enum class BarrierState : std::uint8_t {
  kWaitingForPredecessor = 1,
  kCollecting = 2,
  kReleased = 3,
  kTimedOut = 4,
  kCancelled = 5,
};

// "waiting_for_predecessor", "collecting", "released", "timed_out", "cancelled".
std::string_view BarrierStateName(BarrierState state);

// What applying a barrier command answers (on success; errors are KvErrors).
struct BarrierReply {
  // create, arrive, cancel, remove: the barrier named and its state after the
  // entry (remove: its state when removed).
  std::string name;
  BarrierState state = BarrierState::kCollecting;
  std::uint32_t arrived = 0;
  std::uint32_t threshold = 0;
  // arrive: this arrival was recorded by this entry (false: the participant had
  // arrived already, or arrived after the release).
  bool counted = false;
  // expire: the barriers this entry timed out, in name order.
  std::vector<std::string> timed_out;
  // Barriers cancelled because their predecessor ended without releasing or
  // was removed (cascading, in the order they were cancelled).
  std::vector<std::string> cancelled_successors;
};

}  // namespace tri::rsm
