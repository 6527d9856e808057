// Arbitrary bytes as a membership datagram. Nothing may crash, hang or assert.
// Checked properties:
//   - an accepted packet re-encodes to exactly the same bytes (the encoding is
//     canonical) and decodes again to the same messages;
//   - a refused packet leaves a member unchanged (table, deadline, queue, output);
//   - a member that takes the packet (and then runs its timers) keeps its
//     invariants: its own entry first and alive, no more members than the bound,
//     every packet it sends within max_packet_bytes and decodable.
//
// Input: byte 0 picks the sender among a few names (some known to the member,
// one unknown, one its own name); the rest is the datagram.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "membership/member.h"
#include "membership/wire.h"

namespace {

using tri::membership::Config;
using tri::membership::Member;
using tri::membership::MemberInfo;
using tri::membership::State;
namespace wire = tri::membership::wire;

Config FuzzConfig() {
  Config config;
  config.max_members = 64;
  return config;
}

void CheckSent(Member& member, const Config& config) {
  for (const tri::membership::Packet& p : member.TakePackets()) {
    TRI_ASSERT(p.bytes.size() <= config.max_packet_bytes);
    TRI_ASSERT(wire::DecodePacket(p.bytes, wire::Limits::From(config)).ok());
  }
  (void)member.TakeEvents();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* kSenders[] = {"b", "c", "stranger", "a"};
  const std::string sender = kSenders[data[0] % 4];
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  const Config config = FuzzConfig();
  const wire::Limits limits = wire::Limits::From(config);

  auto decoded = wire::DecodePacket(bytes, limits);
  if (decoded.ok()) {
    const std::vector<std::uint8_t> again = wire::EncodePacket(*decoded);
    TRI_ASSERT(again.size() == bytes.size() &&
               std::equal(again.begin(), again.end(), bytes.begin()));
    auto twice = wire::DecodePacket(again, limits);
    TRI_ASSERT(twice.ok() && *twice == *decoded);
  }

  tri::SeededRng rng(size);
  auto created = Member::Create(config, MemberInfo{"a", {}}, &rng, 0);
  TRI_ASSERT(created.ok());
  Member member = std::move(created).value();
  member.Join({}, 0);
  for (const char* peer : {"b", "c"}) {
    const auto alive =
        wire::EncodePacket(std::vector<wire::Message>{wire::Alive{peer, 1, false, {}}});
    TRI_ASSERT(member.Receive(peer, alive, 0).ok());
  }
  CheckSent(member, config);

  const std::size_t members_before = member.Members().size();
  const tri::membership::Millis deadline_before = member.NextDeadline();
  const std::size_t pending_before = member.PendingBroadcasts();
  const tri::Status status = member.Receive(sender, bytes, 10);
  if (!status.ok()) {
    TRI_ASSERT(member.Members().size() == members_before);
    TRI_ASSERT(member.NextDeadline() == deadline_before);
    TRI_ASSERT(member.PendingBroadcasts() == pending_before);
    TRI_ASSERT(member.TakePackets().empty());
  }
  // Its timers keep working on whatever it accepted.
  for (tri::membership::Millis now = 10; now < 20000;) {
    CheckSent(member, config);
    const tri::membership::Millis next = member.NextDeadline();
    if (next > 20000) break;
    now = std::max(now, next);
    member.Tick(now);
  }
  CheckSent(member, config);
  TRI_ASSERT(member.Members().size() <= config.max_members);
  TRI_ASSERT(member.Members().front().name == "a");
  TRI_ASSERT(member.Members().front().state == State::kAlive);
  return 0;
}
