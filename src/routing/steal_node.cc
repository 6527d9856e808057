#include "routing/steal_node.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/assert.h"

namespace tri::routing {

namespace {

Status CheckOptions(const StealOptions& o) {
  if (o.max_tasks_per_steal == 0) {
    return InvalidArgument("steal options: max_tasks_per_steal must be at least 1");
  }
  if (o.max_queued_tasks == 0) {
    return InvalidArgument("steal options: max_queued_tasks must be at least 1");
  }
  if (o.steal_below_or_at >= o.max_queued_tasks) {
    return InvalidArgument(
        "steal options: steal_below_or_at (" + std::to_string(o.steal_below_or_at) +
        ") must be below max_queued_tasks (" + std::to_string(o.max_queued_tasks) + ")");
  }
  if (o.request_timeout_ms <= 0) {
    return InvalidArgument("steal options: request_timeout_ms must be positive, got " +
                           std::to_string(o.request_timeout_ms));
  }
  if (!(o.same_zone_preference >= 0.0 && o.same_zone_preference <= 1.0)) {
    return InvalidArgument("steal options: same_zone_preference must be in [0, 1]");
  }
  if (o.victim_samples == 0) {
    return InvalidArgument("steal options: victim_samples must be at least 1");
  }
  if (o.refused_cooldown_ms < 0 || o.backoff_ms <= 0 || o.max_backoff_ms < o.backoff_ms) {
    return InvalidArgument(
        "steal options: need refused_cooldown_ms >= 0 and 0 < backoff_ms <= max_backoff_ms");
  }
  if (o.attempts_before_backoff == 0) {
    return InvalidArgument("steal options: attempts_before_backoff must be at least 1");
  }
  if (o.max_peers == 0) return InvalidArgument("steal options: max_peers must be at least 1");
  if (!(o.share_min_run_ms >= 0.0) || !(o.share_speedup >= 1.0)) {
    return InvalidArgument("steal options: need share_min_run_ms >= 0 and share_speedup >= 1");
  }
  if (!(o.share_max_wait >= 0.0)) {
    return InvalidArgument("steal options: share_max_wait must be at least 0");
  }
  if (o.share_fanout == 0) {
    return InvalidArgument("steal options: share_fanout must be at least 1");
  }
  if (o.max_share_offers > kMaxShareOffers) {
    return InvalidArgument("steal options: max_share_offers " + std::to_string(o.max_share_offers) +
                           " is over " + std::to_string(kMaxShareOffers));
  }
  return Status::Ok();
}

const char* KindName(StealKind kind) {
  switch (kind) {
    case StealKind::kRequest:
      return "request";
    case StealKind::kGrant:
      return "grant";
    case StealKind::kRefuse:
      return "refusal";
    case StealKind::kShare:
      return "share";
    case StealKind::kDecline:
      return "decline";
  }
  return "unknown";
}

}  // namespace

Result<StealNode> StealNode::Create(const StealOptions& options, const StealPeer& self, Rng* rng) {
  if (Status st = CheckOptions(options); !st.ok()) return st;
  if (self.name.empty()) return InvalidArgument("steal node: self name is empty");
  if (!(self.speed > 0.0)) {
    return InvalidArgument("steal node " + self.name + ": speed must be positive");
  }
  TRI_ASSERT(rng != nullptr);
  return StealNode(options, self, rng);
}

StealNode::StealNode(const StealOptions& options, const StealPeer& self, Rng* rng)
    : options_(options),
      self_(self),
      rng_(rng),
      queue_(options.run_pinned_first),
      backoff_ms_(options.backoff_ms) {}

Status StealNode::SetPeers(const std::vector<StealPeer>& peers) {
  if (peers.size() > options_.max_peers) {
    return ResourceExhausted("steal node " + self_.name + ": " + std::to_string(peers.size()) +
                             " peers exceed max_peers " + std::to_string(options_.max_peers));
  }
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const std::string& name = peers[i].name;
    if (name.empty()) {
      return InvalidArgument("steal node " + self_.name + ": peer " + std::to_string(i) +
                             " has an empty name");
    }
    if (name == self_.name) {
      return InvalidArgument("steal node " + self_.name + ": the peer list includes self");
    }
    if (!index.emplace(name, i).second) {
      return InvalidArgument("steal node " + self_.name + ": peer " + name + " is listed twice");
    }
    if (!(peers[i].speed > 0.0)) {
      return InvalidArgument("steal node " + self_.name + ": peer " + name +
                             " has a speed that is not positive");
    }
  }
  std::vector<PeerState> next;
  next.reserve(peers.size());
  for (const StealPeer& peer : peers) {
    PeerState state;
    state.peer = peer;
    if (const PeerState* old = FindPeer(peer.name)) {
      state.cooldown_until_ms = old->cooldown_until_ms;
      state.load_hint = old->load_hint;
      state.share_declined_until_ms = old->share_declined_until_ms;
    }
    next.push_back(std::move(state));
  }
  peers_ = std::move(next);
  peer_index_ = std::move(index);
  same_zone_.clear();
  other_zones_.clear();
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    (peers_[i].peer.zone == self_.zone ? same_zone_ : other_zones_).push_back(i);
  }
  by_speed_.resize(peers_.size());
  for (std::size_t i = 0; i < peers_.size(); ++i)
    by_speed_[i] = i;
  std::stable_sort(by_speed_.begin(), by_speed_.end(), [&](std::size_t a, std::size_t b) {
    return peers_[a].peer.speed > peers_[b].peer.speed;
  });
  for (const Inflight& f : inflight_) {
    if (PeerState* p = FindPeer(f.victim)) p->asked = true;
  }
  return Status::Ok();
}

