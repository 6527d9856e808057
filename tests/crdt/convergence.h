#pragma once

// The shared convergence harness of the CRDT tests (docs/crdt.md, "The
// convergence harness").
//
// One schedule: 2-4 replicas of a CRDT; random operations, each through the type's
// delta mutator, whose delta is sent to every other replica over a channel that
// delivers in any order, duplicates and drops; full states gossiped over the same
// channel now and then; at the end, anti-entropy (full-state merges, all into
// replica 0, then replica 0 into every other). Then every replica must equal every
// other and satisfy the type's sequential specification.
//
// The specification side is a model independent of the CRDT code: every operation
// is an *event* with an id (its position in the schedule) and a record the type's
// spec computes from the events its replica had seen when it ran (e.g. "remove(x)
// removes the adds of x visible here"). The harness tracks, per replica, the set of
// events it has seen: a delta brings its own event, a full state brings everything
// its sender had seen. After anti-entropy every replica has seen every event, and
// the spec says what the converged state must be.
//
// A schedule is a Script (replica count + steps), so a failure prints a script that
// replays it; a fast seeded generator (GenerateScript) drives the million-schedule
// batches, and RapidCheck generates the same scripts shrinkably (GenScript).
//
// The type adapter, `Spec`, supplies (all static):
//   using State;  using Delta;  using Op;  using Event;
//   State  NewReplica(std::uint32_t index);
//   Op     MakeOp(std::uint64_t choice, std::uint32_t index, const State& state);
//          // any choice maps to a valid op; small choices are simple ops (shrinking)
//   Event  Record(const Op& op, std::uint32_t index, const std::vector<Event>& events,
//                 const Knowledge& seen);  // the model's view of the op, from what its
//                                          // replica had seen (its own event excluded)
//   Delta  Mutate(State& state, std::uint32_t index, const Op& op);  // the delta mutator
//   void   MergeDelta(State& state, const Delta& delta);
//   void   Merge(State& state, const State& other);
//   std::string Check(const State& state, const std::vector<Event>& events,
//                     const Knowledge& seen);  // "" when `state` is what the spec allows
//                                              // for a replica that has seen `seen`
//   std::string DescribeOp(const Op& op);
//   std::string DescribeState(const State& state);
// and State has operator==. Optionally, for types whose deltas join into
// delta-groups (Almeida et al. 2018, section 4):
//   void   JoinDeltas(Delta& group, const Delta& delta);
// with which kCoalesce steps batch a sender's pending deltas to one receiver.

#include <rapidcheck.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/rng.h"

namespace tri::crdt::testing {

// A set of event ids (a small bitset that grows).
class Knowledge {
 public:
  bool Has(std::size_t id) const {
    const std::size_t word = id / 64;
    return word < words_.size() && ((words_[word] >> (id % 64)) & 1) != 0;
  }
  void Add(std::size_t id) {
    const std::size_t word = id / 64;
    if (word >= words_.size()) words_.resize(word + 1, 0);
    words_[word] |= std::uint64_t{1} << (id % 64);
  }
  void Merge(const Knowledge& other) {
    if (other.words_.size() > words_.size()) words_.resize(other.words_.size(), 0);
    for (std::size_t i = 0; i < other.words_.size(); ++i)
      words_[i] |= other.words_[i];
  }
  std::size_t Count() const {
    std::size_t n = 0;
    for (std::uint64_t w : words_)
      n += static_cast<std::size_t>(__builtin_popcountll(w));
    return n;
  }

