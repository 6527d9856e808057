#pragma once

// The convergence harness's adapters (tests/crdt/convergence.h) for the crdt-clocks
// types: G-Counter, PN-Counter, LWW register, MV register and LWW map, each with
// an event model of its sequential specification, and deliberately broken
// variants that the harness must catch.
//
// The LWW types run a hybrid logical clock per replica, as a real replica would:
// a write's stamp comes from the writer's HLC, and every merge Updates that HLC
// with the stamps received. Their models also check the property the HLC exists
// for: a write that has seen another gets a larger stamp, so it wins.

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/assert.h"
#include "crdt/convergence.h"
#include "crdt/encoding.h"
#include "crdt/g_counter.h"
#include "crdt/hlc.h"
#include "crdt/lww_map.h"
#include "crdt/lww_register.h"
#include "crdt/mv_register.h"
#include "crdt/pn_counter.h"

namespace tri::crdt::testing {

// Replica ids far apart, so the encoding and tie-breaks see more than 0..3.
inline ReplicaId ReplicaOf(std::uint32_t index) {
  return 1000 * index + 7;
}

// ---------------------------------------------------------------------------
// Counters. Model: per replica the list of its increments; a replica's entry is
// the sum of that replica's increments up to the latest one seen (a delta
// carries the writer's running total, so it brings that writer's earlier
// increments with it).

struct CounterEvent {
  std::uint32_t replica = 0;
  std::int64_t amount = 0;  // > 0 increment, < 0 decrement (PN only)
};

// Per replica index, the total of the `positive` (or negative) amounts up to the
// latest such event seen.
// Schedules have at most this many replicas (ScheduleOptions, GenScript).
inline constexpr std::uint32_t kMaxReplicas = 4;
using Totals = std::array<std::uint64_t, kMaxReplicas>;

inline Totals ExpectedTotals(const std::vector<CounterEvent>& events, const Knowledge& seen,
                             bool positive) {
  Totals running{};
  Totals expected{};
  for (std::size_t id = 0; id < events.size(); ++id) {
    const CounterEvent& e = events[id];
    if ((e.amount > 0) != positive) continue;
    TRI_ASSERT(e.replica < kMaxReplicas);
    running[e.replica] += static_cast<std::uint64_t>(positive ? e.amount : -e.amount);
    if (seen.Has(id)) expected[e.replica] = running[e.replica];
  }
  return expected;
}

inline std::string CheckCounter(const GCounter& counter, const Totals& expected, const char* half) {
  std::size_t nonzero = 0;
  for (std::uint32_t index = 0; index < kMaxReplicas; ++index) {
    const std::uint64_t total = expected[index];
    if (counter.Get(ReplicaOf(index)) != total) {
      return std::string(half) + " of r" + std::to_string(index) + " is " +
             std::to_string(counter.Get(ReplicaOf(index))) + ", the increments seen make " +
             std::to_string(total);
    }
    nonzero += total > 0 ? 1 : 0;
  }
  if (counter.entries().size() != nonzero) {
    return std::string(half) + " has entries for replicas no increment seen names";
  }
  return "";
}

struct GCounterSpec {
  using State = GCounter;
  using Delta = GCounter;
  using Op = std::uint64_t;  // the amount
  using Event = CounterEvent;

  static State NewReplica(std::uint32_t) { return {}; }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State&) { return 1 + choice % 3; }
  static Event Record(const Op& op, std::uint32_t index, const std::vector<Event>&,
                      const Knowledge&) {
    return {index, static_cast<std::int64_t>(op)};
  }
  static Delta Mutate(State& state, std::uint32_t index, const Op& op) {
    auto delta = state.Increment(ReplicaOf(index), op);
    TRI_ASSERT(delta.ok());
    return std::move(delta).value();
  }
  static void MergeDelta(State& state, const Delta& delta) { TRI_ASSERT(state.Merge(delta).ok()); }
  // Deltas join into delta-groups with the ordinary merge.
  static void JoinDeltas(Delta& group, const Delta& delta) { TRI_ASSERT(group.Merge(delta).ok()); }
  static void Merge(State& state, const State& other) { TRI_ASSERT(state.Merge(other).ok()); }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    const auto expected = ExpectedTotals(events, seen, true);
    std::string error = CheckCounter(state, expected, "count");
    if (!error.empty()) return error;
    std::uint64_t sum = 0;
    for (std::uint64_t total : expected)
      sum += total;
    if (state.Value() != sum)
      return "value " + std::to_string(state.Value()) + ", expected " + std::to_string(sum);
    return "";
  }
  static std::string DescribeOp(const Op& op) { return "increment(" + std::to_string(op) + ")"; }
  static std::string DescribeState(const State& state) { return state.ToString(); }
};

