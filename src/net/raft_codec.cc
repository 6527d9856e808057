#include "net/raft_codec.h"

#include <fmt/format.h>

#include "base/assert.h"
#include "base/coding.h"

namespace tri::net {
namespace {

// Flag bits of a message.
constexpr std::uint8_t kFlagReject = 1 << 0;
constexpr std::uint8_t kFlagSnapshot = 1 << 1;
constexpr std::uint8_t kKnownFlags = kFlagReject | kFlagSnapshot;

constexpr auto kLastMessageType = raft::MessageType::kReadIndexResp;
constexpr auto kLastEntryType = raft::EntryType::kConfChange;
// type, flags, and 11 one-byte varints (ids, terms, indexes, hints, context length,
// target, entry count).
constexpr std::uint64_t kMinMessageBytes = 13;

void PutIdSet(std::string& out, const std::set<raft::NodeId>& ids) {
  coding::PutVarint64(out, ids.size());
  for (raft::NodeId id : ids)
    coding::PutVarint64(out, id);
}

void PutSnapshotChunk(std::string& out, const raft::SnapshotChunk& chunk) {
  coding::PutVarint64(out, chunk.metadata.index);
  coding::PutVarint64(out, chunk.metadata.term);
  PutIdSet(out, chunk.metadata.conf_state.voters);
  PutIdSet(out, chunk.metadata.conf_state.learners);
  PutIdSet(out, chunk.metadata.conf_state.removed);
  coding::PutVarint64(out, chunk.offset_bytes);
  coding::PutVarint64(out, chunk.total_size_bytes);
  coding::PutLengthPrefixed(out, chunk.data);
}

// Reads fields in order and remembers the first failure with the field's name, so
// every decoding error says which field of which message was bad.
class FieldReader {
 public:
  explicit FieldReader(std::string_view in) : in_(in) {}

  // A varint in its shortest encoding (the encoding is canonical).
  bool Varint(std::string_view field, std::uint64_t& v) {
    if (!error_.empty()) return false;
    const std::size_t start = in_.position();
    if (!in_.ReadVarint64(v)) return Fail(field, "truncated or overlong varint");
    if (in_.position() - start != coding::VarintLength(v)) {
      return Fail(field, "non-minimal varint");
    }
    return true;
  }

  bool Byte(std::string_view field, std::uint8_t& v) {
    if (!error_.empty()) return false;
    if (!in_.ReadFixed8(v)) return Fail(field, "truncated");
    return true;
  }

  bool Bytes(std::string_view field, std::string& out, std::uint64_t max_bytes) {
    std::uint64_t n = 0;
    if (!Varint(field, n)) return false;
    if (n > max_bytes) {
      return Fail(field, fmt::format("length {} above the limit {}", n, max_bytes));
    }
    if (n > in_.remaining()) {
      return Fail(field, fmt::format("length {} but only {} bytes left", n, in_.remaining()));
    }
    std::string_view view;
    in_.ReadBytes(n, view);
    out.assign(view);
    return true;
  }

  // A count of items each taking at least `min_item_bytes`, bounded by `max_count`.
  bool Count(std::string_view field, std::uint64_t& n, std::uint64_t max_count,
             std::uint64_t min_item_bytes) {
    if (!Varint(field, n)) return false;
    if (n > max_count) return Fail(field, fmt::format("count {} above the limit {}", n, max_count));
    if (n > in_.remaining() / min_item_bytes) {
      return Fail(field,
                  fmt::format("count {} cannot fit in the {} bytes left", n, in_.remaining()));
    }
    return true;
  }

  bool IdSet(std::string_view field, std::set<raft::NodeId>& ids, std::uint64_t max_count) {
    std::uint64_t n = 0;
    if (!Count(field, n, max_count, 1)) return false;
    raft::NodeId previous = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      raft::NodeId id = 0;
      if (!Varint(field, id)) return false;
      if (id == raft::kNoNode) return Fail(field, fmt::format("id {} of the set is 0", i));
      if (i > 0 && id <= previous) {
        return Fail(field,
                    fmt::format("ids not strictly ascending at {} ({} after {})", i, id, previous));
      }
      ids.insert(ids.end(), id);
      previous = id;
    }
    return true;
  }