 private:
  std::vector<std::uint64_t> words_;
};

enum class StepKind : std::uint8_t {
  kOp,         // replica `a` runs the op MakeOp(b, a, state); its delta goes to every other
  kDeliver,    // pending message a % pending is delivered and leaves the channel
  kDuplicate,  // pending message a % pending is delivered and stays in the channel
  kDrop,       // pending message a % pending is lost
  kGossip,     // replica a % n sends its full state to replica b % n (the next one if equal)
  kCoalesce,   // the deltas pending from the sender to the receiver of pending message
               // a % pending become one delta-group (if Spec has JoinDeltas)
};

struct Step {
  StepKind kind = StepKind::kOp;
  std::uint32_t a = 0;
  std::uint64_t b = 0;
};

struct Script {
  std::uint32_t replicas = 2;
  std::vector<Step> steps;
};

// "replicas=3: op r1 c=17; deliver 2; dup 0; drop 1; gossip r0->r2; ..."
inline std::string ScriptToString(const Script& script) {
  std::string out = "replicas=" + std::to_string(script.replicas) + ":";
  for (const Step& s : script.steps) {
    switch (s.kind) {
      case StepKind::kOp:
        out += " op r" + std::to_string(s.a % script.replicas) + " c=" + std::to_string(s.b);
        break;
      case StepKind::kDeliver:
        out += " deliver " + std::to_string(s.a);
        break;
      case StepKind::kDuplicate:
        out += " dup " + std::to_string(s.a);
        break;
      case StepKind::kDrop:
        out += " drop " + std::to_string(s.a);
        break;
      case StepKind::kGossip:
        out += " gossip " + std::to_string(s.a) + "->" + std::to_string(s.b);
        break;
      case StepKind::kCoalesce:
        out += " coalesce " + std::to_string(s.a);
        break;
    }
    out += ";";
  }
  return out;
}

// The shape of generated schedules. The defaults are the CI batches' (crdt-common
// brief: 2-4 replicas, 1-12 ops, some deltas lost, duplicated and reordered).
struct ScheduleOptions {
  std::uint32_t min_replicas = 2;
  std::uint32_t max_replicas = 4;
  std::uint32_t min_ops = 1;
  std::uint32_t max_ops = 12;
  // Per channel action: the rest of the probability mass delivers.
  double drop_probability = 0.2;
  double duplicate_probability = 0.15;
  double coalesce_probability = 0.1;
  // After each op: a full-state gossip message is sent with this probability.
  double gossip_probability = 0.15;
};

// A random script: ops interleaved with random channel actions on random pending
// messages (reordering), the remaining messages delivered, duplicated or dropped at
// the end. Deterministic in `rng`; `out` is reused to avoid allocation.
inline void GenerateScript(Rng& rng, const ScheduleOptions& options, Script& out) {
  out.steps.clear();
  out.replicas = static_cast<std::uint32_t>(rng.Range(options.min_replicas, options.max_replicas));
  const auto ops = static_cast<std::uint32_t>(rng.Range(options.min_ops, options.max_ops));
  std::uint64_t pending = 0;
  auto channel_action = [&] {
    const double roll = rng.NextDouble();
    Step step;
    step.a = static_cast<std::uint32_t>(rng.Uniform(pending));
    if (roll < options.drop_probability) {
      step.kind = StepKind::kDrop;
      --pending;
    } else if (roll < options.drop_probability + options.duplicate_probability) {
      step.kind = StepKind::kDuplicate;
    } else if (roll < options.drop_probability + options.duplicate_probability +
                          options.coalesce_probability) {
      // Leaves `pending` as it is: the count is an upper bound, and actions on an
      // empty channel do nothing.
      step.kind = StepKind::kCoalesce;
    } else {
      step.kind = StepKind::kDeliver;
      --pending;
    }
    out.steps.push_back(step);
  };
  for (std::uint32_t i = 0; i < ops; ++i) {
    out.steps.push_back(
        {StepKind::kOp, static_cast<std::uint32_t>(rng.Uniform(out.replicas)), rng.Next()});
    pending += out.replicas - 1;
    if (rng.Bernoulli(options.gossip_probability)) {
      const auto from = static_cast<std::uint32_t>(rng.Uniform(out.replicas));
      const auto to = (from + 1 + rng.Uniform(out.replicas - 1)) % out.replicas;
      out.steps.push_back({StepKind::kGossip, from, to});
      ++pending;
    }
    const std::uint64_t actions = rng.Uniform(pending + 1);
    for (std::uint64_t k = 0; k < actions && pending > 0; ++k)
      channel_action();
  }
  // Bounded: every action but a duplicate removes a message, and a duplicate is
  // at most duplicate_probability < 1 likely.
  while (pending > 0)
    channel_action();
}

struct RunOptions {
  // Also check the replica a step changed (the op's, a message's receiver)
  // against the spec after every step, not only every replica at the end: finds
  // the first wrong step, and wrong intermediate states that anti-entropy would
  // repair before the end.
  bool check_every_step = true;
};

// The result of one schedule: empty `failure` when it converged to what the spec
// allows; otherwise what went wrong (and, when a trace was asked for, the trace).
struct Outcome {
  std::string failure;
  bool ok() const { return failure.empty(); }
};

template <class Spec>
Outcome RunScript(const Script& script, const RunOptions& options = {},
                  std::string* trace = nullptr) {
  using State = typename Spec::State;
  using Delta = typename Spec::Delta;
  using Event = typename Spec::Event;

  enum class Payload : std::uint8_t { kDelta, kGroup, kState };
  struct Message {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    Payload kind = Payload::kDelta;
    std::size_t payload = 0;  // index into deltas, groups or gossiped_states
  };

  const std::uint32_t n = script.replicas;
  std::vector<State> replicas;
  std::vector<Knowledge> seen(n);
  replicas.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i)
    replicas.push_back(Spec::NewReplica(i));
  std::vector<Event> events;
  std::vector<std::pair<Delta, std::size_t>> deltas;         // delta, its event id
  std::vector<std::pair<Delta, Knowledge>> groups;           // delta-group, its events
  std::vector<std::pair<State, Knowledge>> gossiped_states;  // state, what it had seen
  std::vector<Message> pending;

