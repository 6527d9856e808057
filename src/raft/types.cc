#include "raft/types.h"

#include "base/coding.h"

namespace tri::raft {
// Layout (little endian): u8 version=1 | u8 type | u64 node_id | u64 context_len | context.
std::string EncodeConfChange(const ConfChange& cc) {
  std::string out;
  coding::PutFixed8(out, 1);
  coding::PutFixed8(out, static_cast<std::uint8_t>(cc.type));
  coding::PutFixed64(out, cc.node_id);
  coding::PutFixed64(out, cc.context.size());
  out.append(cc.context);
  return out;
}

bool DecodeConfChange(std::string_view bytes, ConfChange* out) {
  coding::Decoder in(bytes);
  std::uint8_t version = 0, type = 0;
  std::uint64_t id = 0, len = 0;
  if (!in.ReadFixed8(version) || version != 1 || !in.ReadFixed8(type)) return false;
  if (type > static_cast<std::uint8_t>(ConfChangeType::kRemoveNode)) return false;
  if (!in.ReadFixed64(id) || !in.ReadFixed64(len) || len != in.remaining()) return false;
  out->type = static_cast<ConfChangeType>(type);
  out->node_id = id;
  out->context.assign(in.rest());
  return true;
}

std::string_view MessageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kHup: return "MsgHup";
    case MessageType::kBeat: return "MsgBeat";
    case MessageType::kProp: return "MsgProp";
    case MessageType::kCheckQuorum: return "MsgCheckQuorum";
    case MessageType::kUnreachable: return "MsgUnreachable";
    case MessageType::kApp: return "MsgApp";
    case MessageType::kAppResp: return "MsgAppResp";
    case MessageType::kVote: return "MsgVote";
    case MessageType::kVoteResp: return "MsgVoteResp";
    case MessageType::kPreVote: return "MsgPreVote";
    case MessageType::kPreVoteResp: return "MsgPreVoteResp";
    case MessageType::kSnap: return "MsgSnap";
    case MessageType::kSnapResp: return "MsgSnapResp";
    case MessageType::kHeartbeat: return "MsgHeartbeat";
    case MessageType::kHeartbeatResp: return "MsgHeartbeatResp";
    case MessageType::kTransferLeader: return "MsgTransferLeader";
    case MessageType::kTimeoutNow: return "MsgTimeoutNow";
    case MessageType::kReadIndex: return "MsgReadIndex";
    case MessageType::kReadIndexResp: return "MsgReadIndexResp";
  }
  return "MsgUnknown";
}

bool IsLocalMessage(MessageType t) {
  return t == MessageType::kHup || t == MessageType::kBeat || t == MessageType::kCheckQuorum ||
         t == MessageType::kUnreachable;
}

bool IsResponseMessage(MessageType t) {
  return t == MessageType::kAppResp || t == MessageType::kVoteResp ||
         t == MessageType::kPreVoteResp || t == MessageType::kHeartbeatResp ||
         t == MessageType::kSnapResp || t == MessageType::kReadIndexResp ||
         t == MessageType::kUnreachable;
}

std::uint64_t MessageSizeBytes(const Message& m) {
  std::uint64_t size = 64 + m.context.size();
  for (const Entry& e : m.entries) size += EntrySizeBytes(e);
  if (m.snapshot) size += m.snapshot->data.size() + 64;
  return size;
}

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kFollower: return "Follower";
    case Role::kCandidate: return "Candidate";
    case Role::kPreCandidate: return "PreCandidate";
    case Role::kLeader: return "Leader";
  }
  return "Unknown";
}

}  // namespace tri::raft
