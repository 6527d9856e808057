#pragma once

// The membership wire format (docs/membership.md, "Wire format"): every datagram
// is one packet
//
//   version:u8 (= kWireVersion)  count:varint  count x message
//   message = kind:u8  body:length-prefixed
//
// so every packet is compound: a probe or reply first, piggybacked gossip after it.
// Decoding is strict and canonical (no unknown kinds, flags or trailing bytes), so
// whatever decodes re-encodes to the same bytes. Every bound comes from Config and
// every error names the message and field.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "membership/config.h"
#include "membership/types.h"

namespace tri::membership::wire {

inline constexpr std::uint8_t kWireVersion = 1;

enum class Kind : std::uint8_t {
  kPing = 1,
  kPingReq = 2,
  kAck = 3,
  kNack = 4,
  kAlive = 5,
  kSuspect = 6,
  kDead = 7,
  kLeave = 8,
  kPushPull = 9,
};

// Probe `target` (named, so a misdirected ping is ignored); answered with Ack(seq).
struct Ping {
  std::uint64_t seq = 0;
  std::string target;
  friend bool operator==(const Ping&, const Ping&) = default;
};
// Ask the receiver to probe `target` and relay the ack (or a nack) under `seq`.
struct PingReq {
  std::uint64_t seq = 0;
  std::string target;
  friend bool operator==(const PingReq&, const PingReq&) = default;
};
struct Ack {
  std::uint64_t seq = 0;
  friend bool operator==(const Ack&, const Ack&) = default;
};
// A relay's "I asked and got no ack in time": tells the requester the relay works.
struct Nack {
  std::uint64_t seq = 0;
  friend bool operator==(const Nack&, const Nack&) = default;
};
struct Alive {
  std::string name;
  std::uint64_t incarnation = 0;
  bool joining = false;
  Metadata metadata;
  friend bool operator==(const Alive&, const Alive&) = default;
};
struct Suspect {
  std::string name;
  std::uint64_t incarnation = 0;
  std::string from;  // who suspects
  friend bool operator==(const Suspect&, const Suspect&) = default;
};
struct Dead {
  std::string name;
  std::uint64_t incarnation = 0;
  std::string from;  // who declared the death
  friend bool operator==(const Dead&, const Dead&) = default;
};
struct Leave {
  std::string name;
  std::uint64_t incarnation = 0;
  friend bool operator==(const Leave&, const Leave&) = default;
};
struct StateEntry {
  std::string name;
  std::uint64_t incarnation = 0;
  State state = State::kAlive;
  bool joining = false;
  Metadata metadata;
  friend bool operator==(const StateEntry&, const StateEntry&) = default;
};
// One chunk of a member's full state (anti-entropy and join). A request is sent as
// chunks of which only the last has `reply_wanted`, so it is answered once; the
// answer's chunks never want a reply. `join` marks a joiner's request.
struct PushPull {
  bool reply_wanted = false;
  bool join = false;
  std::vector<StateEntry> entries;
  friend bool operator==(const PushPull&, const PushPull&) = default;
};

using Message = std::variant<Ping, PingReq, Ack, Nack, Alive, Suspect, Dead, Leave, PushPull>;

struct Limits {
  std::uint32_t max_packet_bytes = 1400;
  std::uint32_t max_name_bytes = 128;
  std::uint32_t max_metadata_bytes = 512;
  std::uint32_t max_members = 100000;
  static Limits From(const Config& config);
};

// Bytes that every packet spends besides its messages, at most (version, count).
inline constexpr std::size_t kPacketOverheadBytes = 1 + 2;

// Bytes a packet holding exactly one PushPull spends besides its entries, at most
// (for packets below 2 MiB): version, count, kind, body length, flags, entry count.
inline constexpr std::size_t kPushPullOverheadBytes = 10;
// Encoded size of one push/pull entry.
std::size_t StateEntryBytes(const StateEntry& entry);

std::string_view KindName(Kind kind);
Kind KindOf(const Message& message);

// One message: kind, then its length-prefixed body.
std::string EncodeMessage(const Message& message);
// A whole packet of already encoded messages.
std::vector<std::uint8_t> EncodePacket(const std::vector<std::string>& encoded_messages);
std::vector<std::uint8_t> EncodePacket(const std::vector<Message>& messages);

// Checks metadata against the limits ("metadata.address: ..." on failure).
Status ValidateMetadata(const Metadata& metadata, const Limits& limits);
Status ValidateName(std::string_view name, std::string_view field, const Limits& limits);

// Decodes and validates one packet; an error names the message index, its kind and
// the field.
Result<std::vector<Message>> DecodePacket(std::span<const std::uint8_t> bytes,
                                          const Limits& limits);

// Accumulates encoded messages into one packet of at most `max_bytes`.
class PacketBuilder {
 public:
  explicit PacketBuilder(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  // Whether a message of `message_bytes` still fits.
  bool Fits(std::size_t message_bytes) const;
  // Adds the message if it fits; returns whether it did.
  bool Add(std::string encoded_message);
  std::size_t RemainingBytes() const;
  bool empty() const { return messages_.empty(); }
  std::size_t size() const { return messages_.size(); }
  std::vector<std::uint8_t> Finish() const { return EncodePacket(messages_); }

 private:
  std::size_t max_bytes_;
  std::size_t message_bytes_ = 0;
  std::vector<std::string> messages_;
};

}  // namespace tri::membership::wire
