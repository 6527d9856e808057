#include "membership/member.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "base/assert.h"
#include "membership/broadcast_queue.h"
#include "membership/lifecycle.h"
#include "membership/name_hash.h"
#include "membership/suspicion.h"
#include "membership/wire.h"

namespace tri::membership {
namespace {

constexpr Millis kNever = std::numeric_limits<Millis>::max();
constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

bool IsLive(State state) {
  return state == State::kAlive || state == State::kSuspect;
}

}  // namespace

// In turn: SWIM's round robin. Confirmation: out of turn, on hearing a new
// suspicion (feeds the dogpile). Verification: the last-chance probe before this
// member's own suspicion timeout. Only in-turn probes move the health score.
enum class ProbeKind : std::uint8_t { kInTurn, kConfirmation, kVerification };

struct Member::Impl {
  // What this member keeps about each known member beside its public view (same index).
  struct Peer {
    bool joining = false;
    // The suspicion this member holds, while the view's state is kSuspect.
    Millis suspicion_start = 0;
    Millis suspicion_deadline = kNever;
    std::string suspicion_first;             // who suspected first, as heard here
    std::vector<std::string> confirmations;  // distinct others since, at most k
    SuspicionBounds bounds;
    // The last-chance probe this member sends the suspect itself one probe
    // interval before its own timeout: an ack means the suspect runs, so this
    // member does not declare it dead (docs/membership.md, "Verification").
    Millis verify_at = kNever;
    std::uint64_t verify_seq = 0;  // in flight; 0 = none
    bool verify_sent = false;
    bool verified_alive = false;
  };
  struct Probe {
    std::size_t target = 0;
    Millis started = 0;
    Millis direct_deadline = 0;
    Millis end_deadline = 0;
    bool indirect_sent = false;
    int indirect_count = 0;
    int expected_nacks = 0;
    int nacks = 0;
    ProbeKind kind = ProbeKind::kInTurn;
  };
  struct Relay {
    std::string requester;
    std::uint64_t requester_seq = 0;
    Millis deadline = 0;
  };

  Config config;
  wire::Limits limits;
  Rng* rng = nullptr;

  std::vector<MemberView> views;  // index 0 is this member
  std::vector<Peer> peers;
  // name -> slot in views/peers: hashed, looked up on every message handled.
  std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> index;
  std::size_t live = 1;  // members alive or suspect, this one included

  std::vector<std::size_t> probe_order;
  std::size_t probe_pos = 0;
  std::uint64_t next_seq = 1;
  std::map<std::uint64_t, Probe> probes;
  int confirmation_probes_in_flight = 0;
  std::map<std::uint64_t, Relay> relays;
  std::set<std::pair<Millis, std::uint64_t>> relay_deadlines;
  std::set<std::pair<Millis, std::size_t>> suspicion_deadlines;
  std::set<std::pair<Millis, std::size_t>> verify_deadlines;

  BroadcastQueue queue;
  std::vector<Packet> out;
  std::vector<Event> events;

  int health = 0;
  Millis now = 0;
  Millis expected_deadline = kNever;  // NextDeadline() when the last call returned
  Millis next_probe_at = kNever;
  Millis next_gossip_at = 0;
  Millis next_push_pull_at = kNever;
  Millis next_join_retry_at = kNever;
  bool joining = true;
  bool left = false;
  std::string replied_stale_to;  // within the packet being handled
  std::vector<std::string> seeds;

  static constexpr std::size_t kSelf = 0;

  MemberView& self_view() { return views[kSelf]; }
  const std::string& self_name() const { return views[kSelf].name; }

  // ---- time, health and scaling ----------------------------------------------

  Millis Scale(Millis t) const { return config.lifeguard_local_health ? t * (health + 1) : t; }

  void ApplyHealthDelta(int delta) {
    if (!config.lifeguard_local_health) return;
    health = std::clamp(health + delta, 0, config.awareness_max_multiplier - 1);
  }

  // Called first by every entry point: keeps time monotonic and notices that this
  // member's own process was late for its deadlines (Lifeguard's local health).
  void ObserveTime(Millis at) {
    at = std::max(at, now);
    if (expected_deadline != kNever && at > expected_deadline + config.stall_threshold) {
      OnStall(at, at - expected_deadline);
    }
    now = at;
  }

  void FinishCall() { expected_deadline = NextDeadline(); }

  void OnStall(Millis at, Millis lateness) {
    ApplyHealthDelta(1);
    // Whatever timed out while this member was not running says nothing about the
    // peers: the acks may be waiting in the inbox.
    DropAllProbes();
    if (!left && next_probe_at != kNever) next_probe_at = at + Scale(config.probe_interval);
    while (!relay_deadlines.empty() && relay_deadlines.begin()->first <= at) {
      relays.erase(relay_deadlines.begin()->second);
      relay_deadlines.erase(relay_deadlines.begin());
    }
    const Millis grace_until = at + config.stall_grace;
    std::vector<std::size_t> deferred;
    for (auto it = suspicion_deadlines.begin();
         it != suspicion_deadlines.end() && it->first <= grace_until;) {
      deferred.push_back(it->second);
      it = suspicion_deadlines.erase(it);
    }
    for (const std::size_t idx : deferred) {
      Peer& peer = peers[idx];
      peer.suspicion_deadline = grace_until;
      suspicion_deadlines.insert({grace_until, idx});
      // The verification probe (if any) was dropped with the others: verify again,
      // now, before the deferred timeout.
      peer.verify_seq = 0;
      peer.verify_sent = false;
      ScheduleVerify(idx);
    }
    // Only a stall as long as a probe interval refutes: a shorter one rarely let a
    // peer's probe of this member fail outright, and every refutation is gossiped to
    // all members (at N=1,000 with 10% stalling, most of the bandwidth).
    if (config.refute_after_stall && lateness >= config.probe_interval && !left && !joining) {
      ++self_view().incarnation;
      BroadcastSelfAlive();
    }
  }

