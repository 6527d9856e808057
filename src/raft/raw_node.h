#pragma once

// RawNode: the API of the pure Raft core (etcd's raft.RawNode shape).
//
// The application drives it from one thread:
//   - Tick() on every logical clock tick;
//   - Step(msg) for every message received from a peer;
//   - Propose / ProposeConfChange / ReadIndex / TransferLeader / Campaign on requests;
//   - when HasReady(): rd = GetReady(); then, in this order,
//       1. persist rd.snapshot (if any), rd.entries and rd.hard_state (if any) to Storage
//          (for MemoryStorage: ApplySnapshot, Append, SetHardState) - durably;
//       2. send rd.messages (only now: they may claim that (1) is durable);
//       3. apply rd.committed_entries to the state machine, serve rd.read_states once
//          the applied index reaches them;
//       4. call Advance().
// Nothing is durable until Advance() acknowledges it: in particular a leader counts
// its own log towards a commit quorum only up to what Advance() acknowledged, so a
// one-voter cluster never reports an entry committed before it is persisted.
//
// Membership changes take effect inside the core when their entry is handed out in
// committed_entries (at Advance); Ready::conf_state reports the new configuration.
// The core has no thread, clock, I/O or randomness of its own.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
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
  std::uint64_t max_entry_size_bytes = 1 << 20;   // a larger proposal is refused
  std::uint64_t max_msg_size_bytes = 1 << 20;     // entries batched per append message
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

// What the application must do next; see the contract at the top of this file.
struct Ready {
  std::optional<SoftState> soft_state;  // set when it changed
  std::optional<HardState> hard_state;  // set when it changed: persist before sending
  std::vector<ReadState> read_states;
  std::optional<Snapshot> snapshot;     // a snapshot received from the leader: install it
  std::vector<Entry> entries;           // persist (Append) before sending messages
  std::vector<Entry> committed_entries; // apply in order
  std::optional<ConfState> conf_state;  // membership changed (by committed entries or snapshot)
  std::vector<Message> messages;        // send after persisting

  // True when entries, hard state or snapshot must reach stable storage.
  bool MustSync() const { return hard_state.has_value() || !entries.empty() || snapshot; }
};

enum class ProgressState : std::uint8_t { kProbe = 0, kReplicate, kSnapshot };
std::string_view ProgressStateName(ProgressState s);

struct ProgressStatus {
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::kProbe;
  bool is_learner = false;
  bool recent_active = false;
  std::uint32_t inflight_msgs = 0;
};

struct NodeStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  Index applied = 0;
  Index last_index = 0;
  Index stable_index = 0;  // last index acknowledged durable via Advance
  ConfState conf_state;
  NodeId lead_transferee = kNoNode;
  std::map<NodeId, ProgressStatus> progress;  // leader only
};

// Bound on ReadIndex contexts (they travel in heartbeats).
inline constexpr std::size_t kMaxReadContextBytes = 1024;

class Raft;  // the protocol state machine (raft/raft.h), private to the core

class RawNode {
 public:
  // Restores from config.storage (hard state, snapshot, log) or starts fresh.
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances the logical clock by one tick (elections, heartbeats, check-quorum,
  // transfer timeout).
  void Tick();
  // Starts an election now (pre-vote first if enabled). kFailedPrecondition when this
  // node is not a voter, or (kLeaseBased) heard from a leader within the election
  // timeout (its vote for itself would break that leader's lease).
  Status Campaign();
  // Proposes `data` for the log. Errors: kUnavailable when there is no leader or a
  // leader transfer is in progress (retry later, maybe at the new leader);
  // kInvalidArgument when the entry exceeds max_entry_size_bytes; kResourceExhausted
  // when too many uncommitted bytes are pending. Success does not mean committed.
  Status Propose(std::string data);
  // Proposes a membership change. Also kFailedPrecondition when another change is in
  // flight, the leader has not committed an entry of its term yet, the id was removed
  // before (reuse refused), or the change is a no-op / would remove the last voter.
  // Refusals on the leader are returned; a follower forwards and the leader may drop.
  Status ProposeConfChange(const ConfChange& cc);
  // Handles a message from a peer. Messages from unknown/removed nodes, and stale
  // responses, are ignored (ok). Local message types are refused.
  Status Step(Message m);
  // Requests a linearizable read point; the answer arrives as a ReadState with the
  // same context in a later Ready. kUnavailable when no leader is known;
  // kInvalidArgument when the context exceeds kMaxReadContextBytes. Contexts must be
  // unique among pending requests (a duplicate is answered once).
  Status ReadIndex(std::string context);
  // Asks the leader to hand leadership to `target` (must be a voter). Aborted if not
  // done within an election timeout.
  Status TransferLeader(NodeId target);
  // Tells the leader a peer could not be reached (its append pipeline resets to probing).
  void ReportUnreachable(NodeId id);

  bool HasReady() const;
  // Returns the pending work. Must be followed by Advance() before the next GetReady();
  // other calls (Step, Tick, Propose...) may come in between.
  Ready GetReady();
  // Acknowledges that the last Ready was handled (persisted, sent, applied).
  void Advance();

  NodeStatus status() const;
  NodeId id() const;
  Role role() const;
  NodeId leader() const;
  Term term() const;

  // Testing hook: the internal state machine (not a stable API).
  Raft& raft_for_testing() { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
  HardState prev_hard_state_;
  SoftState prev_soft_state_;
  // What the outstanding Ready handed out, acknowledged by Advance().
  bool awaiting_advance_ = false;
  Index pending_last_entry_index_ = 0;
  Term pending_last_entry_term_ = 0;
  Index pending_snapshot_index_ = 0;
  Index pending_applied_index_ = 0;
  Index handed_entries_index_ = 0;
  Index handed_snapshot_index_ = 0;
  bool pending_base_conf_handed_ = false;
};

}  // namespace tri::raft
