#pragma once

// Config: how a Raft node is set up (RawNode::Create, and the protocol state
// machine inside it). Public: part of the core's API, included by raw_node.h;
// kept apart so that the core's internals need not include the API header.

#include <cstdint>

#include "base/rng.h"
#include "base/status.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tri::raft {

enum class ReadOnlyOption : std::uint8_t {
  // ReadIndex confirms leadership with a heartbeat round to a quorum (linearizable
  // without any clock assumption).
  kSafe = 0,
  // ReadIndex answers at once while the leader holds a lease: a quorum acknowledged a
  // heartbeat sent less than lease_ticks ago (leader ticks); otherwise it falls back to
  // kSafe. Requires check_quorum. Linearizable only under the clock-drift bound stated
  // at Config::lease_ticks (see also LeaseMaxClockRateRatio and docs/raft.md).
  kLeaseBased = 1,
};

struct Config {
  NodeId id = kNoNode;
  // A follower that hears nothing from a leader for a randomized timeout in
  // [election_ticks, 2 * election_ticks) starts an election. REQUIRES > heartbeat_ticks.
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Not owned; must outlive the RawNode.
  Storage* storage = nullptr;
  // Election jitter. Not owned; must outlive the RawNode.
  Rng* rng = nullptr;
  // false: every election timeout is exactly election_ticks (interaction tests only;
  // without jitter, split votes can repeat forever).
  bool randomized_election_timeout = true;
  // The last index the application has applied (on restart). 0 = start from the snapshot.
  Index applied = 0;

  // Pre-vote (thesis 9.6): a candidate first asks whether it could win, without
  // bumping terms, so a rejoining partitioned node cannot disrupt a healthy leader.
  bool pre_vote = true;
  // A leader that has not heard from a quorum within an election timeout steps down;
  // followers ignore vote requests while they recently heard from a leader.
  bool check_quorum = true;
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  // Lease length for kLeaseBased reads, in the leader's ticks, counted from the tick at
  // which the newest heartbeat acknowledged by a quorum was SENT. 0 means
  // election_ticks * 3 / 4. REQUIRES 0 <= lease_ticks < election_ticks.
  //
  // The clock-drift bound lease reads rely on: a voter that acknowledged a leader's
  // heartbeat refuses votes and pre-votes for election_ticks of its own ticks after it
  // received it (and, with kLeaseBased, for election_ticks after a restart), so no
  // other leader can be elected before (election_ticks - 1) of its tick periods have
  // passed. Reads are linearizable iff
  //     lease_ticks * leader_tick_period <= (election_ticks - 1) * voter_tick_period
  // for every voter, i.e. no voter's clock runs faster than the leader's by more than
  // the factor LeaseMaxClockRateRatio(config) = (election_ticks - 1) / lease_ticks
  // (9/7, about +28%, with the defaults 10 and 7). Pauses of the leader process while
  // it holds a lease count as its clock running slow. All members must use the same
  // read_only, election_ticks and lease_ticks. Where the bound cannot be guaranteed,
  // use kSafe (no clock assumption).
  int lease_ticks = 0;
  // When true, followers drop proposals instead of forwarding them to the leader.
  bool disable_proposal_forwarding = false;

  // Size bounds (bytes counted with EntrySizeBytes / MessageSizeBytes).
  std::uint64_t max_entry_size_bytes = 1 << 20;  // a larger proposal is refused
  std::uint64_t max_msg_size_bytes = 1 << 20;    // entries batched per append message
  std::uint64_t max_snapshot_chunk_bytes = 64 << 10;
  // Bytes of committed entries handed out per Ready.
  std::uint64_t max_committed_size_per_ready_bytes = 4 << 20;
  // Bytes of proposed-but-uncommitted entries on a leader; further proposals refused.
  std::uint64_t max_uncommitted_size_bytes = 64 << 20;
  // Flow control per follower in replicate state: append messages and bytes in flight.
  std::uint32_t max_inflight_msgs = 64;
  std::uint64_t max_inflight_bytes = 8 << 20;

  // TEST ONLY: deliberate protocol bugs, so that tests can prove the simulator's
  // checkers catch a broken core (tri-sim raft --inject-bug). Never set them outside
  // tests. All off by default; when off each costs one predictable branch.
  struct TestingBugs {
    // A duplicated vote (or pre-vote) response from a voter that already granted is
    // counted as another granted vote: two leaders per term become possible (in
    // clusters of five or more voters).
    bool count_duplicate_votes = false;
    // The leader commits an entry of an earlier term as soon as a quorum stores it,
    // without waiting for an entry of its own term (the unsafe rule of Figure 8 in
    // the Raft paper): a committed entry can later be overwritten.
    bool commit_previous_term_by_count = false;
    // A vote granted in the term the voter was already in is sent without being
    // recorded (so never persisted): after a crash, or even without one, the voter can
    // grant a second vote in that term.
    bool vote_not_persisted_same_term = false;
    // A follower accepts an append from a leader of an older term (instead of
    // answering with its own term so that the stale leader steps down): a newer
    // leader's entries can be overwritten.
    bool accept_stale_term_append = false;
    // A heartbeat does not reset the follower's election timer (appends still do): an
    // idle cluster with a healthy leader keeps starting (pre-vote) elections.
    bool heartbeat_no_timer_reset = false;
    // A learner's acknowledgement counts towards the voters' commit quorum.
    bool learners_count_for_commit = false;
    // A new leader answers ReadIndex before it committed an entry of its own term,
    // with a commit index that may miss entries an earlier leader committed.
    bool read_before_own_term_commit = false;
  };
  TestingBugs testing_bugs;

  // lease_ticks with the default applied (0 means election_ticks * 3 / 4).
  int EffectiveLeaseTicks() const { return lease_ticks > 0 ? lease_ticks : election_ticks * 3 / 4; }

  Status Validate() const;
};

// kLeaseBased: the largest ratio (voter clock rate / leader clock rate) under which
// lease reads stay linearizable: (election_ticks - 1) / lease_ticks. See lease_ticks.
double LeaseMaxClockRateRatio(const Config& config);

}  // namespace tri::raft