  Millis NextDeadline() const {
    Millis next = kNever;
    if (!left) next = std::min(next, next_probe_at);
    for (const auto& [seq, probe] : probes) {
      (void)seq;
      next = std::min(next, probe.indirect_sent ? probe.end_deadline : probe.direct_deadline);
    }
    if (!relay_deadlines.empty()) next = std::min(next, relay_deadlines.begin()->first);
    if (!suspicion_deadlines.empty()) next = std::min(next, suspicion_deadlines.begin()->first);
    if (!verify_deadlines.empty()) next = std::min(next, verify_deadlines.begin()->first);
    if (!queue.empty()) next = std::min(next, next_gossip_at);
    if (!left && !joining) next = std::min(next, next_push_pull_at);
    if (joining && !seeds.empty()) next = std::min(next, next_join_retry_at);
    // A deadline already passed is due now: never ask to be called in the past,
    // or the next call would look late.
    return next == kNever ? kNever : std::max(next, now);
  }

  // ---- sending ---------------------------------------------------------------

  int RetransmitLimit() const {
    const double log_n = std::ceil(std::log10(static_cast<double>(live) + 1.0));
    return std::max(1, config.retransmit_multiplier * static_cast<int>(log_n));
  }

  // One packet to `to`: the primary messages first, then piggybacked updates.
  void Send(const std::string& to, const std::vector<wire::Message>& primary,
            bool piggyback = true) {
    TRI_ASSERT(to != self_name());
    wire::PacketBuilder packet(config.max_packet_bytes);
    for (const wire::Message& m : primary) {
      const bool added = packet.Add(wire::EncodeMessage(m));
      TRI_ASSERT_MSG(added, "a primary membership message exceeds max_packet_bytes");
    }
    if (piggyback) queue.Fill(packet, RetransmitLimit());
    if (packet.empty()) return;
    out.push_back(Packet{to, packet.Finish()});
  }

  void Broadcast(std::string_view member, const wire::Message& message, int limit_factor = 1) {
    queue.Enqueue(member, wire::EncodeMessage(message), limit_factor);
    // An idle gossip timer starts at once, so fresh news leaves on the next Tick.
    if (next_gossip_at < now) next_gossip_at = now;
  }

  wire::Alive SelfAlive() const {
    const MemberView& self = views[kSelf];
    return wire::Alive{self.name, self.incarnation, joining, self.metadata};
  }

  void BroadcastSelfAlive(int limit_factor = 1) {
    RefreshLifecycle(kSelf);
    Broadcast(self_name(), SelfAlive(), limit_factor);
  }

  // ---- the member table ------------------------------------------------------

  void RefreshLifecycle(std::size_t idx) {
    MemberView& view = views[idx];
    const bool is_joining = idx == kSelf ? joining : peers[idx].joining;
    view.lifecycle = DeriveLifecycle(view.state, is_joining, view.metadata);
  }

  void SetState(std::size_t idx, State state) {
    MemberView& view = views[idx];
    if (view.state == State::kSuspect && state != State::kSuspect) ClearSuspicion(idx);
    if (IsLive(view.state) && !IsLive(state)) --live;
    if (!IsLive(view.state) && IsLive(state)) ++live;
    if (view.state != state) view.state_since = now;
    view.state = state;
    RefreshLifecycle(idx);
    TRI_DASSERT(live >= 1 || left);
  }

  std::size_t AddMember(const std::string& name, std::uint64_t incarnation,
                        const Metadata& metadata, bool member_joining) {
    TRI_ASSERT(index.find(name) == index.end());
    const std::size_t idx = views.size();
    MemberView view;
    view.name = name;
    view.metadata = metadata;
    view.incarnation = incarnation;
    view.state = State::kAlive;
    view.state_since = now;
    views.push_back(std::move(view));
    Peer peer;
    peer.joining = member_joining;
    peers.push_back(std::move(peer));
    index.emplace(name, idx);
    ++live;
    RefreshLifecycle(idx);
    // A random place in the probe order, so a new member is probed within a round.
    const std::size_t at = static_cast<std::size_t>(rng->Uniform(probe_order.size() + 1));
    probe_order.insert(probe_order.begin() + static_cast<std::ptrdiff_t>(at), idx);
    if (at < probe_pos) ++probe_pos;
    return idx;
  }

  std::size_t Lookup(std::string_view name) const {
    auto it = index.find(name);
    return it == index.end() ? kNone : it->second;
  }

