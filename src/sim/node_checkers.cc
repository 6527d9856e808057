#include "sim/node_checkers.h"

#include <fmt/format.h>

namespace tri::sim {

void ReplicaAgreement::Violate(std::string invariant, std::string details) {
  if (violation_) return;
  violation_ = ReplicaViolation{std::move(invariant), std::move(details)};
}

void ReplicaAgreement::RecordStateHash(std::uint64_t node, std::uint64_t applied_index,
                                       std::uint64_t hash) {
  auto [it, inserted] = hashes_.try_emplace(applied_index, Seen{node, hash});
  if (inserted) return;
  ++hashes_compared_;
  if (it->second.value != hash) {
    Violate("state hash agreement",
            fmt::format("at applied index {} node {} has state hash {:016x} but node {} had "
                        "{:016x}",
                        applied_index, node, hash, it->second.node, it->second.value));
  }
}

void ReplicaAgreement::RecordCommittedTerm(std::uint64_t node, std::uint64_t index,
                                           std::uint64_t term) {
  auto [it, inserted] = committed_.try_emplace(index, Seen{node, term});
  if (inserted || it->second.value == term) return;
  Violate("committed log agreement",
          fmt::format("node {} holds an entry of term {} at committed index {}, but node {} "
                      "committed an entry of term {} there (a committed entry was lost or "
                      "replaced)",
                      node, term, index, it->second.node, it->second.value));
}

std::optional<ReplicaViolation> SerializableReadCheck::Check(const ReferenceFn& reference,
                                                             std::uint64_t* checked) const {
  *checked = 0;
  for (const SerializableRead& r : reads_) {
    const Reference ref = reference(r.key, r.revision);
    if (!ref.known) continue;
    ++*checked;
    if (ref.value == r.value) continue;
    return ReplicaViolation{
        "serializable reads",
        fmt::format("node {} served a serializable read of '{}' at revision {} that returned {}, "
                    "but the committed history holds {} at that revision",
                    r.node, r.key, r.revision, r.value ? "'" + *r.value + "'" : "nothing",
                    ref.value ? "'" + *ref.value + "'" : "nothing")};
  }
  return std::nullopt;
}

}  // namespace tri::sim