Status StealNode::Enqueue(const StealTask& task, std::int64_t now_ms) {
  if (queue_.size() >= options_.max_queued_tasks) {
    return ResourceExhausted("steal node " + self_.name + ": queue full (max_queued_tasks " +
                             std::to_string(options_.max_queued_tasks) + "), task " +
                             std::to_string(task.id) + " refused");
  }
  queue_.PushBack(task);
  MaybeSteal(now_ms);
  return Status::Ok();
}

std::optional<StealTask> StealNode::TakeNext(std::int64_t now_ms) {
  // Before starting anything, offer the largest stealable tasks that a faster
  // peer would finish sooner (even when pinned tasks run first here: the large
  // task would wait behind them). Each offer raises the task's offer count and
  // the queue is finite, so this ends.
  while (const std::optional<StealTask> largest = queue_.PeekLargestStealable()) {
    const std::optional<std::size_t> peer = ShareTarget(*largest, now_ms);
    if (!peer) break;
    queue_.PopLargestStealable();
    Offer(*largest, *peer);
    if (options_.bugs.keep_offered_tasks) {
      StealTask copy = *largest;
      copy.offers = static_cast<std::uint8_t>(options_.max_share_offers);  // not offered again
      queue_.PushBack(copy);
    }
  }
  std::optional<StealTask> task = queue_.PopFront();
  running_cost_ = task ? task->cost : 0;
  running_since_ms_ = now_ms;
  MaybeSteal(now_ms);
  return task;
}

std::optional<std::size_t> StealNode::ShareTarget(const StealTask& task, std::int64_t now_ms) {
  if (options_.share_min_run_ms <= 0 || task.pinned || task.cost == 0 ||
      task.offers >= options_.max_share_offers) {
    return std::nullopt;
  }
  const double cost = static_cast<double>(task.cost);
  if (cost / self_.speed < options_.share_min_run_ms) return std::nullopt;
  // The fastest peers first; stop at the first too slow to be worth the move.
  std::vector<std::size_t> candidates;
  for (std::size_t index : by_speed_) {
    const PeerState& p = peers_[index];
    if (p.peer.speed < self_.speed * options_.share_speedup) break;
    if (p.share_declined_until_ms > now_ms) continue;
    candidates.push_back(index);
    if (candidates.size() == options_.share_fanout) break;
  }
  if (candidates.empty()) return std::nullopt;
  // At random among them, so that the large tasks of many senders spread.
  return candidates[rng_->Uniform(candidates.size())];
}

void StealNode::Offer(const StealTask& task, std::size_t peer) {
  StealMessage share;
  share.kind = StealKind::kShare;
  share.from = self_.name;
  share.to = peers_[peer].peer.name;
  share.steal_id = next_steal_id_++;
  share.tasks.push_back(task);
  ++share.tasks.back().offers;
  share.queued = static_cast<std::uint32_t>(queue_.stealable());
  ++stats_.shares_sent;
  outbox_.push_back(std::move(share));
}