  void Emit(Event::Kind kind, std::size_t idx, std::string cause) {
    events.push_back(Event{kind, views[idx].name, views[idx].incarnation, now, std::move(cause)});
  }

  // Up to `count` distinct members other than this one and `exclude`, chosen at
  // random among those `wanted` accepts.
  template <typename Pred>
  std::vector<std::size_t> PickRandom(int count, std::size_t exclude, Pred wanted) {
    std::vector<std::size_t> picked;
    if (count <= 0 || views.size() <= 1) return picked;
    auto eligible = [&](std::size_t i) {
      return i != kSelf && i != exclude && wanted(views[i]) &&
             std::find(picked.begin(), picked.end(), i) == picked.end();
    };
    if (views.size() <= 64) {
      std::vector<std::size_t> candidates;
      for (std::size_t i = 1; i < views.size(); ++i) {
        if (eligible(i)) candidates.push_back(i);
      }
      while (!candidates.empty() && static_cast<int>(picked.size()) < count) {
        const std::size_t at = static_cast<std::size_t>(rng->Uniform(candidates.size()));
        picked.push_back(candidates[at]);
        candidates[at] = candidates.back();
        candidates.pop_back();
      }
      return picked;
    }
    const int attempts = 8 * count + 64;
    for (int i = 0; i < attempts && static_cast<int>(picked.size()) < count; ++i) {
      const std::size_t at = static_cast<std::size_t>(rng->Uniform(views.size()));
      if (eligible(at)) picked.push_back(at);
    }
    return picked;
  }

  // ---- suspicion -------------------------------------------------------------

  void ScheduleSuspicion(std::size_t idx, Millis deadline) {
    Peer& peer = peers[idx];
    if (peer.suspicion_deadline != kNever) {
      suspicion_deadlines.erase({peer.suspicion_deadline, idx});
    }
    peer.suspicion_deadline = std::max(deadline, now);
    suspicion_deadlines.insert({peer.suspicion_deadline, idx});
    ScheduleVerify(idx);
  }

  // One verification probe per suspicion cycle, timed to end at the deadline.
  void ScheduleVerify(std::size_t idx) {
    Peer& peer = peers[idx];
    if (peer.verify_at != kNever) verify_deadlines.erase({peer.verify_at, idx});
    peer.verify_at = kNever;
    if (peer.verify_sent || peer.verify_seq != 0 || left) return;
    peer.verify_at = std::max(now, peer.suspicion_deadline - Scale(config.probe_interval));
    verify_deadlines.insert({peer.verify_at, idx});
  }

  void StartVerify(std::size_t idx) {
    Peer& peer = peers[idx];
    TRI_ASSERT(views[idx].state == State::kSuspect && peer.verify_at == kNever);
    peer.verify_sent = true;
    peer.verify_seq = StartProbe(idx, ProbeKind::kVerification);
  }

  void ClearSuspicion(std::size_t idx) {
    Peer& peer = peers[idx];
    if (peer.suspicion_deadline != kNever) {
      suspicion_deadlines.erase({peer.suspicion_deadline, idx});
    }
    peer.suspicion_deadline = kNever;
    peer.suspicion_first.clear();
    peer.confirmations.clear();
    if (peer.verify_at != kNever) verify_deadlines.erase({peer.verify_at, idx});
    peer.verify_at = kNever;
    peer.verify_seq = 0;
    peer.verify_sent = false;
    peer.verified_alive = false;
  }

  void StartSuspicion(std::size_t idx, const std::string& first) {
    TRI_ASSERT(idx != kSelf && views[idx].state == State::kAlive);
    SetState(idx, State::kSuspect);
    Peer& peer = peers[idx];
    peer.suspicion_start = now;
    peer.suspicion_first = first;
    peer.confirmations.clear();
    peer.verify_sent = false;
    peer.verified_alive = false;
    peer.bounds = ComputeSuspicionBounds(config, live);
    ScheduleSuspicion(idx, now + SuspicionTimeout(peer.bounds, 0));
  }

  // Counts `from` as an independent confirmation; true when it was new.
  bool Confirm(std::size_t idx, const std::string& from) {
    Peer& peer = peers[idx];
    TRI_ASSERT(views[idx].state == State::kSuspect);
    if (from == peer.suspicion_first) return false;
    if (static_cast<int>(peer.confirmations.size()) >= peer.bounds.confirmations_wanted) {
      return false;
    }
    if (std::find(peer.confirmations.begin(), peer.confirmations.end(), from) !=
        peer.confirmations.end()) {
      return false;
    }
    peer.confirmations.push_back(from);
    const auto n = static_cast<int>(peer.confirmations.size());
    ScheduleSuspicion(idx, peer.suspicion_start + SuspicionTimeout(peer.bounds, n));
    return true;
  }

