#pragma once

// The replicated state machine of the simulator: a map of integer keys to
// integer values with put, get and compare-and-swap, applied from committed
// log entries. Client sessions make retries safe (Raft thesis 6.3): each
// client has one outstanding command at a time, numbered by `seq`; a command
// is applied once, a retry of the last applied command returns the remembered
// result, and an older command arriving late is ignored.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sim/history.h"

namespace tri::sim {

struct KvCommand {
  std::uint32_t client_id = 0;
  std::uint64_t seq = 0;  // per client, from 1
  OpKind kind = OpKind::kGet;
  KvKey key = 0;
  KvValue value = kAbsent;
  KvValue expected = kAbsent;

  friend bool operator==(const KvCommand&, const KvCommand&) = default;
};

struct KvResult {
  OpOutcome outcome = OpOutcome::kOk;  // kOk or kCasFailed
  KvValue read_value = kAbsent;        // get: the value
};

// Fixed-size little-endian encoding used as the data of a log entry.
std::string EncodeKvCommand(const KvCommand& command);
// False on malformed bytes (for example an entry that is not a KV command).
bool DecodeKvCommand(std::string_view bytes, KvCommand* out);

class KvStateMachine {
 public:
  // Applies a committed command. Returns the result for the client, or nullopt
  // when the command is older than the client's last applied one (ignored).
  std::optional<KvResult> Apply(const KvCommand& command);
  // The current value (for ReadIndex reads once applied up to the read index).
  KvValue Get(KvKey key) const;
  std::uint64_t applied_commands() const { return applied_commands_; }
  // A digest of the whole state, to compare replicas.
  std::uint64_t Digest() const;

  // The whole state (values and sessions) as bytes, for a Raft snapshot.
  std::string Serialize() const;
  // Replaces the state with a serialized one; false (state unchanged) on bad bytes.
  // Empty bytes are the empty state.
  bool Restore(std::string_view bytes);

 private:
  struct Session {
    std::uint64_t last_seq = 0;
    KvResult last_result;
  };
  std::map<KvKey, KvValue> values_;
  std::map<std::uint32_t, Session> sessions_;
  std::uint64_t applied_commands_ = 0;
};

}  // namespace tri::sim
