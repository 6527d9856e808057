// OrSet (ORSWOT): add-wins semantics case by case, delta mutators out of order,
// bounds, the encoding, the merge laws and the convergence schedules against an
// independent model: the OR-Set with tombstones (Shapiro et al. 2011), where every
// add is a unique event and a remove (or a later add of the same element) covers
// exactly the adds its replica could see.
#include "crdt/or_set.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bitset>
#include <string>
#include <vector>

#include "crdt/convergence.h"
#include "crdt/encoding.h"

namespace tri::crdt {
namespace {

using testing::BatchResult;
using testing::Knowledge;

OrSet MustAdd(OrSet& set, ReplicaId replica, std::string_view element) {
  Result<OrSet> delta = set.Add(replica, element);
  TRI_ASSERT(delta.ok());
  return *std::move(delta);
}

void MustMerge(OrSet& set, const OrSet& other) {
  const Status status = set.Merge(other);
  TRI_ASSERT(status.ok());
}

// The type adapter for the harness, with the model as the sequential spec.
struct OrSetSpec {
  using State = OrSet;
  using Delta = OrSet;
  struct Op {
    bool add = true;
    std::uint32_t element = 0;
  };
  // Event ids as a fixed bitset: the model allocates nothing per step. Schedules
  // have at most kMaxEvents ops (ScheduleOptions::max_ops is 12 by default).
  static constexpr std::size_t kMaxEvents = 64;
  using EventSet = std::bitset<kMaxEvents>;
  // The model's view of one op: which adds of its element it covers (the adds its
  // replica could see: it removes them, or an add replaces them), and for an add,
  // the dot the model expects it to get: the n-th add at replica r is (r, n).
  struct Event {
    bool add = true;
    std::uint32_t element = 0;
    Dot dot;
    EventSet covers;
  };
  static constexpr std::uint32_t kElements = 3;

  static ReplicaId Id(std::uint32_t index) { return index + 1; }
  static std::string Name(std::uint32_t element) { return std::string(1, char('a' + element)); }

  static State NewReplica(std::uint32_t) { return OrSet(); }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State&) {
    return Op{choice % 2 == 0, static_cast<std::uint32_t>((choice / 2) % kElements)};
  }

  // Adds of `element` seen and not covered by any event seen.
  static EventSet Visible(std::uint32_t element, const std::vector<Event>& events,
                          const Knowledge& seen) {
    EventSet adds;
    EventSet covered;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!seen.Has(i) || events[i].element != element) continue;
      covered |= events[i].covers;
      if (events[i].add) adds.set(i);
    }
    return adds & ~covered;
  }

  static Event Record(const Op& op, std::uint32_t index, const std::vector<Event>& events,
                      const Knowledge& seen) {
    TRI_ASSERT_MSG(events.size() < kMaxEvents, "schedule longer than the model's bitset");
    Event event{op.add, op.element, {}, Visible(op.element, events, seen)};
    if (op.add) {
      std::uint64_t adds_here = 0;
      for (const Event& e : events)
        adds_here += (e.add && e.dot.replica == Id(index)) ? 1 : 0;
      event.dot = Dot{Id(index), adds_here + 1};
    }
    return event;
  }

  static Delta Mutate(State& state, std::uint32_t index, const Op& op) {
    return op.add ? MustAdd(state, Id(index), Name(op.element)) : state.Remove(Name(op.element));
  }
  static void MergeDelta(State& state, const Delta& delta) { MustMerge(state, delta); }
  static void JoinDeltas(Delta& group, const Delta& delta) { MustMerge(group, delta); }
  static void Merge(State& state, const State& other) { MustMerge(state, other); }

  // Each element holds exactly the dots of its visible adds; the context holds
  // exactly the dots of the adds seen or covered by an event seen.
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    std::size_t present = 0;
    for (std::uint32_t e = 0; e < kElements; ++e) {
      const EventSet visible = Visible(e, events, seen);
      const char name = static_cast<char>('a' + e);
      auto it = std::find_if(
          state.entries().begin(), state.entries().end(),
          [&](const OrSet::Entry& x) { return x.element.size() == 1 && x.element[0] == name; });
      const std::size_t held = it == state.entries().end() ? 0 : it->dots.size();
      bool same = held == visible.count();
      for (std::size_t i = 0; same && i < events.size(); ++i) {
        same =
            !visible.test(i) || std::binary_search(it->dots.begin(), it->dots.end(), events[i].dot);
      }
      if (!same) {
        std::string want;
        for (std::size_t i = 0; i < events.size(); ++i) {
          if (visible.test(i)) want += DotToString(events[i].dot) + " ";
        }
        return "element " + Name(e) + " should hold the visible adds [ " + want + "]";
      }
      present += visible.any() ? 1 : 0;
    }
    if (present != state.size()) return "holds elements no add made";
    EventSet context;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!seen.Has(i)) continue;
      if (events[i].add) context.set(i);
      context |= events[i].covers;
    }
    std::uint64_t held = state.context().cloud().size();
    for (const Dot& d : state.context().prefix().entries())
      held += d.counter;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (context.test(i) && !state.context().Contains(events[i].dot)) {
        return "context misses the seen dot " + DotToString(events[i].dot);
      }
    }
    if (held != context.count()) {
      return "context holds " + std::to_string(held) + " dots, the events seen name " +
             std::to_string(context.count());
    }
    return "";
  }

  static std::string DescribeOp(const Op& op) {
    return (op.add ? "add(" : "remove(") + Name(op.element) + ")";
  }
  static std::string DescribeState(const State& state) { return state.ToString(); }
};

