#include "rsm/barrier_table.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

#include "base/assert.h"

namespace tri::rsm {

namespace {

constexpr std::uint8_t kSnapshotVersion = 1;

std::string Quote(std::string_view bytes) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  out.append(bytes.substr(0, kMaxShown));
  out += bytes.size() > kMaxShown ? "\"..." : "\"";
  return out;
}

KvError BarrierError(GrpcCode code, std::string_view name, const std::string& what) {
  return KvError{code, "barrier " + Quote(name) + ": " + what};
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool HasArrived(const Barrier& b, std::string_view participant) {
  return std::any_of(b.arrivals.begin(), b.arrivals.end(),
                     [&](const BarrierArrival& a) { return a.participant == participant; });
}

}  // namespace

std::vector<std::string> AbsentParticipants(const Barrier& barrier) {
  std::vector<std::string> absent;
  for (const std::string& p : barrier.participant_names) {
    if (!HasArrived(barrier, p)) absent.push_back(p);
  }
  return absent;
}

BarrierTable::BarrierTable(BarrierOptions options) : options_(options) {}

KvOr<BarrierReply> BarrierTable::Apply(std::uint64_t index, std::uint64_t now_ms,
                                       const BarrierCommand& command) {
  TRI_ASSERT(index > 0);
  return std::visit(
      [&](const auto& c) -> KvOr<BarrierReply> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, BarrierCreateCommand>) {
          return Create(index, now_ms, c);
        } else if constexpr (std::is_same_v<T, BarrierArriveCommand>) {
          return Arrive(now_ms, c);
        } else if constexpr (std::is_same_v<T, BarrierExpireCommand>) {
          return Expire(now_ms);
        } else if constexpr (std::is_same_v<T, BarrierCancelCommand>) {
          return Cancel(now_ms, c);
        } else {
          return Remove(now_ms, c);
        }
      },
      command);
}

std::optional<KvError> BarrierTable::CheckName(std::string_view name) const {
  if (name.empty())
    return KvError{GrpcCode::kInvalidArgument, "barrier: the barrier name is empty"};
  if (name.size() > options_.max_name_bytes) {
    return BarrierError(GrpcCode::kInvalidArgument, name,
                        "name is " + std::to_string(name.size()) + " bytes, above the bound of " +
                            std::to_string(options_.max_name_bytes));
  }
  return std::nullopt;
}

BarrierReply BarrierTable::ReplyFor(const std::string& name, const Barrier& barrier) {
  BarrierReply reply;
  reply.name = name;
  reply.state = barrier.state;
  reply.arrived = static_cast<std::uint32_t>(barrier.arrivals.size());
  reply.threshold = barrier.threshold;
  return reply;
}