  void ExpireSuspicion(std::size_t idx) {
    Peer& peer = peers[idx];
    const auto n = static_cast<int>(peer.confirmations.size());
    const Millis timeout = SuspicionTimeout(peer.bounds, n);
    if (now - peer.suspicion_start < timeout) {
      ScheduleSuspicion(idx, peer.suspicion_start + timeout);
      return;
    }
    if (peer.verify_seq != 0) {
      // This member's own last-chance probe is still out: wait for its answer.
      auto it = probes.find(peer.verify_seq);
      TRI_ASSERT(it != probes.end());
      suspicion_deadlines.erase({peer.suspicion_deadline, idx});
      peer.suspicion_deadline = std::max(now, it->second.end_deadline);
      suspicion_deadlines.insert({peer.suspicion_deadline, idx});
      return;
    }
    if (peer.verified_alive) {
      // The suspect answered this member's probe, so it runs and has been told
      // (the probe carried the suspicion): a refutation is on its way. Start a new
      // cycle instead of declaring a running member dead.
      peer.suspicion_start = now;
      peer.confirmations.clear();
      peer.verify_sent = false;
      peer.verified_alive = false;
      ScheduleSuspicion(idx, now + SuspicionTimeout(peer.bounds, 0));
      return;
    }
    std::string cause = "suspicion started by " + peer.suspicion_first + " at " +
                        std::to_string(peer.suspicion_start) + " ms, " + std::to_string(n) +
                        " of " + std::to_string(peer.bounds.confirmations_wanted) +
                        " confirmations";
    if (n > 0) {
      cause += " (";
      for (int i = 0; i < n; ++i)
        cause += (i ? ", " : "") + peer.confirmations[i];
      cause += ")";
    }
    cause +=
        ", timed out at " + std::to_string(now) + " ms after " + std::to_string(timeout) + " ms";
    MemberView& view = views[idx];
    const std::uint64_t incarnation = view.incarnation;
    std::vector<std::string> accusers;
    accusers.push_back(peer.suspicion_first);
    accusers.insert(accusers.end(), peer.confirmations.begin(), peer.confirmations.end());
    const Millis started = peer.suspicion_start;
    SetState(idx, State::kDead);
    Emit(Event::Kind::kDead, idx, std::move(cause));
    events.back().accusers = std::move(accusers);
    events.back().suspicion_started = started;
    events.back().suspicion_timeout = timeout;
    Broadcast(view.name, wire::Dead{view.name, incarnation, self_name()});
  }

  // ---- refutation ------------------------------------------------------------

  // Someone holds `seen` (an incarnation of this member) as suspect, dead or left:
  // outbid it and tell the accuser directly as well as everyone by gossip.
  // `accused` is false when a peer merely holds a newer incarnation of this member
  // (a restart), which says nothing about this member's health.
  void Refute(std::uint64_t seen, const std::string& accuser, bool accused = true) {
    if (left) return;
    MemberView& self = self_view();
    self.incarnation = std::max(self.incarnation, seen) + 1;
    if (accused) ApplyHealthDelta(1);
    // A refutation races the accusers' suspicion timeouts: every false death seen in
    // the simulator was a refutation that ran out of retransmissions first.
    BroadcastSelfAlive(accused ? config.refutation_retransmit_factor : 1);
    if (!accuser.empty() && accuser != self_name()) Send(accuser, {SelfAlive()});
  }

  // The sender still spreads an accusation this member already refuted: the
  // refutation may have run out of retransmissions before reaching it, so it gets
  // the current incarnation directly (one reply per packet that carried it).
  void AnswerStaleAccusation(const std::string& sender) {
    if (left || sender == replied_stale_to) return;
    replied_stale_to = sender;
    Send(sender, {SelfAlive()});
  }

  // ---- message handlers ------------------------------------------------------

  void OnAlive(const wire::Alive& m, const std::string& from) {
    std::size_t idx = Lookup(m.name);
    if (idx == kNone) {
      if (views.size() >= config.max_members) return;
      idx = AddMember(m.name, m.incarnation, m.metadata, m.joining);
      Emit(Event::Kind::kJoined, idx, "learned from " + from);
      Broadcast(m.name, m);
      return;
    }
    if (idx == kSelf) {
      const MemberView& self = views[kSelf];
      const bool outdated = m.incarnation > self.incarnation ||
                            (m.incarnation == self.incarnation &&
                             (m.metadata != self.metadata || m.joining != joining));
      if (outdated) Refute(m.incarnation, "", /*accused=*/false);
      return;
    }
    MemberView& view = views[idx];
    if (m.incarnation <= view.incarnation) return;
    const State before = view.state;
    const bool changed = view.metadata != m.metadata || peers[idx].joining != m.joining;
    view.incarnation = m.incarnation;
    view.metadata = m.metadata;
    peers[idx].joining = m.joining;
    SetState(idx, State::kAlive);
    const std::string inc = std::to_string(m.incarnation);
    if (before == State::kSuspect) {
      Emit(Event::Kind::kAlive, idx, "refuted the suspicion with incarnation " + inc);
    } else if (before == State::kDead || before == State::kLeft) {
      Emit(Event::Kind::kJoined, idx, "rejoined with incarnation " + inc);
    } else if (changed) {
      Emit(Event::Kind::kUpdated, idx, "metadata or lifecycle changed at incarnation " + inc);
    }
    Broadcast(m.name, m);
  }