// The bug the causal context exists to prevent: a receiver that folds a delta's
// context into a version vector claims the gaps' dots as seen, and drops adds it
// never saw when they arrive.
struct ContextAsVersionVectorSpec : OrSetSpec {
  static void MergeDelta(State& state, const Delta& delta) {
    VersionVector flat = delta.context().prefix();
    for (const Dot& d : delta.context().cloud())
      flat.Add(d);
    Result<OrSet> wrong = OrSet::FromParts(delta.entries(), DottedVersionVector(flat));
    TRI_ASSERT(wrong.ok());
    MustMerge(state, *wrong);
  }
};

// Remove-wins: a dot survives a merge only if both sides hold it.
struct RemoveWinsSpec : OrSetSpec {
  static void Merge(State& state, const State& other) {
    std::vector<OrSet::Entry> kept;
    for (const OrSet::Entry& mine : state.entries()) {
      for (const OrSet::Entry& theirs : other.entries()) {
        if (mine.element != theirs.element) continue;
        OrSet::Entry both{mine.element, {}};
        std::set_intersection(mine.dots.begin(), mine.dots.end(), theirs.dots.begin(),
                              theirs.dots.end(), std::back_inserter(both.dots));
        if (!both.dots.empty()) kept.push_back(both);
      }
    }
    DottedVersionVector context = state.context();
    context.Merge(other.context());
    state = *OrSet::FromParts(std::move(kept), std::move(context));
  }
};

// --- semantics, case by case -------------------------------------------------

TEST(OrSet, AddThenRemoveLeavesOnlyTheContext) {
  OrSet set;
  MustAdd(set, 1, "x");
  EXPECT_TRUE(set.Contains("x"));
  set.Remove("x");
  EXPECT_FALSE(set.Contains("x"));
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(set.context().Contains(Dot{1, 1}));
}

TEST(OrSet, ConcurrentAddWinsOverRemove) {
  OrSet a;
  OrSet b;
  MustMerge(b, MustAdd(a, 1, "x"));
  const OrSet remove = b.Remove("x");    // b saw a's add and removes it
  const OrSet add = MustAdd(a, 1, "x");  // concurrently, a adds x again
  MustMerge(a, remove);
  MustMerge(b, add);
  EXPECT_TRUE(a.Contains("x"));
  EXPECT_TRUE(b.Contains("x"));
  EXPECT_EQ(a, b);
}

TEST(OrSet, RemoveDeletesOnlyTheAddsItObserved) {
  OrSet a;
  OrSet b;
  const OrSet add_a = MustAdd(a, 1, "x");
  const OrSet add_b = MustAdd(b, 2, "x");
  MustMerge(b, add_a);
  const OrSet remove = b.Remove("x");  // observed 1:1 and 2:1
  OrSet c;
  const OrSet add_c = MustAdd(c, 3, "x");  // not observed by the remove
  for (OrSet* s : {&a, &b, &c}) {
    for (const OrSet* d : {&add_a, &add_b, &add_c, &remove})
      MustMerge(*s, *d);
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, c);
  ASSERT_EQ(a.entries().size(), 1u);
  EXPECT_EQ(a.entries()[0].dots, std::vector<Dot>{(Dot{3, 1})});
}

TEST(OrSet, ReAddReplacesTheDotsThisReplicaSaw) {
  OrSet set;
  MustAdd(set, 1, "x");
  const OrSet delta = MustAdd(set, 1, "x");
  ASSERT_EQ(set.entries().size(), 1u);
  EXPECT_EQ(set.entries()[0].dots, std::vector<Dot>{(Dot{1, 2})});
  EXPECT_TRUE(delta.context().Contains(Dot{1, 1}));  // carries the replaced dot
}

