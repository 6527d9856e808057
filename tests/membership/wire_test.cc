// The membership wire format: round trips, bounds and malformed packets.

#include "membership/wire.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "base/coding.h"

namespace tri::membership::wire {
namespace {

rc::Gen<std::string> GenName() {
  return rc::gen::map(rc::gen::container<std::string>(rc::gen::inRange<char>('a', 'z' + 1)),
                      [](std::string s) { return s.empty() ? std::string("x") : s.substr(0, 40); });
}

rc::Gen<Metadata> GenMetadata() {
  return rc::gen::apply(
      [](int role, std::string address, std::string zone, std::uint32_t load,
         std::uint32_t capacity, bool syncing) {
        Metadata m;
        m.role = static_cast<Role>(role);
        m.address = address.substr(0, 100);
        m.zone = zone.substr(0, 100);
        m.load = load;
        m.capacity = capacity == 0 ? 1 : capacity;
        m.syncing = syncing;
        return m;
      },
      rc::gen::inRange(0, 3), rc::gen::arbitrary<std::string>(), rc::gen::arbitrary<std::string>(),
      rc::gen::arbitrary<std::uint32_t>(), rc::gen::arbitrary<std::uint32_t>(),
      rc::gen::arbitrary<bool>());
}

rc::Gen<Message> GenMessage() {
  return rc::gen::oneOf(
      rc::gen::apply(
          [](std::uint64_t seq, std::string t) -> Message {
            return Ping{seq, t};
          },
          rc::gen::arbitrary<std::uint64_t>(), GenName()),
      rc::gen::apply(
          [](std::uint64_t seq, std::string t) -> Message {
            return PingReq{seq, t};
          },
          rc::gen::arbitrary<std::uint64_t>(), GenName()),
      rc::gen::apply([](std::uint64_t seq) -> Message { return Ack{seq}; },
                     rc::gen::arbitrary<std::uint64_t>()),
      rc::gen::apply([](std::uint64_t seq) -> Message { return Nack{seq}; },
                     rc::gen::arbitrary<std::uint64_t>()),
      rc::gen::apply(
          [](std::string n, std::uint64_t inc, bool joining, Metadata m) -> Message {
            return Alive{n, inc, joining, m};
          },
          GenName(), rc::gen::arbitrary<std::uint64_t>(), rc::gen::arbitrary<bool>(),
          GenMetadata()),
      rc::gen::apply(
          [](std::string n, std::uint64_t inc, std::string f) -> Message {
            return Suspect{n, inc, f};
          },
          GenName(), rc::gen::arbitrary<std::uint64_t>(), GenName()),
      rc::gen::apply(
          [](std::string n, std::uint64_t inc, std::string f) -> Message {
            return Dead{n, inc, f};
          },
          GenName(), rc::gen::arbitrary<std::uint64_t>(), GenName()),
      rc::gen::apply(
          [](std::string n, std::uint64_t inc) -> Message {
            return Leave{n, inc};
          },
          GenName(), rc::gen::arbitrary<std::uint64_t>()),
      rc::gen::apply(
          [](bool reply_wanted, bool join,
             std::vector<std::tuple<std::string, std::uint64_t, int, bool, Metadata>> raw)
              -> Message {
            PushPull p{reply_wanted, join, {}};
            for (auto& [n, inc, state, joining, m] : raw) {
              p.entries.push_back(StateEntry{n, inc, static_cast<State>(state), joining, m});
              if (p.entries.size() == 3) break;
            }
            return p;
          },
          rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>(),
          rc::gen::container<
              std::vector<std::tuple<std::string, std::uint64_t, int, bool, Metadata>>>(
              rc::gen::tuple(GenName(), rc::gen::arbitrary<std::uint64_t>(), rc::gen::inRange(0, 4),
                             rc::gen::arbitrary<bool>(), GenMetadata()))));
}

Limits WideLimits() {
  Limits limits;
  limits.max_packet_bytes = 1 << 20;
  return limits;
}

RC_GTEST_PROP(MembershipWire, EveryPacketRoundTripsAndReencodesToTheSameBytes, ()) {
  const auto messages = *rc::gen::resize(
      8, rc::gen::nonEmpty(rc::gen::container<std::vector<Message>>(GenMessage())));
  const std::vector<std::uint8_t> bytes = EncodePacket(messages);
  auto decoded = DecodePacket(bytes, WideLimits());
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == messages);
  RC_ASSERT(EncodePacket(*decoded) == bytes);
}

RC_GTEST_PROP(MembershipWire, EveryStrictPrefixOfAPacketIsRefused, ()) {
  const auto messages = *rc::gen::resize(
      4, rc::gen::nonEmpty(rc::gen::container<std::vector<Message>>(GenMessage())));
  const std::vector<std::uint8_t> bytes = EncodePacket(messages);
  const auto cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
  const std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + cut);
  RC_ASSERT(!DecodePacket(prefix, WideLimits()).ok());
}