  bool Fail(std::string_view field, std::string_view what) {
    if (error_.empty()) error_ = fmt::format("{}: {}", field, what);
    return false;
  }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool done() const { return in_.done(); }
  std::size_t remaining() const { return in_.remaining(); }

 private:
  coding::Decoder in_;
  std::string error_;
};

bool ReadSnapshotChunk(FieldReader& r, raft::SnapshotChunk& chunk, const RaftCodecLimits& limits) {
  raft::ConfState& cs = chunk.metadata.conf_state;
  return r.Varint("snapshot.metadata.index", chunk.metadata.index) &&
         r.Varint("snapshot.metadata.term", chunk.metadata.term) &&
         r.IdSet("snapshot.metadata.conf_state.voters", cs.voters, limits.max_ids_per_conf_set) &&
         r.IdSet("snapshot.metadata.conf_state.learners", cs.learners,
                 limits.max_ids_per_conf_set) &&
         r.IdSet("snapshot.metadata.conf_state.removed", cs.removed, limits.max_ids_per_conf_set) &&
         r.Varint("snapshot.offset_bytes", chunk.offset_bytes) &&
         r.Varint("snapshot.total_size_bytes", chunk.total_size_bytes) &&
         r.Bytes("snapshot.data", chunk.data, UINT64_MAX);
}

bool ReadEntries(FieldReader& r, std::vector<raft::Entry>& entries, const RaftCodecLimits& limits) {
  std::uint64_t n = 0;
  // index, term, type and an empty data length: at least 4 bytes per entry.
  if (!r.Count("entries", n, limits.max_entries_per_message, 4)) return false;
  entries.resize(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    raft::Entry& e = entries[i];
    std::uint8_t type = 0;
    if (!r.Varint("entry.index", e.index) || !r.Varint("entry.term", e.term) ||
        !r.Byte("entry.type", type)) {
      return false;
    }
    if (type > static_cast<std::uint8_t>(kLastEntryType)) {
      return r.Fail("entry.type", fmt::format("entry {} has unknown type {}", i, type));
    }
    e.type = static_cast<raft::EntryType>(type);
    if (!r.Bytes("entry.data", e.data, UINT64_MAX)) return false;
  }
  return true;
}

// Checks that need the whole message; empty when it is sane.
std::string Validate(const raft::Message& m) {
  if (m.to == raft::kNoNode) return "to: is 0";
  if (m.from == raft::kNoNode) return "from: is 0";
  if (m.type == raft::MessageType::kApp) {
    for (std::size_t i = 0; i < m.entries.size(); ++i) {
      if (m.entries[i].index != m.index + 1 + i) {
        return fmt::format("entries: entry {} has index {}, want {} (consecutive after {})", i,
                           m.entries[i].index, m.index + 1 + i, m.index);
      }
    }
  }
  if (m.type == raft::MessageType::kSnap) {
    if (!m.snapshot) return "snapshot: missing from a MsgSnap";
    const raft::SnapshotChunk& c = *m.snapshot;
    if (c.offset_bytes > c.total_size_bytes ||
        c.data.size() > c.total_size_bytes - c.offset_bytes) {
      return fmt::format("snapshot: chunk of {} bytes at offset {} exceeds the total size {}",
                         c.data.size(), c.offset_bytes, c.total_size_bytes);
    }
  }
  return {};
}

Result<raft::Message> ReadMessage(FieldReader& r, const RaftCodecLimits& limits,
                                  std::uint64_t position, std::uint64_t count) {
  const auto where = [&](std::string_view type) {
    return fmt::format("raft message {} of {} ({})", position, count, type);
  };
  raft::Message m;
  std::uint8_t type = 0;
  if (!r.Byte("type", type)) return Corruption(fmt::format("{}: {}", where("?"), r.error()));
  if (type > static_cast<std::uint8_t>(kLastMessageType)) {
    return Corruption(fmt::format("{}: type: unknown message type {}", where("?"), type));
  }
  m.type = static_cast<raft::MessageType>(type);
  const std::string_view name = raft::MessageTypeName(m.type);
  if (raft::IsLocalMessage(m.type)) {
    return Corruption(
        fmt::format("{}: type: a local message type never sent over the network", where(name)));
  }
  std::uint8_t flags = 0;
  (void)(r.Varint("to", m.to) && r.Varint("from", m.from) && r.Varint("term", m.term) &&
         r.Varint("log_term", m.log_term) && r.Varint("index", m.index) &&
         r.Varint("commit", m.commit) && r.Byte("flags", flags));
  if (!r.failed() && (flags & ~kKnownFlags) != 0) {
    r.Fail("flags", fmt::format("unknown flag bits {:#04x}", flags & ~kKnownFlags));
  }
  m.reject = (flags & kFlagReject) != 0;
  (void)(r.Varint("reject_hint", m.reject_hint) &&
         r.Varint("reject_hint_term", m.reject_hint_term) &&
         r.Bytes("context", m.context, limits.max_context_bytes) && r.Varint("target", m.target) &&
         ReadEntries(r, m.entries, limits));
  if (!r.failed() && (flags & kFlagSnapshot) != 0) {
    m.snapshot.emplace();
    ReadSnapshotChunk(r, *m.snapshot, limits);
  }
  if (r.failed()) return Corruption(fmt::format("{}: {}", where(name), r.error()));
  if (std::string problem = Validate(m); !problem.empty()) {
    return Corruption(fmt::format("{}: {}", where(name), problem));
  }
  return m;
}

}  // namespace

