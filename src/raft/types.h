#pragma once

// Value types of the Raft core: log entries, messages, persistent state,
// membership and snapshots. The shape follows etcd's raftpb. Everything here
// is a plain value; the core never does I/O with it.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tri::raft {

using NodeId = std::uint64_t;
using Term = std::uint64_t;
using Index = std::uint64_t;

// Node id 0 means "nobody" (no leader known, no vote cast).
inline constexpr NodeId kNoNode = 0;

enum class EntryType : std::uint8_t {
  kNormal = 0,
  // `data` holds an encoded ConfChange (EncodeConfChange).
  kConfChange = 1,
};

struct Entry {
  Index index = 0;
  Term term = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Bytes an entry counts for against the size limits of Config.
inline std::uint64_t EntrySizeBytes(const Entry& e) { return e.data.size() + 24; }

// What must be on stable storage before any message of the same Ready is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

// Membership. `removed` remembers every id that was ever removed so that a
// reused id is refused instead of silently rejoining with a stale log.
struct ConfState {
  std::set<NodeId> voters;
  std::set<NodeId> learners;
  std::set<NodeId> removed;

  friend bool operator==(const ConfState&, const ConfState&) = default;
  bool IsVoter(NodeId id) const { return voters.count(id) != 0; }
  bool IsLearner(NodeId id) const { return learners.count(id) != 0; }
  bool IsMember(NodeId id) const { return IsVoter(id) || IsLearner(id); }
};

// A single-server membership change (one change in flight at a time; see docs/raft.md).
enum class ConfChangeType : std::uint8_t {
  // Adds a voter, or promotes an existing learner to voter.
  kAddVoter = 0,
  // Adds a non-voting member that receives the log.
  kAddLearner = 1,
  // Removes a voter or learner. The id can never be added again.
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node_id = kNoNode;
  // Opaque to raft; handed back with the committed entry (e.g. a network address).
  std::string context;

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// Stable byte encoding of a ConfChange, used as the data of a kConfChange entry.
std::string EncodeConfChange(const ConfChange& cc);
// Returns false on malformed input (never asserts: entries may come from disk).
bool DecodeConfChange(std::string_view bytes, ConfChange* out);

struct SnapshotMetadata {
  Index index = 0;  // last index covered by the snapshot; 0 = no snapshot
  Term term = 0;    // term of that entry
  ConfState conf_state;

  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

struct Snapshot {
  SnapshotMetadata metadata;
  std::string data;  // application state, opaque to raft

  bool empty() const { return metadata.index == 0; }
};

enum class MessageType : std::uint8_t {
  // Local messages: never sent over the network.
  kHup = 0,            // start an election (campaign)
  kBeat,               // leader: send heartbeats
  kProp,               // proposal (also forwarded follower -> leader)
  kCheckQuorum,        // leader: check that a quorum was recently active
  kUnreachable,        // report: peer `from` unreachable
  // Network messages.
  kApp,                // append entries
  kAppResp,
  kVote,
  kVoteResp,
  kPreVote,
  kPreVoteResp,
  kSnap,               // one chunk of a snapshot
  kSnapResp,           // acknowledges a chunk (or rejects it; see Message::reject)
  kHeartbeat,
  kHeartbeatResp,
  kTransferLeader,     // forwarded to the leader
  kTimeoutNow,         // leader -> transfer target: campaign now
  kReadIndex,          // forwarded to the leader
  kReadIndexResp,
};

std::string_view MessageTypeName(MessageType t);
bool IsLocalMessage(MessageType t);
bool IsResponseMessage(MessageType t);

// One chunk of a snapshot in flight. Chunks are sent in order; a follower
// assembles them and installs the snapshot when the last one arrives.
struct SnapshotChunk {
  SnapshotMetadata metadata;
  std::uint64_t offset_bytes = 0;
  std::uint64_t total_size_bytes = 0;
  std::string data;

  bool last() const { return offset_bytes + data.size() == total_size_bytes; }
};

struct Message {
  MessageType type = MessageType::kHup;
  NodeId to = kNoNode;
  NodeId from = kNoNode;
  Term term = 0;  // 0 for local messages and forwarded proposals
  // kApp: term/index of the entry preceding `entries`. kVote/kPreVote: last log term/index.
  // kAppResp: the highest index now matching (or the rejected index).
  Term log_term = 0;
  Index index = 0;
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  // kAppResp with reject: the follower's hint of where to retry (fast backtracking):
  // the largest index <= the probed index whose term is <= reject_hint_term.
  Index reject_hint = 0;
  Term reject_hint_term = 0;
  // kReadIndex/kReadIndexResp/kHeartbeat(Resp): the read request context.
  // kVote/kPreVote/kTimeoutNow: kCampaignTransfer when the election is a leader transfer.
  std::string context;
  // kSnap: one chunk. kSnapResp: metadata of the snapshot being received and, in
  // offset_bytes, the next offset wanted (no data).
  std::optional<SnapshotChunk> snapshot;
  // kTransferLeader: the node that should become leader.
  NodeId target = kNoNode;
};

// Context of a vote request sent because of a leader transfer: it bypasses the
// "leader recently heard" lease check of followers.
inline constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

// Approximate bytes a message takes on the wire; bounded by Config::max_msg_size_bytes.
std::uint64_t MessageSizeBytes(const Message& m);

enum class Role : std::uint8_t { kFollower = 0, kCandidate, kPreCandidate, kLeader };
std::string_view RoleName(Role r);

// Volatile state the application may want to observe (not persisted).
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;

  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// The answer to a ReadIndex request: once the application has applied up to
// `index`, a read issued at ReadIndex time is linearizable.
struct ReadState {
  Index index = 0;
  std::string context;

  friend bool operator==(const ReadState&, const ReadState&) = default;
};

}  // namespace tri::raft
