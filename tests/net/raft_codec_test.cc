#include "net/raft_codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/coding.h"
#include "net/raft_message_gen.h"

namespace tri::net {
namespace {

using testing::GenMessage;
using testing::SameMessage;

RC_GTEST_PROP(RaftCodec, EveryFieldRoundTripsAndReencodesToTheSameBytes, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 5);
  std::vector<raft::Message> messages;
  for (std::size_t i = 0; i < count; ++i)
    messages.push_back(GenMessage());
  const std::string bytes = EncodeMessages(messages);
  auto decoded = DecodeMessages(bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->size() == messages.size());
  for (std::size_t i = 0; i < count; ++i)
    RC_ASSERT(SameMessage((*decoded)[i], messages[i]));
  RC_ASSERT(EncodeMessages(*decoded) == bytes);
}

RC_GTEST_PROP(RaftCodec, EveryStrictPrefixIsRejected, ()) {
  const std::string bytes = EncodeMessages({GenMessage(), GenMessage()});
  const auto cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
  RC_ASSERT(!DecodeMessages(std::string_view(bytes).substr(0, cut)).ok());
}

raft::Message Heartbeat() {
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.to = 2;
  m.from = 1;
  m.term = 5;
  return m;
}

// Decodes and returns the error text (empty when accepted).
std::string ErrorOf(std::string_view bytes, const RaftCodecLimits& limits = {}) {
  auto decoded = DecodeMessages(bytes, limits);
  return decoded.ok() ? std::string() : decoded.status().message();
}

void ExpectError(std::string_view bytes, std::string_view want,
                 const RaftCodecLimits& limits = {}) {
  const std::string error = ErrorOf(bytes, limits);
  EXPECT_NE(error.find(want), std::string::npos) << "error: '" << error << "', want: " << want;
}

TEST(RaftCodec, BatchStartsWithVersionAndCount) {
  const std::string bytes = EncodeMessages({Heartbeat(), Heartbeat()});
  EXPECT_EQ(bytes[0], static_cast<char>(kRaftMessagesVersion));
  EXPECT_EQ(bytes[1], 2);
  EXPECT_EQ(bytes[2], static_cast<char>(raft::MessageType::kHeartbeat));
}

TEST(RaftCodec, RejectsAnUnknownVersion) {
  std::string bytes = EncodeMessages({Heartbeat()});
  bytes[0] = 9;
  ExpectError(bytes, "unsupported encoding version 9 (want 1)");
  ExpectError("", "empty payload");
}

TEST(RaftCodec, RejectsUnknownAndLocalMessageTypes) {
  std::string bytes = EncodeMessages({Heartbeat()});
  bytes[2] = 77;
  ExpectError(bytes, "raft message 1 of 1 (?): type: unknown message type 77");
  bytes[2] = static_cast<char>(raft::MessageType::kHup);
  ExpectError(bytes, "raft message 1 of 1 (MsgHup): type: a local message type");
}

TEST(RaftCodec, RejectsZeroIds) {
  raft::Message m = Heartbeat();
  m.to = 0;
  ExpectError(EncodeMessages({m}), "(MsgHeartbeat): to: is 0");
  m = Heartbeat();
  m.from = 0;
  ExpectError(EncodeMessages({m}), "(MsgHeartbeat): from: is 0");
}

TEST(RaftCodec, RejectsUnknownFlagBitsAndEntryTypes) {
  std::string bytes = EncodeMessages({Heartbeat()});
  // version, count, type, to, from, term, log_term, index, commit: flags at offset 9.
  ASSERT_EQ(bytes[9], 0);
  bytes[9] = 0x10;
  ExpectError(bytes, "flags: unknown flag bits 0x10");

  raft::Message app;
  app.type = raft::MessageType::kApp;
  app.to = 2;
  app.from = 1;
  app.entries.push_back({1, 1, raft::EntryType::kNormal, ""});
  bytes = EncodeMessages({app});
  // The entry type is the byte before the last (the empty data length).
  bytes[bytes.size() - 2] = 5;
  ExpectError(bytes, "entry.type: entry 0 has unknown type 5");
}

TEST(RaftCodec, RejectsNonConsecutiveAppendEntries) {
  raft::Message app;
  app.type = raft::MessageType::kApp;
  app.to = 2;
  app.from = 1;
  app.index = 10;
  app.entries.push_back({11, 1, raft::EntryType::kNormal, "a"});
  app.entries.push_back({13, 1, raft::EntryType::kNormal, "b"});
  ExpectError(EncodeMessages({app}), "entry 1 has index 13, want 12");
}

TEST(RaftCodec, RejectsASnapshotMessageWithoutOrBeyondItsChunk) {
  raft::Message snap = Heartbeat();
  snap.type = raft::MessageType::kSnap;
  ExpectError(EncodeMessages({snap}), "snapshot: missing from a MsgSnap");
  snap.snapshot = testing::Chunk(5, 1, {}, 10, 12, "abc");
  ExpectError(EncodeMessages({snap}), "chunk of 3 bytes at offset 10 exceeds the total size 12");
}

TEST(RaftCodec, RejectsUnsortedOrZeroConfStateIds) {
  raft::Message snap = Heartbeat();
  snap.type = raft::MessageType::kSnap;
  snap.snapshot = testing::Chunk(5, 1, {1, 2}, 0, 0, "");
  std::string bytes = EncodeMessages({snap});
  // Voters "2 1 2" follow index 5 and term 1 at the start of the snapshot; swap them.
  const std::string voters("\x02\x01\x02", 3);
  const auto at = bytes.find(voters);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = 2;
  bytes[at + 2] = 1;
  ExpectError(bytes, "voters: ids not strictly ascending at 1 (1 after 2)");
  bytes[at + 1] = 0;
  ExpectError(bytes, "voters: id 0 of the set is 0");
}

TEST(RaftCodec, RejectsNonMinimalVarintsAndTrailingBytes) {
  std::string bytes = EncodeMessages({Heartbeat()});
  // Term 5 at offset 5 as the two-byte varint 0x85 0x00.
  ASSERT_EQ(bytes[5], 5);
  std::string padded = bytes.substr(0, 5) + std::string("\x85\x00", 2) + bytes.substr(6);
  ExpectError(padded, "term: non-minimal varint");
  ExpectError(bytes + "x", "1 unexpected trailing bytes after 1 messages");
}

TEST(RaftCodec, EnforcesCountAndLengthLimits) {
  RaftCodecLimits limits;
  limits.max_messages_per_batch = 1;
  ExpectError(EncodeMessages({Heartbeat(), Heartbeat()}), "count: count 2 above the limit 1",
              limits);
  limits = {};
  limits.max_context_bytes = 3;
  raft::Message m = Heartbeat();
  m.context = "abcd";
  ExpectError(EncodeMessages({m}), "context: length 4 above the limit 3", limits);
  limits = {};
  limits.max_entries_per_message = 1;
  m = Heartbeat();
  m.entries.resize(2);
  ExpectError(EncodeMessages({m}), "entries: count 2 above the limit 1", limits);
  // A count that cannot fit in the bytes left is refused before any allocation.
  std::string huge;
  coding::PutFixed8(huge, kRaftMessagesVersion);
  coding::PutVarint64(huge, 60000);
  ExpectError(huge, "count 60000 cannot fit in the 0 bytes left");
}

}  // namespace
}  // namespace tri::net
