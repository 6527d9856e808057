// Barriers: one test per rule of rsm/barrier_table.h, the command codec,
// snapshots that refuse every broken invariant, and RapidCheck properties
// (a barrier releases exactly once, only when its threshold is met, and a
// snapshot restores the same table).
#include "rsm/barrier_table.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "rsm/barrier_codec.h"

namespace tri::rsm {
namespace {

class BarrierHarness {
 public:
  explicit BarrierHarness(BarrierOptions options = {}) : table_(options) {}

  KvOr<BarrierReply> Run(const BarrierCommand& c, std::uint64_t at_ms) {
    now_ms_ = std::max(now_ms_, at_ms);
    return table_.Apply(++index_, now_ms_, c);
  }
  BarrierReply Ok(const BarrierCommand& c, std::uint64_t at_ms = 0) {
    auto reply = Run(c, at_ms);
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    return reply.ok() ? *reply : BarrierReply{};
  }
  std::string Error(const BarrierCommand& c, std::uint64_t at_ms = 0) {
    auto reply = Run(c, at_ms);
    EXPECT_FALSE(reply.ok());
    return reply.ok() ? "" : reply.error().message;
  }
  BarrierState State(const std::string& name) {
    const Barrier* b = table_.Find(name);
    EXPECT_NE(b, nullptr) << name;
    return b ? b->state : BarrierState::kCancelled;
  }

  BarrierTable& table() { return table_; }
  std::uint64_t index() const { return index_; }