TEST(OrSet, DeltaPastAGapDoesNotClaimTheMissingEvents) {
  OrSet a;
  OrSet b;
  const OrSet first = MustAdd(a, 1, "x");
  const OrSet second = MustAdd(a, 1, "y");
  MustMerge(b, second);  // 1:2 arrives before 1:1
  EXPECT_FALSE(b.context().Contains(Dot{1, 1}));
  MustMerge(b, first);  // the late delta still adds x
  EXPECT_TRUE(b.Contains("x"));
  EXPECT_TRUE(b.Contains("y"));
  EXPECT_TRUE(b.context().cloud().empty());  // the gap closed and compacted
  EXPECT_EQ(a, b);
}

TEST(OrSet, LateAddDeltaIsDiscardedAfterItsRemoveArrived) {
  OrSet a;
  OrSet b;
  OrSet c;
  const OrSet add = MustAdd(a, 1, "x");
  MustMerge(b, add);
  const OrSet remove = b.Remove("x");
  MustMerge(c, remove);  // the remove reaches c before the add
  MustMerge(c, add);
  EXPECT_FALSE(c.Contains("x"));
}

TEST(OrSet, MergingADuplicateDeltaChangesNothing) {
  OrSet a;
  OrSet b;
  const OrSet add = MustAdd(a, 1, "x");
  MustMerge(b, add);
  const OrSet once = b;
  MustMerge(b, add);
  EXPECT_EQ(b, once);
}

TEST(OrSet, RemovingAnAbsentElementIsAnEmptyDelta) {
  OrSet set;
  const OrSet delta = set.Remove("nothing");
  EXPECT_TRUE(delta.empty());
  EXPECT_TRUE(delta.context().empty());
}

// --- bounds --------------------------------------------------------------------

TEST(OrSet, ElementLongerThanMaxValueBytesIsRefused) {
  OrSet set(Limits{.max_value_bytes = 4});
  const Result<OrSet> delta = set.Add(1, "12345");
  ASSERT_FALSE(delta.ok());
  EXPECT_EQ(delta.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(delta.status().message().find("max_value_bytes 4"), std::string::npos);
}

TEST(OrSet, AddPastMaxElementsIsRefusedAndChangesNothing) {
  OrSet set(Limits{.max_elements = 2});
  MustAdd(set, 1, "a");
  MustAdd(set, 1, "b");
  const OrSet before = set;
  const Result<OrSet> delta = set.Add(1, "c");
  ASSERT_FALSE(delta.ok());
  EXPECT_EQ(delta.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(delta.status().message().find("max_elements 2"), std::string::npos);
  EXPECT_EQ(set, before);
  EXPECT_TRUE(set.Add(1, "a").ok());  // re-adding a present element is no new element
}

TEST(OrSet, MergePastMaxElementsIsRefusedAndChangesNothing) {
  OrSet a(Limits{.max_elements = 2});
  OrSet b;
  MustAdd(a, 1, "a");
  MustAdd(a, 1, "b");
  MustAdd(b, 2, "c");
  const OrSet before = a;
  const Status status = a.Merge(b);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(a, before);
}

TEST(OrSet, NewReplicaPastMaxReplicasIsRefused) {
  OrSet set(Limits{.max_replicas = 2});
  MustAdd(set, 1, "a");
  MustAdd(set, 2, "a");
  const Result<OrSet> delta = set.Add(3, "a");
  ASSERT_FALSE(delta.ok());
  EXPECT_NE(delta.status().message().find("max_replicas 2"), std::string::npos);
  EXPECT_TRUE(set.Add(2, "b").ok());
}

// --- encoding ------------------------------------------------------------------

TEST(OrSet, EncodingRoundTripsAStateWithGaps) {
  OrSet a;
  OrSet b;
  MustAdd(a, 1, "x");
  const OrSet late = MustAdd(a, 1, "y");
  MustMerge(b, late);
  MustAdd(b, 300, "z");
  const std::string bytes = b.Encode();
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), static_cast<std::uint8_t>(TypeTag::kOrSet));
  const Result<OrSet> decoded = OrSet::Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, b);
}