std::string DecodeError(const std::vector<std::uint8_t>& bytes, Limits limits = {}) {
  auto decoded = DecodePacket(bytes, limits);
  EXPECT_FALSE(decoded.ok());
  return decoded.ok() ? "" : decoded.status().message();
}

std::vector<std::uint8_t> Raw(const std::string& s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

// A packet of one message with the given kind byte and raw body.
std::vector<std::uint8_t> OneMessage(std::uint8_t kind, const std::string& body) {
  std::string out;
  coding::PutFixed8(out, kWireVersion);
  coding::PutVarint64(out, 1);
  coding::PutFixed8(out, kind);
  coding::PutLengthPrefixed(out, body);
  return Raw(out);
}

TEST(MembershipWire, AnEmptyPacketIsRefused) {
  EXPECT_NE(DecodeError({}).find("version: empty"), std::string::npos);
}

TEST(MembershipWire, AnotherVersionIsRefusedByName) {
  auto bytes = EncodePacket(std::vector<Message>{Ack{1}});
  bytes[0] = 2;
  EXPECT_NE(DecodeError(bytes).find("version: 2 is not the supported version 1"),
            std::string::npos);
}

TEST(MembershipWire, APacketWithoutMessagesIsRefused) {
  EXPECT_NE(DecodeError({kWireVersion, 0}).find("count"), std::string::npos);
}

TEST(MembershipWire, AnUnknownKindIsRefused) {
  EXPECT_NE(DecodeError(OneMessage(42, "")).find("message 0: kind: unknown kind 42"),
            std::string::npos);
}

TEST(MembershipWire, TrailingBytesInABodyAreRefused) {
  std::string body;
  coding::PutVarint64(body, 7);
  body += "x";
  EXPECT_NE(DecodeError(OneMessage(3, body)).find("message 0 (ack): body: 1 trailing bytes"),
            std::string::npos);
}

TEST(MembershipWire, OverLongVarintsAreRefusedSoTheEncodingStaysCanonical) {
  // An ack's sequence number 7 as 0x87 0x00: the same value in two bytes.
  EXPECT_NE(DecodeError(OneMessage(3, std::string("\x87\x00", 2)))
                .find("message 0 (ack): seq: truncated, malformed or over-long varint"),
            std::string::npos);
  // The message count 1 as 0x81 0x00 (the input a fuzzer found).
  std::string count;
  coding::PutFixed8(count, kWireVersion);
  count += std::string("\x81\x00", 2);
  coding::PutFixed8(count, 3);
  coding::PutLengthPrefixed(count, std::string("\x07", 1));
  EXPECT_NE(DecodeError(Raw(count)).find("count: truncated, malformed or over-long varint"),
            std::string::npos);
  // A body length 1 as 0x81 0x00.
  std::string length;
  coding::PutFixed8(length, kWireVersion);
  coding::PutVarint64(length, 1);
  coding::PutFixed8(length, 3);
  length += std::string("\x81\x00\x07", 3);
  EXPECT_NE(DecodeError(Raw(length)).find("body: truncated, malformed or over-long length"),
            std::string::npos);
}

TEST(MembershipWire, TrailingBytesAfterTheMessagesAreRefused) {
  auto bytes = EncodePacket(std::vector<Message>{Ack{1}});
  bytes.push_back(0);
  EXPECT_NE(DecodeError(bytes).find("trailing bytes after 1 messages"), std::string::npos);
}

TEST(MembershipWire, AnOversizedPacketIsRefusedBeforeDecoding) {
  Limits limits;
  limits.max_packet_bytes = 10;
  const auto bytes = EncodePacket(std::vector<Message>{Ping{1, "a-long-target-name"}});
  EXPECT_NE(DecodeError(bytes, limits).find("more than max_packet_bytes 10"), std::string::npos);
}

TEST(MembershipWire, ANameOverTheBoundIsRefusedByField) {
  Limits limits;
  limits.max_name_bytes = 4;
  const auto bytes = EncodePacket(std::vector<Message>{Suspect{"abc", 1, "toolong"}});
  EXPECT_NE(DecodeError(bytes, limits).find("message 0 (suspect): from: longer than 4 bytes"),
            std::string::npos);
}

TEST(MembershipWire, AnEmptyNameIsRefused) {
  const auto bytes = EncodePacket(std::vector<Message>{Ping{1, ""}});
  EXPECT_NE(DecodeError(bytes).find("message 0 (ping): target: empty"), std::string::npos);
}

TEST(MembershipWire, MetadataOverTheBoundIsRefused) {
  Limits limits;
  limits.max_metadata_bytes = 8;
  Alive alive{"a", 1, false, {}};
  alive.metadata.address = "12345";
  alive.metadata.zone = "6789";
  const auto bytes = EncodePacket(std::vector<Message>{alive});
  EXPECT_NE(DecodeError(bytes, limits).find("metadata: address and zone longer than 8"),
            std::string::npos);
}

TEST(MembershipWire, ZeroCapacityIsRefused) {
  Alive alive{"a", 1, false, {}};
  alive.metadata.capacity = 0;
  const auto bytes = EncodePacket(std::vector<Message>{alive});
  EXPECT_NE(DecodeError(bytes).find("metadata.capacity: must be > 0"), std::string::npos);
}

TEST(MembershipWire, UnknownRoleStateAndFlagsAreRefused) {
  Alive alive{"a", 1, false, {}};
  auto bytes = EncodePacket(std::vector<Message>{alive});
  // version, count, kind, body length, name (2), incarnation, flags, role ...
  auto with_flags = bytes;
  with_flags[7] = 0x80;
  EXPECT_NE(DecodeError(with_flags).find("(alive): flags: unknown flag bits"), std::string::npos);
  auto with_role = bytes;
  with_role[8] = 9;
  EXPECT_NE(DecodeError(with_role).find("metadata.role: unknown role 9"), std::string::npos);

  PushPull pp{false, false, {StateEntry{"a", 1, State::kAlive, false, {}}}};
  auto pp_bytes = EncodePacket(std::vector<Message>{pp});
  // version, count, kind, body length, flags, entry count, name (2), incarnation, state
  pp_bytes[9] = 7;
  EXPECT_NE(DecodeError(pp_bytes).find("entries[0].state: unknown state 7"), std::string::npos);
}

TEST(MembershipWire, APushPullCountBeyondTheBodyIsRefusedWithoutAllocating) {
  std::string body;
  coding::PutFixed8(body, 0);
  coding::PutVarint64(body, 1'000'000'000);
  EXPECT_NE(DecodeError(OneMessage(9, body)).find("count: 1000000000 entries"), std::string::npos);
}

TEST(MembershipWire, AMessageCountBeyondThePacketIsRefused) {
  std::string out;
  coding::PutFixed8(out, kWireVersion);
  coding::PutVarint64(out, 1'000'000);
  EXPECT_NE(DecodeError(Raw(out)).find("count: 1000000 messages"), std::string::npos);
}

TEST(MembershipWire, ThePacketBuilderNeverExceedsItsBound) {
  PacketBuilder builder(64);
  int added = 0;
  while (builder.Add(EncodeMessage(Ping{1, "member-name"})))
    ++added;
  EXPECT_GT(added, 0);
  EXPECT_LE(builder.Finish().size(), 64u);
  EXPECT_TRUE(DecodePacket(builder.Finish(), Limits{}).ok());
}

TEST(MembershipWire, AStateEntryIsMeasuredExactly) {
  StateEntry e{"node-1", 300, State::kSuspect, true, {}};
  e.metadata.address = "10.0.0.1:7946";
  PushPull one{false, false, {e}};
  PushPull none{false, false, {}};
  EXPECT_EQ(EncodeMessage(one).size() - EncodeMessage(none).size(), StateEntryBytes(e));
}

}  // namespace
}  // namespace tri::membership::wire
