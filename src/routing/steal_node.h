#pragma once

// The work-stealing policy of one node (docs/routing.md, "Work stealing"): a pure
// state machine in the shape of the other cores. Time comes in as `now_ms` on the
// caller's clock, randomness from an Rng the caller owns, messages come in through
// Receive and go out through TakeMessages. No I/O, threads or clock.
//
// The node keeps a queue of tasks (steal_queue.h). The driver queues arrivals
// (Enqueue), runs tasks from the hot end (TakeNext) and delivers messages. When
// the queue holds at most `steal_below_or_at` tasks, the node becomes a thief: it
// picks a victim at random (its own zone first with `same_zone_preference`, the
// best load hint of `victim_samples` draws, skipping victims cooling down after a
// refusal, known to be empty from its last message, or already asked) and
// sends a request; at most `max_inflight_steals`
// requests await an answer. A victim answers with a grant of half its stealable
// tasks, rounded up (at most `max_tasks_per_steal` and at most what the thief
// asked for), taken from its cold end, or with a refusal when it has none.
//
// Sharing (speed-aware): a node about to start a large task (its estimated run
// here at least `share_min_run_ms`) offers it instead to one of the
// `share_fanout` fastest peers that run it `share_speedup` times faster
// (kShare). The peer queues it when it would still finish it that much sooner
// counting its own work ahead of it (the rest of its running task and its
// queued tasks as large or pinned); else it hands it back (kDecline) and the
// sender may offer it elsewhere, at most `max_share_offers` times in all. An
// offer is a transfer like a grant: the sender no longer holds the task.
//
// Ownership (the guarantee the simulator checks): a task is in exactly one place
// at every moment — one node's queue, the driver's hands after TakeNext, or one
// grant in transit. The victim removes the tasks before the grant leaves, and the
// thief accepts every valid grant, even after its request timed out. What the
// transport must provide for this to survive a real network: a grant is
// delivered exactly once, or handed back to its sender through Undeliverable —
// an acknowledged transfer that retries until the thief acknowledges, and
// returns the grant when the thief is declared failed before acknowledging (a
// thief that acknowledged and then failed holds the tasks; reassigning a failed
// node's tasks is the owner-of-record's job, not this policy's). Requests and
// refusals may be lost, duplicated or reordered: a lost one costs a timeout. A
// duplicated grant must be filtered by the transport (it would duplicate tasks).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/rng.h"
#include "base/status.h"
#include "routing/steal_queue.h"
#include "routing/steal_types.h"

namespace tri::routing {

class StealNode {
 public:
  static constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();

  // `self.name` must be non-empty; `rng` must outlive the node. Fails on an
  // invalid option (the message names it).
  static Result<StealNode> Create(const StealOptions& options, const StealPeer& self, Rng* rng);

  // The nodes this one may steal from (self excluded). Replaces the previous list;
  // requests in flight to a node no longer listed still count until answered or
  // timed out. Fails on an empty or duplicate name, self, or more than max_peers.
  Status SetPeers(const std::vector<StealPeer>& peers);

  // Queues a task that arrived here (its home). Fails when the queue is full.
  Status Enqueue(const StealTask& task, std::int64_t now_ms);
  // The next task to run (the hot end); the node no longer holds it. The largest
  // stealable tasks may be offered to faster peers first (see Sharing above):
  // the task returned is then another one, or none.
  std::optional<StealTask> TakeNext(std::int64_t now_ms);

  // Expires requests and starts steals that are due. Call at NextDeadline().
  void Tick(std::int64_t now_ms);
  // A message addressed to this node. A malformed one (or a grant that does not
  // fit the queue) is refused with a Status naming what is wrong, and the node is
  // unchanged: the driver hands a refused grant back to its sender
  // (Undeliverable), so its tasks are not lost.
  Status Receive(const StealMessage& message, std::int64_t now_ms);
  // A message this node sent that could not be delivered. A grant's tasks come
  // back into the queue (at the cold end; the queue bound does not apply: they
  // were this node's); a request stops counting as in flight.
  void Undeliverable(const StealMessage& message, std::int64_t now_ms);

  std::vector<StealMessage> TakeMessages();
  // The earliest time Tick has work to do (kNoDeadline: none until an input).
  std::int64_t NextDeadline() const;

  const std::string& name() const { return self_.name; }
  const StealQueue& queue() const { return queue_; }
  std::size_t inflight_steals() const { return inflight_.size(); }
  const StealStats& stats() const { return stats_; }
  const StealOptions& options() const { return options_; }

 private:
  struct PeerState {
    StealPeer peer;
    std::int64_t cooldown_until_ms = 0;
    std::uint32_t load_hint = 1;               // unknown peers rank as lightly loaded
    bool asked = false;                        // a request to it is in flight
    std::int64_t share_declined_until_ms = 0;  // not offered tasks until then
  };
  struct Inflight {
    std::uint64_t steal_id = 0;
    std::string victim;
    std::int64_t deadline_ms = 0;
  };

  StealNode(const StealOptions& options, const StealPeer& self, Rng* rng);

  bool WantsToSteal() const;
  void MaybeSteal(std::int64_t now_ms);
  std::optional<std::size_t> PickVictim(std::int64_t now_ms);
  std::optional<std::size_t> SampleFrom(const std::vector<std::size_t>& candidates,
                                        std::int64_t now_ms);
  void AnswerRequest(const StealMessage& request);
  // The peer to offer `task` to instead of running it now, if any.
  std::optional<std::size_t> ShareTarget(const StealTask& task, std::int64_t now_ms);
  void Offer(const StealTask& task, std::size_t peer);
  void AnswerShare(const StealMessage& share, std::int64_t now_ms);
  // Estimated work left of the task last handed out by TakeNext.
  double RunningWorkLeft(std::int64_t now_ms) const;
  // Ends the in-flight request `steal_id` (if still in flight); false if none.
  bool EndInflight(std::uint64_t steal_id);
  void NoteHint(const std::string& peer, std::uint32_t queued, std::int64_t now_ms);
  void NoteEmptyHanded(const std::string& victim, std::int64_t now_ms);
  void NoteSuccess();
  PeerState* FindPeer(const std::string& name);

  StealOptions options_;
  StealPeer self_;
  Rng* rng_;
  StealQueue queue_;
  std::vector<PeerState> peers_;
  std::unordered_map<std::string, std::size_t> peer_index_;
  std::vector<std::size_t> same_zone_;
  std::vector<std::size_t> other_zones_;
  std::vector<std::size_t> by_speed_;  // peer indexes, fastest first
  std::uint64_t running_cost_ = 0;     // the last task TakeNext handed out
  std::int64_t running_since_ms_ = 0;
  std::vector<Inflight> inflight_;
  std::uint64_t next_steal_id_ = 1;
  std::uint32_t empty_handed_in_a_row_ = 0;
  std::int64_t backoff_ms_ = 0;
  std::int64_t next_attempt_ms_ = 0;
  std::vector<StealMessage> outbox_;
  StealStats stats_;
};

}  // namespace tri::routing
