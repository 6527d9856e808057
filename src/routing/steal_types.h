#pragma once

// Value types of the work-stealing policy (steal_node.h, docs/routing.md): tasks,
// peers, messages and options. Self-contained: the policy needs no node
// description beyond a name, a zone and a relative speed, so a driver fills these
// from whatever membership it has.

#include <cstdint>
#include <string>
#include <vector>

namespace tri::routing {

using TaskId = std::uint64_t;

// The most times a task may be offered (kShare): the wire holds it in 3 bits.
inline constexpr std::uint8_t kMaxShareOffers = 7;

// A unit of work a node queues, runs, or hands to a thief. `cost` is an optional
// estimate in the driver's work units (0 = unknown): queues run larger
// estimates first (steal_queue.h). A pinned task runs on the node it was queued on: it is never
// granted to a thief. `offers`: how many times the task was offered to a faster
// node (kShare); at most StealOptions::max_share_offers, so a task is never
// handed around without end.
struct StealTask {
  TaskId id = 0;
  std::uint64_t cost = 0;
  bool pinned = false;
  std::uint8_t offers = 0;
  friend bool operator==(const StealTask&, const StealTask&) = default;
};

// Another node that may be asked for work. `speed`: its capacity in the
// driver's work units per ms (membership gossips it); with cost estimates in
// the same units, cost / speed is the task's run time there in ms.
struct StealPeer {
  std::string name;
  std::string zone;
  double speed = 1.0;
};

enum class StealKind : std::uint8_t {
  kRequest = 1,  // thief -> victim: "give me up to max_tasks"
  kGrant = 2,    // victim -> thief: the tasks, already removed from the victim
  kRefuse = 3,   // victim -> thief: nothing stealable
  kShare = 4,    // slow node -> faster node: one large task, offered before it starts
  kDecline = 5,  // the faster node -> the sender: the offered task, handed back
};

// One message of the protocol. `steal_id` is the thief's number for the steal
// (unique per thief), echoed in the answer. `queued` is the sender's count of
// stealable (queued, unpinned) tasks after handling the message: a load hint the
// receiver uses to choose victims.
struct StealMessage {
  StealKind kind = StealKind::kRequest;
  std::string from;
  std::string to;
  std::uint64_t steal_id = 0;
  std::uint32_t max_tasks = 0;   // kRequest: how many the thief takes at most
  std::vector<StealTask> tasks;  // kGrant: at least one; kShare, kDecline: exactly one
  std::uint32_t queued = 0;
};

// Every bound is enforced by the policy; the defaults suit a cluster of
// thousands of nodes with millisecond message delays.
struct StealOptions {
  // Steal when this node's queue holds at most this many tasks. 0: steal once the
  // queue is empty, while the last task may still run (hides the round trip).
  std::uint32_t steal_below_or_at = 0;
  // Steal requests awaiting an answer at once; 0 turns stealing off (static
  // placement: the node still answers requests).
  std::uint32_t max_inflight_steals = 2;
  // Tasks one grant carries at most (and a request asks for at most).
  std::uint32_t max_tasks_per_steal = 64;
  // Tasks this node queues at most: Enqueue refuses beyond, and a request asks
  // only for the free room.
  std::uint32_t max_queued_tasks = 1u << 20;
  // A request unanswered this long stops counting as in flight. A grant that
  // arrives later is still accepted: a grant is a transfer, never refused.
  std::int64_t request_timeout_ms = 1000;
  // Probability of looking for a victim in this node's own zone first (when
  // the zone has other nodes).
  double same_zone_preference = 0.8;
  // Random candidates drawn per attempt; the one with the largest load hint
  // wins (power of d choices). Candidates cooling down are skipped.
  std::uint32_t victim_samples = 2;
  // A victim that refused is not asked again for this long.
  std::int64_t refused_cooldown_ms = 50;
  // After this many answers in a row without a task the node waits backoff,
  // doubling up to max_backoff_ms, before it asks again.
  std::uint32_t attempts_before_backoff = 8;
  std::int64_t backoff_ms = 5;
  std::int64_t max_backoff_ms = 200;
  // The owner runs its pinned tasks before its unpinned ones (only it can run
  // them; thieves can take the others). false: strict arrival order.
  bool run_pinned_first = true;
  // Peers known at most (bounds the per-peer hints).
  std::uint32_t max_peers = 100'000;

  // Sharing (speed-aware hand-off, docs/routing.md): a node about to start an
  // unpinned task whose estimated run here (cost / own speed) is at least
  // share_min_run_ms offers it instead to one of the share_fanout fastest peers
  // that run it at least share_speedup times faster. The peer queues it when
  // share_speedup x (its work ahead of the task + the task) / its speed is at
  // most the run at the sender, and that work ahead is at most share_max_wait x
  // the task's cost; else it declines and the task comes back. A
  // task is offered at most max_share_offers times (then it runs where it is).
  // share_min_run_ms 0 turns sharing off (the node still answers offers).
  double share_min_run_ms = 100;
  double share_speedup = 1.25;
  double share_max_wait = 0.1;
  std::uint32_t share_fanout = 128;
  std::uint32_t max_share_offers = 3;

  // Deliberate bugs for the simulator's checkers (test-only; all off).
  struct TestingBugs {
    bool keep_granted_tasks = false;  // the victim sends copies and keeps them
    bool grant_pinned_tasks = false;  // pinned tasks are granted like others
    bool grant_everything = false;    // a grant takes every stealable task, not half
    bool keep_offered_tasks = false;  // the sender offers a copy and keeps the task
  } bugs;
};

// Counters a driver exports (and the simulator reports).
struct StealStats {
  std::uint64_t requests_sent = 0;
  std::uint64_t grants_received = 0;
  std::uint64_t refusals_received = 0;
  std::uint64_t requests_timed_out = 0;
  std::uint64_t tasks_stolen = 0;  // received in grants
  std::uint64_t grants_sent = 0;
  std::uint64_t refusals_sent = 0;
  std::uint64_t tasks_granted = 0;
  std::uint64_t grants_returned = 0;  // undeliverable grants taken back
  std::uint64_t shares_sent = 0;      // tasks offered to faster peers
  std::uint64_t shares_accepted = 0;  // offers this node queued
  std::uint64_t shares_declined = 0;  // offers this node handed back
  std::uint64_t shares_returned = 0;  // own offers that came back (declined or undeliverable)
};

}  // namespace tri::routing