// Broken on purpose: merge adds the counts (sum instead of max), so a duplicated
// or re-gossiped delta counts twice.
struct SumMergeGCounterSpec : GCounterSpec {
  static void MergeDelta(State& state, const Delta& delta) { Merge(state, delta); }
  static void Merge(State& state, const State& other) {
    for (const Dot& entry : other.entries()) {
      TRI_ASSERT(state.Increment(entry.replica, entry.counter).ok());
    }
  }
};

struct PNCounterSpec {
  using State = PNCounter;
  using Delta = PNCounter;
  using Op = std::int64_t;
  using Event = CounterEvent;

  static State NewReplica(std::uint32_t) { return {}; }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State&) {
    const auto amount = static_cast<std::int64_t>(1 + (choice >> 1) % 3);
    return choice % 2 == 0 ? amount : -amount;
  }
  static Event Record(const Op& op, std::uint32_t index, const std::vector<Event>&,
                      const Knowledge&) {
    return {index, op};
  }
  static Delta Mutate(State& state, std::uint32_t index, const Op& op) {
    auto delta = op > 0 ? state.Increment(ReplicaOf(index), static_cast<std::uint64_t>(op))
                        : state.Decrement(ReplicaOf(index), static_cast<std::uint64_t>(-op));
    TRI_ASSERT(delta.ok());
    return std::move(delta).value();
  }
  static void MergeDelta(State& state, const Delta& delta) { TRI_ASSERT(state.Merge(delta).ok()); }
  // Deltas join into delta-groups with the ordinary merge.
  static void JoinDeltas(Delta& group, const Delta& delta) { TRI_ASSERT(group.Merge(delta).ok()); }
  static void Merge(State& state, const State& other) { TRI_ASSERT(state.Merge(other).ok()); }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    const auto up = ExpectedTotals(events, seen, true);
    const auto down = ExpectedTotals(events, seen, false);
    std::string error = CheckCounter(state.increments(), up, "increments");
    if (error.empty()) error = CheckCounter(state.decrements(), down, "decrements");
    if (!error.empty()) return error;
    std::int64_t value = 0;
    for (std::uint64_t total : up)
      value += static_cast<std::int64_t>(total);
    for (std::uint64_t total : down)
      value -= static_cast<std::int64_t>(total);
    if (state.Value() != value) {
      return "value " + std::to_string(state.Value()) + ", expected " + std::to_string(value);
    }
    return "";
  }
  static std::string DescribeOp(const Op& op) {
    return op > 0 ? "increment(" + std::to_string(op) + ")"
                  : "decrement(" + std::to_string(-op) + ")";
  }
  static std::string DescribeState(const State& state) { return state.ToString(); }
};

// ---------------------------------------------------------------------------
// LWW types: a replica is the CRDT plus its HLC and physical clock.

template <class Crdt>
struct ClockedReplica {
  Crdt crdt;
  HybridLogicalClock hlc;
  std::uint64_t physical_ms = 1'000;
  ReplicaId id = 0;
  // Replicas agree when their CRDT states do; clocks differ by design.
  friend bool operator==(const ClockedReplica& a, const ClockedReplica& b) {
    return a.crdt == b.crdt;
  }
};

// The stamp the next write at `replica` gets after `advance_ms` (what Mutate
// will compute; the model needs it before the mutation runs).
template <class Crdt>
LwwStamp NextStamp(const ClockedReplica<Crdt>& replica, std::uint64_t advance_ms) {
  HybridLogicalClock copy = replica.hlc;
  return LwwStamp{copy.Now(replica.physical_ms + advance_ms), replica.id};
}

template <class Crdt>
LwwStamp TakeStamp(ClockedReplica<Crdt>& replica, std::uint64_t advance_ms) {
  replica.physical_ms += advance_ms;
  return LwwStamp{replica.hlc.Now(replica.physical_ms), replica.id};
}

template <class Crdt>
void Receive(ClockedReplica<Crdt>& replica, const LwwStamp& stamp) {
  TRI_ASSERT(replica.hlc.Update(stamp.timestamp, replica.physical_ms).ok());
}