KvOr<BarrierReply> BarrierTable::Create(std::uint64_t index, std::uint64_t now_ms,
                                        const BarrierCreateCommand& c) {
  if (auto error = CheckName(c.name)) return *error;
  auto invalid = [&c](const std::string& what) {
    return BarrierError(GrpcCode::kInvalidArgument, c.name, what);
  };
  if (barriers_.count(c.name) != 0) {
    return BarrierError(GrpcCode::kFailedPrecondition, c.name, "already exists");
  }
  if (barriers_.size() >= options_.max_barriers) {
    return BarrierError(GrpcCode::kResourceExhausted, c.name,
                        "too many barriers (bound " + std::to_string(options_.max_barriers) +
                            "); remove ended ones to make room");
  }
  Barrier b;
  b.participants = c.participants;
  if (!c.participant_names.empty()) {
    if (c.participants != 0 && c.participants != c.participant_names.size()) {
      return invalid(std::to_string(c.participants) + " participants but " +
                     std::to_string(c.participant_names.size()) + " participant names");
    }
    if (c.participant_names.size() > options_.max_participants) {
      return invalid(std::to_string(c.participant_names.size()) +
                     " participants, above the bound of " +
                     std::to_string(options_.max_participants));
    }
    b.participants = static_cast<std::uint32_t>(c.participant_names.size());
    std::set<std::string_view> seen;
    for (const std::string& p : c.participant_names) {
      if (p.empty() || p.size() > options_.max_participant_bytes) {
        return invalid("participant name " + Quote(p) + " is empty or above " +
                       std::to_string(options_.max_participant_bytes) + " bytes");
      }
      if (!seen.insert(p).second) return invalid("participant " + Quote(p) + " named twice");
    }
    b.participant_names = c.participant_names;
  }
  if (b.participants == 0 || b.participants > options_.max_participants) {
    return invalid("participants must be 1.." + std::to_string(options_.max_participants) +
                   ", not " + std::to_string(b.participants));
  }
  const BarrierThreshold& t = c.threshold;
  switch (t.kind) {
    case BarrierThreshold::Kind::kAll:
      b.threshold = b.participants;
      break;
    case BarrierThreshold::Kind::kCount:
      if (t.count == 0 || t.count > b.participants) {
        return invalid("threshold " + std::to_string(t.count) + " is not in 1.." +
                       std::to_string(b.participants));
      }
      b.threshold = t.count;
      break;
    case BarrierThreshold::Kind::kFraction:
      if (t.denominator == 0 || t.numerator == 0 || t.numerator > t.denominator) {
        return invalid("threshold fraction " + std::to_string(t.numerator) + "/" +
                       std::to_string(t.denominator) + " is not in (0, 1]");
      }
      // Rounded up: a fraction never lets fewer arrivals release.
      b.threshold = static_cast<std::uint32_t>(
          (std::uint64_t{b.participants} * t.numerator + t.denominator - 1) / t.denominator);
      break;
  }
  TRI_ASSERT(b.threshold >= 1 && b.threshold <= b.participants);
  if (c.timeout_ms > options_.max_timeout_ms) {
    return invalid("timeout " + std::to_string(c.timeout_ms) + " ms is above the bound of " +
                   std::to_string(options_.max_timeout_ms) + " ms");
  }
  b.deadline_ms = c.timeout_ms == 0 ? 0 : now_ms + c.timeout_ms;
  b.state = BarrierState::kCollecting;
  if (!c.predecessor.empty()) {
    if (c.predecessor == c.name) return invalid("it cannot be its own predecessor");
    const Barrier* pred = Find(c.predecessor);
    if (pred == nullptr) {
      return BarrierError(GrpcCode::kNotFound, c.name,
                          "predecessor " + Quote(c.predecessor) + " does not exist");
    }
    if (pred->state == BarrierState::kTimedOut || pred->state == BarrierState::kCancelled) {
      return BarrierError(GrpcCode::kFailedPrecondition, c.name,
                          "predecessor " + Quote(c.predecessor) + " ended " +
                              std::string(BarrierStateName(pred->state)) + " and never releases");
    }
    if (pred->state != BarrierState::kReleased) b.state = BarrierState::kWaitingForPredecessor;
    b.predecessor = c.predecessor;
  }
  b.created_index = index;
  b.created_ms = now_ms;
  auto it = barriers_.emplace(c.name, std::move(b)).first;
  MarkChanged(it->first);
  return ReplyFor(it->first, it->second);
}

KvOr<BarrierReply> BarrierTable::Arrive(std::uint64_t now_ms, const BarrierArriveCommand& c) {
  if (auto error = CheckName(c.name)) return *error;
  auto it = barriers_.find(c.name);
  if (it == barriers_.end()) return BarrierError(GrpcCode::kNotFound, c.name, "does not exist");
  Barrier& b = it->second;
  if (c.participant.empty() || c.participant.size() > options_.max_participant_bytes) {
    return BarrierError(GrpcCode::kInvalidArgument, c.name,
                        "participant " + Quote(c.participant) + " is empty or above " +
                            std::to_string(options_.max_participant_bytes) + " bytes");
  }
  if (!b.participant_names.empty() && !Contains(b.participant_names, c.participant)) {
    return BarrierError(GrpcCode::kInvalidArgument, c.name,
                        Quote(c.participant) + " is not one of its participants");
  }
  switch (b.state) {
    case BarrierState::kWaitingForPredecessor:
      return BarrierError(GrpcCode::kFailedPrecondition, c.name,
                          "waits for its predecessor " + Quote(b.predecessor) +
                              " to release; arrivals are accepted after that");
    case BarrierState::kTimedOut:
    case BarrierState::kCancelled:
      return BarrierError(GrpcCode::kFailedPrecondition, c.name,
                          "ended " + std::string(BarrierStateName(b.state)) + "; " +
                              Quote(c.participant) + " arrived too late");
    case BarrierState::kReleased:
      // Released already: a repeat or a late arrival is answered, not recorded.
      return ReplyFor(it->first, b);
    case BarrierState::kCollecting:
      break;
  }
  if (HasArrived(b, c.participant)) return ReplyFor(it->first, b);
  TRI_ASSERT(b.arrivals.size() < b.threshold);
  b.arrivals.push_back(BarrierArrival{c.participant, now_ms});
  MarkChanged(it->first);
  std::vector<std::string> cancelled;
  if (b.arrivals.size() == b.threshold) End(it, BarrierState::kReleased, now_ms, cancelled);
  TRI_ASSERT(cancelled.empty());
  BarrierReply reply = ReplyFor(it->first, b);
  reply.counted = true;
  return reply;
}