void AppendMessage(std::string& out, const raft::Message& m) {
  TRI_ASSERT_MSG(!raft::IsLocalMessage(m.type), "local raft messages are never sent");
  coding::PutFixed8(out, static_cast<std::uint8_t>(m.type));
  coding::PutVarint64(out, m.to);
  coding::PutVarint64(out, m.from);
  coding::PutVarint64(out, m.term);
  coding::PutVarint64(out, m.log_term);
  coding::PutVarint64(out, m.index);
  coding::PutVarint64(out, m.commit);
  std::uint8_t flags = 0;
  if (m.reject) flags |= kFlagReject;
  if (m.snapshot) flags |= kFlagSnapshot;
  coding::PutFixed8(out, flags);
  coding::PutVarint64(out, m.reject_hint);
  coding::PutVarint64(out, m.reject_hint_term);
  coding::PutLengthPrefixed(out, m.context);
  coding::PutVarint64(out, m.target);
  coding::PutVarint64(out, m.entries.size());
  for (const raft::Entry& e : m.entries) {
    coding::PutVarint64(out, e.index);
    coding::PutVarint64(out, e.term);
    coding::PutFixed8(out, static_cast<std::uint8_t>(e.type));
    coding::PutLengthPrefixed(out, e.data);
  }
  if (m.snapshot) PutSnapshotChunk(out, *m.snapshot);
}

std::string EncodeBatchHeader(std::uint64_t count) {
  std::string out;
  coding::PutFixed8(out, kRaftMessagesVersion);
  coding::PutVarint64(out, count);
  return out;
}

std::string EncodeMessages(const std::vector<raft::Message>& messages) {
  std::string out = EncodeBatchHeader(messages.size());
  for (const raft::Message& m : messages)
    AppendMessage(out, m);
  return out;
}

Result<std::vector<raft::Message>> DecodeMessages(std::string_view payload,
                                                  const RaftCodecLimits& limits) {
  FieldReader r(payload);
  std::uint8_t version = 0;
  if (!r.Byte("version", version)) return Corruption("raft message batch: empty payload");
  if (version != kRaftMessagesVersion) {
    return Corruption(fmt::format("raft message batch: unsupported encoding version {} (want {})",
                                  version, kRaftMessagesVersion));
  }
  std::uint64_t count = 0;
  // A message takes at least kMinMessageBytes, which bounds the count by the payload
  // before anything is allocated.
  if (!r.Count("count", count, limits.max_messages_per_batch, kMinMessageBytes)) {
    return Corruption(fmt::format("raft message batch: {}", r.error()));
  }
  std::vector<raft::Message> messages;
  messages.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    TRI_ASSIGN_OR_RETURN(raft::Message m, ReadMessage(r, limits, i + 1, count));
    messages.push_back(std::move(m));
  }
  if (!r.done()) {
    return Corruption(
        fmt::format("raft message batch: {} unexpected trailing bytes after {} messages",
                    r.remaining(), count));
  }
  return messages;
}

}  // namespace tri::net