  auto note = [&](const std::string& line) {
    if (trace != nullptr) *trace += line + "\n";
  };
  auto check_replica = [&](std::uint32_t r, const char* when) -> std::string {
    std::string error = Spec::Check(replicas[r], events, seen[r]);
    if (!error.empty()) {
      error = "replica r" + std::to_string(r) + " " + when + ": " + error +
              " (state: " + Spec::DescribeState(replicas[r]) + ")";
    }
    return error;
  };
  auto deliver = [&](const Message& m) {
    if (m.kind == Payload::kState) {
      const auto& [state, knowledge] = gossiped_states[m.payload];
      Spec::Merge(replicas[m.to], state);
      seen[m.to].Merge(knowledge);
    } else if (m.kind == Payload::kGroup) {
      const auto& [group, knowledge] = groups[m.payload];
      Spec::MergeDelta(replicas[m.to], group);
      seen[m.to].Merge(knowledge);
    } else {
      const auto& [delta, event_id] = deltas[m.payload];
      Spec::MergeDelta(replicas[m.to], delta);
      seen[m.to].Add(event_id);
    }
  };
  auto describe = [&](const Message& m) {
    const char* what = m.kind == Payload::kState   ? "state#"
                       : m.kind == Payload::kGroup ? "delta-group#"
                                                   : "delta of event ";
    return what + std::to_string(m.payload) + " r" + std::to_string(m.from) + "->r" +
           std::to_string(m.to);
  };