TEST(OrSet, DecodeRefusesEveryMalformedInputWithTheField) {
  OrSet set;
  MustAdd(set, 1, "x");
  MustAdd(set, 2, "y");
  const std::string good = set.Encode();
  for (std::size_t n = 0; n < good.size(); ++n) {
    const Result<OrSet> truncated = OrSet::Decode(good.substr(0, n));
    EXPECT_FALSE(truncated.ok()) << "prefix of " << n << " bytes";
  }
  EXPECT_NE(OrSet::Decode(good + "!").status().message().find("trailing"), std::string::npos);
  std::string wrong_tag = good;
  wrong_tag[0] = static_cast<char>(TypeTag::kGSet);
  EXPECT_NE(OrSet::Decode(wrong_tag).status().message().find("type tag"), std::string::npos);
  std::string wrong_version = good;
  wrong_version[1] = 9;
  EXPECT_NE(OrSet::Decode(wrong_version).status().message().find("format version 9"),
            std::string::npos);

  // A dot the context has not seen, two entries sharing a dot, unsorted entries.
  DottedVersionVector context;
  context.Add(Dot{1, 1});
  std::string unseen = OrSet::FromParts({}, context)->Encode();
  EXPECT_FALSE(OrSet::FromParts({{"x", {Dot{1, 2}}}}, context).ok());
  const Result<OrSet> shared = OrSet::FromParts({{"x", {Dot{1, 1}}}, {"y", {Dot{1, 1}}}}, context);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.status().message().find("tags two entries"), std::string::npos);
  context.Add(Dot{1, 2});
  const Result<OrSet> unsorted =
      OrSet::FromParts({{"y", {Dot{1, 1}}}, {"x", {Dot{1, 2}}}}, context);
  ASSERT_FALSE(unsorted.ok());
  EXPECT_NE(unsorted.status().message().find("entries[1]"), std::string::npos);
  EXPECT_FALSE(OrSet::FromParts({{"x", {}}}, context).ok());

  // Limits apply to decoded input.
  const Result<OrSet> too_many = OrSet::Decode(good, Limits{.max_elements = 1});
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("max_elements"), std::string::npos);
}

// --- properties ----------------------------------------------------------------

RC_GTEST_PROP(OrSetProperties, MergeIsCommutativeAssociativeIdempotent, ()) {
  const auto states = testing::StatesAfter<OrSetSpec>(*testing::GenScript(3, 3));
  const std::string error = testing::CheckMergeLaws<OrSetSpec>(states[0], states[1], states[2]);
  RC_ASSERT(error.empty());
}

RC_GTEST_PROP(OrSetProperties, EncodingRoundTrips, ()) {
  for (const OrSet& state : testing::StatesAfter<OrSetSpec>(*testing::GenScript())) {
    const Result<OrSet> decoded = OrSet::Decode(state.Encode());
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == state);
  }
}

RC_GTEST_PROP(OrSetProperties, ShrinkableSchedulesConvergeToTheAddWinsModel, ()) {
  const testing::Outcome outcome =
      testing::RunScript<OrSetSpec>(*testing::GenScript(), {.check_every_step = true});
  RC_ASSERT(outcome.ok());
}

TEST(OrSetProperties, MergeLawsHoldOnSeededStates) {
  const BatchResult result = testing::RunMergeLaws<OrSetSpec>(1, 50'000);
  EXPECT_TRUE(result.ok()) << result.failure;
}

TEST(OrSetProperties, ContextFoldedIntoAVersionVectorIsCaught) {
  const BatchResult result = testing::RunSchedules<ContextAsVersionVectorSpec>(1, 100'000);
  ASSERT_FALSE(result.ok()) << "the broken context survived " << result.schedules_run;
  testing::PrintCaught("or-set context folded into a version vector", result);
  EXPECT_NE(result.failure.find("schedule seed"), std::string::npos);
}

TEST(OrSetProperties, RemoveWinsMergeIsCaught) {
  const BatchResult result = testing::RunSchedules<RemoveWinsSpec>(1, 100'000);
  ASSERT_FALSE(result.ok()) << "remove-wins survived " << result.schedules_run;
  testing::PrintCaught("or-set remove-wins merge", result);
}

// 10^6 schedules per `make test`, in eight cases so that ctest -j runs them side by side.
constexpr std::uint64_t kSchedules = 1'000'000;
constexpr std::uint64_t kBatches = 8;

class OrSetConvergence : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(OrSetConvergence, RandomSchedulesConvergeToTheAddWinsModel) {
  const BatchResult result =
      testing::RunConvergenceBatch<OrSetSpec>("or-set", GetParam(), kBatches, kSchedules);
  EXPECT_TRUE(result.ok()) << result.failure;
}

INSTANTIATE_TEST_SUITE_P(Batches, OrSetConvergence, ::testing::Range<std::uint64_t>(0, kBatches));

}  // namespace
}  // namespace tri::crdt
