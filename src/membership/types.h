#pragma once

// Value types of the membership core (docs/membership.md).

#include <cstdint>
#include <string>
#include <vector>

namespace tri::membership {

using Millis = std::int64_t;

enum class Role : std::uint8_t { kVoter = 0, kLearner = 1, kWorker = 2 };

// A member's lifecycle (the reference design's node states), derived from its
// SWIM state and its metadata's hints; see Lifecycle in docs/membership.md.
enum class Lifecycle : std::uint8_t {
  kJoining = 0,
  kActive = 1,
  kSyncing = 2,
  kDegraded = 3,
  kLeaving = 4,
  kFailed = 5,
};

// Gossiped with the membership; bounded in size by Config.
struct Metadata {
  Role role = Role::kWorker;
  std::string address;
  std::string zone;
  std::uint32_t load = 0;      // queued + running tasks
  std::uint32_t capacity = 1;  // relative capacity, > 0
  bool syncing = false;        // catching up (a learner's log, a worker's state)
  friend bool operator==(const Metadata&, const Metadata&) = default;
};

struct MemberInfo {
  std::string name;
  Metadata metadata;
};

// SWIM's states of a member as one member sees it.
enum class State : std::uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };

struct MemberView {
  std::string name;
  Metadata metadata;
  std::uint64_t incarnation = 0;
  State state = State::kAlive;
  Lifecycle lifecycle = Lifecycle::kJoining;
  Millis state_since = 0;  // when this member's view entered `state`
};

// A datagram to send: the driver maps `to` (a member name) to an address.
struct Packet {
  std::string to;
  std::vector<std::uint8_t> bytes;
};

// What the member learned, in order. `cause` says why (for dead: who suspected
// and when the suspicion timed out), so a checker can name the cause of a death.
struct Event {
  enum class Kind : std::uint8_t { kJoined, kUpdated, kSuspected, kAlive, kDead, kLeft };
  Kind kind;
  std::string member;
  std::uint64_t incarnation = 0;
  Millis at = 0;
  std::string cause;
  // For a death this member declared (kDead whose cause starts "suspicion
  // started by"): the first suspecter, then each independent confirmation, in
  // order; when this member's suspicion started and the timeout that expired.
  // Empty / 0 otherwise.
  std::vector<std::string> accusers;
  Millis suspicion_started = 0;
  Millis suspicion_timeout = 0;
};

}  // namespace tri::membership