  // `confirming` is false for suspicions merged from a push/pull, whose sender may
  // only be repeating someone else's suspicion.
  void OnSuspect(const wire::Suspect& m, bool confirming, const std::string& sender) {
    const std::size_t idx = Lookup(m.name);
    if (idx == kNone) return;
    if (idx == kSelf) {
      if (m.incarnation >= views[kSelf].incarnation) {
        Refute(m.incarnation, m.from);
      } else if (confirming) {
        AnswerStaleAccusation(sender);
      }
      return;
    }
    MemberView& view = views[idx];
    if (m.incarnation < view.incarnation) return;
    if (view.state == State::kSuspect) {
      if (confirming && Confirm(idx, m.from)) Broadcast(m.name, m);
      return;
    }
    if (view.state != State::kAlive) return;
    view.incarnation = m.incarnation;
    StartSuspicion(idx, m.from);
    Emit(Event::Kind::kSuspected, idx, "suspected by " + m.from);
    Broadcast(m.name, m);
    MaybeConfirmationProbe(idx);
  }

  void OnDead(const wire::Dead& m, const std::string& sender) {
    const std::size_t idx = Lookup(m.name);
    if (idx == kNone) return;
    if (idx == kSelf) {
      if (m.incarnation >= views[kSelf].incarnation) {
        Refute(m.incarnation, m.from);
      } else {
        AnswerStaleAccusation(sender);
      }
      return;
    }
    MemberView& view = views[idx];
    if (m.incarnation < view.incarnation) return;
    if (!IsLive(view.state)) return;
    view.incarnation = m.incarnation;
    SetState(idx, State::kDead);
    Emit(Event::Kind::kDead, idx, "declared dead by " + m.from);
    Broadcast(m.name, m);
  }

  void OnLeave(const wire::Leave& m) {
    const std::size_t idx = Lookup(m.name);
    if (idx == kNone) return;
    if (idx == kSelf) {
      if (m.incarnation >= views[kSelf].incarnation) Refute(m.incarnation, "");
      return;
    }
    MemberView& view = views[idx];
    if (m.incarnation < view.incarnation || view.state == State::kLeft) return;
    view.incarnation = m.incarnation;
    SetState(idx, State::kLeft);
    Emit(Event::Kind::kLeft, idx, "left at incarnation " + std::to_string(m.incarnation));
    Broadcast(m.name, m);
  }

  void OnPing(const std::string& from, const wire::Ping& m) {
    if (m.target != self_name()) return;  // misdirected: the sender has a stale address
    Send(from, {wire::Ack{m.seq}});
  }

  void OnPingReq(const std::string& from, const wire::PingReq& m) {
    if (m.target == self_name()) {
      Send(from, {wire::Ack{m.seq}});
      return;
    }
    if (relays.size() >= config.max_relays_in_flight) return;
    const std::uint64_t seq = next_seq++;
    // Nack before the requester's own deadline, so that it can still count it.
    const Millis deadline = now + config.probe_timeout * 4 / 5;
    relays.emplace(seq, Relay{from, m.seq, deadline});
    relay_deadlines.insert({deadline, seq});
    SendPing(m.target, seq);
  }

  void OnAck(const wire::Ack& m) {
    if (auto it = probes.find(m.seq); it != probes.end()) {
      const Probe& probe = it->second;
      if (probe.kind == ProbeKind::kInTurn) ApplyHealthDelta(-1);
      if (probe.kind == ProbeKind::kVerification) {
        Peer& peer = peers[probe.target];
        if (peer.verify_seq == m.seq) {
          peer.verify_seq = 0;
          peer.verified_alive = views[probe.target].state == State::kSuspect;
        }
      }
      EndProbe(it);
      return;
    }
    if (auto it = relays.find(m.seq); it != relays.end()) {
      const Relay relay = it->second;
      relay_deadlines.erase({relay.deadline, m.seq});
      relays.erase(it);
      Send(relay.requester, {wire::Ack{relay.requester_seq}});
    }
  }

  void OnNack(const wire::Nack& m) {
    if (auto it = probes.find(m.seq); it != probes.end()) ++it->second.nacks;
  }

  void OnPushPull(const std::string& from, const wire::PushPull& m) {
    for (const wire::StateEntry& e : m.entries) {
      switch (e.state) {
        case State::kAlive:
          OnAlive(wire::Alive{e.name, e.incarnation, e.joining, e.metadata}, from);
          break;
        case State::kSuspect:
        case State::kDead:
          // A remote death is only a suspicion here (memberlist's rule): this member
          // lets the accused refute before believing it.
          OnSuspect(wire::Suspect{e.name, e.incarnation, from}, /*confirming=*/false, from);
          break;
        case State::kLeft:
          OnLeave(wire::Leave{e.name, e.incarnation});
          break;
      }
    }
    if (m.reply_wanted) SendPushPull(from, /*join=*/false, /*reply_wanted=*/false);
    if (joining && !seeds.empty()) CompleteJoin();
  }

  void Dispatch(const std::string& from, const wire::Message& message) {
    std::visit(
        [&](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, wire::Ping>) {
            OnPing(from, m);
          } else if constexpr (std::is_same_v<T, wire::PingReq>) {
            OnPingReq(from, m);
          } else if constexpr (std::is_same_v<T, wire::Ack>) {
            OnAck(m);
          } else if constexpr (std::is_same_v<T, wire::Nack>) {
            OnNack(m);
          } else if constexpr (std::is_same_v<T, wire::Alive>) {
            OnAlive(m, from);
          } else if constexpr (std::is_same_v<T, wire::Suspect>) {
            OnSuspect(m, /*confirming=*/true, from);
          } else if constexpr (std::is_same_v<T, wire::Dead>) {
            OnDead(m, from);
          } else if constexpr (std::is_same_v<T, wire::Leave>) {
            OnLeave(m);
          } else {
            static_assert(std::is_same_v<T, wire::PushPull>);
            OnPushPull(from, m);
          }
        },
        message);
  }

