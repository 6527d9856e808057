#include "sim/coord_checkers.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "base/assert.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"

namespace tri::sim {
namespace {

// etcd's lease expiry arithmetic (rsm/lease_table.cc): TTL seconds as ms.
std::uint64_t ExpiryOf(std::uint64_t log_ms, std::int64_t ttl_s) {
  return log_ms + static_cast<std::uint64_t>(ttl_s) * 1000;
}

// The reference records the committed events for the watch checks.
rsm::KvOptions WithEvents(rsm::KvOptions kv) {
  kv.watch_events.record = true;
  return kv;
}

std::string DescribeEvent(const rsm::WatchEvent& e) {
  return fmt::format("{} {} rev {} sub {}", e.type == rsm::WatchEvent::PUT ? "PUT" : "DELETE",
                     e.kv.key, e.revision(), e.sub);
}

}  // namespace

void CoordHistoryChecker::Fail(std::string_view rule, std::string details) {
  if (!violation_) violation_ = CoordViolation{std::string(rule), std::move(details)};
}

// --- leases -----------------------------------------------------------------

void CoordHistoryChecker::LeaseGranted(std::uint64_t, std::int64_t id, std::int64_t ttl_s,
                                       std::uint64_t log_ms) {
  ++stats_.leases_granted;
  leases_[id] = LeaseModel{ttl_s, ExpiryOf(log_ms, ttl_s)};
}

void CoordHistoryChecker::LeaseKeptAlive(std::uint64_t, std::int64_t id, std::uint64_t log_ms) {
  ++stats_.keep_alives;
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.expiry_ms = ExpiryOf(log_ms, it->second.ttl_s);
}

void CoordHistoryChecker::LeasesPromoted(std::uint64_t, std::uint64_t log_ms) {
  for (auto& [id, lease] : leases_)
    lease.expiry_ms = std::max(lease.expiry_ms, ExpiryOf(log_ms, lease.ttl_s));
}

void CoordHistoryChecker::LeaseEnded(std::uint64_t index, std::int64_t id, bool expired,
                                     std::uint64_t log_ms) {
  auto it = leases_.find(id);
  if (expired) {
    ++stats_.leases_expired;
    if (it != leases_.end() && log_ms < it->second.expiry_ms) {
      Fail(kRuleLeaseExpiry,
           fmt::format("entry {} expired lease {} at log time {} ms, but it was kept alive "
                       "until {} ms (TTL {} s)",
                       index, id, log_ms, it->second.expiry_ms, it->second.ttl_s));
    }
  } else {
    ++stats_.leases_revoked;
  }
  if (it != leases_.end()) leases_.erase(it);
  // The lease's waits end with it (its holds are reported as hold changes).
  for (auto& [name, lock] : locks_) {
    std::erase_if(lock.queue, [id](const Waiter& w) { return w.lease == id; });
  }
}

// --- locks ------------------------------------------------------------------

void CoordHistoryChecker::LockQueued(std::uint64_t index, const std::string& name,
                                     const std::string& owner, std::int64_t lease) {
  LockModel& lock = locks_[name];
  if (!lock.holder) {
    Fail(kRuleFifo,
         fmt::format("entry {} queued '{}' on lock '{}', which had no holder", index, owner, name));
  }
  lock.queue.push_back(Waiter{owner, lease});
}

void CoordHistoryChecker::LockWaitCancelled(std::uint64_t, const std::string& name,
                                            const std::string& owner) {
  LockModel& lock = locks_[name];
  std::erase_if(lock.queue, [&](const Waiter& w) { return w.owner == owner; });
}

void CoordHistoryChecker::LockGranted(std::uint64_t index, const std::string& name,
                                      const std::string& owner, std::uint64_t token) {
  ++stats_.grants;
  LockModel& lock = locks_[name];
  if (token <= lock.last_token) {
    Fail(kRuleTokensIncrease,
         fmt::format("entry {} granted lock '{}' to '{}' with token {}, not above the earlier "
                     "token {}",
                     index, name, owner, token, lock.last_token));
  }
  auto queued = std::find_if(lock.queue.begin(), lock.queue.end(),
                             [&](const Waiter& w) { return w.owner == owner; });
  if (queued != lock.queue.end()) {
    ++stats_.handovers;
    if (queued != lock.queue.begin()) {
      Fail(kRuleFifo, fmt::format("entry {} handed lock '{}' to '{}', waiter {} of {}; '{}' "
                                  "queued first",
                                  index, name, owner, queued - lock.queue.begin() + 1,
                                  lock.queue.size(), lock.queue.front().owner));
    }
    lock.queue.erase(queued);
  } else if (lock.holder && *lock.holder != owner) {
    Fail(kRuleFifo, fmt::format("entry {} granted lock '{}' to '{}', who was not waiting, while "
                                "'{}' held it",
                                index, name, owner, *lock.holder));
  }
  lock.holder = owner;
  lock.holder_token = token;
  lock.last_token = std::max(lock.last_token, token);
}

void CoordHistoryChecker::LockFreed(std::uint64_t index, const std::string& name) {
  LockModel& lock = locks_[name];
  if (!lock.queue.empty()) {
    Fail(kRuleFifo, fmt::format("entry {} freed lock '{}' with {} waiters queued ('{}' first)",
                                index, name, lock.queue.size(), lock.queue.front().owner));
  }
  lock.holder.reset();
  lock.holder_token = 0;
}

void CoordHistoryChecker::FencedWrite(std::uint64_t index, const std::string& name,
                                      std::uint64_t token) {
  ++stats_.fenced_writes;
  LockModel& lock = locks_[name];
  if (token < lock.highest_fenced) {
    Fail(kRuleOneHolder,
         fmt::format("entry {}: a write fenced on lock '{}' with token {} succeeded after one "
                     "with token {}",
                     index, name, token, lock.highest_fenced));
  } else if (!lock.holder || lock.holder_token != token) {
    Fail(kRuleOneHolder,
         fmt::format("entry {}: a write fenced on lock '{}' with token {} succeeded while {}",
                     index, name, token,
                     lock.holder ? fmt::format("'{}' held it with token {}", *lock.holder,
                                               lock.holder_token)
                                 : std::string("nobody held it")));
  }
  lock.highest_fenced = std::max(lock.highest_fenced, token);
}

// --- barriers ---------------------------------------------------------------

void CoordHistoryChecker::BarrierCreated(std::uint64_t, const std::string& name,
                                         std::uint32_t threshold) {
  barriers_[name] = BarrierModel{threshold, {}, false};
}

void CoordHistoryChecker::BarrierArrived(std::uint64_t, const std::string& name,
                                         const std::string& participant) {
  ++stats_.arrivals;
  auto it = barriers_.find(name);
  if (it != barriers_.end() && !it->second.released) it->second.arrived.insert(participant);
}

void CoordHistoryChecker::BarrierReleased(std::uint64_t index, const std::string& name) {
  ++stats_.barriers_released;
  auto it = barriers_.find(name);
  if (it == barriers_.end()) {
    return Fail(kRuleBarrierRelease,
                fmt::format("entry {} released barrier '{}', never created", index, name));
  }
  BarrierModel& b = it->second;
  if (b.released) {
    return Fail(kRuleBarrierRelease,
                fmt::format("entry {} released barrier '{}' a second time", index, name));
  }
  if (b.arrived.size() != b.threshold) {
    Fail(kRuleBarrierRelease,
         fmt::format("entry {} released barrier '{}' with {} distinct arrivals, threshold {}",
                     index, name, b.arrived.size(), b.threshold));
  }
  b.released = true;
}

void CoordHistoryChecker::BarrierStillCollecting(std::uint64_t index, const std::string& name) {
  auto it = barriers_.find(name);
  if (it == barriers_.end()) return;
  const BarrierModel& b = it->second;
  if (b.released || b.arrived.size() >= b.threshold) {
    Fail(kRuleBarrierRelease,
         fmt::format("after entry {} barrier '{}' is collecting with {} distinct arrivals of "
                     "threshold {}{}",
                     index, name, b.arrived.size(), b.threshold,
                     b.released ? " after it released" : ""));
  }
}

// --- watches ----------------------------------------------------------------

void CoordHistoryChecker::CommittedEvents(std::int64_t revision,
                                          std::vector<rsm::WatchEvent> events) {
  committed_events_[revision] = std::move(events);
}

void CoordHistoryChecker::WatcherStarts(const std::string& watcher) {
  if (!watchers_.try_emplace(watcher).second) ++stats_.watch_resumes;
}

void CoordHistoryChecker::WatcherReceived(const std::string& watcher,
                                          const std::vector<rsm::WatchEvent>& events) {
  WatcherModel& w = watchers_[watcher];
  w.pending.insert(w.pending.end(), events.begin(), events.end());
}

std::int64_t CoordHistoryChecker::WatcherPosition(const std::string& watcher) const {
  auto it = watchers_.find(watcher);
  return it == watchers_.end() ? 0 : it->second.position;
}

void CoordHistoryChecker::CheckWatchers(std::int64_t revision, bool final) {
  for (auto& [name, w] : watchers_) {
    std::size_t used = 0;
    while (used < w.pending.size() && !violation_) {
      const std::int64_t rev = w.pending[used].revision();
      if (rev > revision) break;  // the reference has not reached it yet
      if (rev <= unjudged_through_) {
        if (rev < w.position) {
          Fail(kRuleWatchOrder, fmt::format("watcher {} received {} after revision {}", name,
                                            DescribeEvent(w.pending[used]), w.position));
          break;
        }
        w.position = rev;
        ++used;
        continue;
      }
      // The next revision with events after the watcher's position.
      auto next = committed_events_.upper_bound(std::max(w.position, unjudged_through_));
      if (next == committed_events_.end() || next->first > revision) {
        Fail(kRuleWatchOrder,
             fmt::format("watcher {} received {} after revision {}, which the committed log "
                         "does not have",
                         name, DescribeEvent(w.pending[used]), w.position));
        break;
      }
      if (rev != next->first) {
        Fail(kRuleWatchOrder,
             fmt::format("watcher {} received {} after revision {}; the next committed revision "
                         "with events is {}",
                         name, DescribeEvent(w.pending[used]), w.position, next->first));
        break;
      }
      const std::vector<rsm::WatchEvent>& expected = next->second;
      const std::size_t present = std::min(expected.size(), w.pending.size() - used);
      for (std::size_t i = 0; i < present && !violation_; ++i) {
        if (!(w.pending[used + i] == expected[i])) {
          Fail(kRuleWatchOrder,
               fmt::format("watcher {}: event {} of revision {} is {}, the committed log's is {}",
                           name, i + 1, rev, DescribeEvent(w.pending[used + i]),
                           DescribeEvent(expected[i])));
        }
      }
      // The rest of the revision may come with the next delivery (the final
      // check below fails a watcher still short of it).
      if (violation_ || present < expected.size()) break;
      used += expected.size();
      stats_.watch_events_checked += expected.size();
      w.position = rev;
    }
    w.pending.erase(w.pending.begin(), w.pending.begin() + static_cast<std::ptrdiff_t>(used));
    if (final && !violation_) {
      auto next = committed_events_.upper_bound(std::max(w.position, unjudged_through_));
      if (!w.pending.empty() || (next != committed_events_.end() && next->first <= revision)) {
        Fail(kRuleWatchOrder,
             fmt::format("watcher {} ends at revision {} but the committed log has events up to "
                         "revision {}",
                         name, w.position, revision));
      }
    }
  }
  // Revisions every watcher has passed are not needed again.
  std::int64_t lowest = revision;
  for (const auto& [name, w] : watchers_)
    lowest = std::min(lowest, w.position);
  committed_events_.erase(committed_events_.begin(), committed_events_.upper_bound(lowest));
}

void CoordHistoryChecker::Resync(const rsm::StateMachine& state) {
  ++stats_.resyncs;
  leases_.clear();
  for (const rsm::Lease* lease : state.leases().ByExpiry())
    leases_[lease->id] = LeaseModel{lease->ttl_s, lease->expiry_ms};
  for (auto& [name, lock] : locks_) {
    lock.holder.reset();
    lock.holder_token = 0;
    lock.queue.clear();
  }
  for (const auto& [name, entry] : state.locks().locks()) {
    LockModel& lock = locks_[name];
    lock.holder = entry.holder.owner;
    lock.holder_token = entry.holder.token;
    lock.last_token = std::max(lock.last_token, entry.holder.token);
    for (const rsm::LockWaiter& w : entry.waiters)
      lock.queue.push_back(Waiter{w.owner, w.lease});
  }
  barriers_.clear();
  for (const auto& [name, b] : state.barriers().barriers()) {
    BarrierModel& model = barriers_[name];
    model.threshold = b.threshold;
    model.released = b.state == rsm::BarrierState::kReleased;
    for (const rsm::BarrierArrival& a : b.arrivals)
      model.arrived.insert(a.participant);
  }
  unjudged_through_ = state.store().current_revision();
}

// --- the observer -------------------------------------------------------------

CoordLogObserver::CoordLogObserver(rsm::KvOptions kv, rsm::LeaseOptions leases,
                                   rsm::CoordinationOptions coordination,
                                   CoordHistoryChecker* checker)
    : reference_(WithEvents(std::move(kv)), rsm::SagaOptions{}, leases, coordination),
      checker_(checker) {}

void CoordLogObserver::Observe(const raft::Entry& entry) {
  TRI_ASSERT_MSG(entry.index == observed_index_ + 1, "the coordination observer skipped an entry");
  observed_index_ = entry.index;
  if (entry.type != raft::EntryType::kNormal || entry.data.empty()) return;
  auto command = rsm::DecodeCommand(entry.data);
  // Node-level commands (16 and up) never reach the state machine (NodeCore).
  if (command.ok() && static_cast<std::uint8_t>(command->kind) >= 16) return;
  ++checker_->stats().entries;
  std::map<std::string, rsm::Barrier> barriers_before;
  for (const auto& [name, b] : reference_.barriers().barriers())
    barriers_before.emplace(name, b);
  const std::int64_t revision_before = reference_.store().current_revision();

  const rsm::Applied applied = reference_.Apply(entry.index, entry.data);

  if (command.ok() && applied.result.ok()) {
    switch (command->kind) {
      case rsm::CommandKind::kLease:
        if (auto lease = rsm::DecodeLeaseCommand(command->payload, {}); lease.ok() && applied.lease)
          ReportLease(entry.index, *lease, *applied.lease);
        break;
      case rsm::CommandKind::kLock:
        if (auto lock = rsm::DecodeLockCommand(command->payload); lock.ok() && applied.lock)
          ReportLock(entry.index, *lock, *applied.lock);
        break;
      case rsm::CommandKind::kBarrier:
        if (auto barrier = rsm::DecodeBarrierCommand(command->payload);
            barrier.ok() && applied.barrier) {
          if (const auto* c = std::get_if<rsm::BarrierCreateCommand>(&*barrier)) {
            if (const rsm::Barrier* b = reference_.barriers().Find(c->name))
              checker_->BarrierCreated(entry.index, c->name, b->threshold);
          } else if (const auto* a = std::get_if<rsm::BarrierArriveCommand>(&*barrier)) {
            auto before = barriers_before.find(a->name);
            if (before != barriers_before.end() &&
                before->second.state == rsm::BarrierState::kCollecting) {
              checker_->BarrierArrived(entry.index, a->name, a->participant);
            }
          }
        }
        break;
      case rsm::CommandKind::kKv:
        if (auto request = rsm::DecodeKvRequest(command->payload); request.ok())
          ReportFencedWrite(entry.index, *request, applied.result.value());
        break;
      default:
        break;
    }
  }
  ReportLockChanges(entry.index);
  ReportBarrierChanges(entry.index, barriers_before);

  rsm::TakenEvents taken = reference_.TakeEvents();
  TRI_ASSERT_MSG(!taken.dropped, "the reference dropped watch events");
  std::map<std::int64_t, std::vector<rsm::WatchEvent>> by_revision;
  for (rsm::WatchEvent& e : taken.events) {
    TRI_ASSERT(e.revision() > revision_before);
    by_revision[e.revision()].push_back(std::move(e));
  }
  for (auto& [revision, events] : by_revision)
    checker_->CommittedEvents(revision, std::move(events));
}

void CoordLogObserver::ResyncFrom(const rsm::StateMachine& replica) {
  TRI_ASSERT(replica.applied_index() > observed_index_);
  const Status restored = reference_.Restore(replica.Snapshot());
  TRI_ASSERT_MSG(restored.ok(), "the reference cannot restore a replica's state");
  (void)reference_.TakeEvents();
  (void)reference_.TakeChangedLocks();
  (void)reference_.TakeChangedBarriers();
  observed_index_ = replica.applied_index();
  holders_.clear();
  for (const auto& [name, entry] : reference_.locks().locks())
    holders_[name] = {entry.holder.owner, entry.holder.token};
  checker_->Resync(reference_);
}

void CoordLogObserver::ReportLease(std::uint64_t index, const rsm::LeaseCommand& command,
                                   const rsm::LeaseReply& reply) {
  const std::uint64_t log_ms = reference_.time_ms();
  if (std::holds_alternative<rsm::LeaseGrant>(command)) {
    checker_->LeaseGranted(index, reply.id, reply.ttl_s, log_ms);
  } else if (std::holds_alternative<rsm::LeaseKeepAlive>(command)) {
    for (const rsm::LeaseTtl& t : reply.renewed) {
      if (t.ttl_s > 0) checker_->LeaseKeptAlive(index, t.id, log_ms);
    }
  } else if (std::holds_alternative<rsm::LeasePromote>(command)) {
    checker_->LeasesPromoted(index, log_ms);
  } else {
    const bool expired = std::holds_alternative<rsm::LeaseExpire>(command);
    for (std::int64_t id : reply.revoked)
      checker_->LeaseEnded(index, id, expired, log_ms);
  }
}

void CoordLogObserver::ReportLock(std::uint64_t index, const rsm::LockCommand& command,
                                  const rsm::LockReply& reply) {
  if (const auto* a = std::get_if<rsm::LockAcquireCommand>(&command)) {
    if (reply.outcome == rsm::LockReply::Outcome::kQueued)
      checker_->LockQueued(index, a->name, a->owner, a->lease);
  } else if (const auto* c = std::get_if<rsm::LockCancelWaitCommand>(&command)) {
    if (reply.outcome == rsm::LockReply::Outcome::kCancelled)
      checker_->LockWaitCancelled(index, c->name, c->owner);
  }
}

void CoordLogObserver::ReportFencedWrite(std::uint64_t index, const rsm::KvRequest& request,
                                         const rsm::Response& response) {
  const auto* txn = std::get_if<rsm::TxnRequest>(&request);
  const auto* answer = std::get_if<rsm::TxnResponse>(&response);
  if (txn == nullptr || answer == nullptr || !answer->succeeded) return;
  const std::string prefix = rsm::LockFenceKey("");
  for (const rsm::Compare& c : txn->compare) {
    if (c.target != rsm::Compare::VALUE || c.result != rsm::Compare::EQUAL ||
        !c.key.starts_with(prefix)) {
      continue;
    }
    std::uint64_t token = 0;
    const char* end = c.value.data() + c.value.size();
    if (std::from_chars(c.value.data(), end, token).ptr != end) continue;
    checker_->FencedWrite(index, c.key.substr(prefix.size()), token);
  }
}

void CoordLogObserver::ReportLockChanges(std::uint64_t index) {
  for (const std::string& name : reference_.TakeChangedLocks()) {
    const rsm::LockEntry* lock = reference_.locks().Find(name);
    auto known = holders_.find(name);
    if (lock == nullptr) {
      if (known != holders_.end()) {
        holders_.erase(known);
        checker_->LockFreed(index, name);
      }
      continue;
    }
    const auto now = std::make_pair(lock->holder.owner, lock->holder.token);
    if (known != holders_.end() && known->second == now) continue;
    holders_[name] = now;
    checker_->LockGranted(index, name, now.first, now.second);
  }
}

void CoordLogObserver::ReportBarrierChanges(std::uint64_t index,
                                            const std::map<std::string, rsm::Barrier>& before) {
  for (const std::string& name : reference_.TakeChangedBarriers()) {
    const rsm::Barrier* b = reference_.barriers().Find(name);
    if (b == nullptr) continue;  // removed
    auto was = before.find(name);
    const bool was_released =
        was != before.end() && was->second.state == rsm::BarrierState::kReleased;
    if (b->state == rsm::BarrierState::kReleased && !was_released) {
      checker_->BarrierReleased(index, name);
    } else if (b->state == rsm::BarrierState::kCollecting) {
      checker_->BarrierStillCollecting(index, name);
    } else if (b->state == rsm::BarrierState::kTimedOut &&
               (was == before.end() || was->second.state != rsm::BarrierState::kTimedOut)) {
      ++checker_->stats().barriers_timed_out;
    }
  }
}

}  // namespace tri::sim
