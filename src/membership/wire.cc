#include "membership/wire.h"

#include <string>
#include <utility>

#include "base/assert.h"
#include "base/coding.h"

namespace tri::membership::wire {
namespace {

using coding::Decoder;

// Reads a varint and refuses an over-long one (0x81 0x00 for 1): the encoding is
// canonical, so whatever decodes re-encodes to the same bytes.
bool ReadMinimalVarint(Decoder& in, std::uint64_t& v) {
  const std::size_t before = in.remaining();
  if (!in.ReadVarint64(v)) return false;
  return before - in.remaining() == coding::VarintLength(v);
}

// A length-prefixed byte string whose length is a minimal varint.
bool ReadMinimalLengthPrefixed(Decoder& in, std::string_view& bytes) {
  Decoder length = in;
  std::uint64_t n = 0;
  if (!ReadMinimalVarint(length, n)) return false;
  return in.ReadLengthPrefixed(bytes);
}

constexpr std::uint8_t kAliveFlagJoining = 0x01;
constexpr std::uint8_t kMetadataFlagSyncing = 0x01;
constexpr std::uint8_t kPushPullFlagReplyWanted = 0x01;
constexpr std::uint8_t kPushPullFlagJoin = 0x02;
constexpr std::uint8_t kEntryFlagJoining = 0x01;
constexpr std::uint8_t kMaxRole = static_cast<std::uint8_t>(Role::kWorker);
constexpr std::uint8_t kMaxState = static_cast<std::uint8_t>(State::kLeft);

void PutMetadata(std::string& out, const Metadata& m) {
  coding::PutFixed8(out, static_cast<std::uint8_t>(m.role));
  coding::PutLengthPrefixed(out, m.address);
  coding::PutLengthPrefixed(out, m.zone);
  coding::PutVarint64(out, m.load);
  coding::PutVarint64(out, m.capacity);
  coding::PutFixed8(out, m.syncing ? kMetadataFlagSyncing : 0);
}

void PutStateEntry(std::string& out, const StateEntry& e) {
  coding::PutLengthPrefixed(out, e.name);
  coding::PutVarint64(out, e.incarnation);
  coding::PutFixed8(out, static_cast<std::uint8_t>(e.state));
  coding::PutFixed8(out, e.joining ? kEntryFlagJoining : 0);
  PutMetadata(out, e.metadata);
}

struct BodyEncoder {
  std::string& out;
  void operator()(const Ping& m) {
    coding::PutVarint64(out, m.seq);
    coding::PutLengthPrefixed(out, m.target);
  }
  void operator()(const PingReq& m) {
    coding::PutVarint64(out, m.seq);
    coding::PutLengthPrefixed(out, m.target);
  }
  void operator()(const Ack& m) { coding::PutVarint64(out, m.seq); }
  void operator()(const Nack& m) { coding::PutVarint64(out, m.seq); }
  void operator()(const Alive& m) {
    coding::PutLengthPrefixed(out, m.name);
    coding::PutVarint64(out, m.incarnation);
    coding::PutFixed8(out, m.joining ? kAliveFlagJoining : 0);
    PutMetadata(out, m.metadata);
  }
  void operator()(const Suspect& m) {
    coding::PutLengthPrefixed(out, m.name);
    coding::PutVarint64(out, m.incarnation);
    coding::PutLengthPrefixed(out, m.from);
  }
  void operator()(const Dead& m) {
    coding::PutLengthPrefixed(out, m.name);
    coding::PutVarint64(out, m.incarnation);
    coding::PutLengthPrefixed(out, m.from);
  }
  void operator()(const Leave& m) {
    coding::PutLengthPrefixed(out, m.name);
    coding::PutVarint64(out, m.incarnation);
  }
  void operator()(const PushPull& m) {
    std::uint8_t flags = 0;
    if (m.reply_wanted) flags |= kPushPullFlagReplyWanted;
    if (m.join) flags |= kPushPullFlagJoin;
    coding::PutFixed8(out, flags);
    coding::PutVarint64(out, m.entries.size());
    for (const StateEntry& e : m.entries)
      PutStateEntry(out, e);
  }
};

// Reads the fields of one message body; the first failure is kept with the
// field's name so the caller can say where the packet is wrong. Field names are
// built only on failure; within a push/pull entry they get an "entries[i]." prefix.
class FieldReader {
 public:
  FieldReader(std::string_view body, const Limits& limits) : in_(body), limits_(limits) {}