double StealNode::RunningWorkLeft(std::int64_t now_ms) const {
  const double done = static_cast<double>(now_ms - running_since_ms_) * self_.speed;
  return std::max(0.0, static_cast<double>(running_cost_) - done);
}

void StealNode::AnswerShare(const StealMessage& share, std::int64_t now_ms) {
  const StealTask& task = share.tasks.front();
  const PeerState* sender = FindPeer(share.from);
  const double cost = static_cast<double>(task.cost);
  // Kept, the task runs after the running one and the offers kept before it.
  const double ahead = RunningWorkLeft(now_ms) + static_cast<double>(queue_.kept_cost());
  // Worth it for the task (it finishes share_speedup times sooner here), and
  // it starts soon (the largest tasks decide the makespan: one that waits
  // behind another large one is better offered to another fast node).
  const bool faster =
      sender != nullptr &&
      options_.share_speedup * (ahead + cost) / self_.speed <= cost / sender->peer.speed &&
      ahead <= options_.share_max_wait * cost;
  if (faster && queue_.size() < options_.max_queued_tasks) {
    // Kept here: it runs next after the offers kept before it, and no thief
    // (slower, or it would have been offered the task) takes it away.
    queue_.PushKept(task);
    ++stats_.shares_accepted;
    return;
  }
  StealMessage decline;
  decline.kind = StealKind::kDecline;
  decline.from = self_.name;
  decline.to = share.from;
  decline.steal_id = share.steal_id;
  decline.tasks.push_back(task);
  decline.queued = static_cast<std::uint32_t>(queue_.stealable());
  ++stats_.shares_declined;
  outbox_.push_back(std::move(decline));
}

void StealNode::Tick(std::int64_t now_ms) {
  for (std::size_t i = 0; i < inflight_.size();) {
    if (inflight_[i].deadline_ms > now_ms) {
      ++i;
      continue;
    }
    ++stats_.requests_timed_out;
    const std::string victim = inflight_[i].victim;
    EndInflight(inflight_[i].steal_id);
    NoteEmptyHanded(victim, now_ms);
  }
  MaybeSteal(now_ms);
}

Status StealNode::Receive(const StealMessage& m, std::int64_t now_ms) {
  const std::string what = std::string("steal node ") + self_.name + ": " + KindName(m.kind) + " " +
                           std::to_string(m.steal_id) + " from '" + m.from + "'";
  if (m.to != self_.name) return InvalidArgument(what + " is addressed to '" + m.to + "'");
  if (m.from.empty() || m.from == self_.name) {
    return InvalidArgument(what + " has a bad sender");
  }
  switch (m.kind) {
    case StealKind::kRequest:
      if (m.max_tasks == 0) return InvalidArgument(what + " asks for no task");
      if (!m.tasks.empty()) return InvalidArgument(what + " carries tasks");
      NoteHint(m.from, m.queued, now_ms);
      AnswerRequest(m);
      break;
    case StealKind::kGrant: {
      if (m.tasks.empty()) return InvalidArgument(what + " carries no task");
      if (m.tasks.size() > options_.max_tasks_per_steal) {
        return InvalidArgument(what + " carries " + std::to_string(m.tasks.size()) +
                               " tasks, above max_tasks_per_steal " +
                               std::to_string(options_.max_tasks_per_steal));
      }
      for (const StealTask& task : m.tasks) {
        if (task.pinned) {
          return InvalidArgument(what + " carries pinned task " + std::to_string(task.id));
        }
      }
      if (queue_.size() + m.tasks.size() > options_.max_queued_tasks) {
        return ResourceExhausted(what + " does not fit the queue (" +
                                 std::to_string(queue_.size()) + " queued, max_queued_tasks " +
                                 std::to_string(options_.max_queued_tasks) + ")");
      }
      for (const StealTask& task : m.tasks)
        queue_.PushBack(task);
      EndInflight(m.steal_id);
      NoteHint(m.from, m.queued, now_ms);
      ++stats_.grants_received;
      stats_.tasks_stolen += m.tasks.size();
      NoteSuccess();
      break;
    }
    case StealKind::kRefuse:
      if (!m.tasks.empty()) return InvalidArgument(what + " carries tasks");
      EndInflight(m.steal_id);
      NoteHint(m.from, m.queued, now_ms);
      ++stats_.refusals_received;
      NoteEmptyHanded(m.from, now_ms);
      break;
    case StealKind::kShare:
    case StealKind::kDecline: {
      if (m.tasks.size() != 1) {
        return InvalidArgument(what + " carries " + std::to_string(m.tasks.size()) +
                               " tasks, not one");
      }
      const StealTask& task = m.tasks.front();
      if (task.pinned) {
        return InvalidArgument(what + " carries pinned task " + std::to_string(task.id));
      }
      if (task.offers == 0 || task.offers > options_.max_share_offers) {
        return InvalidArgument(what + ": task " + std::to_string(task.id) + " offered " +
                               std::to_string(task.offers) + " times, not 1 to max_share_offers " +
                               std::to_string(options_.max_share_offers));
      }
      NoteHint(m.from, m.queued, now_ms);
      if (m.kind == StealKind::kShare) {
        AnswerShare(m, now_ms);
      } else {
        // The task was this node's: it comes back whatever the queue bound,
        // and the decliner is not offered another task for a while. It is
        // offered elsewhere at once if it may be (waiting for this node to be
        // idle again would delay exactly the tasks that matter most), else it
        // waits here at the hot end.
        ++stats_.shares_returned;
        if (PeerState* p = FindPeer(m.from)) {
          p->share_declined_until_ms = now_ms + options_.refused_cooldown_ms;
        }
        if (const std::optional<std::size_t> peer = ShareTarget(task, now_ms)) {
          Offer(task, *peer);
        } else {
          queue_.PushBack(task);
        }
      }
      break;
    }
    default:
      return InvalidArgument(what + ": unknown kind " + std::to_string(static_cast<int>(m.kind)));
  }
  MaybeSteal(now_ms);
  return Status::Ok();
}