  // ---- probing ---------------------------------------------------------------

  // A ping to `target`; with the buddy system a suspected target is told first.
  void SendPing(const std::string& target, std::uint64_t seq) {
    std::vector<wire::Message> primary;
    if (config.lifeguard_buddy) {
      // Before the ping, so that the target refutes first and its ack carries the
      // refutation back.
      const std::size_t idx = Lookup(target);
      if (idx != kNone && idx != kSelf && views[idx].state == State::kSuspect) {
        primary.push_back(
            wire::Suspect{target, views[idx].incarnation, peers[idx].suspicion_first});
      }
    }
    primary.push_back(wire::Ping{seq, target});
    Send(target, primary);
  }

  std::uint64_t StartProbe(std::size_t idx, ProbeKind kind) {
    const std::uint64_t seq = next_seq++;
    Probe probe;
    probe.target = idx;
    probe.started = now;
    probe.direct_deadline = now + Scale(config.probe_timeout);
    probe.end_deadline = now + Scale(config.probe_interval);
    probe.kind = kind;
    if (kind == ProbeKind::kConfirmation) ++confirmation_probes_in_flight;
    probes.emplace(seq, probe);
    SendPing(views[idx].name, seq);
    return seq;
  }

  // Forgets every probe in flight; a suspicion whose verification is dropped
  // verifies again.
  void DropAllProbes() {
    std::vector<std::size_t> reverify;
    for (const auto& [seq, probe] : probes) {
      Peer& peer = peers[probe.target];
      if (probe.kind == ProbeKind::kVerification && peer.verify_seq == seq) {
        peer.verify_seq = 0;
        peer.verify_sent = false;
        reverify.push_back(probe.target);
      }
    }
    probes.clear();
    confirmation_probes_in_flight = 0;
    for (const std::size_t idx : reverify)
      ScheduleVerify(idx);
  }

  void EndProbe(std::map<std::uint64_t, Probe>::iterator it) {
    const Probe& probe = it->second;
    if (probe.kind == ProbeKind::kConfirmation) --confirmation_probes_in_flight;
    if (probe.kind == ProbeKind::kVerification && peers[probe.target].verify_seq == it->first) {
      peers[probe.target].verify_seq = 0;
    }
    probes.erase(it);
  }

  std::size_t NextProbeTarget() {
    for (std::size_t tried = 0; tried < probe_order.size(); ++tried) {
      if (probe_pos >= probe_order.size()) {
        // Shuffled round robin (SWIM 4.3): every member is probed once per round.
        for (std::size_t i = probe_order.size(); i > 1; --i) {
          const auto j = static_cast<std::size_t>(rng->Uniform(i));
          std::swap(probe_order[i - 1], probe_order[j]);
        }
        probe_pos = 0;
      }
      const std::size_t idx = probe_order[probe_pos++];
      if (IsLive(views[idx].state)) return idx;
    }
    return kNone;
  }

  void MaybeConfirmationProbe(std::size_t idx) {
    if (!config.lifeguard_dogpile || config.confirmation_probes <= 0 || left) return;
    if (confirmation_probes_in_flight >= config.max_confirmation_probes_in_flight) return;
    const double others = static_cast<double>(std::max<std::size_t>(live, 3) - 2);
    if (!rng->Bernoulli(config.confirmation_probes / others)) return;
    StartProbe(idx, ProbeKind::kConfirmation);
  }

  // Returns whether the probe is over.
  bool ProbeTimedOut(std::uint64_t seq, Probe& probe) {
    const std::size_t idx = probe.target;
    MemberView& view = views[idx];
    if (!IsLive(view.state)) return true;  // declared dead or left meanwhile
    if (!probe.indirect_sent && now < probe.end_deadline) {
      // Direct probe failed: ask k others to try (SWIM's indirect probe).
      const std::vector<std::size_t> helpers =
          PickRandom(config.indirect_checks, idx,
                     [](const MemberView& v) { return v.state == State::kAlive; });
      for (const std::size_t h : helpers) {
        Send(views[h].name, {wire::PingReq{seq, view.name}});
      }
      // A second direct ping beside the indirect ones (memberlist's fallback probe):
      // under loss most failed direct probes were one lost datagram, and each false
      // suspicion costs a suspicion and a refutation gossiped to every member.
      SendPing(view.name, seq);
      probe.indirect_sent = true;
      probe.indirect_count = static_cast<int>(helpers.size());
      probe.expected_nacks = config.lifeguard_local_health ? probe.indirect_count : 0;
      return false;
    }
    // No ack at all by the end of the probe.
    if (probe.kind == ProbeKind::kVerification) return true;  // the timeout decides
    if (probe.kind == ProbeKind::kInTurn) {
      // Lifeguard: missing nacks mean this member's own network may be the problem;
      // without helpers a failed probe is the only signal.
      if (probe.expected_nacks > 0) {
        ApplyHealthDelta(probe.expected_nacks - std::min(probe.nacks, probe.expected_nacks));
      } else {
        ApplyHealthDelta(1);
      }
    }
    const int indirect = probe.indirect_count;
    if (view.state == State::kAlive) {
      StartSuspicion(idx, self_name());
      Emit(Event::Kind::kSuspected, idx,
           "no ack to a probe by " + self_name() + " (direct and " + std::to_string(indirect) +
               " indirect)");
      const wire::Suspect suspect{view.name, view.incarnation, self_name()};
      Broadcast(view.name, suspect);
      if (config.lifeguard_buddy) Send(view.name, {suspect});
    } else if (view.state == State::kSuspect) {
      if (Confirm(idx, self_name())) {
        Broadcast(view.name, wire::Suspect{view.name, view.incarnation, self_name()});
      }
    }
    return true;
  }