// A write's model: its stamp and the largest stamp among the writes its replica
// had seen when it ran (a causal predecessor must lose to it).
struct StampedEvent {
  LwwStamp stamp;
  std::optional<LwwStamp> max_seen;
};

template <class Event>
std::optional<LwwStamp> MaxSeenStamp(const std::vector<Event>& events, const Knowledge& seen) {
  std::optional<LwwStamp> max;
  for (std::size_t id = 0; id < events.size(); ++id) {
    if (seen.Has(id) && (!max || *max < events[id].write.stamp)) max = events[id].write.stamp;
  }
  return max;
}

template <class Event>
std::string CheckCausalStamps(const std::vector<Event>& events, const Knowledge& seen) {
  for (std::size_t id = 0; id < events.size(); ++id) {
    const StampedEvent& w = events[id].write;
    if (seen.Has(id) && w.max_seen && !(*w.max_seen < w.stamp)) {
      return "event " + std::to_string(id) + " stamped " + w.stamp.ToString() +
             " does not follow the stamp " + w.max_seen->ToString() + " its writer had seen";
    }
  }
  return "";
}

struct LwwRegisterSpec {
  using State = ClockedReplica<LwwRegister>;
  using Delta = LwwRegister;
  struct Op {
    std::uint64_t advance_ms = 0;
    std::string value;
    LwwStamp stamp;  // the stamp the write will get
  };
  struct Event {
    StampedEvent write;
    std::string value;
  };

  static State NewReplica(std::uint32_t index) {
    State state;
    state.id = ReplicaOf(index);
    return state;
  }
  // Small advances, often 0: writes share physical milliseconds across replicas,
  // so the logical counter and the replica tie-break both decide winners.
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State& state) {
    Op op;
    op.advance_ms = (choice >> 8) % 3;
    op.value = "v" + std::to_string(choice % 5);
    op.stamp = NextStamp(state, op.advance_ms);
    return op;
  }
  static Event Record(const Op& op, std::uint32_t, const std::vector<Event>& events,
                      const Knowledge& seen) {
    return {{op.stamp, MaxSeenStamp(events, seen)}, op.value};
  }
  static Delta Mutate(State& state, std::uint32_t, const Op& op) {
    const LwwStamp stamp = TakeStamp(state, op.advance_ms);
    TRI_ASSERT(stamp == op.stamp);
    auto delta = state.crdt.Set(op.value, stamp);
    TRI_ASSERT(delta.ok());
    return std::move(delta).value();
  }
  static void MergeDelta(State& state, const Delta& delta) {
    if (delta.has_value()) Receive(state, delta.stamp());
    TRI_ASSERT(state.crdt.Merge(delta).ok());
  }
  static void Merge(State& state, const State& other) { MergeDelta(state, other.crdt); }
  static void JoinDeltas(Delta& group, const Delta& delta) { TRI_ASSERT(group.Merge(delta).ok()); }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    std::string error = CheckCausalStamps(events, seen);
    if (!error.empty()) return error;
    const Event* winner = nullptr;
    for (std::size_t id = 0; id < events.size(); ++id) {
      if (seen.Has(id) && (winner == nullptr || winner->write.stamp < events[id].write.stamp)) {
        winner = &events[id];
      }
    }
    const LwwRegister& reg = state.crdt;
    if (winner == nullptr) return reg.has_value() ? "holds a value though no write was seen" : "";
    if (!reg.has_value() || reg.stamp() != winner->write.stamp || reg.value() != winner->value) {
      return "holds " + reg.ToString() + ", the last write seen is \"" + winner->value + "\"@" +
             winner->write.stamp.ToString();
    }
    return "";
  }
  static std::string DescribeOp(const Op& op) {
    return "set(" + op.value + ")@" + op.stamp.ToString();
  }
  static std::string DescribeState(const State& state) { return state.crdt.ToString(); }
};

// Broken on purpose: merge keeps the smaller stamp (first writer wins). Replicas
// still agree, but a write loses to one it has seen.
struct FirstWriterWinsRegisterSpec : LwwRegisterSpec {
  static void MergeDelta(State& state, const Delta& delta) {
    if (!delta.has_value()) return;
    Receive(state, delta.stamp());
    if (!state.crdt.has_value() || delta.stamp() < state.crdt.stamp()) state.crdt = delta;
  }
  static void Merge(State& state, const State& other) { MergeDelta(state, other.crdt); }
};

// ---------------------------------------------------------------------------
// MV register. Model: a write overwrites exactly the writes its replica had
// seen; the values are those of the writes seen that no write seen overwrote.