void StealNode::Undeliverable(const StealMessage& m, std::int64_t now_ms) {
  TRI_ASSERT(m.from == self_.name);
  switch (m.kind) {
    case StealKind::kGrant:
      for (const StealTask& task : m.tasks)
        queue_.PushBack(task);
      ++stats_.grants_returned;
      break;
    case StealKind::kRequest:
      if (EndInflight(m.steal_id)) NoteEmptyHanded(m.to, now_ms);
      break;
    case StealKind::kShare:
      // Offered tasks come back like granted ones; the offer count stays raised.
      for (const StealTask& task : m.tasks)
        queue_.PushBack(task);
      ++stats_.shares_returned;
      break;
    case StealKind::kDecline:
      // The declined task stays with this node, which held it last.
      for (const StealTask& task : m.tasks)
        queue_.PushBack(task);
      break;
    case StealKind::kRefuse:
      break;
  }
  MaybeSteal(now_ms);
}

std::vector<StealMessage> StealNode::TakeMessages() {
  return std::exchange(outbox_, {});
}

std::int64_t StealNode::NextDeadline() const {
  std::int64_t deadline = kNoDeadline;
  for (const Inflight& f : inflight_)
    deadline = std::min(deadline, f.deadline_ms);
  if (WantsToSteal() && !peers_.empty()) deadline = std::min(deadline, next_attempt_ms_);
  return deadline;
}

bool StealNode::WantsToSteal() const {
  return inflight_.size() < options_.max_inflight_steals &&
         queue_.size() <= options_.steal_below_or_at && queue_.size() < options_.max_queued_tasks;
}

void StealNode::MaybeSteal(std::int64_t now_ms) {
  while (WantsToSteal() && now_ms >= next_attempt_ms_) {
    const std::optional<std::size_t> victim = PickVictim(now_ms);
    if (!victim) {
      // Every candidate drawn is cooling down or already asked: try again later.
      next_attempt_ms_ = now_ms + options_.backoff_ms;
      return;
    }
    PeerState& peer = peers_[*victim];
    const std::size_t room = options_.max_queued_tasks - queue_.size();
    StealMessage request;
    request.kind = StealKind::kRequest;
    request.from = self_.name;
    request.to = peer.peer.name;
    request.steal_id = next_steal_id_++;
    request.max_tasks =
        static_cast<std::uint32_t>(std::min<std::size_t>(options_.max_tasks_per_steal, room));
    request.queued = static_cast<std::uint32_t>(queue_.stealable());
    inflight_.push_back({request.steal_id, peer.peer.name, now_ms + options_.request_timeout_ms});
    peer.asked = true;
    ++stats_.requests_sent;
    outbox_.push_back(std::move(request));
  }
  TRI_ASSERT(inflight_.size() <= options_.max_inflight_steals);
}