  // ---- push/pull and join ----------------------------------------------------

  // This member's whole table in as many packets as it takes; only the last chunk
  // asks for a reply.
  void SendPushPull(const std::string& to, bool join, bool reply_wanted) {
    const std::size_t budget = config.max_packet_bytes - wire::kPushPullOverheadBytes;
    std::vector<wire::PushPull> chunks(1);
    std::size_t used = 0;
    for (std::size_t i = 0; i < views.size(); ++i) {
      const MemberView& v = views[i];
      wire::StateEntry entry{v.name, v.incarnation, v.state,
                             i == kSelf ? joining : peers[i].joining, v.metadata};
      const std::size_t bytes = wire::StateEntryBytes(entry);
      TRI_ASSERT(bytes <= budget);
      if (used + bytes > budget) {
        chunks.emplace_back();
        used = 0;
      }
      used += bytes;
      chunks.back().entries.push_back(std::move(entry));
    }
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      chunks[c].join = join;
      chunks[c].reply_wanted = reply_wanted && c + 1 == chunks.size();
      Send(to, {chunks[c]}, /*piggyback=*/false);
    }
  }

  Millis PushPullInterval() const {
    // memberlist's pushPullScale: slower above 32 members, so the cost per member
    // stays about flat as the cluster grows.
    if (live <= 32) return config.push_pull_interval;
    const double factor = std::ceil(std::log2(static_cast<double>(live)) - std::log2(32.0)) + 1.0;
    return static_cast<Millis>(factor) * config.push_pull_interval;
  }

  void CompleteJoin() {
    joining = false;
    ++self_view().incarnation;
    BroadcastSelfAlive();
  }

  // ---- the timers ------------------------------------------------------------

  void RunTimers() {
    if (joining && !seeds.empty() && now >= next_join_retry_at) {
      for (const std::string& seed : seeds)
        SendPushPull(seed, /*join=*/true, true);
      next_join_retry_at = now + config.join_retry_interval;
    }
    // Probes in flight (a few: one in turn plus confirmation probes).
    std::vector<std::uint64_t> due;
    for (const auto& [seq, probe] : probes) {
      const Millis deadline = probe.indirect_sent ? probe.end_deadline : probe.direct_deadline;
      if (deadline <= now) due.push_back(seq);
    }
    for (const std::uint64_t seq : due) {
      auto it = probes.find(seq);
      if (ProbeTimedOut(seq, it->second)) EndProbe(it);
    }
    while (!relay_deadlines.empty() && relay_deadlines.begin()->first <= now) {
      const std::uint64_t seq = relay_deadlines.begin()->second;
      relay_deadlines.erase(relay_deadlines.begin());
      auto it = relays.find(seq);
      TRI_ASSERT(it != relays.end());
      Send(it->second.requester, {wire::Nack{it->second.requester_seq}});
      relays.erase(it);
    }
    while (!verify_deadlines.empty() && verify_deadlines.begin()->first <= now) {
      const std::size_t idx = verify_deadlines.begin()->second;
      verify_deadlines.erase(verify_deadlines.begin());
      peers[idx].verify_at = kNever;
      StartVerify(idx);
    }
    while (!suspicion_deadlines.empty() && suspicion_deadlines.begin()->first <= now) {
      ExpireSuspicion(suspicion_deadlines.begin()->second);
    }
    if (!left && now >= next_probe_at) {
      const std::size_t target = NextProbeTarget();
      if (target != kNone) StartProbe(target, ProbeKind::kInTurn);
      next_probe_at = now + Scale(config.probe_interval);
    }
    if (now >= next_gossip_at) {
      if (!queue.empty()) Gossip();
      next_gossip_at = now + config.gossip_interval;
    }
    if (!left && !joining && now >= next_push_pull_at) {
      const std::vector<std::size_t> target =
          PickRandom(1, kNone, [](const MemberView& v) { return v.state != State::kLeft; });
      if (!target.empty()) SendPushPull(views[target[0]].name, /*join=*/false, true);
      next_push_pull_at = now + PushPullInterval();
    }
  }

  void Gossip() {
    const std::vector<std::size_t> targets = PickRandom(
        config.gossip_fanout, kNone, [](const MemberView& v) { return IsLive(v.state); });
    const int limit = RetransmitLimit();
    for (const std::size_t t : targets) {
      if (queue.empty()) break;
      wire::PacketBuilder packet(config.max_packet_bytes);
      queue.Fill(packet, limit);
      if (!packet.empty()) out.push_back(Packet{views[t].name, packet.Finish()});
    }
  }
};

