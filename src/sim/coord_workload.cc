#include "sim/coord_workload.h"

#include <fmt/format.h>

#include <limits>
#include <utility>

#include "rsm/kv_codec.h"
#include "rsm/lock_table.h"

namespace tri::sim {
namespace {

constexpr SimTimeUs kMs = 1'000;
constexpr SimTimeUs kNever = std::numeric_limits<SimTimeUs>::max();
// A client that could not send (no member up) or got no answer tries again
// after 50..300 ms.
constexpr SimTimeUs kRetryMinUs = 50 * kMs;
constexpr SimTimeUs kRetryMaxUs = 300 * kMs;
// Share of leases whose keep-alives stop at some point.
constexpr double kStopKeepAliveProbability = 0.25;
constexpr double kArriveProbability = 0.85;
// Chance that a client holding a lock pauses before a fenced write.
constexpr double kPauseProbability = 0.05;

// Errors no request of the workload can earn (the others are the cluster's
// answers to races the clients run into: a lease gone, a barrier ended).
bool Unexpected(const rsm::KvError& error) {
  return error.grpc_code == rsm::GrpcCode::kInternal ||
         error.grpc_code == rsm::GrpcCode::kDataLoss ||
         error.grpc_code == rsm::GrpcCode::kUnimplemented;
}

}  // namespace

struct CoordClients::LockClient {
  enum class LockState : std::uint8_t { kNone, kWaiting, kHolding };
  std::string name;
  bool busy = false;  // a request other than a keep-alive in flight
  SimTimeUs next_action_us = 0;
  // The lease (0: none) and its keep-alives.
  std::int64_t lease = 0;
  std::int64_t ttl_s = 0;
  bool put_pending = false;
  std::uint64_t puts = 0;
  bool keep_alive_in_flight = false;
  SimTimeUs next_keep_alive_us = 0;
  SimTimeUs keep_alive_stop_us = kNever;
  SimTimeUs presume_dead_us = kNever;  // a lease no longer kept alive is gone by then
  bool lease_dead = false;
  // The lock it waits for or believes it holds.
  LockState lock_state = LockState::kNone;
  std::string lock;
  std::uint64_t token = 0;
  int writes_left = 0;
  std::uint64_t writes = 0;
  SimTimeUs wait_deadline_us = 0;
  // A process pause (a long GC, a stopped VM): nothing at all, keep-alives
  // included, until then; the client then writes with the token it had.
  SimTimeUs paused_until_us = 0;
};

struct CoordClients::BarrierPlan {
  struct Arrival {
    std::string participant;
    SimTimeUs at_us = 0;
    bool done = false;
    bool in_flight = false;
    int errors = 0;
  };
  rsm::BarrierCreateCommand create;
  SimTimeUs next_try_us = 0;
  bool created = false;
  bool create_in_flight = false;
  std::vector<Arrival> arrivals;
};

// One owner per client and lease: a hold left under a lease the client gave
// up on is never mistaken for one under its next lease.
std::string CoordClients::Owner(const LockClient& c) {
  return fmt::format("{}#{}", c.name, c.lease);
}

CoordClients::CoordClients(const CoordWorkloadOptions& options, Rng* rng, CoordRequestSink* sink)
    : options_(options), rng_(rng), sink_(sink) {
  for (std::uint32_t i = 0; i < options.clients; ++i) {
    auto c = std::make_unique<LockClient>();
    c->name = fmt::format("client-{}", i);
    c->next_action_us = rng_->Range(0, 200 * kMs);
    lock_clients_.push_back(std::move(c));
  }
  const SimTimeUs window = options.duration_us * 6 / 10;
  const SimTimeUs spacing = options.barriers == 0 ? 0 : window / options.barriers;
  for (std::uint32_t i = 0; i < options.barriers; ++i) {
    auto b = std::make_unique<BarrierPlan>();
    rsm::BarrierCreateCommand& c = b->create;
    c.name = fmt::format("barrier-{}", i);
    const auto n = static_cast<std::uint32_t>(rng_->Range(2, 5));
    for (std::uint32_t p = 0; p < n; ++p)
      c.participant_names.push_back(fmt::format("p{}", p));
    switch (rng_->Uniform(3)) {
      case 0:
        c.threshold.kind = rsm::BarrierThreshold::Kind::kAll;
        break;
      case 1:
        c.threshold.kind = rsm::BarrierThreshold::Kind::kCount;
        c.threshold.count = static_cast<std::uint32_t>(rng_->Range(1, n));
        break;
      default:
        c.threshold.kind = rsm::BarrierThreshold::Kind::kFraction;
        c.threshold.denominator = static_cast<std::uint32_t>(rng_->Range(2, 4));
        c.threshold.numerator = static_cast<std::uint32_t>(rng_->Range(1, c.threshold.denominator));
        break;
    }
    if (rng_->Bernoulli(0.5)) c.timeout_ms = static_cast<std::uint64_t>(rng_->Range(500, 4000));
    if (i > 0 && rng_->Bernoulli(0.4)) c.predecessor = fmt::format("barrier-{}", i - 1);
    b->next_try_us = SimTimeUs{i} * spacing + rng_->Range(0, spacing / 2);
    for (const std::string& p : c.participant_names) {
      if (!rng_->Bernoulli(kArriveProbability)) continue;
      b->arrivals.push_back(BarrierPlan::Arrival{p, b->next_try_us + rng_->Range(0, 3000 * kMs)});
    }
    barriers_.push_back(std::move(b));
  }
}

CoordClients::~CoordClients() = default;

void CoordClients::Tick(SimTimeUs now_us) {
  now_us_ = now_us;
  if (stopped_) return;
  for (auto& c : lock_clients_)
    TickLockClient(*c);
  for (auto& b : barriers_)
    TickBarrier(*b);
}

void CoordClients::Refused(const std::string& what, const rsm::KvError& error) {
  if (Unexpected(error) && !refusal_) {
    refusal_ = CoordViolation{"simulator", fmt::format("{} was refused: {}", what, error.message)};
  }
}

void CoordClients::SendLockClient(LockClient& c, rsm::CommandKind kind, std::string payload,
                                  std::function<void(const rsm::Applied*)> on_applied) {
  c.busy = true;
  LockClient* client = &c;
  const bool sent = sink_->Send(kind, std::move(payload),
                                [this, client, on_applied](Status s, const rsm::Applied* a) {
                                  client->busy = false;
                                  client->next_action_us = After(5 * kMs, 100 * kMs);
                                  on_applied(s.ok() ? a : nullptr);
                                });
  if (!sent) {
    c.busy = false;
    c.next_action_us = After(kRetryMinUs, kRetryMaxUs);
  }
}

// Ends the client's lease (and with it every hold and wait under it). When the
// revoke's outcome is unknown the lease is forgotten: nobody keeps it alive,
// so it expires.
void CoordClients::EndLease(LockClient& c) {
  c.lock_state = LockClient::LockState::kNone;
  if (c.lease == 0) return;
  const std::int64_t lease = c.lease;
  c.lease = 0;
  c.put_pending = false;
  SendLockClient(c, rsm::CommandKind::kLease, rsm::EncodeLeaseCommand(rsm::LeaseRevoke{lease}),
                 [](const rsm::Applied*) {});
}

void CoordClients::TickLockClient(LockClient& c) {
  using LockState = LockClient::LockState;
  if (now_us_ < c.paused_until_us) return;
  // Keep-alives, beside the client's other request.
  if (c.lease != 0 && !c.keep_alive_in_flight && now_us_ >= c.next_keep_alive_us &&
      now_us_ < c.keep_alive_stop_us) {
    const std::int64_t lease = c.lease;
    c.next_keep_alive_us = After(c.ttl_s * 200 * kMs, c.ttl_s * 500 * kMs);
    LockClient* client = &c;
    c.keep_alive_in_flight =
        sink_->Send(rsm::CommandKind::kLease, rsm::EncodeLeaseCommand(rsm::LeaseKeepAlive{{lease}}),
                    [client, lease](Status s, const rsm::Applied* a) {
                      client->keep_alive_in_flight = false;
                      if (!s.ok() || a == nullptr || !a->lease || client->lease != lease) return;
                      for (const rsm::LeaseTtl& t : a->lease->renewed) {
                        if (t.id == lease && t.ttl_s == 0) client->lease_dead = true;
                      }
                    });
  }
  if (c.lease != 0 && now_us_ >= c.presume_dead_us) c.lease_dead = true;
  if (c.busy || now_us_ < c.next_action_us) return;
  if (c.lease_dead) {
    c.lease = 0;
    c.lease_dead = false;
    c.put_pending = false;
    c.lock_state = LockState::kNone;
  }

  if (c.lease == 0) {
    const std::int64_t id = next_lease_id_++;
    const std::int64_t ttl = rng_->Range(2, 3);
    SendLockClient(c, rsm::CommandKind::kLease, rsm::EncodeLeaseCommand(rsm::LeaseGrant{id, ttl}),
                   [this, &c, id](const rsm::Applied* a) {
                     if (a == nullptr) return;  // a new id next time
                     if (!a->result.ok() || !a->lease) {
                       if (!a->result.ok()) Refused("a lease grant", a->result.error());
                       return;
                     }
                     c.lease = id;
                     c.ttl_s = a->lease->ttl_s;
                     c.put_pending = true;
                     c.next_keep_alive_us = After(c.ttl_s * 200 * kMs, c.ttl_s * 500 * kMs);
                     c.keep_alive_stop_us = kNever;
                     c.presume_dead_us = kNever;
                     if (rng_->Bernoulli(kStopKeepAliveProbability)) {
                       c.keep_alive_stop_us = After(0, 2 * c.ttl_s * 1000 * kMs);
                       c.presume_dead_us = c.keep_alive_stop_us + (c.ttl_s + 1) * 1000 * kMs;
                     }
                   });
    return;
  }
  if (c.put_pending) {
    rsm::PutRequest put;
    put.key = fmt::format("leased/{}/{}", c.name, c.puts++);
    put.value = fmt::format("{}", c.lease);
    put.lease = c.lease;
    SendLockClient(c, rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(put)),
                   [&c](const rsm::Applied*) { c.put_pending = false; });
    return;
  }