  bool Varint(std::uint64_t& v, std::string_view field) {
    if (!ReadMinimalVarint(in_, v)) return Fail(field, "truncated, malformed or over-long varint");
    return true;
  }
  bool Varint32(std::uint32_t& v, std::string_view field) {
    std::uint64_t wide = 0;
    if (!Varint(wide, field)) return false;
    if (wide > 0xffffffffu) return Fail(field, "does not fit in 32 bits");
    v = static_cast<std::uint32_t>(wide);
    return true;
  }
  bool Byte(std::uint8_t& v, std::string_view field) {
    if (!in_.ReadFixed8(v)) return Fail(field, "truncated");
    return true;
  }
  bool Name(std::string& v, std::string_view field) {
    if (!Text(v, field, limits_.max_name_bytes)) return false;
    if (v.empty()) return Fail(field, "empty");
    return true;
  }
  bool Text(std::string& v, std::string_view field, std::uint64_t max_bytes) {
    std::uint64_t n = 0;
    Decoder length = in_;
    if (!ReadMinimalVarint(length, n)) return Fail(field, "truncated or over-long length");
    if (n > max_bytes) return Fail(field, "longer than " + std::to_string(max_bytes) + " bytes");
    std::string_view view;
    if (!ReadMinimalLengthPrefixed(in_, view)) return Fail(field, "truncated");
    v.assign(view);
    return true;
  }
  bool Meta(Metadata& m) {
    std::uint8_t role = 0;
    if (!Byte(role, "metadata.role")) return false;
    if (role > kMaxRole) return Fail("metadata.role", "unknown role " + std::to_string(role));
    m.role = static_cast<Role>(role);
    if (!Text(m.address, "metadata.address", limits_.max_metadata_bytes)) return false;
    if (!Text(m.zone, "metadata.zone", limits_.max_metadata_bytes)) return false;
    if (m.address.size() + m.zone.size() > limits_.max_metadata_bytes) {
      return Fail("metadata", "address and zone longer than " +
                                  std::to_string(limits_.max_metadata_bytes) + " bytes");
    }
    if (!Varint32(m.load, "metadata.load")) return false;
    if (!Varint32(m.capacity, "metadata.capacity")) return false;
    if (m.capacity == 0) return Fail("metadata.capacity", "must be > 0");
    std::uint8_t flags = 0;
    if (!Byte(flags, "metadata.flags")) return false;
    if ((flags & ~kMetadataFlagSyncing) != 0) return Fail("metadata.flags", "unknown flag bits");
    m.syncing = (flags & kMetadataFlagSyncing) != 0;
    return true;
  }
  bool Finish() {
    if (!in_.done()) return Fail("body", std::to_string(in_.remaining()) + " trailing bytes");
    return true;
  }
  bool Fail(std::string_view field, std::string what) {
    if (error_field_.empty()) {
      if (entry_ >= 0) error_field_ = "entries[" + std::to_string(entry_) + "].";
      error_field_ += field;
      error_what_ = std::move(what);
    }
    return false;
  }
  void set_entry(std::int64_t entry) { entry_ = entry; }
  const std::string& error_field() const { return error_field_; }
  const std::string& error_what() const { return error_what_; }
  std::size_t remaining() const { return in_.remaining(); }
  const Limits& limits() const { return limits_; }