 private:
  BarrierTable table_;
  std::uint64_t index_ = 0;
  std::uint64_t now_ms_ = 0;
};

BarrierCreateCommand Create(std::string name, std::uint32_t n) {
  return BarrierCreateCommand{.name = std::move(name), .participants = n};
}
BarrierArriveCommand Arrive(std::string name, std::string who) {
  return BarrierArriveCommand{std::move(name), std::move(who)};
}

TEST(BarrierTable, FullBarrierReleasesAtTheNthDistinctArrivalAndRecordsWhoAndWhen) {
  BarrierHarness h;
  BarrierReply created = h.Ok(Create("b", 3), 100);
  EXPECT_EQ(created.state, BarrierState::kCollecting);
  EXPECT_EQ(created.threshold, 3u);
  EXPECT_TRUE(h.Ok(Arrive("b", "p1"), 110).counted);
  EXPECT_EQ(h.Ok(Arrive("b", "p2"), 120).state, BarrierState::kCollecting);
  BarrierReply last = h.Ok(Arrive("b", "p3"), 130);
  EXPECT_TRUE(last.counted);
  EXPECT_EQ(last.state, BarrierState::kReleased);
  const Barrier& b = *h.table().Find("b");
  EXPECT_EQ(b.ended_ms, 130u);
  EXPECT_EQ(b.arrivals, (std::vector<BarrierArrival>{{"p1", 110}, {"p2", 120}, {"p3", 130}}));
}

TEST(BarrierTable, ArrivingTwiceCountsOnce) {
  BarrierHarness h;
  h.Ok(Create("b", 2));
  h.Ok(Arrive("b", "p1"));
  BarrierReply again = h.Ok(Arrive("b", "p1"));
  EXPECT_FALSE(again.counted);
  EXPECT_EQ(again.arrived, 1u);
  EXPECT_EQ(again.state, BarrierState::kCollecting);
}

TEST(BarrierTable, CountThresholdReleasesBeforeAllArriveAndLaterArrivalsAreNotRecorded) {
  BarrierHarness h;
  h.Ok(BarrierCreateCommand{.name = "b",
                            .participants = 5,
                            .threshold = {.kind = BarrierThreshold::Kind::kCount, .count = 2}});
  h.Ok(Arrive("b", "p1"));
  EXPECT_EQ(h.Ok(Arrive("b", "p2")).state, BarrierState::kReleased);
  BarrierReply late = h.Ok(Arrive("b", "p3"));
  EXPECT_FALSE(late.counted);
  EXPECT_EQ(late.state, BarrierState::kReleased);
  EXPECT_EQ(h.table().Find("b")->arrivals.size(), 2u);
}

TEST(BarrierTable, FractionThresholdRoundsUp) {
  BarrierHarness h;
  auto fraction = [](std::uint32_t num, std::uint32_t den) {
    return BarrierThreshold{
        .kind = BarrierThreshold::Kind::kFraction, .numerator = num, .denominator = den};
  };
  EXPECT_EQ(h.Ok(BarrierCreateCommand{.name = "a", .participants = 3, .threshold = fraction(2, 3)})
                .threshold,
            2u);
  EXPECT_EQ(h.Ok(BarrierCreateCommand{.name = "b", .participants = 10, .threshold = fraction(1, 3)})
                .threshold,
            4u);
  EXPECT_EQ(
      h.Ok(BarrierCreateCommand{.name = "c", .participants = 1, .threshold = fraction(1, 1000)})
          .threshold,
      1u);
  EXPECT_EQ(
      h.Error(BarrierCreateCommand{.name = "d", .participants = 3, .threshold = fraction(4, 3)}),
      "barrier \"d\": threshold fraction 4/3 is not in (0, 1]");
  EXPECT_EQ(
      h.Error(BarrierCreateCommand{.name = "d", .participants = 3, .threshold = fraction(1, 0)}),
      "barrier \"d\": threshold fraction 1/0 is not in (0, 1]");
}

TEST(BarrierTable, NamedParticipantsOnlyMayArriveAndTimeoutListsTheAbsent) {
  BarrierHarness h;
  h.Ok(BarrierCreateCommand{.name = "b", .participant_names = {"x", "y", "z"}, .timeout_ms = 50},
       1000);
  EXPECT_EQ(h.Error(Arrive("b", "w")), "barrier \"b\": \"w\" is not one of its participants");
  h.Ok(Arrive("b", "y"), 1010);
  BarrierReply expired = h.Ok(BarrierExpireCommand{}, 1050);
  EXPECT_EQ(expired.timed_out, (std::vector<std::string>{"b"}));
  EXPECT_EQ(h.State("b"), BarrierState::kTimedOut);
  EXPECT_EQ(AbsentParticipants(*h.table().Find("b")), (std::vector<std::string>{"x", "z"}));
}

TEST(BarrierTable, ExpireTimesOutOnlyBarriersWhoseDeadlinePassedInLogTime) {
  BarrierHarness h;
  h.Ok(BarrierCreateCommand{.name = "early", .participants = 2, .timeout_ms = 100}, 1000);
  h.Ok(BarrierCreateCommand{.name = "late", .participants = 2, .timeout_ms = 500}, 1000);
  h.Ok(Create("never", 2), 1000);
  EXPECT_EQ(h.table().NextDeadline(), 1100u);
  EXPECT_TRUE(h.Ok(BarrierExpireCommand{}, 1099).timed_out.empty());  // early: no change
  EXPECT_EQ(h.Ok(BarrierExpireCommand{}, 1100).timed_out, (std::vector<std::string>{"early"}));
  EXPECT_EQ(h.table().Find("early")->ended_ms, 1100u);
  EXPECT_EQ(h.State("late"), BarrierState::kCollecting);
  EXPECT_EQ(h.table().NextDeadline(), 1500u);
  EXPECT_TRUE(h.Ok(BarrierExpireCommand{}, 1200).timed_out.empty());  // repeated: no change
  h.Ok(BarrierExpireCommand{}, 9999);
  EXPECT_EQ(h.State("never"), BarrierState::kCollecting);
  EXPECT_EQ(h.table().NextDeadline(), std::numeric_limits<std::uint64_t>::max());
}

TEST(BarrierTable, ReleasedBarrierIsNeverTimedOutAfterwards) {
  BarrierHarness h;
  h.Ok(BarrierCreateCommand{.name = "b", .participants = 1, .timeout_ms = 10}, 0);
  h.Ok(Arrive("b", "p"), 5);
  EXPECT_TRUE(h.Ok(BarrierExpireCommand{}, 100).timed_out.empty());
  EXPECT_EQ(h.State("b"), BarrierState::kReleased);
}

TEST(BarrierTable, CascadingSuccessorAcceptsArrivalsOnlyAfterItsPredecessorReleased) {
  BarrierHarness h;
  h.Ok(Create("stage1", 1));
  BarrierReply second =
      h.Ok(BarrierCreateCommand{.name = "stage2", .participants = 1, .predecessor = "stage1"});
  EXPECT_EQ(second.state, BarrierState::kWaitingForPredecessor);
  EXPECT_EQ(h.Error(Arrive("stage2", "p")),
            "barrier \"stage2\": waits for its predecessor \"stage1\" to release; arrivals are "
            "accepted after that");
  h.table().TakeChanged();
  h.Ok(Arrive("stage1", "p"));
  EXPECT_EQ(h.State("stage2"), BarrierState::kCollecting);
  EXPECT_EQ(h.table().TakeChanged(), (std::vector<std::string>{"stage1", "stage2"}));
  EXPECT_EQ(h.Ok(Arrive("stage2", "p")).state, BarrierState::kReleased);
  // A successor of a released barrier collects at once.
  EXPECT_EQ(h.Ok(BarrierCreateCommand{.name = "stage3", .participants = 1, .predecessor = "stage2"})
                .state,
            BarrierState::kCollecting);
}

TEST(BarrierTable, PredecessorEndingWithoutReleaseCancelsTheWholeChain) {
  BarrierHarness h;
  h.Ok(BarrierCreateCommand{.name = "a", .participants = 1, .timeout_ms = 10}, 0);
  h.Ok(BarrierCreateCommand{.name = "b", .participants = 1, .predecessor = "a"});
  h.Ok(BarrierCreateCommand{.name = "c", .participants = 1, .predecessor = "b"});
  BarrierReply expired = h.Ok(BarrierExpireCommand{}, 10);
  EXPECT_EQ(expired.timed_out, (std::vector<std::string>{"a"}));
  EXPECT_EQ(expired.cancelled_successors, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(h.State("b"), BarrierState::kCancelled);
  EXPECT_EQ(h.State("c"), BarrierState::kCancelled);
  EXPECT_EQ(h.Error(BarrierCreateCommand{.name = "d", .participants = 1, .predecessor = "a"}),
            "barrier \"d\": predecessor \"a\" ended timed_out and never releases");
  EXPECT_EQ(h.Error(BarrierCreateCommand{.name = "d", .participants = 1, .predecessor = "zz"}),
            "barrier \"d\": predecessor \"zz\" does not exist");
}

TEST(BarrierTable, CancelEndsAWaitingOrCollectingBarrierAndItsWaitingSuccessors) {
  BarrierHarness h;
  h.Ok(Create("a", 2));
  h.Ok(BarrierCreateCommand{.name = "b", .participants = 1, .predecessor = "a"});
  h.Ok(Arrive("a", "p"));
  BarrierReply cancelled = h.Ok(BarrierCancelCommand{"a"});
  EXPECT_EQ(cancelled.state, BarrierState::kCancelled);
  EXPECT_EQ(cancelled.cancelled_successors, (std::vector<std::string>{"b"}));
  EXPECT_EQ(h.Error(Arrive("a", "q")), "barrier \"a\": ended cancelled; \"q\" arrived too late");
  EXPECT_EQ(h.Error(BarrierCancelCommand{"a"}),
            "barrier \"a\": ended cancelled already; only a waiting or collecting barrier can be "
            "cancelled");
}

TEST(BarrierTable, RemoveDropsTheBarrierAndCancelsSuccessorsStillWaitingForIt) {
  BarrierHarness h;
  h.Ok(Create("a", 2));
  h.Ok(BarrierCreateCommand{.name = "b", .participants = 1, .predecessor = "a"});
  BarrierReply removed = h.Ok(BarrierRemoveCommand{"a"});
  EXPECT_EQ(removed.state, BarrierState::kCollecting);
  EXPECT_EQ(removed.cancelled_successors, (std::vector<std::string>{"b"}));
  EXPECT_EQ(h.table().Find("a"), nullptr);
  EXPECT_EQ(h.State("b"), BarrierState::kCancelled);
  EXPECT_EQ(h.Error(BarrierRemoveCommand{"a"}), "barrier \"a\": does not exist");
  h.Ok(Create("a", 1));  // the name is free again
}

TEST(BarrierTable, CreateRefusesDuplicatesAndBadShapesWithClearErrors) {
  BarrierHarness h(BarrierOptions{.max_barriers = 2,
                                  .max_participants = 3,
                                  .max_name_bytes = 4,
                                  .max_participant_bytes = 2,
                                  .max_timeout_ms = 1000});
  h.Ok(Create("a", 1));
  EXPECT_EQ(h.Error(Create("a", 1)), "barrier \"a\": already exists");
  EXPECT_EQ(h.Error(Create("b", 0)), "barrier \"b\": participants must be 1..3, not 0");
  EXPECT_EQ(h.Error(Create("b", 4)), "barrier \"b\": participants must be 1..3, not 4");
  EXPECT_EQ(h.Error(Create("abcde", 1)),
            "barrier \"abcde\": name is 5 bytes, above the bound of 4");
  EXPECT_EQ(h.Error(Create("", 1)), "barrier: the barrier name is empty");
  EXPECT_EQ(h.Error(BarrierCreateCommand{.name = "b", .participant_names = {"x", "x"}}),
            "barrier \"b\": participant \"x\" named twice");
  EXPECT_EQ(h.Error(BarrierCreateCommand{.name = "b", .participant_names = {"xyz"}}),
            "barrier \"b\": participant name \"xyz\" is empty or above 2 bytes");
  EXPECT_EQ(h.Error(BarrierCreateCommand{
                .name = "b", .participants = 2, .participant_names = {"x", "y", "z"}}),
            "barrier \"b\": 2 participants but 3 participant names");
  EXPECT_EQ(h.Error(BarrierCreateCommand{
                .name = "b",
                .participants = 2,
                .threshold = {.kind = BarrierThreshold::Kind::kCount, .count = 3}}),
            "barrier \"b\": threshold 3 is not in 1..2");
  EXPECT_EQ(h.Error(BarrierCreateCommand{.name = "b", .participants = 2, .timeout_ms = 1001}),
            "barrier \"b\": timeout 1001 ms is above the bound of 1000 ms");
  EXPECT_EQ(h.Error(BarrierCreateCommand{.name = "b", .participants = 1, .predecessor = "b"}),
            "barrier \"b\": it cannot be its own predecessor");
  h.Ok(Create("b", 1));
  auto full = h.Run(Create("c", 1), 0);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().grpc_code, GrpcCode::kResourceExhausted);
  EXPECT_EQ(full.error().message,
            "barrier \"c\": too many barriers (bound 2); remove ended ones to make room");
  EXPECT_EQ(h.table().barriers().size(), 2u);
}

TEST(BarrierTable, ArriveAtAnUnknownBarrierOrWithABadParticipantIsAnError) {
  BarrierHarness h(BarrierOptions{.max_participant_bytes = 2});
  EXPECT_EQ(h.Error(Arrive("nope", "p")), "barrier \"nope\": does not exist");
  h.Ok(Create("b", 2));
  EXPECT_EQ(h.Error(Arrive("b", "")), "barrier \"b\": participant \"\" is empty or above 2 bytes");
  EXPECT_EQ(h.Error(Arrive("b", "abc")),
            "barrier \"b\": participant \"abc\" is empty or above 2 bytes");
}

TEST(BarrierCodec, EveryCommandRoundTrips) {
  const std::vector<BarrierCommand> commands = {
      BarrierCreateCommand{.name = "b",
                           .participants = 3,
                           .participant_names = {"x", "y", "z"},
                           .threshold = {.kind = BarrierThreshold::Kind::kFraction,
                                         .numerator = 2,
                                         .denominator = 3},
                           .timeout_ms = 5000,
                           .predecessor = "a"},
      BarrierCreateCommand{.name = "c",
                           .participants = 4,
                           .threshold = {.kind = BarrierThreshold::Kind::kCount, .count = 2}},
      Arrive("b", "x"),
      BarrierExpireCommand{},
      BarrierCancelCommand{"b"},
      BarrierRemoveCommand{"b"}};
  for (const BarrierCommand& c : commands) {
    auto decoded = DecodeBarrierCommand(EncodeBarrierCommand(c));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, c);
  }
}

TEST(BarrierCodec, BadBytesAreRefusedWithTheFieldAndOffset) {
  EXPECT_EQ(DecodeBarrierCommand("").status().message(),
            "barrier command: operation truncated at byte 0");
  EXPECT_EQ(DecodeBarrierCommand("\x07").status().message(),
            "barrier command: unknown operation 7 at byte 1");
  std::string create = EncodeBarrierCommand(Create("b", 2));
  // name (2 bytes), participants, name count, threshold kind at offset 5.
  std::string bad_kind = create;
  bad_kind[5] = 9;
  EXPECT_EQ(DecodeBarrierCommand(bad_kind).status().message(),
            "barrier command: unknown threshold kind 9 at byte 6");
  EXPECT_EQ(DecodeBarrierCommand(create.substr(0, 6)).status().message(),
            "barrier command: timeout truncated at byte 6");
  EXPECT_EQ(
      DecodeBarrierCommand(EncodeBarrierCommand(BarrierExpireCommand{}) + "z").status().message(),
      "barrier command: 1 trailing bytes at byte 1");
  BarrierCreateCommand many = Create("b", 0);
  many.participant_names = {"p", "q", "r"};
  EXPECT_EQ(DecodeBarrierCommand(EncodeBarrierCommand(many),
                                 BarrierDecodeLimits{.max_participant_names = 2})
                .status()
                .message(),
            "barrier command: participant name count truncated or above 2 at byte 5");
}

// --- snapshots ----------------------------------------------------------------

std::string Snapshot(const BarrierTable& table) {
  std::string out;
  table.EncodeTo(out);
  return out;
}

Status Decode(const BarrierTable& table, std::uint64_t applied_index) {
  const std::string bytes = Snapshot(table);
  coding::Decoder in(bytes);
  auto decoded = BarrierTable::DecodeFrom(in, table.options(), applied_index);
  return decoded.ok() ? Status::Ok() : decoded.status();
}

// One barrier in a snapshot, encoded field by field, for states the table never
// produces.
std::string OneBarrier(const std::string& name, const Barrier& b) {
  std::string out;
  coding::PutFixed8(out, 1);
  coding::PutVarint64(out, 1);
  coding::PutLengthPrefixed(out, name);
  coding::PutVarint64(out, b.participants);
  coding::PutVarint64(out, b.participant_names.size());
  for (const std::string& p : b.participant_names)
    coding::PutLengthPrefixed(out, p);
  coding::PutVarint64(out, b.threshold);
  coding::PutVarint64(out, b.deadline_ms);
  coding::PutLengthPrefixed(out, b.predecessor);
  coding::PutVarint64(out, b.created_index);
  coding::PutVarint64(out, b.created_ms);
  coding::PutFixed8(out, static_cast<std::uint8_t>(b.state));
  coding::PutVarint64(out, b.ended_ms);
  coding::PutVarint64(out, b.arrivals.size());
  for (const BarrierArrival& a : b.arrivals) {
    coding::PutLengthPrefixed(out, a.participant);
    coding::PutVarint64(out, a.time_ms);
  }
  return out;
}

std::string DecodeError(const std::string& bytes) {
  coding::Decoder in(bytes);
  auto decoded = BarrierTable::DecodeFrom(in, {}, 100);
  return decoded.ok() ? "" : decoded.status().message();
}

TEST(BarrierSnapshot, RoundTripKeepsEveryStateAndArrival) {
  BarrierHarness h;
  h.Ok(BarrierCreateCommand{.name = "a", .participant_names = {"x", "y"}, .timeout_ms = 50}, 10);
  h.Ok(Arrive("a", "x"), 20);
  h.Ok(BarrierCreateCommand{.name = "b", .participants = 1, .predecessor = "a"}, 20);
  h.Ok(Create("c", 1), 20);
  h.Ok(Arrive("c", "q"), 30);
  h.Ok(Create("d", 3), 30);
  h.Ok(BarrierCancelCommand{"d"}, 31);
  h.Ok(BarrierCreateCommand{.name = "e", .participants = 2, .timeout_ms = 1}, 31);
  h.Ok(BarrierExpireCommand{}, 40);
  const std::string bytes = Snapshot(h.table());
  coding::Decoder in(bytes);
  auto restored = BarrierTable::DecodeFrom(in, {}, h.index());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(in.done());
  EXPECT_EQ(restored->barriers(), h.table().barriers());
  EXPECT_EQ(Snapshot(*restored), bytes);
  EXPECT_FALSE(Decode(h.table(), h.index() - 2).ok());  // "e" created after it
}

TEST(BarrierSnapshot, EachBrokenInvariantIsRefusedByName) {
  Barrier ok{.participants = 2, .threshold = 2, .created_index = 1, .created_ms = 10};
  EXPECT_EQ(DecodeError(OneBarrier("b", ok)), "");
  auto with = [&ok](auto change) {
    Barrier b = ok;
    change(b);
    return DecodeError(OneBarrier("b", b));
  };
  EXPECT_EQ(with([](Barrier& b) { b.threshold = 3; }),
            "barrier table snapshot: barrier \"b\": threshold 3 not in 1..2 at byte 14");
  EXPECT_EQ(with([](Barrier& b) {
              b.arrivals = {{"p", 11}, {"q", 12}};
            }),
            "barrier table snapshot: barrier \"b\": collecting with 2 arrivals of threshold 2 or "
            "an end time at byte 20");
  EXPECT_EQ(with([](Barrier& b) {
              b.state = BarrierState::kReleased;
              b.arrivals = {{"p", 11}};
              b.ended_ms = 11;
            }),
            "barrier table snapshot: barrier \"b\": released with 1 arrivals of threshold 2 or "
            "not at the last arrival at byte 17");
  EXPECT_EQ(with([](Barrier& b) {
              b.arrivals = {{"p", 9}};
            }),
            "barrier table snapshot: barrier \"b\": arrival of \"p\" at 9 ms before the previous "
            "event at byte 17");
  EXPECT_EQ(with([](Barrier& b) {
              b.threshold = 1;
              b.arrivals = {{"p", 11}, {"p", 12}};
            }),
            "barrier table snapshot: barrier \"b\": participant \"p\" empty or arrived twice at "
            "byte 20");
  EXPECT_EQ(with([](Barrier& b) {
              b.state = BarrierState::kTimedOut;
              b.ended_ms = 20;
            }),
            "barrier table snapshot: barrier \"b\": timed_out with the threshold met, no deadline "
            "or before it at byte 14");
  EXPECT_EQ(with([](Barrier& b) {
              b.state = BarrierState::kWaitingForPredecessor;
              b.predecessor = "a";
            }),
            "barrier table snapshot: barrier \"b\": waits for \"a\", which is missing, ended or "
            "not older at byte 15");
  EXPECT_EQ(with([](Barrier& b) { b.created_index = 101; }),
            "barrier table snapshot: barrier \"b\": created at index 101, not in 1..applied index "
            "100 at byte 14");
  EXPECT_EQ(with([](Barrier& b) { b.participant_names = {"x"}; }),
            "barrier table snapshot: barrier \"b\": 1 participant names for 2 participants at byte "
            "16");
  EXPECT_EQ(with([](Barrier& b) { b.state = static_cast<BarrierState>(9); }),
            "barrier table snapshot: barrier \"b\": unknown state 9 at byte 14");
  EXPECT_EQ(with([](Barrier& b) { b.participants = 4'000'000'000u; }),
            "barrier table snapshot: barrier \"b\": participant count or names truncated or above "
            "1024 at byte 10");
  const std::string good = OneBarrier("b", ok);
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_NE(DecodeError(good.substr(0, n)), "") << "truncated to " << n;
  }
}

// --- properties ---------------------------------------------------------------

// Random commands on a few barriers (some chained, some timed) and
// participants. Observed across the whole run: each barrier releases at most
// once, only at the arrival that meets its threshold, and never leaves a
// final state; a snapshot restores the same table at the end.
RC_GTEST_PROP(BarrierTableProps, ReleasedExactlyOnceOnlyWhenTheThresholdHolds, ()) {
  const std::vector<std::string> names = {"a", "b", "c"};
  const std::vector<std::string> people = {"p", "q", "r", "s"};
  BarrierHarness h(BarrierOptions{.max_barriers = 3});
  std::map<std::string, int> releases;  // by creation index: a recreated name is a new barrier
  std::uint64_t now = 0;
  const int steps = *rc::gen::inRange(1, 150);
  for (int step = 0; step < steps; ++step) {
    now += *rc::gen::inRange<std::uint64_t>(0, 20);
    const std::string name = *rc::gen::elementOf(names);
    const std::map<std::string, Barrier, std::less<>> before = h.table().barriers();
    BarrierCommand command;
    switch (*rc::gen::inRange(0, 8)) {
      case 0: {
        BarrierCreateCommand c{.name = name,
                               .participants = *rc::gen::inRange<std::uint32_t>(1, 5)};
        if (*rc::gen::arbitrary<bool>()) {
          c.threshold = {.kind = BarrierThreshold::Kind::kCount,
                         .count = *rc::gen::inRange<std::uint32_t>(1, c.participants + 1)};
        }
        if (*rc::gen::arbitrary<bool>()) c.timeout_ms = *rc::gen::inRange<std::uint64_t>(1, 60);
        if (*rc::gen::arbitrary<bool>()) c.predecessor = *rc::gen::elementOf(names);
        command = c;
        break;
      }
      case 1:
      case 2:
      case 3:
        command = Arrive(name, *rc::gen::elementOf(people));
        break;
      case 4:
      case 5:
        command = BarrierExpireCommand{};
        break;
      case 6:
        command = BarrierCancelCommand{name};
        break;
      default:
        command = BarrierRemoveCommand{name};
        break;
    }
    auto reply = h.Run(command, now);
    if (!reply.ok()) RC_ASSERT(h.table().barriers() == before);
    for (const auto& [bname, b] : h.table().barriers()) {
      auto was = before.find(bname);
      const bool same = was != before.end() && was->second.created_index == b.created_index;
      if (same && was->second.ended()) RC_ASSERT(b == was->second);  // final states stay
      if (b.state == BarrierState::kReleased) {
        RC_ASSERT(b.arrivals.size() == b.threshold);
        if (!same || was->second.state != BarrierState::kReleased) {
          const std::string key = bname + "@" + std::to_string(b.created_index);
          RC_ASSERT(++releases[key] == 1);
          // Released by this very entry's arrival.
          RC_ASSERT(std::holds_alternative<BarrierArriveCommand>(command));
          RC_ASSERT(b.arrivals.back().participant ==
                    std::get<BarrierArriveCommand>(command).participant);
        }
      } else {
        RC_ASSERT(b.arrivals.size() < b.threshold);
      }
      if (b.state == BarrierState::kTimedOut) RC_ASSERT(b.deadline_ms != 0 && b.deadline_ms <= now);
    }
    RC_ASSERT(Decode(h.table(), h.index()).ok());
  }
  const std::string bytes = Snapshot(h.table());
  coding::Decoder in(bytes);
  auto restored = BarrierTable::DecodeFrom(in, h.table().options(), h.index());
  RC_ASSERT(restored.ok());
  RC_ASSERT(restored->barriers() == h.table().barriers());
}

}  // namespace
}  // namespace tri::rsm