BarrierReply BarrierTable::Expire(std::uint64_t now_ms) {
  BarrierReply reply;
  for (auto it = barriers_.begin(); it != barriers_.end(); ++it) {
    const Barrier& b = it->second;
    if (b.ended() || b.deadline_ms == 0 || b.deadline_ms > now_ms) continue;
    reply.timed_out.push_back(it->first);
    End(it, BarrierState::kTimedOut, now_ms, reply.cancelled_successors);
  }
  return reply;
}

KvOr<BarrierReply> BarrierTable::Cancel(std::uint64_t now_ms, const BarrierCancelCommand& c) {
  if (auto error = CheckName(c.name)) return *error;
  auto it = barriers_.find(c.name);
  if (it == barriers_.end()) return BarrierError(GrpcCode::kNotFound, c.name, "does not exist");
  if (it->second.ended()) {
    return BarrierError(GrpcCode::kFailedPrecondition, c.name,
                        "ended " + std::string(BarrierStateName(it->second.state)) +
                            " already; only a waiting or collecting barrier can be cancelled");
  }
  std::vector<std::string> cancelled;
  End(it, BarrierState::kCancelled, now_ms, cancelled);
  BarrierReply reply = ReplyFor(it->first, it->second);
  reply.cancelled_successors = std::move(cancelled);
  return reply;
}

KvOr<BarrierReply> BarrierTable::Remove(std::uint64_t now_ms, const BarrierRemoveCommand& c) {
  if (auto error = CheckName(c.name)) return *error;
  auto it = barriers_.find(c.name);
  if (it == barriers_.end()) return BarrierError(GrpcCode::kNotFound, c.name, "does not exist");
  BarrierReply reply = ReplyFor(it->first, it->second);
  const std::string name = it->first;
  barriers_.erase(it);
  MarkChanged(name);
  // Barriers still waiting for it would never collect: they end too.
  OnEnded(name, /*released=*/false, now_ms, reply.cancelled_successors);
  return reply;
}

void BarrierTable::End(Map::iterator it, BarrierState state, std::uint64_t now_ms,
                       std::vector<std::string>& cancelled) {
  Barrier& b = it->second;
  TRI_ASSERT(!b.ended());
  TRI_ASSERT_MSG(state != BarrierState::kReleased || b.arrivals.size() == b.threshold,
                 "a barrier released with arrivals other than its threshold");
  TRI_ASSERT(state == BarrierState::kReleased || b.arrivals.size() < b.threshold);
  b.state = state;
  b.ended_ms = now_ms;
  MarkChanged(it->first);
  OnEnded(it->first, state == BarrierState::kReleased, now_ms, cancelled);
}

void BarrierTable::OnEnded(const std::string& name, bool released, std::uint64_t now_ms,
                           std::vector<std::string>& cancelled) {
  for (auto it = barriers_.begin(); it != barriers_.end(); ++it) {
    Barrier& b = it->second;
    if (b.state != BarrierState::kWaitingForPredecessor || b.predecessor != name) continue;
    if (released) {
      b.state = BarrierState::kCollecting;
      MarkChanged(it->first);
    } else {
      cancelled.push_back(it->first);
      End(it, BarrierState::kCancelled, now_ms, cancelled);
    }
  }
}

std::uint64_t BarrierTable::NextDeadline() const {
  std::uint64_t next = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [name, b] : barriers_) {
    if (!b.ended() && b.deadline_ms != 0) next = std::min(next, b.deadline_ms);
  }
  return next;
}

const Barrier* BarrierTable::Find(std::string_view name) const {
  auto it = barriers_.find(name);
  return it == barriers_.end() ? nullptr : &it->second;
}

void BarrierTable::MarkChanged(const std::string& name) {
  if (changed_set_.insert(name).second) changed_.push_back(name);
}

std::vector<std::string> BarrierTable::TakeChanged() {
  changed_set_.clear();
  return std::exchange(changed_, {});
}

