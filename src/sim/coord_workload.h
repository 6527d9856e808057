#pragma once

// The clients of the coordination simulation (coord_sim.h), each a small state
// machine driven by Tick with one request in flight (plus one keep-alive):
//
// Lease and lock clients: grant a lease (TTL 2..3 s), put a key under it, keep
// it alive every 20..50% of its TTL (a quarter of the leases stop being kept
// alive at a random point and expire), revoke some; acquire a random lock with
// the lease; when granted (or, while queued, when a replica shows them as the
// holder) write the fenced resource key "fenced/<lock>" 1..3 times through a
// Txn whose compare is value(LockFenceKey(lock)) == "<token>", then release; a
// wait that lasts too long is cancelled. Before a fenced write a holder may
// pause (no requests, no keep-alives) for one to two TTLs, as a process in a
// long GC pause does, and then write with the token it had: its lease has
// likely expired and the lock passed on, so the fence must refuse the write. A request whose
// outcome is unknown (timeout, member down) ends the client's lease (revoke, or let it expire), so
// no hold or wait of an unknown state outlives it.
//
// Barrier clients: barriers "barrier-<i>" created at random times with 2..5
// named participants, a random threshold (all, a count, a fraction), a
// deadline on half of them and the previous barrier as predecessor on some;
// most participants arrive at random times after the create applied, retrying
// on an unknown outcome (a repeated arrival counts once).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "rsm/command.h"
#include "rsm/state_machine.h"
#include "sim/coord_checkers.h"
#include "sim/network.h"

namespace tri::sim {

// Where the clients' requests go (the driver, coord_sim.cc).
class CoordRequestSink {
 public:
  using RequestDone = std::function<void(Status, const rsm::Applied*)>;
  virtual ~CoordRequestSink() = default;
  // Proposes through a random up member; false when none is up. `done` runs
  // once with the applied entry or the failure.
  virtual bool Send(rsm::CommandKind kind, std::string payload, RequestDone done) = 0;
  // A random up replica's state machine (a serializable read), or nullptr.
  virtual const rsm::StateMachine* AnyReplica() = 0;
};

struct CoordWorkloadOptions {
  std::uint32_t clients = 6;
  std::uint32_t locks = 2;
  std::uint32_t barriers = 6;
  SimTimeUs duration_us = 8'000'000;
};

class CoordClients {
 public:
  // `rng` and `sink` outlive the clients.
  CoordClients(const CoordWorkloadOptions& options, Rng* rng, CoordRequestSink* sink);
  ~CoordClients();

  // Sends what is due at `now_us`.
  void Tick(SimTimeUs now_us);
  // No new requests from now on (answers still arrive).
  void Stop() { stopped_ = true; }

  // A request the cluster should have taken refused as malformed or internal
  // (rule "simulator").
  const std::optional<CoordViolation>& refusal() const { return refusal_; }
  std::uint64_t fenced_writes_refused() const { return fenced_writes_refused_; }

 private:
  struct LockClient;
  struct BarrierPlan;
  void TickLockClient(LockClient& c);
  void TickBarrier(BarrierPlan& b);
  void SendLockClient(LockClient& c, rsm::CommandKind kind, std::string payload,
                      std::function<void(const rsm::Applied*)> on_applied);
  void EndLease(LockClient& c);
  static std::string Owner(const LockClient& c);
  void Refused(const std::string& what, const rsm::KvError& error);
  SimTimeUs After(SimTimeUs lo, SimTimeUs hi) { return now_us_ + rng_->Range(lo, hi); }

  const CoordWorkloadOptions options_;
  Rng* const rng_;
  CoordRequestSink* const sink_;
  std::vector<std::unique_ptr<LockClient>> lock_clients_;
  std::vector<std::unique_ptr<BarrierPlan>> barriers_;
  SimTimeUs now_us_ = 0;
  bool stopped_ = false;
  std::int64_t next_lease_id_ = 1;
  std::uint64_t fenced_writes_refused_ = 0;
  std::optional<CoordViolation> refusal_;
};

}  // namespace tri::sim