  if (trace != nullptr) note("script " + ScriptToString(script));
  for (const Step& step : script.steps) {
    std::uint32_t changed = n;  // none
    switch (step.kind) {
      case StepKind::kOp: {
        const std::uint32_t r = step.a % n;
        changed = r;
        const auto op = Spec::MakeOp(step.b, r, replicas[r]);
        const std::size_t id = events.size();
        events.push_back(Spec::Record(op, r, events, seen[r]));
        Delta delta = Spec::Mutate(replicas[r], r, op);
        seen[r].Add(id);
        deltas.emplace_back(std::move(delta), id);
        for (std::uint32_t to = 0; to < n; ++to) {
          if (to != r) pending.push_back({r, to, Payload::kDelta, deltas.size() - 1});
        }
        if (trace != nullptr) {
          note("event " + std::to_string(id) + ": r" + std::to_string(r) + " " +
               Spec::DescribeOp(op) + " -> " + Spec::DescribeState(replicas[r]));
        }
        break;
      }
      case StepKind::kDeliver:
      case StepKind::kDuplicate:
      case StepKind::kDrop: {
        if (pending.empty()) break;
        const std::size_t k = step.a % pending.size();
        const Message m = pending[k];
        if (step.kind != StepKind::kDuplicate) pending.erase(pending.begin() + k);
        if (step.kind == StepKind::kDrop) {
          note("drop " + describe(m));
          break;
        }
        deliver(m);
        changed = m.to;
        if (trace != nullptr) {
          note(std::string(step.kind == StepKind::kDuplicate ? "deliver copy of " : "deliver ") +
               describe(m) + " -> " + Spec::DescribeState(replicas[m.to]));
        }
        break;
      }
      case StepKind::kGossip: {
        const std::uint32_t from = step.a % n;
        std::uint32_t to = static_cast<std::uint32_t>(step.b % n);
        if (to == from) to = (from + 1) % n;
        gossiped_states.emplace_back(replicas[from], seen[from]);
        pending.push_back({from, to, Payload::kState, gossiped_states.size() - 1});
        note("send state#" + std::to_string(gossiped_states.size() - 1) + " r" +
             std::to_string(from) + "->r" + std::to_string(to));
        break;
      }
      case StepKind::kCoalesce: {
        if constexpr (requires(Delta & g, const Delta& d) { Spec::JoinDeltas(g, d); }) {
          if (pending.empty()) break;
          const Message first = pending[step.a % pending.size()];
          if (first.kind == Payload::kState) break;
          // Every delta and group pending on first's link, in channel order, joined
          // into one group that takes the place of the first of them.
          std::optional<Delta> group;
          Knowledge knowledge;
          std::size_t members = 0;
          std::size_t slot = pending.size();
          std::string names;
          std::vector<Message> kept;
          kept.reserve(pending.size());
          for (const Message& m : pending) {
            if (m.kind == Payload::kState || m.from != first.from || m.to != first.to) {
              kept.push_back(m);
              continue;
            }
            const Delta& d =
                m.kind == Payload::kGroup ? groups[m.payload].first : deltas[m.payload].first;
            if (members == 0) {
              group.emplace(d);
              slot = kept.size();
              kept.push_back(m);  // replaced below
            } else {
              Spec::JoinDeltas(*group, d);
            }
            if (m.kind == Payload::kGroup) {
              knowledge.Merge(groups[m.payload].second);
            } else {
              knowledge.Add(deltas[m.payload].second);
            }
            if (trace != nullptr) names += " " + describe(m);
            ++members;
          }
          if (members < 2) break;
          groups.emplace_back(std::move(*group), std::move(knowledge));
          kept[slot] = {first.from, first.to, Payload::kGroup, groups.size() - 1};
          pending = std::move(kept);
          note("coalesce" + names + " into delta-group#" + std::to_string(groups.size() - 1));
        }
        break;
      }
    }
    if (options.check_every_step && changed < n) {
      std::string error = check_replica(changed, "during the schedule");
      if (!error.empty()) return {std::move(error)};
    }
  }
  // Messages still in the channel are lost. Anti-entropy: full states, reliably.
  for (std::uint32_t r = 1; r < n; ++r) {
    Spec::Merge(replicas[0], replicas[r]);
    seen[0].Merge(seen[r]);
  }
  for (std::uint32_t r = 1; r < n; ++r) {
    Spec::Merge(replicas[r], replicas[0]);
    seen[r].Merge(seen[0]);
  }
  if (trace != nullptr) {
    for (std::uint32_t r = 0; r < n; ++r) {
      note("after anti-entropy r" + std::to_string(r) + ": " + Spec::DescribeState(replicas[r]));
    }
  }
  for (std::uint32_t r = 1; r < n; ++r) {
    if (!(replicas[r] == replicas[0])) {
      return {"replicas diverged after anti-entropy: r0 " + Spec::DescribeState(replicas[0]) +
              " vs r" + std::to_string(r) + " " + Spec::DescribeState(replicas[r])};
    }
  }
  return {check_replica(0, "after anti-entropy")};
}

// A batch of seeded schedules. On the first failure it stops, and `failure` holds
// the seed, the script and a step-by-step trace (a replay of that seed).
struct BatchResult {
  std::uint64_t schedules_run = 0;
  std::string failure;
  bool ok() const { return failure.empty(); }
};

// Runs schedules with seeds first_seed .. first_seed + count - 1; each seed
// replays alone: RunSeed<Spec>(seed, options).
template <class Spec>
Outcome RunSeed(std::uint64_t seed, const ScheduleOptions& options, Script& script,
                std::string* trace = nullptr, const RunOptions& run_options = {}) {
  SeededRng rng(seed);
  GenerateScript(rng, options, script);
  return RunScript<Spec>(script, run_options, trace);
}