struct MvRegisterSpec {
  using State = MvRegister;
  using Delta = MvRegister;
  using Op = std::string;
  struct Event {
    std::string value;
    Knowledge overwrites;  // its causal past
  };

  static State NewReplica(std::uint32_t) { return {}; }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State&) {
    return "v" + std::to_string(choice % 7);
  }
  // The write's causal past: what its replica has seen, and transitively what
  // those writes had seen (a delta brings its writer's whole context, so a
  // replica can know a write overwrote another without having seen the other).
  static Event Record(const Op& op, std::uint32_t, const std::vector<Event>& events,
                      const Knowledge& seen) {
    Knowledge past = seen;
    for (std::size_t id = 0; id < events.size(); ++id) {
      if (seen.Has(id)) past.Merge(events[id].overwrites);
    }
    return {op, std::move(past)};
  }
  static Delta Mutate(State& state, std::uint32_t index, const Op& op) {
    auto delta = state.Write(ReplicaOf(index), op);
    TRI_ASSERT(delta.ok());
    return std::move(delta).value();
  }
  static void MergeDelta(State& state, const Delta& delta) { TRI_ASSERT(state.Merge(delta).ok()); }
  // Deltas join into delta-groups with the ordinary merge.
  static void JoinDeltas(Delta& group, const Delta& delta) { TRI_ASSERT(group.Merge(delta).ok()); }
  static void Merge(State& state, const State& other) { TRI_ASSERT(state.Merge(other).ok()); }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    Knowledge overwritten;
    for (std::size_t id = 0; id < events.size(); ++id) {
      if (seen.Has(id)) overwritten.Merge(events[id].overwrites);
    }
    std::vector<std::string> expected;
    for (std::size_t id = 0; id < events.size(); ++id) {
      if (seen.Has(id) && !overwritten.Has(id)) expected.push_back(events[id].value);
    }
    std::vector<std::string> actual;
    for (const MvRegister::Entry& entry : state.entries())
      actual.push_back(entry.value);
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    if (actual == expected) return "";
    std::string want;
    for (const std::string& v : expected)
      want += (want.empty() ? "" : ", ") + v;
    return "the writes seen and not overwritten are [" + want + "]";
  }
  static std::string DescribeOp(const Op& op) { return "write(" + op + ")"; }
  static std::string DescribeState(const State& state) { return state.ToString(); }
};

// Broken on purpose: merge forgets the other side's causal context beyond the dots
// of its live values, so a value the other side had overwritten survives here and
// the writes that overwrote it no longer hide it.
struct ContextBlindMvRegisterSpec : MvRegisterSpec {
  static void MergeDelta(State& state, const Delta& delta) { Merge(state, delta); }
  static void Merge(State& state, const State& other) {
    MvRegister blind_other = other;
    // Drop the context's information by re-deriving it from the entries only.
    std::string bytes;
    PutHeader(bytes, TypeTag::kMvRegister);
    DottedVersionVector context;
    for (const MvRegister::Entry& entry : other.entries())
      context.Add(entry.dot);
    context.EncodeBody(bytes);
    coding::PutVarint64(bytes, other.entries().size());
    for (const MvRegister::Entry& entry : other.entries()) {
      PutDot(bytes, entry.dot);
      coding::PutLengthPrefixed(bytes, entry.value);
    }
    auto decoded = MvRegister::Decode(bytes);
    TRI_ASSERT(decoded.ok());
    TRI_ASSERT(state.Merge(*decoded).ok());
  }
};

// ---------------------------------------------------------------------------
// LWW map. Model: per key, the largest write seen (stamp, then a value over a
// tombstone, then value bytes), tombstones included.

struct LwwMapSpec {
  using State = ClockedReplica<LwwMap>;
  using Delta = LwwMap;
  struct Op {
    std::uint64_t advance_ms = 0;
    std::string key;
    bool remove = false;
    std::string value;
    LwwStamp stamp;
  };
  struct Event {
    StampedEvent write;
    std::string key;
    bool removed = false;
    std::string value;
  };

