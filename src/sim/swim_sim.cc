#include "sim/swim_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_map>

#include "base/assert.h"
#include "base/rng.h"
#include "membership/member.h"
#include "membership/suspicion.h"
#include "sim/swim_stats.h"

namespace tri::sim {

namespace {

using membership::Event;
using membership::Member;
using membership::Packet;

constexpr Millis kNever = std::numeric_limits<Millis>::max();

enum class EvKind : std::uint8_t {
  kDeliver,
  kTimer,
  kJoin,
  kConvergenceCheck,
  kCrash,
  kStallStart,
  kStallEnd,
  kUpdate,
  kEnd,
};

struct SimEvent {
  Millis at;
  std::uint64_t seq;  // FIFO among events at the same ms: replays exactly
  EvKind kind;
  int node;
  int arg;  // datagram slot, fault index or update index
};

struct Later {
  bool operator()(const SimEvent& a, const SimEvent& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

struct Datagram {
  int from = 0;
  std::vector<std::uint8_t> bytes;
};

struct Node {
  std::string name;
  std::unique_ptr<SeededRng> rng;  // the member keeps a pointer: stable address
  std::optional<Member> member;
  Millis joined_at = -1;
  bool crashed = false;
  bool stalled = false;
  Millis timer_at = kNever;   // the pending timer event that counts
  std::vector<int> buffered;  // datagrams that arrived during a stall
  Millis deaf_until = -1;     // SwimBug::kMuteAfterStall
  std::uint64_t bytes_measured = 0;
};

struct UpdateProbe {
  int member = 0;
  std::uint64_t incarnation = 0;
  Millis at = 0;
  std::vector<std::uint8_t> has;
  int count = 0;
  int needed = 0;
  bool active = false;
};

// The classification of one (member, incarnation) death.
enum class DeathCause : std::uint8_t { kPartition, kStall, kFalsePositive };

class SwimSim {
 public:
  explicit SwimSim(const SwimSimOptions& options)
      : o_(options), rng_(options.seed), net_rng_(rng_.Fork()), fault_rng_(rng_.Fork()) {}

  SwimSimResult Run();

 private:
  void Push(Millis at, EvKind kind, int node, int arg) {
    queue_.push(SimEvent{at, seq_++, kind, node, arg});
  }
  int IndexOf(std::string_view name) const;

  void Start();
  void Dispatch(const SimEvent& ev);
  void AfterCall(int i);
  void Reschedule(int i);
  void Send(int from, Packet packet);
  void Deliver(int to, int slot);
  void ReceiveNow(int to, int slot);
  void OnMemberEvent(int observer, const Event& event);
  void CheckConvergence();
  void StartMeasuredPhase();
  void InjectUpdate(int index);
  void Fail(std::string check, std::string details);
  void Finish();

  const SwimSimOptions o_;
  SeededRng rng_;
  SeededRng net_rng_;
  SeededRng fault_rng_;
  std::priority_queue<SimEvent, std::vector<SimEvent>, Later> queue_;
  std::uint64_t seq_ = 0;
  Millis now_ = 0;
  bool done_ = false;

  std::vector<Node> nodes_;
  std::vector<Datagram> slots_;
  std::vector<int> free_slots_;

  // The measured phase.
  Millis t0_ = -1;
  Millis end_ = -1;
  SwimFaultPlan plan_;
  Millis min_suspicion_ms_ = 0;
  Millis explain_window_ms_ = 0;
  std::vector<std::vector<Millis>> detected_at_;  // crash index -> observer -> ms
  std::vector<int> crash_index_;                  // member -> crash index or -1
  std::unordered_map<std::uint64_t, DeathCause> deaths_;
  std::vector<UpdateProbe> updates_;
  int active_updates_ = 0;

  SwimSimResult r_;
};

int SwimSim::IndexOf(std::string_view name) const {
  if (name.size() < 2 || name[0] != 'm') return -1;
  int value = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9' || value > 100'000'000) return -1;
    value = value * 10 + (c - '0');
  }
  return value < static_cast<int>(nodes_.size()) ? value : -1;
}

void SwimSim::Start() {
  TRI_ASSERT(o_.nodes > 0);
  nodes_.resize(o_.nodes);
  for (int i = 0; i < o_.nodes; ++i) {
    Node& n = nodes_[i];
    n.name = "m" + std::to_string(i);
    n.rng = std::make_unique<SeededRng>(rng_.Fork());
    Push(static_cast<Millis>(i) * o_.join_spread_ms, EvKind::kJoin, i, 0);
  }
  crash_index_.assign(o_.nodes, -1);
  Push(o_.join_spread_ms * o_.nodes + 500, EvKind::kConvergenceCheck, -1, 0);
}

void SwimSim::Dispatch(const SimEvent& ev) {
  switch (ev.kind) {
    case EvKind::kDeliver:
      Deliver(ev.node, ev.arg);
      return;
    case EvKind::kTimer: {
      Node& n = nodes_[ev.node];
      if (n.crashed || n.stalled || n.timer_at != ev.at) return;  // superseded
      n.timer_at = kNever;
      n.member->Tick(now_);
      AfterCall(ev.node);
      return;
    }
    case EvKind::kJoin: {
      Node& n = nodes_[ev.node];
      membership::MemberInfo info;
      info.name = n.name;
      info.metadata.address = n.name;
      info.metadata.zone = "z" + std::to_string(ev.node % 3);
      auto created = Member::Create(o_.config, info, n.rng.get(), now_);
      if (!created.ok()) {
        Fail("member starts", n.name + ": " + created.status().message());
        return;
      }
      n.member.emplace(std::move(created).value());
      n.joined_at = now_;
      std::vector<std::string> seeds;
      if (ev.node > 0) {
        seeds.push_back(nodes_[0].name);
        for (int k = 0; k < 2 && ev.node > 1; ++k) {
          seeds.push_back(nodes_[1 + rng_.Uniform(ev.node - 1)].name);
        }
      }
      n.member->Join(seeds, now_);
      AfterCall(ev.node);
      return;
    }
    case EvKind::kConvergenceCheck:
      CheckConvergence();
      return;
    case EvKind::kCrash: {
      const int m = plan_.crashes()[ev.arg].member;
      if (o_.bug == SwimBug::kZombieCrash) return;  // the bug: it keeps running
      Node& n = nodes_[m];
      n.crashed = true;
      n.buffered.clear();
      return;
    }
    case EvKind::kStallStart: {
      Node& n = nodes_[plan_.stalls()[ev.arg].member];
      if (n.crashed) return;
      n.stalled = true;
      n.timer_at = kNever;
      return;
    }
    case EvKind::kStallEnd: {
      const int m = plan_.stalls()[ev.arg].member;
      Node& n = nodes_[m];
      if (n.crashed) return;
      n.stalled = false;
      if (o_.bug == SwimBug::kMuteAfterStall)
        n.deaf_until = now_ + 4 * MaxSuspicionTimeout(o_.config, o_.nodes);
      // The paused process resumes: its timers run late, and it reads its
      // socket buffer (in the order the options say).
      std::vector<int> buffered = std::move(n.buffered);
      n.buffered.clear();
      if (o_.stall_resume_timers_first) {
        n.member->Tick(now_);
        AfterCall(m);
      }
      for (int slot : buffered)
        ReceiveNow(m, slot);
      if (!o_.stall_resume_timers_first) {
        n.member->Tick(now_);
        AfterCall(m);
      }
      return;
    }
    case EvKind::kUpdate:
      InjectUpdate(ev.arg);
      return;
    case EvKind::kEnd:
      Finish();
      return;
  }
}

void SwimSim::AfterCall(int i) {
  Node& n = nodes_[i];
  for (Packet& p : n.member->TakePackets())
    Send(i, std::move(p));
  for (const Event& e : n.member->TakeEvents())
    OnMemberEvent(i, e);
  Reschedule(i);
}

void SwimSim::Reschedule(int i) {
  Node& n = nodes_[i];
  if (n.crashed || n.stalled) return;
  const Millis deadline = n.member->NextDeadline();
  if (deadline == kNever || deadline >= n.timer_at) return;
  // A deadline already due runs on the next ms: a core that keeps reporting
  // `now` cannot spin the loop.
  n.timer_at = std::max(deadline, now_ + 1);
  Push(n.timer_at, EvKind::kTimer, i, 0);
}

void SwimSim::Send(int from, Packet packet) {
  ++r_.datagrams_total;
  const int to = IndexOf(packet.to);
  if (to < 0) {
    Fail("packets go to members", nodes_[from].name + " sent to unknown '" + packet.to + "'");
    return;
  }
  const bool measured = t0_ >= 0 && now_ >= t0_;
  if (measured) {
    ++r_.datagrams_sent;
    nodes_[from].bytes_measured += packet.bytes.size() + o_.header_bytes;
  }
  if (nodes_[from].deaf_until > now_) return;
  if (o_.loss > 0 && net_rng_.Bernoulli(o_.loss)) return;
  if (!plan_.partitions().empty() && plan_.Separated(from, to, now_)) return;
  Millis delay = o_.delay_min_ms == o_.delay_max_ms
                     ? o_.delay_min_ms
                     : net_rng_.Range(o_.delay_min_ms, o_.delay_max_ms);
  if (o_.jitter_probability > 0 && net_rng_.Bernoulli(o_.jitter_probability)) {
    delay += net_rng_.Range(0, o_.jitter_ms);
  }
  int slot;
  if (free_slots_.empty()) {
    slot = static_cast<int>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[slot].from = from;
  slots_[slot].bytes = std::move(packet.bytes);
  Push(now_ + delay, EvKind::kDeliver, to, slot);
}

void SwimSim::Deliver(int to, int slot) {
  Node& n = nodes_[to];
  if (n.crashed || n.deaf_until > now_) {
    free_slots_.push_back(slot);
    return;
  }
  if (n.stalled) {
    if (n.buffered.size() < o_.stall_buffer_datagrams) {
      n.buffered.push_back(slot);
    } else {
      free_slots_.push_back(slot);
    }
    return;
  }
  ReceiveNow(to, slot);
}

void SwimSim::ReceiveNow(int to, int slot) {
  Node& n = nodes_[to];
  const Datagram& d = slots_[slot];
  if (t0_ >= 0) ++r_.datagrams_delivered;
  const Status st = n.member->Receive(nodes_[d.from].name, d.bytes, now_);
  if (!st.ok()) {
    ++r_.datagrams_rejected;
    if (r_.datagrams_rejected == 1) {
      r_.details =
          n.name + " rejected a datagram from " + nodes_[d.from].name + ": " + st.message();
    }
  }
  free_slots_.push_back(slot);
  if (active_updates_ > 0) {
    for (UpdateProbe& u : updates_) {
      if (!u.active || u.has[to]) continue;
      if (now_ - u.at > o_.dissemination_timeout_ms) {
        u.active = false;  // counted incomplete at the end
        --active_updates_;
        continue;
      }
      const membership::MemberView* v = n.member->Find(nodes_[u.member].name);
      if (v == nullptr || v->incarnation < u.incarnation) continue;
      u.has[to] = 1;
      if (++u.count >= u.needed) {
        u.active = false;
        --active_updates_;
        r_.dissemination_ms.push_back(static_cast<double>(now_ - u.at));
      }
    }
  }
  AfterCall(to);
}

void SwimSim::OnMemberEvent(int observer, const Event& event) {
  if (event.kind != Event::Kind::kDead) return;
  const int m = IndexOf(event.member);
  if (m < 0) return;
  if (crash_index_[m] >= 0 && plan_.CrashTime(m) <= now_) {
    Millis& at = detected_at_[crash_index_[m]][observer];
    if (at < 0) at = now_;
    return;
  }
  const std::uint64_t key = static_cast<std::uint64_t>(m) << 32 | (event.incarnation & 0xffffffffu);
  auto [it, inserted] = deaths_.try_emplace(key, DeathCause::kFalsePositive);
  if (inserted) {
    const Millis from = now_ - explain_window_ms_;
    if (t0_ >= 0 && plan_.PartitionedDuring(m, from, now_)) {
      it->second = DeathCause::kPartition;
    } else if (t0_ >= 0 && plan_.LongestStallDuring(m, from, now_) >= min_suspicion_ms_) {
      it->second = DeathCause::kStall;
    }
    if (it->second == DeathCause::kFalsePositive) {
      ++r_.false_positives;
      const std::string what = fmt::format(
          "{} (incarnation {}) declared dead by {} at {} ms, cause '{}': it did not crash, was "
          "not partitioned, and stalled at most {} ms (< suspicion timeout {} ms) in the last "
          "{} ms",
          event.member, event.incarnation, nodes_[observer].name, now_, event.cause,
          t0_ >= 0 ? plan_.LongestStallDuring(m, from, now_) : 0, min_suspicion_ms_,
          explain_window_ms_);
      if (!o_.count_false_positives) {
        Fail("no false positive", what);
      } else if (r_.details.empty()) {
        r_.details = "first false positive: " + what;
      }
    } else {
      ++r_.explained_deaths;
    }
  }
  if (it->second == DeathCause::kFalsePositive) ++r_.false_positive_observations;
}

void SwimSim::CheckConvergence() {
  int converged = 0;
  for (const Node& n : nodes_) {
    if (n.member && static_cast<int>(n.member->AliveCount()) == o_.nodes) ++converged;
  }
  if (converged == o_.nodes) {
    StartMeasuredPhase();
    return;
  }
  if (now_ >= o_.warmup_max_ms) {
    Fail("join converges", fmt::format("after {} ms only {} of {} members see every member alive",
                                       now_, converged, o_.nodes));
    return;
  }
  Push(now_ + 500, EvKind::kConvergenceCheck, -1, 0);
}

void SwimSim::StartMeasuredPhase() {
  t0_ = now_;
  r_.warmup_ms = now_;
  const Millis settle =
      o_.settle_ms >= 0 ? o_.settle_ms : 2 * MaxSuspicionTimeout(o_.config, o_.nodes) + 30000;
  end_ = t0_ + o_.duration_ms + settle;
  min_suspicion_ms_ = MinSuspicionTimeout(o_.config, o_.nodes);
  // Long enough for a death declared at the far end of a stretched (local
  // health) timeout, or spread by gossip after it, to be traced to its fault.
  explain_window_ms_ =
      2 * MaxSuspicionTimeout(o_.config, o_.nodes) + 2 * o_.config.probe_interval + 10000;
  plan_ = SwimFaultPlan::Draw(o_.faults, o_.nodes, t0_, t0_ + o_.duration_ms, fault_rng_);
  r_.crashes = static_cast<int>(plan_.crashes().size());
  detected_at_.assign(plan_.crashes().size(), std::vector<Millis>(o_.nodes, -1));
  for (std::size_t c = 0; c < plan_.crashes().size(); ++c) {
    crash_index_[plan_.crashes()[c].member] = static_cast<int>(c);
    Push(plan_.crashes()[c].at, EvKind::kCrash, -1, static_cast<int>(c));
  }
  for (std::size_t s = 0; s < plan_.stalls().size(); ++s) {
    Push(plan_.stalls()[s].start, EvKind::kStallStart, -1, static_cast<int>(s));
    Push(plan_.stalls()[s].end, EvKind::kStallEnd, -1, static_cast<int>(s));
  }
  for (int u = 0; u < o_.updates; ++u) {
    Push(t0_ + 1000 + u * o_.update_gap_ms, EvKind::kUpdate, -1, u);
  }
  Push(end_, EvKind::kEnd, -1, 0);
}

void SwimSim::InjectUpdate(int index) {
  // A live member that is running now (a stalled one cannot act).
  int m = -1;
  for (int tries = 0; tries < 100 && m < 0; ++tries) {
    const int c = static_cast<int>(rng_.Uniform(o_.nodes));
    if (!nodes_[c].crashed && !nodes_[c].stalled) m = c;
  }
  if (m < 0) return;
  Node& n = nodes_[m];
  membership::Metadata metadata = n.member->Find(n.name)->metadata;
  metadata.load += 1 + static_cast<std::uint32_t>(index);
  if (Status st = n.member->UpdateMetadata(metadata, now_); !st.ok()) {
    Fail("metadata updates", n.name + ": " + st.message());
    return;
  }
  UpdateProbe u;
  u.member = m;
  u.incarnation = n.member->Find(n.name)->incarnation;
  u.at = now_;
  u.has.assign(o_.nodes, 0);
  // The live members: those the plan never crashes (a member that crashes
  // before it hears the update cannot count against the dissemination).
  int others = 0;
  for (int i = 0; i < o_.nodes; ++i) {
    if (i == m || plan_.CrashTime(i) >= 0) {
      u.has[i] = 1;
    } else {
      ++others;
    }
  }
  u.needed = static_cast<int>(std::ceil(0.9999 * others));
  u.active = u.needed > 0;
  if (!u.active) return;
  updates_.push_back(std::move(u));
  ++active_updates_;
  AfterCall(m);
}

void SwimSim::Fail(std::string check, std::string details) {
  if (!r_.ok) return;  // the first violation is the one to replay
  r_.ok = false;
  r_.violated = std::move(check);
  r_.details = std::move(details);
  done_ = true;
}

void SwimSim::Finish() {
  done_ = true;
  // Every crash seen dead by every member alive at the end.
  for (std::size_t c = 0; c < plan_.crashes().size() && r_.ok; ++c) {
    const CrashFault& crash = plan_.crashes()[c];
    Millis last = 0;
    for (int o = 0; o < o_.nodes; ++o) {
      if (o == crash.member || nodes_[o].crashed) continue;
      if (plan_.CrashTime(o) >= 0) continue;  // a zombie observer is no live member either
      Millis at = detected_at_[c][o];
      if (at < 0) {
        const membership::MemberView* v = nodes_[o].member->Find(nodes_[crash.member].name);
        const bool believes_gone = v == nullptr || v->state == membership::State::kDead ||
                                   v->state == membership::State::kLeft;
        if (!believes_gone) {
          Fail("crash detected by every member",
               fmt::format("{} crashed at {} ms; at the end ({} ms) {} still sees it {}",
                           nodes_[crash.member].name, crash.at, now_, nodes_[o].name,
                           v == nullptr                              ? "unknown"
                           : v->state == membership::State::kSuspect ? "suspect"
                                                                     : "alive"));
          break;
        }
        continue;
      }
      r_.detect_pair_ms.push_back(static_cast<double>(at - crash.at));
      last = std::max(last, at - crash.at);
    }
    if (r_.ok) r_.detect_all_ms.push_back(static_cast<double>(last));
  }
  for (const UpdateProbe& u : updates_)
    r_.updates_incomplete += u.count < u.needed ? 1 : 0;
  // Exposure and traffic.
  const double measured_s = static_cast<double>(now_ - t0_) / 1000.0;
  double member_seconds = 0;
  for (int i = 0; i < o_.nodes; ++i) {
    const Node& n = nodes_[i];
    const Millis until = plan_.CrashTime(i) >= 0 ? std::min(plan_.CrashTime(i), now_) : now_;
    if (n.joined_at >= 0) r_.node_hours += static_cast<double>(until - n.joined_at) / 3.6e6;
    const double live_s = static_cast<double>(until - t0_) / 1000.0;
    member_seconds += live_s;
    // The busiest member among those live through the whole measured phase (a
    // member that crashed early has too short a window for a rate).
    if (live_s > 0 && plan_.CrashTime(i) < 0) {
      r_.kbit_per_member_second_max = std::max(
          r_.kbit_per_member_second_max, static_cast<double>(n.bytes_measured) * 8 / 1000 / live_s);
    }
    r_.kbit_per_member_second += static_cast<double>(n.bytes_measured) * 8 / 1000;
  }
  if (member_seconds > 0 && measured_s > 0) r_.kbit_per_member_second /= member_seconds;
}

SwimSimResult SwimSim::Run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (Status st = o_.config.Validate(); !st.ok()) {
    Fail("config", st.message());
    return r_;
  }
  Start();
  while (!done_ && !queue_.empty()) {
    const SimEvent ev = queue_.top();
    queue_.pop();
    TRI_ASSERT(ev.at >= now_);
    now_ = ev.at;
    if (++r_.events > o_.max_events) {
      Fail("event bound", fmt::format("more than {} events (--max-events)", o_.max_events));
      break;
    }
    Dispatch(ev);
  }
  if (!done_) Fail("simulation runs to its end", "the event queue ran dry");
  r_.simulated_ms = now_;
  r_.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r_;
}

}  // namespace

Result<SwimBug> ParseSwimBug(const std::string& text) {
  if (text == "none") return SwimBug::kNone;
  if (text == "mute-after-stall") return SwimBug::kMuteAfterStall;
  if (text == "zombie-crash") return SwimBug::kZombieCrash;
  return InvalidArgument("--inject-bug: unknown bug '" + text +
                         "' (mute-after-stall | zombie-crash | none)");
}

Millis MinSuspicionTimeout(const membership::Config& config, int members) {
  return membership::ComputeSuspicionBounds(config, static_cast<std::size_t>(members)).min;
}

Millis MaxSuspicionTimeout(const membership::Config& config, int members) {
  return membership::ComputeSuspicionBounds(config, static_cast<std::size_t>(members)).max;
}

void DisableStallHandling(membership::Config& config) {
  config.stall_threshold = 3'600'000;
  config.stall_grace = 0;
  config.refute_after_stall = false;
  // The core's other addition to SWIM: plain SWIM retransmits a refutation like
  // any other update.
  config.refutation_retransmit_factor = 1;
}

SwimSimResult RunSwimSim(const SwimSimOptions& options) {
  return SwimSim(options).Run();
}

std::string FormatSwimSimResult(const SwimSimOptions& options, const SwimSimResult& r) {
  auto copy = [](std::vector<double> v, double q) {
    return v.empty() ? std::string("n/a") : fmt::format("{:.2f}s", NearestRank(v, q) / 1000.0);
  };
  std::string line = fmt::format("swim seed {} nodes {}: {}", options.seed, options.nodes,
                                 r.ok ? "ok" : "FAILED '" + r.violated + "'");
  line += fmt::format(" | warmup {:.1f}s", static_cast<double>(r.warmup_ms) / 1000.0);
  if (r.crashes > 0) {
    line += fmt::format(" | {} crashes: detect pair p50 {} p99 {}, all p50 {} max {}", r.crashes,
                        copy(r.detect_pair_ms, 0.5), copy(r.detect_pair_ms, 0.99),
                        copy(r.detect_all_ms, 0.5), copy(r.detect_all_ms, 1.0));
  }
  line += fmt::format(" | false positives {} ({} dead events), explained deaths {}, {:.1f} node-h",
                      r.false_positives, r.false_positive_observations, r.explained_deaths,
                      r.node_hours);
  if (!r.dissemination_ms.empty() || r.updates_incomplete > 0) {
    line += fmt::format(" | 99.99% dissemination p50 {} max {} ({} incomplete)",
                        copy(r.dissemination_ms, 0.5), copy(r.dissemination_ms, 1.0),
                        r.updates_incomplete);
  }
  line += fmt::format(" | {:.1f} kbit/s/member (max {:.1f})", r.kbit_per_member_second,
                      r.kbit_per_member_second_max);
  if (r.datagrams_rejected > 0) line += fmt::format(" | {} rejected", r.datagrams_rejected);
  line += fmt::format(
      " | {:.2f}M datagrams, {:.1f}s simulated in {:.1f}s wall ({:.0f}k datagrams/s)",
      static_cast<double>(r.datagrams_total) / 1e6, static_cast<double>(r.simulated_ms) / 1000.0,
      r.wall_seconds,
      r.wall_seconds > 0 ? static_cast<double>(r.datagrams_total) / 1e3 / r.wall_seconds : 0.0);
  if (!r.details.empty()) line += "\n  " + r.details;
  return line;
}

}  // namespace tri::sim
