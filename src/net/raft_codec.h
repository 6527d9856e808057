#pragma once

// The wire encoding of raft::Message (field tables in docs/net.md), used as the
// payload of kRaftMessages frames:
//
//   batch:   version u8 (kRaftMessagesVersion) | count varint | count x message
//
// Every message field is written; integers are varints, byte strings are
// length-prefixed (base/coding.h). The encoding is canonical: DecodeMessages refuses
// non-minimal varints, unknown flag bits and unsorted id sets, so an accepted payload
// re-encodes to exactly the same bytes.
//
// DecodeMessages validates what the Raft core would otherwise trust: a known,
// non-local message type, non-zero from/to, known entry types, consecutive entry
// indexes in a kApp, a snapshot chunk on every kSnap and a chunk that fits its
// total size, and counts and lengths within RaftCodecLimits. Errors name the message
// (position and type) and the field.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "raft/types.h"

namespace tri::net {

inline constexpr std::uint8_t kRaftMessagesVersion = 1;

// Bounds enforced by DecodeMessages (all generous; the frame size bounds the total).
struct RaftCodecLimits {
  std::uint64_t max_messages_per_batch = 1 << 16;
  std::uint64_t max_entries_per_message = 1 << 20;
  std::uint64_t max_context_bytes = 1 << 20;
  std::uint64_t max_ids_per_conf_set = 1 << 16;  // each of voters, learners, removed
};

// Appends the encoding of one message (no batch header).
// REQUIRES: !raft::IsLocalMessage(m.type).
void AppendMessage(std::string& out, const raft::Message& m);

// The batch header for `count` messages that follow, each encoded by AppendMessage.
std::string EncodeBatchHeader(std::uint64_t count);

// A whole batch payload.
std::string EncodeMessages(const std::vector<raft::Message>& messages);

Result<std::vector<raft::Message>> DecodeMessages(std::string_view payload,
                                                  const RaftCodecLimits& limits = {});

}  // namespace tri::net