// ---- Member ------------------------------------------------------------------

Member::Member(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Member::Member(Member&&) noexcept = default;
Member& Member::operator=(Member&&) noexcept = default;
Member::~Member() = default;

Result<Member> Member::Create(const Config& config, const MemberInfo& self, Rng* rng, Millis now) {
  TRI_RETURN_IF_ERROR(config.Validate());
  const wire::Limits limits = wire::Limits::From(config);
  TRI_RETURN_IF_ERROR(wire::ValidateName(self.name, "member name", limits));
  TRI_RETURN_IF_ERROR(wire::ValidateMetadata(self.metadata, limits));
  if (rng == nullptr) return InvalidArgument("membership: rng must not be null");
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->limits = limits;
  impl->rng = rng;
  impl->now = now;
  MemberView view;
  view.name = self.name;
  view.metadata = self.metadata;
  view.state = State::kAlive;
  view.state_since = now;
  impl->views.push_back(std::move(view));
  impl->peers.emplace_back();
  impl->index.emplace(self.name, Impl::kSelf);
  impl->RefreshLifecycle(Impl::kSelf);
  impl->FinishCall();
  return Member(std::move(impl));
}

void Member::Join(const std::vector<std::string>& seeds, Millis now) {
  Impl& m = *impl_;
  m.ObserveTime(now);
  m.seeds.clear();
  for (const std::string& seed : seeds) {
    if (seed != m.self_name() && !seed.empty()) m.seeds.push_back(seed);
  }
  // Stagger the first probe and push/pull so that members started together do not
  // probe in lockstep.
  m.next_probe_at = m.now + static_cast<Millis>(m.rng->Uniform(m.config.probe_interval));
  m.next_push_pull_at =
      m.now + m.config.push_pull_interval / 2 +
      static_cast<Millis>(m.rng->Uniform(static_cast<std::uint64_t>(m.config.push_pull_interval)));
  if (m.seeds.empty()) {
    if (m.joining) m.CompleteJoin();
  } else {
    for (const std::string& seed : m.seeds)
      m.SendPushPull(seed, /*join=*/true, true);
    m.next_join_retry_at = m.now + m.config.join_retry_interval;
  }
  m.FinishCall();
}

void Member::Leave(Millis now) {
  Impl& m = *impl_;
  m.ObserveTime(now);
  if (!m.left) {
    m.left = true;
    MemberView& self = m.self_view();
    ++self.incarnation;
    m.SetState(Impl::kSelf, State::kLeft);
    m.DropAllProbes();
    m.Broadcast(self.name, wire::Leave{self.name, self.incarnation});
  }
  m.FinishCall();
}

Status Member::UpdateMetadata(const Metadata& metadata, Millis now) {
  Impl& m = *impl_;
  TRI_RETURN_IF_ERROR(wire::ValidateMetadata(metadata, m.limits));
  if (m.left) return FailedPrecondition("membership: UpdateMetadata after Leave");
  m.ObserveTime(now);
  MemberView& self = m.self_view();
  self.metadata = metadata;
  ++self.incarnation;
  m.BroadcastSelfAlive();
  m.FinishCall();
  return Status::Ok();
}

void Member::Tick(Millis now) {
  Impl& m = *impl_;
  m.ObserveTime(now);
  m.RunTimers();
  m.FinishCall();
}

Status Member::Receive(std::string_view from, std::span<const std::uint8_t> bytes, Millis now) {
  Impl& m = *impl_;
  TRI_RETURN_IF_ERROR(wire::ValidateName(from, "membership packet sender", m.limits));
  if (from == m.self_name()) {
    return InvalidArgument("membership packet sender: " + std::string(from) +
                           " is this member itself");
  }
  TRI_ASSIGN_OR_RETURN(std::vector<wire::Message> messages, wire::DecodePacket(bytes, m.limits));
  m.ObserveTime(now);
  const std::string sender(from);
  m.replied_stale_to.clear();
  for (const wire::Message& message : messages)
    m.Dispatch(sender, message);
  m.FinishCall();
  return Status::Ok();
}

Millis Member::NextDeadline() const {
  return impl_->NextDeadline();
}

std::vector<Packet> Member::TakePackets() {
  return std::exchange(impl_->out, {});
}

std::vector<Event> Member::TakeEvents() {
  return std::exchange(impl_->events, {});
}

const std::vector<MemberView>& Member::Members() const {
  return impl_->views;
}

const MemberView* Member::Find(std::string_view name) const {
  const std::size_t idx = impl_->Lookup(name);
  return idx == kNone ? nullptr : &impl_->views[idx];
}

std::size_t Member::AliveCount() const {
  return impl_->live;
}

int Member::HealthScore() const {
  return impl_->health;
}

const std::string& Member::Name() const {
  return impl_->self_name();
}

std::uint64_t Member::Incarnation() const {
  return impl_->views[Impl::kSelf].incarnation;
}

std::size_t Member::PendingBroadcasts() const {
  return impl_->queue.size();
}

}  // namespace tri::membership