template <class Spec>
BatchResult RunSchedules(std::uint64_t first_seed, std::uint64_t count,
                         const ScheduleOptions& options = {}, const RunOptions& run_options = {}) {
  BatchResult result;
  Script script;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seed = first_seed + i;
    Outcome outcome = RunSeed<Spec>(seed, options, script, nullptr, run_options);
    ++result.schedules_run;
    if (!outcome.ok()) {
      std::string trace;
      const Outcome first_wrong_step = RunScript<Spec>(script, {.check_every_step = true}, &trace);
      result.failure = "schedule seed " + std::to_string(seed) + " failed: " + outcome.failure +
                       "\nwith every step checked: " + first_wrong_step.failure +
                       "\nreplay: RunSeed<Spec>(" + std::to_string(seed) +
                       ", options)\ntrace (up to that step):\n" + trace;
      return result;
    }
  }
  return result;
}

// The CI batches, and the soak's larger runs of the same cases: CRDT_SCHEDULES
// (schedules per type, split evenly over the type's batches; default
// `default_total`) and CRDT_SEED (added to every batch's first seed; default 0)
// come from the environment. Prints the count and time per schedule.
inline std::uint64_t EnvCount(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

template <class Spec>
BatchResult RunConvergenceBatch(const char* type, std::uint64_t batch, std::uint64_t batches,
                                std::uint64_t default_total) {
  const std::uint64_t per_batch = EnvCount("CRDT_SCHEDULES", default_total) / batches;
  const std::uint64_t first_seed = EnvCount("CRDT_SEED", 0) + batch * per_batch + 1;
  const auto start = std::chrono::steady_clock::now();
  BatchResult result = RunSchedules<Spec>(first_seed, per_batch);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[crdt] %s batch %llu/%llu: %llu schedules from seed %llu in %.2f s (%.2f us each)\n",
              type, static_cast<unsigned long long>(batch + 1),
              static_cast<unsigned long long>(batches),
              static_cast<unsigned long long>(result.schedules_run),
              static_cast<unsigned long long>(first_seed), seconds,
              result.schedules_run == 0 ? 0.0 : seconds * 1e6 / result.schedules_run);
  return result;
}

// For the tests that expect a broken type to fail: one line saying how soon and
// how it was caught.
inline void PrintCaught(const char* what, const BatchResult& result) {
  const std::string first_line = result.failure.substr(0, result.failure.find('\n'));
  std::printf("[crdt] %s caught after %llu schedules: %s\n", what,
              static_cast<unsigned long long>(result.schedules_run), first_line.c_str());
}

// The replicas' states after a script, without the final anti-entropy: states
// that may legally meet (same replica ids, unique dots), for the merge laws.
template <class Spec>
std::vector<typename Spec::State> StatesAfter(const Script& script) {
  using State = typename Spec::State;
  using Delta = typename Spec::Delta;
  const std::uint32_t n = script.replicas;
  std::vector<State> replicas;
  replicas.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i)
    replicas.push_back(Spec::NewReplica(i));
  struct Message {
    std::uint32_t to;
    bool full_state;
    std::size_t payload;
  };
  std::vector<Delta> deltas;
  std::vector<State> states;
  std::vector<Message> pending;
  for (const Step& step : script.steps) {
    if (step.kind == StepKind::kOp) {
      const std::uint32_t r = step.a % n;
      deltas.push_back(Spec::Mutate(replicas[r], r, Spec::MakeOp(step.b, r, replicas[r])));
      for (std::uint32_t to = 0; to < n; ++to) {
        if (to != r) pending.push_back({to, false, deltas.size() - 1});
      }
    } else if (step.kind == StepKind::kGossip) {
      const std::uint32_t from = step.a % n;
      std::uint32_t to = static_cast<std::uint32_t>(step.b % n);
      if (to == from) to = (from + 1) % n;
      states.push_back(replicas[from]);
      pending.push_back({to, true, states.size() - 1});
    } else if (step.kind != StepKind::kCoalesce && !pending.empty()) {
      const std::size_t k = step.a % pending.size();
      const Message m = pending[k];
      if (step.kind != StepKind::kDuplicate) pending.erase(pending.begin() + k);
      if (step.kind == StepKind::kDrop) continue;
      if (m.full_state) {
        Spec::Merge(replicas[m.to], states[m.payload]);
      } else {
        Spec::MergeDelta(replicas[m.to], deltas[m.payload]);
      }
    }
  }
  return replicas;
}