 private:
  Decoder in_;
  const Limits& limits_;
  std::int64_t entry_ = -1;
  std::string error_field_;
  std::string error_what_;
};

bool ReadPingLike(FieldReader& r, std::uint64_t& seq, std::string& target) {
  return r.Varint(seq, "seq") && r.Name(target, "target") && r.Finish();
}

bool ReadBody(Kind kind, FieldReader& r, Message& out) {
  switch (kind) {
    case Kind::kPing: {
      Ping m;
      if (!ReadPingLike(r, m.seq, m.target)) return false;
      out = std::move(m);
      return true;
    }
    case Kind::kPingReq: {
      PingReq m;
      if (!ReadPingLike(r, m.seq, m.target)) return false;
      out = std::move(m);
      return true;
    }
    case Kind::kAck: {
      Ack m;
      if (!r.Varint(m.seq, "seq") || !r.Finish()) return false;
      out = m;
      return true;
    }
    case Kind::kNack: {
      Nack m;
      if (!r.Varint(m.seq, "seq") || !r.Finish()) return false;
      out = m;
      return true;
    }
    case Kind::kAlive: {
      Alive m;
      std::uint8_t flags = 0;
      if (!r.Name(m.name, "name") || !r.Varint(m.incarnation, "incarnation") ||
          !r.Byte(flags, "flags")) {
        return false;
      }
      if ((flags & ~kAliveFlagJoining) != 0) return r.Fail("flags", "unknown flag bits");
      m.joining = (flags & kAliveFlagJoining) != 0;
      if (!r.Meta(m.metadata) || !r.Finish()) return false;
      out = std::move(m);
      return true;
    }
    case Kind::kSuspect: {
      Suspect m;
      if (!r.Name(m.name, "name") || !r.Varint(m.incarnation, "incarnation") ||
          !r.Name(m.from, "from") || !r.Finish()) {
        return false;
      }
      out = std::move(m);
      return true;
    }
    case Kind::kDead: {
      Dead m;
      if (!r.Name(m.name, "name") || !r.Varint(m.incarnation, "incarnation") ||
          !r.Name(m.from, "from") || !r.Finish()) {
        return false;
      }
      out = std::move(m);
      return true;
    }
    case Kind::kLeave: {
      Leave m;
      if (!r.Name(m.name, "name") || !r.Varint(m.incarnation, "incarnation") || !r.Finish()) {
        return false;
      }
      out = std::move(m);
      return true;
    }
    case Kind::kPushPull: {
      PushPull m;
      std::uint8_t flags = 0;
      std::uint64_t count = 0;
      if (!r.Byte(flags, "flags")) return false;
      if ((flags & ~(kPushPullFlagReplyWanted | kPushPullFlagJoin)) != 0) {
        return r.Fail("flags", "unknown flag bits");
      }
      m.reply_wanted = (flags & kPushPullFlagReplyWanted) != 0;
      m.join = (flags & kPushPullFlagJoin) != 0;
      if (!r.Varint(count, "count")) return false;
      if (count > r.limits().max_members) {
        return r.Fail("count", std::to_string(count) + " entries, more than max_members " +
                                   std::to_string(r.limits().max_members));
      }
      // Each entry takes at least 7 bytes; a count the body cannot hold is refused
      // before anything is reserved.
      if (count > r.remaining() / 7) {
        return r.Fail("count", std::to_string(count) + " entries cannot fit in " +
                                   std::to_string(r.remaining()) + " bytes");
      }
      m.entries.reserve(count);
      for (std::uint64_t i = 0; i < count; ++i) {
        r.set_entry(static_cast<std::int64_t>(i));
        StateEntry e;
        std::uint8_t state = 0;
        std::uint8_t entry_flags = 0;
        if (!r.Name(e.name, "name") || !r.Varint(e.incarnation, "incarnation") ||
            !r.Byte(state, "state")) {
          return false;
        }
        if (state > kMaxState) return r.Fail("state", "unknown state " + std::to_string(state));
        e.state = static_cast<State>(state);
        if (!r.Byte(entry_flags, "flags")) return false;
        if ((entry_flags & ~kEntryFlagJoining) != 0) return r.Fail("flags", "unknown flag bits");
        e.joining = (entry_flags & kEntryFlagJoining) != 0;
        if (!r.Meta(e.metadata)) return false;
        m.entries.push_back(std::move(e));
      }
      r.set_entry(-1);
      if (!r.Finish()) return false;
      out = std::move(m);
      return true;
    }
  }
  return r.Fail("kind", "unknown kind");
}

}  // namespace

Limits Limits::From(const Config& config) {
  Limits limits;
  limits.max_packet_bytes = config.max_packet_bytes;
  limits.max_name_bytes = config.max_name_bytes;
  limits.max_metadata_bytes = config.max_metadata_bytes;
  limits.max_members = config.max_members;
  return limits;
}

std::size_t StateEntryBytes(const StateEntry& entry) {
  std::string out;
  PutStateEntry(out, entry);
  return out.size();
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kPing:
      return "ping";
    case Kind::kPingReq:
      return "ping-req";
    case Kind::kAck:
      return "ack";
    case Kind::kNack:
      return "nack";
    case Kind::kAlive:
      return "alive";
    case Kind::kSuspect:
      return "suspect";
    case Kind::kDead:
      return "dead";
    case Kind::kLeave:
      return "leave";
    case Kind::kPushPull:
      return "push-pull";
  }
  return "unknown";
}

Kind KindOf(const Message& message) {
  // The variant's alternatives are in the order of Kind's values, from 1.
  return static_cast<Kind>(message.index() + 1);
}

std::string EncodeMessage(const Message& message) {
  std::string body;
  std::visit(BodyEncoder{body}, message);
  std::string out;
  out.reserve(body.size() + 4);
  coding::PutFixed8(out, static_cast<std::uint8_t>(KindOf(message)));
  coding::PutLengthPrefixed(out, body);
  return out;
}

std::vector<std::uint8_t> EncodePacket(const std::vector<std::string>& encoded_messages) {
  std::size_t total = 1 + coding::VarintLength(encoded_messages.size());
  for (const std::string& m : encoded_messages)
    total += m.size();
  std::string out;
  out.reserve(total);
  coding::PutFixed8(out, kWireVersion);
  coding::PutVarint64(out, encoded_messages.size());
  for (const std::string& m : encoded_messages)
    out.append(m);
  return std::vector<std::uint8_t>(out.begin(), out.end());
}