  switch (c.lock_state) {
    case LockState::kNone: {
      const std::uint64_t r = rng_->Uniform(100);
      if (r < 6) return EndLease(c);
      if (r >= 80) {
        c.next_action_us = After(kRetryMinUs, kRetryMaxUs);
        return;
      }
      c.lock = fmt::format("lock-{}", rng_->Uniform(std::max<std::uint32_t>(options_.locks, 1)));
      SendLockClient(
          c, rsm::CommandKind::kLock,
          rsm::EncodeLockCommand(rsm::LockAcquireCommand{c.lock, Owner(c), c.lease}),
          [this, &c](const rsm::Applied* a) {
            if (a == nullptr) return EndLease(c);
            if (!a->result.ok() || !a->lock) {
              if (!a->result.ok()) Refused("a lock acquire", a->result.error());
              if (!a->result.ok() && a->result.error().grpc_code == rsm::GrpcCode::kNotFound)
                c.lease_dead = true;
              return;
            }
            if (a->lock->outcome == rsm::LockReply::Outcome::kGranted) {
              c.lock_state = LockState::kHolding;
              c.token = a->lock->token;
              c.writes_left = static_cast<int>(rng_->Range(1, 3));
            } else if (a->lock->outcome == rsm::LockReply::Outcome::kQueued) {
              c.lock_state = LockState::kWaiting;
              c.wait_deadline_us = After(300 * kMs, 3000 * kMs);
            }
          });
      return;
    }
    case LockState::kWaiting: {
      // Serializable reads of a random replica show when the lock came its way.
      if (const rsm::StateMachine* sm = sink_->AnyReplica()) {
        const rsm::LockEntry* entry = sm->locks().Find(c.lock);
        if (entry != nullptr && entry->holder.owner == Owner(c)) {
          c.lock_state = LockState::kHolding;
          c.token = entry->holder.token;
          c.writes_left = static_cast<int>(rng_->Range(1, 3));
          return;
        }
      }
      if (now_us_ < c.wait_deadline_us) {
        c.next_action_us = After(10 * kMs, 50 * kMs);
        return;
      }
      SendLockClient(c, rsm::CommandKind::kLock,
                     rsm::EncodeLockCommand(rsm::LockCancelWaitCommand{c.lock, Owner(c)}),
                     [this, &c](const rsm::Applied* a) {
                       if (a == nullptr) return EndLease(c);
                       c.lock_state = LockState::kNone;
                       if (!a->result.ok() || !a->lock) {
                         if (!a->result.ok()) Refused("a cancel wait", a->result.error());
                         return;
                       }
                       if (a->lock->outcome == rsm::LockReply::Outcome::kHeld) {
                         c.lock_state = LockState::kHolding;
                         c.token = a->lock->token;
                         c.writes_left = 1;
                       }
                     });
      return;
    }
    case LockState::kHolding: {
      if (c.writes_left > 0 && rng_->Bernoulli(kPauseProbability)) {
        // Paused past its lease's TTL: the lock may pass on meanwhile, and the
        // write after the pause must be refused by the fence.
        c.paused_until_us = After(c.ttl_s * 1000 * kMs, 2 * c.ttl_s * 1000 * kMs);
        c.next_action_us = c.paused_until_us;
        return;
      }
      if (c.writes_left > 0) {
        rsm::Compare fence;
        fence.target = rsm::Compare::VALUE;
        fence.result = rsm::Compare::EQUAL;
        fence.key = rsm::LockFenceKey(c.lock);
        fence.value = fmt::format("{}", c.token);
        rsm::PutRequest put;
        put.key = fmt::format("fenced/{}", c.lock);
        put.value = fmt::format("{}:{}:{}", c.name, c.token, c.writes++);
        rsm::TxnRequest txn;
        txn.compare.push_back(fence);
        txn.success.push_back(rsm::RequestOp{put});
        SendLockClient(c, rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(txn)),
                       [this, &c](const rsm::Applied* a) {
                         --c.writes_left;
                         if (a == nullptr) return;
                         if (!a->result.ok()) return Refused("a fenced write", a->result.error());
                         const auto* r = std::get_if<rsm::TxnResponse>(&a->result.value());
                         if (r != nullptr && !r->succeeded) {
                           // The hold ended (or the token came from a stale read).
                           ++fenced_writes_refused_;
                           EndLease(c);
                         }
                       });
        return;
      }
      SendLockClient(c, rsm::CommandKind::kLock,
                     rsm::EncodeLockCommand(rsm::LockReleaseCommand{c.lock, Owner(c)}),
                     [this, &c](const rsm::Applied* a) {
                       if (a == nullptr || !a->result.ok()) return EndLease(c);
                       c.lock_state = LockState::kNone;
                     });
      return;
    }
  }
}