// The join laws on three states: commutative, associative, idempotent (and
// merging a state that is already contained changes nothing). "" when they hold.
template <class Spec>
std::string CheckMergeLaws(const typename Spec::State& a, const typename Spec::State& b,
                           const typename Spec::State& c) {
  using State = typename Spec::State;
  auto join = [](State x, const State& y) {
    Spec::Merge(x, y);
    return x;
  };
  const State ab = join(a, b);
  const State ba = join(b, a);
  if (!(ab == ba)) {
    return "merge not commutative: a+b = " + Spec::DescribeState(ab) +
           ", b+a = " + Spec::DescribeState(ba) + " (a = " + Spec::DescribeState(a) +
           ", b = " + Spec::DescribeState(b) + ")";
  }
  const State ab_c = join(ab, c);
  const State a_bc = join(a, join(b, c));
  if (!(ab_c == a_bc)) {
    return "merge not associative: (a+b)+c = " + Spec::DescribeState(ab_c) +
           ", a+(b+c) = " + Spec::DescribeState(a_bc);
  }
  if (!(join(a, a) == a)) {
    return "merge not idempotent: a+a = " + Spec::DescribeState(join(a, a)) +
           ", a = " + Spec::DescribeState(a);
  }
  if (!(join(ab, a) == ab) || !(join(ab, b) == ab)) {
    return "merging a contained state changed the join: a+b = " + Spec::DescribeState(ab);
  }
  return "";
}

// The merge laws over seeded scripts of three replicas: stops at the first
// failure, with the seed and script.
template <class Spec>
BatchResult RunMergeLaws(std::uint64_t first_seed, std::uint64_t count,
                         ScheduleOptions options = {}) {
  options.min_replicas = 3;
  options.max_replicas = 3;
  BatchResult result;
  Script script;
  for (std::uint64_t i = 0; i < count; ++i) {
    SeededRng rng(first_seed + i);
    GenerateScript(rng, options, script);
    const auto states = StatesAfter<Spec>(script);
    ++result.schedules_run;
    std::string error = CheckMergeLaws<Spec>(states[0], states[1], states[2]);
    if (!error.empty()) {
      result.failure = "merge laws, seed " + std::to_string(first_seed + i) + ": " + error +
                       "\nscript " + ScriptToString(script);
      return result;
    }
  }
  return result;
}

// RapidCheck's version of the schedules: the same scripts, generated so that
// RapidCheck shrinks a failure to a short script (fewer steps, smaller op choices,
// which MakeOp maps to simpler ops).
inline rc::Gen<Step> GenStep(std::uint32_t replicas) {
  auto index = rc::gen::inRange<std::uint32_t>(0, 64);
  auto replica = rc::gen::inRange<std::uint32_t>(0, replicas);
  auto with_kind = [](StepKind kind) {
    return [kind](std::uint32_t a) { return Step{kind, a, 0}; };
  };
  return rc::gen::weightedOneOf<Step>({
      {4, rc::gen::map(rc::gen::pair(replica, rc::gen::arbitrary<std::uint64_t>()),
                       [](const std::pair<std::uint32_t, std::uint64_t>& p) {
                         return Step{StepKind::kOp, p.first, p.second};
                       })},
      {4, rc::gen::map(index, with_kind(StepKind::kDeliver))},
      {1, rc::gen::map(index, with_kind(StepKind::kDuplicate))},
      {1, rc::gen::map(index, with_kind(StepKind::kDrop))},
      {1, rc::gen::map(index, with_kind(StepKind::kCoalesce))},
      {1, rc::gen::map(rc::gen::pair(replica, replica),
                       [](const std::pair<std::uint32_t, std::uint32_t>& p) {
                         return Step{StepKind::kGossip, p.first, p.second};
                       })},
  });
}

inline rc::Gen<Script> GenScript(std::uint32_t min_replicas = 2, std::uint32_t max_replicas = 4) {
  return rc::gen::mapcat(rc::gen::inRange<std::uint32_t>(min_replicas, max_replicas + 1),
                         [](std::uint32_t n) {
                           return rc::gen::map(rc::gen::container<std::vector<Step>>(GenStep(n)),
                                               [n](std::vector<Step> steps) {
                                                 return Script{n, std::move(steps)};
                                               });
                         });
}

}  // namespace tri::crdt::testing