std::vector<std::uint8_t> EncodePacket(const std::vector<Message>& messages) {
  std::vector<std::string> encoded;
  encoded.reserve(messages.size());
  for (const Message& m : messages)
    encoded.push_back(EncodeMessage(m));
  return EncodePacket(encoded);
}

Status ValidateName(std::string_view name, std::string_view field, const Limits& limits) {
  if (name.empty()) return InvalidArgument(std::string(field) + ": empty");
  if (name.size() > limits.max_name_bytes) {
    return InvalidArgument(std::string(field) + ": " + std::to_string(name.size()) +
                           " bytes, longer than max_name_bytes " +
                           std::to_string(limits.max_name_bytes));
  }
  return Status::Ok();
}

Status ValidateMetadata(const Metadata& metadata, const Limits& limits) {
  if (static_cast<std::uint8_t>(metadata.role) > kMaxRole) {
    return InvalidArgument("metadata.role: unknown role");
  }
  if (metadata.capacity == 0) return InvalidArgument("metadata.capacity: must be > 0");
  const std::size_t bytes = metadata.address.size() + metadata.zone.size();
  if (bytes > limits.max_metadata_bytes) {
    return InvalidArgument("metadata: address and zone take " + std::to_string(bytes) +
                           " bytes, more than max_metadata_bytes " +
                           std::to_string(limits.max_metadata_bytes));
  }
  return Status::Ok();
}

Result<std::vector<Message>> DecodePacket(std::span<const std::uint8_t> bytes,
                                          const Limits& limits) {
  if (bytes.size() > limits.max_packet_bytes) {
    return InvalidArgument("membership packet: " + std::to_string(bytes.size()) +
                           " bytes, more than max_packet_bytes " +
                           std::to_string(limits.max_packet_bytes));
  }
  Decoder in(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  std::uint8_t version = 0;
  if (!in.ReadFixed8(version)) return InvalidArgument("membership packet: version: empty packet");
  if (version != kWireVersion) {
    return InvalidArgument("membership packet: version: " + std::to_string(version) +
                           " is not the supported version " + std::to_string(kWireVersion));
  }
  std::uint64_t count = 0;
  if (!ReadMinimalVarint(in, count)) {
    return InvalidArgument("membership packet: count: truncated, malformed or over-long varint");
  }
  // Each message takes at least 2 bytes (kind and an empty body's length).
  if (count == 0 || count > in.remaining() / 2) {
    return InvalidArgument("membership packet: count: " + std::to_string(count) +
                           " messages cannot be held by the " + std::to_string(in.remaining()) +
                           " remaining bytes (and a packet has at least one)");
  }
  std::vector<Message> messages;
  messages.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string where = "membership packet: message " + std::to_string(i);
    std::uint8_t kind_byte = 0;
    if (!in.ReadFixed8(kind_byte)) return InvalidArgument(where + ": kind: truncated");
    if (kind_byte < static_cast<std::uint8_t>(Kind::kPing) ||
        kind_byte > static_cast<std::uint8_t>(Kind::kPushPull)) {
      return InvalidArgument(where + ": kind: unknown kind " + std::to_string(kind_byte));
    }
    const auto kind = static_cast<Kind>(kind_byte);
    const std::string where_kind = where + " (" + std::string(KindName(kind)) + ")";
    std::string_view body;
    if (!ReadMinimalLengthPrefixed(in, body)) {
      return InvalidArgument(where_kind + ": body: truncated, malformed or over-long length");
    }
    FieldReader reader(body, limits);
    Message message;
    if (!ReadBody(kind, reader, message)) {
      return InvalidArgument(where_kind + ": " + reader.error_field() + ": " + reader.error_what());
    }
    messages.push_back(std::move(message));
  }
  if (!in.done()) {
    return InvalidArgument("membership packet: " + std::to_string(in.remaining()) +
                           " trailing bytes after " + std::to_string(count) + " messages");
  }
  return messages;
}

bool PacketBuilder::Fits(std::size_t message_bytes) const {
  const std::size_t count = messages_.size() + 1;
  const std::size_t total = 1 + coding::VarintLength(count) + message_bytes_ + message_bytes;
  return total <= max_bytes_;
}

bool PacketBuilder::Add(std::string encoded_message) {
  if (!Fits(encoded_message.size())) return false;
  message_bytes_ += encoded_message.size();
  messages_.push_back(std::move(encoded_message));
  return true;
}

std::size_t PacketBuilder::RemainingBytes() const {
  const std::size_t used = 1 + coding::VarintLength(messages_.size() + 1) + message_bytes_;
  return used >= max_bytes_ ? 0 : max_bytes_ - used;
}

}  // namespace tri::membership::wire