void CoordClients::TickBarrier(BarrierPlan& b) {
  BarrierPlan* plan = &b;
  if (!b.created) {
    if (b.create_in_flight || now_us_ < b.next_try_us) return;
    b.create_in_flight =
        sink_->Send(rsm::CommandKind::kBarrier, rsm::EncodeBarrierCommand(b.create),
                    [this, plan](Status s, const rsm::Applied* a) {
                      plan->create_in_flight = false;
                      if (!s.ok() || a == nullptr) {
                        plan->next_try_us = After(kRetryMinUs, kRetryMaxUs);
                        return;
                      }
                      // An error: it exists (an earlier try applied) or its predecessor
                      // ended; either way the arrivals go ahead.
                      if (!a->result.ok()) Refused("a barrier create", a->result.error());
                      plan->created = true;
                    });
    if (!b.create_in_flight) b.next_try_us = After(kRetryMinUs, kRetryMaxUs);
    return;
  }
  for (BarrierPlan::Arrival& arrival : b.arrivals) {
    if (arrival.done || arrival.in_flight || now_us_ < arrival.at_us) continue;
    BarrierPlan::Arrival* a = &arrival;
    arrival.in_flight = sink_->Send(
        rsm::CommandKind::kBarrier,
        rsm::EncodeBarrierCommand(rsm::BarrierArriveCommand{b.create.name, arrival.participant}),
        [this, a](Status s, const rsm::Applied* applied) {
          a->in_flight = false;
          if (!s.ok() || applied == nullptr) {
            a->at_us = After(kRetryMinUs, kRetryMaxUs);
            return;
          }
          if (applied->result.ok()) {
            a->done = true;
            return;
          }
          Refused("a barrier arrival", applied->result.error());
          // Waiting for its predecessor, or ended: try a few more times.
          a->done = ++a->errors >= 3;
          a->at_us = After(200 * kMs, 600 * kMs);
        });
    if (!arrival.in_flight) arrival.at_us = After(kRetryMinUs, kRetryMaxUs);
  }
}

}  // namespace tri::sim