// Layout: version (fixed8), barrier count, then per barrier in name order:
// name, participants, participant name count and names, threshold, deadline,
// predecessor, created index, created ms, state (fixed8), ended ms, arrival
// count, then per arrival: participant, time ms.
void BarrierTable::EncodeTo(std::string& out) const {
  coding::PutFixed8(out, kSnapshotVersion);
  coding::PutVarint64(out, barriers_.size());
  for (const auto& [name, b] : barriers_) {
    coding::PutLengthPrefixed(out, name);
    coding::PutVarint64(out, b.participants);
    coding::PutVarint64(out, b.participant_names.size());
    for (const std::string& p : b.participant_names)
      coding::PutLengthPrefixed(out, p);
    coding::PutVarint64(out, b.threshold);
    coding::PutVarint64(out, b.deadline_ms);
    coding::PutLengthPrefixed(out, b.predecessor);
    coding::PutVarint64(out, b.created_index);
    coding::PutVarint64(out, b.created_ms);
    coding::PutFixed8(out, static_cast<std::uint8_t>(b.state));
    coding::PutVarint64(out, b.ended_ms);
    coding::PutVarint64(out, b.arrivals.size());
    for (const BarrierArrival& a : b.arrivals) {
      coding::PutLengthPrefixed(out, a.participant);
      coding::PutVarint64(out, a.time_ms);
    }
  }
}

namespace {

// The rules a decoded barrier must follow on its own (the predecessor rule
// needs the whole table). Returns what is wrong, or an empty string.
std::string CheckBarrier(const Barrier& b, const BarrierOptions& options,
                         std::uint64_t applied_index) {
  if (b.participants == 0 || b.participants > options.max_participants) {
    return "participants " + std::to_string(b.participants) + " not in 1.." +
           std::to_string(options.max_participants);
  }
  if (!b.participant_names.empty() && b.participant_names.size() != b.participants) {
    return std::to_string(b.participant_names.size()) + " participant names for " +
           std::to_string(b.participants) + " participants";
  }
  std::set<std::string_view> names;
  for (const std::string& p : b.participant_names) {
    if (p.empty() || !names.insert(p).second) return "participant " + Quote(p) + " empty or twice";
  }
  if (b.threshold == 0 || b.threshold > b.participants) {
    return "threshold " + std::to_string(b.threshold) + " not in 1.." +
           std::to_string(b.participants);
  }
  if (b.created_index == 0 || b.created_index > applied_index) {
    return "created at index " + std::to_string(b.created_index) + ", not in 1..applied index " +
           std::to_string(applied_index);
  }
  if (b.deadline_ms != 0 &&
      (b.deadline_ms <= b.created_ms || b.deadline_ms - b.created_ms > options.max_timeout_ms)) {
    return "deadline " + std::to_string(b.deadline_ms) + " not within " +
           std::to_string(options.max_timeout_ms) + " ms after creation at " +
           std::to_string(b.created_ms);
  }
  std::set<std::string_view> arrived;
  std::uint64_t last_ms = b.created_ms;
  for (const BarrierArrival& a : b.arrivals) {
    if (a.participant.empty() || !arrived.insert(a.participant).second) {
      return "participant " + Quote(a.participant) + " empty or arrived twice";
    }
    if (!b.participant_names.empty() && names.count(a.participant) == 0) {
      return Quote(a.participant) + " arrived but is not a participant";
    }
    if (a.time_ms < last_ms) {
      return "arrival of " + Quote(a.participant) + " at " + std::to_string(a.time_ms) +
             " ms before the previous event";
    }
    last_ms = a.time_ms;
  }
  const std::size_t n = b.arrivals.size();
  const std::string state(BarrierStateName(b.state));
  switch (b.state) {
    case BarrierState::kWaitingForPredecessor:
      if (b.predecessor.empty() || n != 0 || b.ended_ms != 0) {
        return "waiting_for_predecessor with no predecessor, arrivals or an end time";
      }
      break;
    case BarrierState::kCollecting:
      if (n >= b.threshold || b.ended_ms != 0) {
        return "collecting with " + std::to_string(n) + " arrivals of threshold " +
               std::to_string(b.threshold) + " or an end time";
      }
      break;
    case BarrierState::kReleased:
      if (n != b.threshold || b.ended_ms != b.arrivals.back().time_ms) {
        return "released with " + std::to_string(n) + " arrivals of threshold " +
               std::to_string(b.threshold) + " or not at the last arrival";
      }
      break;
    case BarrierState::kTimedOut:
      if (n >= b.threshold || b.deadline_ms == 0 || b.ended_ms < b.deadline_ms) {
        return "timed_out with the threshold met, no deadline or before it";
      }
      break;
    case BarrierState::kCancelled:
      if (n >= b.threshold || b.ended_ms < last_ms) {
        return "cancelled with the threshold met or before its last arrival";
      }
      break;
    default:
      return "unknown state " + std::to_string(static_cast<int>(b.state));
  }
  if (b.ended() && b.ended_ms < last_ms) return state + " before its last event";
  return "";
}

}  // namespace