std::optional<std::size_t> StealNode::PickVictim(std::int64_t now_ms) {
  const bool zone_first = !same_zone_.empty() &&
                          (other_zones_.empty() || rng_->Bernoulli(options_.same_zone_preference));
  const std::vector<std::size_t>& first = zone_first ? same_zone_ : other_zones_;
  const std::vector<std::size_t>& second = zone_first ? other_zones_ : same_zone_;
  if (std::optional<std::size_t> pick = SampleFrom(first, now_ms)) return pick;
  return SampleFrom(second, now_ms);
}

std::optional<std::size_t> StealNode::SampleFrom(const std::vector<std::size_t>& candidates,
                                                 std::int64_t now_ms) {
  if (candidates.empty()) return std::nullopt;
  std::optional<std::size_t> best;
  for (std::uint32_t draw = 0; draw < options_.victim_samples; ++draw) {
    const std::size_t index = candidates[rng_->Uniform(candidates.size())];
    const PeerState& peer = peers_[index];
    if (peer.asked || peer.cooldown_until_ms > now_ms) continue;
    if (!best || peer.load_hint > peers_[*best].load_hint) best = index;
  }
  return best;
}

void StealNode::AnswerRequest(const StealMessage& request) {
  const auto& bugs = options_.bugs;
  const std::size_t stealable = bugs.grant_pinned_tasks ? queue_.size() : queue_.stealable();
  std::size_t count = bugs.grant_everything ? stealable : (stealable + 1) / 2;
  count = std::min<std::size_t>({count, options_.max_tasks_per_steal, request.max_tasks});
  StealMessage answer;
  answer.from = self_.name;
  answer.to = request.from;
  answer.steal_id = request.steal_id;
  if (count == 0) {
    answer.kind = StealKind::kRefuse;
    ++stats_.refusals_sent;
  } else {
    answer.kind = StealKind::kGrant;
    answer.tasks = queue_.TakeFromColdEnd(count, bugs.grant_pinned_tasks, bugs.keep_granted_tasks);
    TRI_ASSERT(answer.tasks.size() == count);
    ++stats_.grants_sent;
    stats_.tasks_granted += count;
  }
  answer.queued = static_cast<std::uint32_t>(queue_.stealable());
  outbox_.push_back(std::move(answer));
}

bool StealNode::EndInflight(std::uint64_t steal_id) {
  auto it = std::find_if(inflight_.begin(), inflight_.end(),
                         [&](const Inflight& f) { return f.steal_id == steal_id; });
  if (it == inflight_.end()) return false;
  if (PeerState* p = FindPeer(it->victim)) p->asked = false;
  inflight_.erase(it);
  return true;
}

void StealNode::NoteHint(const std::string& peer, std::uint32_t queued, std::int64_t now_ms) {
  PeerState* p = FindPeer(peer);
  if (p == nullptr) return;
  p->load_hint = queued;
  // A peer known to be empty (it just said so, or it is stealing itself) is not
  // asked until the cooldown passes.
  if (queued == 0) {
    p->cooldown_until_ms = std::max(p->cooldown_until_ms, now_ms + options_.refused_cooldown_ms);
  }
}

void StealNode::NoteEmptyHanded(const std::string& victim, std::int64_t now_ms) {
  if (PeerState* p = FindPeer(victim)) {
    p->cooldown_until_ms = now_ms + options_.refused_cooldown_ms;
  }
  if (++empty_handed_in_a_row_ >= options_.attempts_before_backoff) {
    empty_handed_in_a_row_ = 0;
    next_attempt_ms_ = std::max(next_attempt_ms_, now_ms + backoff_ms_);
    backoff_ms_ = std::min(backoff_ms_ * 2, options_.max_backoff_ms);
  }
}

void StealNode::NoteSuccess() {
  empty_handed_in_a_row_ = 0;
  backoff_ms_ = options_.backoff_ms;
}

StealNode::PeerState* StealNode::FindPeer(const std::string& name) {
  auto it = peer_index_.find(name);
  return it == peer_index_.end() ? nullptr : &peers_[it->second];
}

}  // namespace tri::routing
