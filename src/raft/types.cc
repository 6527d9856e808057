#include "raft/types.h"

#include <cstring>

#include "base/assert.h"

namespace tri::raft {
namespace {

void PutU64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetU64(std::string_view* in, std::uint64_t* v) {
  if (in->size() < 8) return false;
  std::uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= static_cast<std::uint64_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  in->remove_prefix(8);
  *v = r;
  return true;
}

}  // namespace

// Layout (little endian): u8 version=1 | u8 type | u64 node_id | u64 context_len | context.
std::string EncodeConfChange(const ConfChange& cc) {
  std::string out;
  out.push_back(1);
  out.push_back(static_cast<char>(cc.type));
  PutU64(&out, cc.node_id);
  PutU64(&out, cc.context.size());
  out.append(cc.context);
  return out;
}

bool DecodeConfChange(std::string_view in, ConfChange* out) {
  if (in.size() < 2 || in[0] != 1) return false;
  const auto type = static_cast<std::uint8_t>(in[1]);
  if (type > static_cast<std::uint8_t>(ConfChangeType::kRemoveNode)) return false;
  in.remove_prefix(2);
  std::uint64_t id = 0, len = 0;
  if (!GetU64(&in, &id) || !GetU64(&in, &len)) return false;
  if (len != in.size()) return false;
  out->type = static_cast<ConfChangeType>(type);
  out->node_id = id;
  out->context.assign(in.data(), in.size());
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
