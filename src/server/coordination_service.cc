#include "server/coordination_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "base/assert.h"
#include "rsm/barrier_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/lock_codec.h"
#include "server/lease_service.h"
#include "server/node.h"

namespace tri::server {

// One Locks.Acquire from its start until it is answered.
struct NodeCoordination::Acquiring {
  std::uint64_t wait_id = 0;
  LockAcquireRequest request;
  std::function<void(Status, const LockAcquireOutcome&)> done;
  bool granted_lease = false;  // this call granted request.lease: revoke it unless acquired
  bool cancelled = false;      // the client went away
  std::uint32_t position = 0;
};

NodeCoordination::NodeCoordination(Node& node, NodeLeases& leases, NodeCoordinationOptions options)
    : node_(node),
      leases_(leases),
      options_(options),
      rng_(std::random_device{}()),
      timer_(
          [this](std::string payload, std::function<void(Status, const rsm::Applied*)> done) {
            TRI_ASSERT(core_ != nullptr);
            Propose(*core_, rsm::CommandKind::kBarrier, std::move(payload), std::move(done));
          },
          [this]() -> const rsm::BarrierTable& {
            TRI_ASSERT(core_ != nullptr);
            return core_->state_machine().barriers();
          }) {}

NodeCoordination::~NodeCoordination() = default;

void NodeCoordination::Propose(NodeCore& core, rsm::CommandKind kind, std::string payload,
                               std::function<void(Status, const rsm::Applied*)> done) {
  core_ = &core;
  // After Stop the node fails what it tracks; nothing new may be tracked.
  if (stopped_) return done(Unavailable("etcdserver: server stopped"), nullptr);
  const RequestToken token = node_.Track([done = std::move(done)](NodeCore&, const Completion& c) {
    if (!c.status.ok()) return done(c.status, nullptr);
    if (!c.applied.has_value()) return done(Internal("no apply result"), nullptr);
    done(Status::Ok(), &*c.applied);
  });
  core.Propose(token, kind, std::move(payload));
}

// --- locks -------------------------------------------------------------------

void NodeCoordination::Acquire(NodeCore& core, std::uint64_t wait_id, LockAcquireRequest request,
                               std::function<void(Status, const LockAcquireOutcome&)> done) {
  core_ = &core;
  if (stopped_) return done(Unavailable("etcdserver: server stopped"), {});
  if (request.ttl_s < 0) {
    return done(InvalidArgument("lock " + request.name + ": ttl_seconds must not be negative"), {});
  }
  if (request.wait_timeout_ms > options_.max_lock_wait_ms) {
    return done(InvalidArgument("lock " + request.name + ": wait_timeout_ms " +
                                std::to_string(request.wait_timeout_ms) + " above the limit " +
                                std::to_string(options_.max_lock_wait_ms)),
                {});
  }
  auto call = std::make_shared<Acquiring>();
  call->wait_id = wait_id;
  call->done = std::move(done);
  const bool grant = request.ttl_s > 0 || request.lease == 0;
  const std::int64_t ttl = request.ttl_s > 0 ? request.ttl_s : options_.default_lock_ttl_s;
  call->request = std::move(request);
  calls_[wait_id] = call;
  if (!grant) return ProposeAcquire(core, call);

  // A lease of its own for this hold: its expiry ends the hold (or the wait).
  std::int64_t id = 0;
  while (id == 0)
    id = static_cast<std::int64_t>(rng_() & static_cast<std::uint64_t>(INT64_MAX));
  leases_.Propose(core, rsm::LeaseGrant{id, ttl},
                  [this, call](Status s, const rsm::Applied* applied) {
                    if (s.ok() && !applied->result.ok()) s = rsm::ToStatus(applied->result.error());
                    if (!s.ok()) return Finish(*core_, call, s, {});
                    call->request.lease = applied->lease->id;
                    call->granted_lease = true;
                    ProposeAcquire(*core_, call);
                  });
}

void NodeCoordination::ProposeAcquire(NodeCore& core, std::shared_ptr<Acquiring> call) {
  const LockAcquireRequest& r = call->request;
  Propose(core, rsm::CommandKind::kLock,
          rsm::EncodeLockCommand(rsm::LockAcquireCommand{r.name, r.owner, r.lease}),
          [this, call](Status s, const rsm::Applied* applied) {
            if (s.ok() && !applied->result.ok()) s = rsm::ToStatus(applied->result.error());
            if (s.ok() && !applied->lock.has_value()) s = Internal("lock acquire without a reply");
            if (!s.ok()) return Finish(*core_, call, s, {});
            const rsm::LockReply& reply = *applied->lock;
            if (reply.outcome == rsm::LockReply::Outcome::kGranted) {
              return Finish(*core_, call, Status::Ok(),
                            {.acquired = true,
                             .token = reply.token,
                             .hold_count = reply.hold_count,
                             .lease = call->request.lease});
            }
            call->position = reply.position;
            if (call->cancelled) {
              return CancelWait(*core_, call, Cancelled("lock acquire cancelled by the client"));
            }
            if (call->request.wait_timeout_ms == 0) return CancelWait(*core_, call, Status::Ok());
            StartWait(*core_, call);
          });
}

void NodeCoordination::StartWait(NodeCore& core, std::shared_ptr<Acquiring> call) {
  if (waits_.size() >= options_.max_lock_waits) {
    return CancelWait(core, call,
                      ResourceExhausted("lock " + call->request.name + ": " +
                                        std::to_string(options_.max_lock_waits) +
                                        " acquires already wait on this member"));
  }
  waits_[call->wait_id] = Wait{call, now_ms_ + call->request.wait_timeout_ms};
  // Entries applied in this round after the acquire may have granted it already.
  recheck_.insert(call->request.name);
}

void NodeCoordination::CancelWait(NodeCore& core, std::shared_ptr<Acquiring> call,
                                  Status if_cancelled) {
  waits_.erase(call->wait_id);
  const LockAcquireRequest& r = call->request;
  Propose(core, rsm::CommandKind::kLock,
          rsm::EncodeLockCommand(rsm::LockCancelWaitCommand{r.name, r.owner}),
          [this, call, if_cancelled](Status s, const rsm::Applied* applied) {
            if (!s.ok()) return Finish(*core_, call, s, {});
            const rsm::LockTable& table = core_->state_machine().locks();
            const rsm::LockEntry* entry = table.Find(call->request.name);
            const bool holds = entry != nullptr && entry->holder.owner == call->request.owner;
            std::optional<LockAcquireOutcome> won;
            if (applied->result.ok() && applied->lock.has_value() &&
                applied->lock->outcome == rsm::LockReply::Outcome::kHeld) {
              // The grant won the race: the caller holds the lock.
              won = LockAcquireOutcome{.acquired = true,
                                       .token = applied->lock->token,
                                       .hold_count = applied->lock->hold_count,
                                       .lease = call->request.lease};
            } else if (!applied->result.ok() && holds) {
              // Not queued any more because the lock was granted meanwhile.
              won = LockAcquireOutcome{.acquired = true,
                                       .token = entry->holder.token,
                                       .hold_count = entry->holder.hold_count,
                                       .lease = call->request.lease};
            }
            if (won.has_value() && !call->cancelled)
              return Finish(*core_, call, Status::Ok(), *won);
            if (won.has_value() && !call->granted_lease) {
              // Nobody is there to learn it holds the lock: give it back (a
              // lease this call granted is revoked by Finish, which ends the
              // hold as well).
              const LockAcquireRequest& r = call->request;
              Propose(*core_, rsm::CommandKind::kLock,
                      rsm::EncodeLockCommand(rsm::LockReleaseCommand{r.name, r.owner}),
                      [](Status, const rsm::Applied*) {});
            }
            Finish(*core_, call, if_cancelled,
                   {.acquired = false, .lease = call->request.lease, .position = call->position});
          });
}

void NodeCoordination::Finish(NodeCore& core, const std::shared_ptr<Acquiring>& call, Status status,
                              LockAcquireOutcome outcome) {
  waits_.erase(call->wait_id);
  calls_.erase(call->wait_id);
  if (call->granted_lease && !(status.ok() && outcome.acquired) && !stopped_) {
    // Nobody will keep this lease alive: revoke it now rather than at its expiry.
    leases_.Propose(core, rsm::LeaseRevoke{call->request.lease},
                    [](Status, const rsm::Applied*) {});
    outcome.lease = 0;
  }
  auto done = std::move(call->done);
  call->done = nullptr;
  if (done) done(status, outcome);
}

void NodeCoordination::CancelAcquire(NodeCore& core, std::uint64_t wait_id) {
  auto it = calls_.find(wait_id);
  if (it == calls_.end()) return;  // answered already
  std::shared_ptr<Acquiring> call = it->second;
  call->cancelled = true;
  if (waits_.count(wait_id) != 0)
    CancelWait(core, call, Cancelled("lock acquire cancelled by the client"));
}

void NodeCoordination::CheckWaits(NodeCore& core, const std::string& name) {
  std::vector<std::shared_ptr<Acquiring>> on_lock;
  for (const auto& [id, wait] : waits_) {
    if (wait.call->request.name == name) on_lock.push_back(wait.call);
  }
  const rsm::LockTable& table = core.state_machine().locks();
  for (const std::shared_ptr<Acquiring>& call : on_lock) {
    const rsm::LockEntry* entry = table.Find(name);
    if (entry != nullptr && entry->holder.owner == call->request.owner) {
      Finish(core, call, Status::Ok(),
             {.acquired = true,
              .token = entry->holder.token,
              .hold_count = entry->holder.hold_count,
              .lease = call->request.lease});
      continue;
    }
    const std::optional<std::uint32_t> position = table.QueuePosition(name, call->request.owner);
    if (!position.has_value()) {
      // Out of the queue without the lock: its lease ended the wait.
      Finish(core, call, Status::Ok(),
             {.acquired = false, .lease = call->request.lease, .position = call->position});
      continue;
    }
    call->position = *position;
  }
}

// --- barriers ------------------------------------------------------------------

Result<std::uint64_t> NodeCoordination::WatchBarrier(const std::string& name,
                                                     BarrierWatchFn on_change) {
  if (watches_.size() >= options_.max_barrier_watches) {
    return ResourceExhausted("barrier " + name + ": " +
                             std::to_string(options_.max_barrier_watches) +
                             " arrive streams already open on this member");
  }
  const std::uint64_t id = next_watch_id_++;
  watches_[id] = Watch{name, std::move(on_change)};
  return id;
}

void NodeCoordination::Unwatch(std::uint64_t watch_id) {
  watches_.erase(watch_id);
}

// --- the loop ------------------------------------------------------------------

void NodeCoordination::AfterRound(NodeCore& core, std::uint64_t now_ms) {
  core_ = &core;
  now_ms_ = std::max(now_ms_, now_ms);
  core.SetTime(now_ms);

  // Always drained: the change lists grow until taken.
  for (const std::string& name : core.mutable_state_machine().TakeChangedLocks())
    recheck_.insert(name);
  std::vector<std::string> barriers = core.mutable_state_machine().TakeChangedBarriers();
  if (std::exchange(check_everything_, false)) {
    for (const auto& [id, wait] : waits_)
      recheck_.insert(wait.call->request.name);
    std::set<std::string> watched(barriers.begin(), barriers.end());
    for (const auto& [id, watch] : watches_) {
      if (watched.insert(watch.name).second) barriers.push_back(watch.name);
    }
  }

  const std::set<std::string> names = std::exchange(recheck_, {});
  if (!waits_.empty()) {
    for (const std::string& name : names)
      CheckWaits(core, name);
  }
  std::vector<std::shared_ptr<Acquiring>> expired;
  for (const auto& [id, wait] : waits_) {
    if (wait.deadline_ms <= now_ms_) expired.push_back(wait.call);
  }
  for (const std::shared_ptr<Acquiring>& call : expired)
    CancelWait(core, call, Status::Ok());

  for (const std::string& name : barriers) {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, watch] : watches_) {
      if (watch.name == name) ids.push_back(id);
    }
    const rsm::Barrier* barrier = core.state_machine().barriers().Find(name);
    for (const std::uint64_t id : ids) {
      auto it = watches_.find(id);
      if (it == watches_.end()) continue;
      if (!it->second.on_change(Status::Ok(), barrier)) watches_.erase(id);
    }
  }

  timer_.Round(core.LeaderReady(), core.term(), now_ms_);
}

std::uint64_t NodeCoordination::next_wake_ms() const {
  std::uint64_t wake = timer_.next_wake_ms();
  for (const auto& [id, wait] : waits_)
    wake = std::min(wake, wait.deadline_ms);
  return recheck_.empty() && !check_everything_ ? wake : 0;
}

void NodeCoordination::Stop() {
  stopped_ = true;
  auto calls = std::exchange(calls_, {});
  waits_.clear();
  for (auto& [id, call] : calls) {
    auto done = std::move(call->done);
    if (done) done(Unavailable("etcdserver: server stopped"), {});
  }
  auto watches = std::exchange(watches_, {});
  for (auto& [id, watch] : watches)
    watch.on_change(Unavailable("etcdserver: server stopped"), nullptr);
}

}  // namespace tri::server