Result<BarrierTable> BarrierTable::DecodeFrom(coding::Decoder& in, const BarrierOptions& options,
                                              std::uint64_t applied_index) {
  auto bad = [&in](const std::string& what) {
    return InvalidArgument("barrier table snapshot: " + what + " at byte " +
                           std::to_string(in.position()));
  };
  std::uint8_t version = 0;
  if (!in.ReadFixed8(version)) return bad("version truncated");
  if (version != kSnapshotVersion) return bad("unknown version " + std::to_string(version));
  std::uint64_t count = 0;
  if (!in.ReadVarint64(count)) return bad("barrier count truncated");
  if (count > options.max_barriers) {
    return bad(std::to_string(count) + " barriers, above the bound of " +
               std::to_string(options.max_barriers));
  }
  BarrierTable table(options);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name;
    Barrier b;
    if (!in.ReadLengthPrefixed(name, options.max_name_bytes) || name.empty()) {
      return bad("barrier " + std::to_string(i) + ": name truncated, empty or above " +
                 std::to_string(options.max_name_bytes) + " bytes");
    }
    const std::string where = "barrier " + Quote(name) + ": ";
    if (!table.barriers_.empty() && table.barriers_.rbegin()->first >= name) {
      return bad(where + "not after " + Quote(table.barriers_.rbegin()->first) +
                 " (names unsorted)");
    }
    std::uint64_t names = 0;
    if (!in.ReadVarint32(b.participants) || !in.ReadVarint64(names) ||
        b.participants > options.max_participants || names > options.max_participants) {
      return bad(where + "participant count or names truncated or above " +
                 std::to_string(options.max_participants));
    }
    b.participant_names.resize(names);
    for (std::string& p : b.participant_names) {
      if (!in.ReadLengthPrefixed(p, options.max_participant_bytes)) {
        return bad(where + "participant name truncated or above " +
                   std::to_string(options.max_participant_bytes) + " bytes");
      }
    }
    std::uint8_t state = 0;
    std::uint64_t arrivals = 0;
    if (!in.ReadVarint32(b.threshold) || !in.ReadVarint64(b.deadline_ms) ||
        !in.ReadLengthPrefixed(b.predecessor, options.max_name_bytes) ||
        !in.ReadVarint64(b.created_index) || !in.ReadVarint64(b.created_ms) ||
        !in.ReadFixed8(state) || !in.ReadVarint64(b.ended_ms) || !in.ReadVarint64(arrivals)) {
      return bad(where + "threshold, deadline, predecessor, creation, state or end truncated");
    }
    if (state < static_cast<std::uint8_t>(BarrierState::kWaitingForPredecessor) ||
        state > static_cast<std::uint8_t>(BarrierState::kCancelled)) {
      return bad(where + "unknown state " + std::to_string(state));
    }
    b.state = static_cast<BarrierState>(state);
    if (arrivals > b.participants || arrivals > in.remaining()) {
      return bad(where + std::to_string(arrivals) + " arrivals for " +
                 std::to_string(b.participants) + " participants");
    }
    b.arrivals.resize(arrivals);
    for (BarrierArrival& a : b.arrivals) {
      if (!in.ReadLengthPrefixed(a.participant, options.max_participant_bytes) ||
          !in.ReadVarint64(a.time_ms)) {
        return bad(where + "arrival truncated or above " +
                   std::to_string(options.max_participant_bytes) + " bytes");
      }
    }
    if (std::string wrong = CheckBarrier(b, options, applied_index); !wrong.empty()) {
      return bad(where + wrong);
    }
    table.barriers_.emplace_hint(table.barriers_.end(), std::move(name), std::move(b));
  }
  // A waiting barrier's predecessor is present, not ended and older (no cycles).
  for (const auto& [name, b] : table.barriers_) {
    if (b.state != BarrierState::kWaitingForPredecessor) continue;
    const Barrier* pred = table.Find(b.predecessor);
    if (pred == nullptr || pred->ended() || pred->created_index >= b.created_index) {
      return bad("barrier " + Quote(name) + ": waits for " + Quote(b.predecessor) +
                 ", which is missing, ended or not older");
    }
  }
  return table;
}

}  // namespace tri::rsm