  static State NewReplica(std::uint32_t index) {
    State state;
    state.id = ReplicaOf(index);
    return state;
  }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State& state) {
    Op op;
    op.key = std::string(1, static_cast<char>('a' + choice % 3));
    op.remove = (choice >> 4) % 4 == 0;
    if (!op.remove) op.value = "v" + std::to_string((choice >> 6) % 5);
    op.advance_ms = (choice >> 12) % 3;
    op.stamp = NextStamp(state, op.advance_ms);
    return op;
  }
  static Event Record(const Op& op, std::uint32_t, const std::vector<Event>& events,
                      const Knowledge& seen) {
    return {{op.stamp, MaxSeenStamp(events, seen)}, op.key, op.remove, op.value};
  }
  static Delta Mutate(State& state, std::uint32_t, const Op& op) {
    const LwwStamp stamp = TakeStamp(state, op.advance_ms);
    TRI_ASSERT(stamp == op.stamp);
    auto delta =
        op.remove ? state.crdt.Remove(op.key, stamp) : state.crdt.Put(op.key, op.value, stamp);
    TRI_ASSERT(delta.ok());
    return std::move(delta).value();
  }
  static void MergeDelta(State& state, const Delta& delta) {
    for (const auto& [key, entry] : delta.entries())
      Receive(state, entry.stamp);
    TRI_ASSERT(state.crdt.Merge(delta).ok());
  }
  static void Merge(State& state, const State& other) { MergeDelta(state, other.crdt); }
  static void JoinDeltas(Delta& group, const Delta& delta) { TRI_ASSERT(group.Merge(delta).ok()); }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    std::string error = CheckCausalStamps(events, seen);
    if (!error.empty()) return error;
    // Per key seen, the winning event (few keys: a linear scan beats a map).
    std::vector<const Event*> winners;
    auto beats = [](const Event& a, const Event& b) {
      return std::tie(a.write.stamp, b.removed, a.value) >
             std::tie(b.write.stamp, a.removed, b.value);
    };
    for (std::size_t id = 0; id < events.size(); ++id) {
      if (!seen.Has(id)) continue;
      const Event& e = events[id];
      auto it = std::find_if(winners.begin(), winners.end(),
                             [&](const Event* w) { return w->key == e.key; });
      if (it == winners.end()) {
        winners.push_back(&e);
      } else if (beats(e, **it)) {
        *it = &e;
      }
    }
    const auto& actual = state.crdt.entries();
    bool equal = actual.size() == winners.size();
    for (const Event* w : winners) {
      if (!equal) break;
      auto it = actual.find(w->key);
      equal = it != actual.end() && it->second.stamp == w->write.stamp &&
              it->second.removed == w->removed && it->second.value == w->value;
    }
    if (equal) return "";
    LwwMap model;
    for (const Event* w : winners) {
      auto delta = w->removed ? model.Remove(w->key, w->write.stamp)
                              : model.Put(w->key, w->value, w->write.stamp);
      TRI_ASSERT(delta.ok());
    }
    return "the last writes seen per key are " + model.ToString();
  }
  static std::string DescribeOp(const Op& op) {
    return (op.remove ? "remove(" + op.key : "put(" + op.key + "=" + op.value) + ")@" +
           op.stamp.ToString();
  }
  static std::string DescribeState(const State& state) { return state.crdt.ToString(); }
};

// Broken on purpose: a put always beats a tombstone (remove loses whatever the
// stamps say), so a key removed after its put comes back.
struct PutBeatsRemoveMapSpec : LwwMapSpec {
  static void MergeDelta(State& state, const Delta& delta) {
    for (const auto& [key, entry] : delta.entries()) {
      Receive(state, entry.stamp);
      const auto& current = state.crdt.entries();
      auto it = current.find(key);
      const bool keep_current =
          it != current.end() && std::make_tuple(!it->second.removed, it->second.stamp) >=
                                     std::make_tuple(!entry.removed, entry.stamp);
      if (keep_current) continue;
      LwwMap single;
      auto applied = entry.removed ? single.Remove(key, entry.stamp)
                                   : single.Put(key, entry.value, entry.stamp);
      TRI_ASSERT(applied.ok());
      // Replace the key's entry whatever the stamps: a fresh map with every
      // other key kept, then this one.
      LwwMap rebuilt;
      for (const auto& [k, e] : current) {
        if (k == key) continue;
        auto kept = e.removed ? rebuilt.Remove(k, e.stamp) : rebuilt.Put(k, e.value, e.stamp);
        TRI_ASSERT(kept.ok());
      }
      TRI_ASSERT(rebuilt.Merge(single).ok());
      state.crdt = std::move(rebuilt);
    }
  }
  static void Merge(State& state, const State& other) { MergeDelta(state, other.crdt); }
};

}  // namespace tri::crdt::testing
