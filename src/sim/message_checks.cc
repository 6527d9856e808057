#include "sim/message_checks.h"

#include <fmt/format.h>

namespace tri::sim {
namespace {

constexpr std::string_view kSendDurability = "send durability";

bool CarriesFutureTerm(const raft::Message& m) {
  return m.type == raft::MessageType::kPreVote ||
         (m.type == raft::MessageType::kPreVoteResp && !m.reject);
}

}  // namespace

void MessageChecks::ObserveDelivered(raft::NodeId to, const raft::Message& m) {
  if (m.type == raft::MessageType::kApp || m.type == raft::MessageType::kSnap) {
    delivered_appends_.emplace(to, m.from, m.term);
  }
}

void MessageChecks::CheckStaleAppendIgnored(raft::NodeId to, const raft::Message& m,
                                            const raft::NodeStatus& before,
                                            const raft::NodeStatus& after) {
  std::string what;
  if (after.hard_state.term != before.hard_state.term) {
    what =
        fmt::format("its term went from {} to {}", before.hard_state.term, after.hard_state.term);
  } else if (after.last_index != before.last_index) {
    what = fmt::format("its log went from index {} to {}", before.last_index, after.last_index);
  } else if (after.hard_state.commit != before.hard_state.commit) {
    what = fmt::format("its commit index went from {} to {}", before.hard_state.commit,
                       after.hard_state.commit);
  } else if (after.soft_state.leader != before.soft_state.leader) {
    what = fmt::format("it took node {} for its leader", after.soft_state.leader);
  } else {
    return;
  }
  invariants_->Report("stale-term append accepted",
                      fmt::format("node {} in term {} stepped an append of term {} from node {}, "
                                  "and {} (an append from an older term must be refused)",
                                  to, before.hard_state.term, m.term, m.from, what));
}

void MessageChecks::Fail(const SenderView& sender, const raft::Message& m,
                         const std::string& what) {
  const raft::HardState& hs = sender.durable_hard_state;
  invariants_->Report(
      std::string(kSendDurability),
      fmt::format("node {} sent {} term {} index {} to node {}{}, but {} (durable: term {} vote "
                  "{} commit {}, log {}..{})",
                  sender.id, raft::MessageTypeName(m.type), m.term, m.index, m.to,
                  m.reject ? " (reject)" : "", what, hs.term, hs.vote, hs.commit,
                  sender.durable->FirstIndex(), sender.durable->LastIndex()));
}

void MessageChecks::CheckLogClaim(const SenderView& sender, const raft::Message& m) {
  // A campaign's log position: only while the sender still campaigns in that term,
  // as an append from a new leader may have truncated its log since (then the claim
  // is moot: the campaign is over).
  const bool campaigning =
      (sender.role == raft::Role::kCandidate || sender.role == raft::Role::kPreCandidate) &&
      sender.term == (m.type == raft::MessageType::kPreVote ? m.term - 1 : m.term);
  if (!campaigning || m.index < sender.durable->FirstIndex() - 1) return;
  auto t = sender.durable->TermAt(m.index);
  if (!t.ok() || *t != m.log_term || sender.durable->LastIndex() != m.index) {
    Fail(sender, m,
         fmt::format("it claims a log ending at {}/{} that is not on its disk", m.log_term,
                     m.index));
  }
}

void MessageChecks::CheckOneVotePerTerm(const SenderView& sender, const raft::Message& m,
                                        raft::NodeId candidate) {
  auto [it, inserted] = votes_.emplace(std::make_pair(sender.id, m.term), candidate);
  if (inserted || it->second == candidate) return;
  invariants_->Report("one vote per term",
                      fmt::format("node {} granted its vote in term {} to node {} after granting "
                                  "it to node {}",
                                  sender.id, m.term, candidate, it->second));
}

void MessageChecks::CheckElected(raft::NodeId leader, raft::Term term,
                                 const std::set<raft::NodeId>& voters_a,
                                 const std::set<raft::NodeId>& voters_b) {
  const auto granted = [&](const std::set<raft::NodeId>& voters, std::string* ids) {
    std::size_t count = 0;
    for (raft::NodeId v : voters) {
      auto it = votes_.find({v, term});
      if (v == leader || (it != votes_.end() && it->second == leader)) {
        ++count;
        *ids += fmt::format(" {}", v);
      }
    }
    return count;
  };
  std::string ids_a;
  std::string ids_b;
  if (granted(voters_a, &ids_a) >= voters_a.size() / 2 + 1 ||
      granted(voters_b, &ids_b) >= voters_b.size() / 2 + 1) {
    return;
  }
  std::string all;
  for (raft::NodeId v : voters_a)
    all += fmt::format(" {}", v);
  invariants_->Report("election quorum",
                      fmt::format("node {} became leader of term {} with granted votes from "
                                  "[{} ] only, not a majority of its voters [{} ]",
                                  leader, term, ids_a, all));
}

void MessageChecks::CheckSend(const SenderView& sender, const raft::Message& m) {
  using raft::MessageType;
  const raft::HardState& hs = sender.durable_hard_state;
  if (m.term == 0) return;  // forwarded requests claim nothing
  if (m.type == MessageType::kPreVote) {
    if (m.term - 1 > hs.term) Fail(sender, m, "its pre-election term is past its durable term");
    CheckLogClaim(sender, m);
    return;
  }
  if (CarriesFutureTerm(m)) return;
  if (m.term > hs.term) {
    Fail(sender, m, "its term is not durable");
    return;
  }
  switch (m.type) {
    case MessageType::kVote:
      if (hs.term == m.term && hs.vote != sender.id) {
        Fail(sender, m, "its vote for itself is not durable");
        return;
      }
      CheckOneVotePerTerm(sender, m, sender.id);
      CheckLogClaim(sender, m);
      return;
    case MessageType::kVoteResp:
      if (m.reject) return;
      if (hs.term == m.term && hs.vote != m.to) {
        Fail(sender, m, fmt::format("the vote it grants to node {} is not durable", m.to));
        return;
      }
      CheckOneVotePerTerm(sender, m, m.to);
      return;
    case MessageType::kAppResp:
      if (m.reject || m.index == 0) return;  // index 0: tells a stale leader the term
      if (delivered_appends_.count({sender.id, m.to, m.term}) == 0) {
        invariants_->Report(
            "stale-term append accepted",
            fmt::format("node {} accepted an append from node {} up to index {} and answered "
                        "with its term {}, but node {} never sent it an append of that term "
                        "(an append from an older term must be refused)",
                        sender.id, m.to, m.index, m.term, m.to));
        return;
      }
      if (hs.term == m.term && m.index >= sender.durable->FirstIndex() &&
          m.index > sender.durable->LastIndex()) {
        Fail(sender, m, fmt::format("it acknowledges index {} beyond its durable log", m.index));
      }
      return;
    case MessageType::kApp:
    case MessageType::kHeartbeat:
      if (m.commit > hs.commit) {
        Fail(sender, m, fmt::format("the commit index {} it announces is not durable", m.commit));
      }
      return;
    case MessageType::kSnap:
      if (m.snapshot && m.snapshot->metadata.index > hs.commit) {
        Fail(sender, m,
             fmt::format("its snapshot at index {} is beyond its durable commit index",
                         m.snapshot->metadata.index));
      }
      return;
    case MessageType::kReadIndexResp: {
      if (sender.sole_voter || m.index < sender.durable->FirstIndex() - 1) return;
      auto t = sender.durable->TermAt(m.index);
      if (!t.ok() || *t != m.term) {
        invariants_->Report(
            "read before term commit",
            fmt::format("leader {} of term {} answered a read at index {} (term {}) before "
                        "committing an entry of its own term",
                        sender.id, m.term, m.index,
                        t.ok() ? fmt::format("{}", *t) : std::string("unknown")));
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace tri::sim
