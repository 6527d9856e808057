#pragma once

// Checkers of the node simulation (node_sim.h) that look at replicas rather than
// at the client history (linearizability.h does that):
//  - ReplicaAgreement: every two replicas that applied the same index hold the same
//    state (rsm::StateMachine::StateHash), and every two nodes that consider an
//    index committed hold an entry of the same term there (the committed log
//    prefix agrees; a committed entry is never lost or replaced).
//  - SerializableReadCheck: a serializable read served by one member's state
//    machine at revision R returns what the settled cluster held at revision R —
//    possibly stale, never invented and never from that member's future.
// Each records its first violation and keeps it; later ones are ignored.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tri::sim {

struct ReplicaViolation {
  std::string invariant;  // "state hash agreement", "committed log agreement"
  std::string details;
};

class ReplicaAgreement {
 public:
  // Node `node` has applied exactly up to `applied_index` and its state hashes to `hash`.
  void RecordStateHash(std::uint64_t node, std::uint64_t applied_index, std::uint64_t hash);
  // Node `node` holds an entry of `term` at `index`, and `index` is committed there.
  void RecordCommittedTerm(std::uint64_t node, std::uint64_t index, std::uint64_t term);

  bool ok() const { return !violation_.has_value(); }
  const ReplicaViolation& violation() const { return *violation_; }
  std::uint64_t hashes_compared() const { return hashes_compared_; }
  std::uint64_t highest_committed() const {
    return committed_.empty() ? 0 : committed_.rbegin()->first;
  }

 private:
  struct Seen {
    std::uint64_t node = 0;
    std::uint64_t value = 0;
  };
  void Violate(std::string invariant, std::string details);

  std::map<std::uint64_t, Seen> hashes_;     // applied index -> first hash seen
  std::map<std::uint64_t, Seen> committed_;  // log index -> first committed term seen
  std::uint64_t hashes_compared_ = 0;
  std::optional<ReplicaViolation> violation_;
};

// One serializable read: served locally by `node`, whose store was at `revision`.
struct SerializableRead {
  std::uint64_t node = 0;
  std::string key;
  std::int64_t revision = 0;
  std::optional<std::string> value;  // nullopt: the key was absent
};

class SerializableReadCheck {
 public:
  // What the key held at `revision` in the settled cluster's history (`value`
  // nullopt: absent); known is false when that revision cannot be read any more
  // (compacted), and the read is skipped.
  struct Reference {
    bool known = false;
    std::optional<std::string> value;
  };
  using ReferenceFn = std::function<Reference(const std::string& key, std::int64_t revision)>;

  void Record(SerializableRead read) { reads_.push_back(std::move(read)); }
  std::size_t recorded() const { return reads_.size(); }

  // Compares every recorded read against the reference; the first mismatch is
  // returned as a violation ("serializable reads").
  // `checked` receives how many reads were resolved and compared.
  std::optional<ReplicaViolation> Check(const ReferenceFn& reference, std::uint64_t* checked) const;

 private:
  std::vector<SerializableRead> reads_;
};

}  // namespace tri::sim
