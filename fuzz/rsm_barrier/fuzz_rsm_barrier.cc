// Arbitrary bytes, twice: as a barrier command applied to a populated barrier
// table (every state, a chain of predecessors, deadlines, named and anonymous
// participants), and as a barrier table snapshot. A command must be refused
// with the table unchanged, or applied with the table still valid (its
// snapshot restores); a decoded command must round-trip. A snapshot must be
// refused, or restore a table that re-encodes to the same bytes and takes
// further commands (arrivals, expiry far in the future, removal of every
// barrier) without an assertion.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "rsm/barrier_codec.h"
#include "rsm/barrier_table.h"

namespace {

using tri::rsm::BarrierArriveCommand;
using tri::rsm::BarrierCommand;
using tri::rsm::BarrierCreateCommand;
using tri::rsm::BarrierOptions;
using tri::rsm::BarrierTable;
using tri::rsm::BarrierThreshold;

constexpr std::uint64_t kPopulatedIndex = 20;

BarrierOptions Options() {
  BarrierOptions options;
  options.max_barriers = 8;
  options.max_participants = 8;
  options.max_name_bytes = 16;
  options.max_participant_bytes = 16;
  options.max_timeout_ms = 100'000;
  return options;
}

std::string Encode(const BarrierTable& table) {
  std::string out;
  table.EncodeTo(out);
  return out;
}

BarrierTable Decode(const std::string& bytes, std::uint64_t applied_index) {
  tri::coding::Decoder in(bytes);
  auto table = BarrierTable::DecodeFrom(in, Options(), applied_index);
  TRI_ASSERT_MSG(table.ok() && in.done(), "a barrier table's own snapshot does not restore");
  return std::move(table).value();
}

std::string Populated() {
  BarrierTable table(Options());
  std::uint64_t index = 0;
  const BarrierCommand commands[] = {
      BarrierCreateCommand{.name = "a", .participant_names = {"x", "y", "z"}, .timeout_ms = 500},
      BarrierArriveCommand{"a", "x"},
      BarrierCreateCommand{.name = "b", .participants = 2, .predecessor = "a"},
      BarrierCreateCommand{.name = "c", .participants = 1, .predecessor = "b"},
      BarrierCreateCommand{.name = "done", .participants = 1},
      BarrierArriveCommand{"done", "p"},
      BarrierCreateCommand{.name = "half",
                           .participants = 4,
                           .threshold = {.kind = BarrierThreshold::Kind::kFraction,
                                         .numerator = 1,
                                         .denominator = 2},
                           .timeout_ms = 50},
      tri::rsm::BarrierCancelCommand{"done"},
  };
  for (const BarrierCommand& c : commands)
    (void)table.Apply(++index, 1000, c);
  TRI_ASSERT(index < kPopulatedIndex);
  return Encode(table);
}

// Drives a table further: every state transition that is left.
void Exercise(BarrierTable& table, std::uint64_t index, std::uint64_t now_ms) {
  for (const auto& [name, barrier] : std::map(table.barriers())) {
    for (const char* who : {"x", "y", "z", "p", "q"}) {
      (void)table.Apply(++index, now_ms, BarrierArriveCommand{name, who});
    }
  }
  (void)table.Apply(++index, now_ms + 200'000, tri::rsm::BarrierExpireCommand{});
  const std::string after = Encode(table);
  TRI_ASSERT(Encode(Decode(after, index)) == after);
  for (const auto& [name, barrier] : std::map(table.barriers())) {
    (void)table.Apply(++index, now_ms + 200'000, tri::rsm::BarrierRemoveCommand{name});
  }
  TRI_ASSERT(table.NextDeadline() == UINT64_MAX);
}

void AsCommand(std::string_view bytes) {
  static const std::string populated = Populated();
  BarrierTable table = Decode(populated, kPopulatedIndex);
  auto command = tri::rsm::DecodeBarrierCommand(bytes);
  if (!command.ok()) return;
  const std::string once = tri::rsm::EncodeBarrierCommand(*command);
  auto again = tri::rsm::DecodeBarrierCommand(once);
  TRI_ASSERT_MSG(again.ok() && tri::rsm::EncodeBarrierCommand(*again) == once,
                 "a decoded barrier command does not round-trip");
  std::uint64_t index = kPopulatedIndex;
  auto reply = table.Apply(++index, 1100, *command);
  if (!reply.ok()) {
    TRI_ASSERT_MSG(Encode(table) == populated, "a refused barrier command changed the table");
    return;
  }
  const std::string after = Encode(table);
  TRI_ASSERT(Encode(Decode(after, index)) == after);
  Exercise(table, index, 1100);
}

void AsSnapshot(std::string_view bytes) {
  tri::coding::Decoder in(bytes);
  auto table = BarrierTable::DecodeFrom(in, Options(), 1000);
  if (!table.ok()) return;
  const std::string encoded = Encode(*table);
  TRI_ASSERT_MSG(Encode(Decode(encoded, 1000)) == encoded,
                 "a restored barrier table re-encodes differently");
  // Log time at or after every time the snapshot holds.
  std::uint64_t now_ms = 0;
  for (const auto& [name, b] : table->barriers()) {
    now_ms = std::max({now_ms, b.created_ms, b.ended_ms});
    for (const auto& a : b.arrivals)
      now_ms = std::max(now_ms, a.time_ms);
  }
  if (now_ms > UINT64_MAX / 2) return;  // no room for time to pass
  Exercise(*table, 1000, now_ms);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  AsCommand(bytes);
  AsSnapshot(bytes);
  return 0;
}
