// The saga simulation: each checker rule fails on a hand-made bad history (and
// passes the good one), the log observer judges dispatch tokens independently
// of the table's fencing, the workload's documents are valid and replay per
// seed, and whole runs of `tri-sim saga` are deterministic, pass on a correct
// node and catch a table that applies superseded results.
#include "sim/saga_sim.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/rng.h"
#include "rsm/command.h"
#include "rsm/saga_codec.h"
#include "rsm/state_machine.h"
#include "saga/definition.h"
#include "saga/dsl/parser.h"
#include "sim/saga_checkers.h"
#include "sim/saga_workload.h"

namespace tri::sim {
namespace {

using saga::TraceEvent;

// a -> b -> c, and d on its own; every step has a compensation.
constexpr const char* kChain = R"(name: chain
steps:
  - id: a
    run: noop
    compensate: noop
  - id: b
    needs: [a]
    run: {sleep: {duration: 10ms}}
    compensate: noop
  - id: c
    needs: [b]
    run: {fail: {code: 500, retryable: false}}
    compensate: noop
  - id: d
    run: noop
    compensate: noop
)";

std::shared_ptr<const saga::SagaDefinition> Chain() {
  auto spec = saga::ParseSaga(kChain, "chain.yaml", saga::SagaLimits{});
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  auto def = saga::SagaDefinition::Make(std::move(spec).value());
  EXPECT_TRUE(def.ok());
  return std::move(def).value();
}

constexpr saga::StepIndex kA = 0, kB = 1, kC = 2, kD = 3;

rsm::SagaEventRecord Ev(TraceEvent event, saga::StepIndex step = saga::kNoStep,
                        std::uint32_t attempt = 1, int code = 0) {
  return rsm::SagaEventRecord{
      .time_ms = 1, .step = step, .event = event, .attempt = attempt, .code = code};
}

// A correct history: a, b and d succeed, c fails for good, then b, a and d
// are compensated (b before a; d independent), and the saga ends compensated.
std::deque<rsm::SagaEventRecord> GoodHistory() {
  return {Ev(TraceEvent::kSagaStarted),
          Ev(TraceEvent::kStepStarted, kA),
          Ev(TraceEvent::kStepStarted, kD),
          Ev(TraceEvent::kStepSucceeded, kA),
          Ev(TraceEvent::kStepStarted, kB),
          Ev(TraceEvent::kStepSucceeded, kD),
          Ev(TraceEvent::kStepSucceeded, kB),
          Ev(TraceEvent::kStepStarted, kC),
          Ev(TraceEvent::kStepFailed, kC, 1, 500),
          Ev(TraceEvent::kCompensationStarted, kB),
          Ev(TraceEvent::kCompensationStarted, kD),
          Ev(TraceEvent::kCompensationFailed, kB, 1, 500),
          Ev(TraceEvent::kCompensationStarted, kB, 2),
          Ev(TraceEvent::kCompensationSucceeded, kB, 2),
          Ev(TraceEvent::kCompensationStarted, kA),
          Ev(TraceEvent::kCompensationSucceeded, kD),
          Ev(TraceEvent::kCompensationSucceeded, kA),
          Ev(TraceEvent::kSagaCompensated)};
}

std::optional<SagaViolation> Check(const std::deque<rsm::SagaEventRecord>& events,
                                   bool finished = true,
                                   saga::SagaOutcome outcome = saga::SagaOutcome::kCompensated) {
  return CheckSagaEvents("s1", *Chain(), events, finished, outcome);
}

TEST(SagaHistoryCheckTest, ACorrectHistoryPasses) {
  const auto bad = Check(GoodHistory());
  EXPECT_FALSE(bad.has_value()) << bad->ToString();
}

TEST(SagaHistoryCheckTest, TwoTerminalEventsAreAViolation) {
  auto events = GoodHistory();
  events.push_back(Ev(TraceEvent::kSagaFailed));
  const auto bad = Check(events);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleOneTerminalState);
  EXPECT_EQ(bad->saga_id, "s1");
  EXPECT_NE(bad->details.find("2 terminal events"), std::string::npos) << bad->details;
}

TEST(SagaHistoryCheckTest, AnEventAfterTheTerminalEventIsAViolation) {
  auto events = GoodHistory();
  events.push_back(Ev(TraceEvent::kCompensationStarted, kC));
  const auto bad = Check(events);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleOneTerminalState);
  EXPECT_NE(bad->details.find("follows the terminal event"), std::string::npos) << bad->details;
}

TEST(SagaHistoryCheckTest, ATerminalEventOtherThanTheOutcomeIsAViolation) {
  const auto bad = Check(GoodHistory(), true, saga::SagaOutcome::kCompleted);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleOneTerminalState);
  EXPECT_NE(bad->details.find("outcome is completed"), std::string::npos) << bad->details;
}

TEST(SagaHistoryCheckTest, AFinishedSagaWithoutATerminalEventIsAViolation) {
  auto events = GoodHistory();
  events.pop_back();
  const auto bad = Check(events);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleOneTerminalState);
}

TEST(SagaHistoryCheckTest, ARunningSagaWithATerminalEventIsAViolation) {
  const auto bad = Check(GoodHistory(), /*finished=*/false, saga::SagaOutcome::kRunning);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleOneTerminalState);
}

TEST(SagaHistoryCheckTest, AForwardStartAfterTheStopIsAViolation) {
  // c failed for good and compensation began; then d starts.
  std::deque<rsm::SagaEventRecord> events = {Ev(TraceEvent::kSagaStarted),
                                             Ev(TraceEvent::kStepStarted, kA),
                                             Ev(TraceEvent::kStepSucceeded, kA),
                                             Ev(TraceEvent::kStepStarted, kB),
                                             Ev(TraceEvent::kStepSucceeded, kB),
                                             Ev(TraceEvent::kStepStarted, kC),
                                             Ev(TraceEvent::kStepFailed, kC, 1, 500),
                                             Ev(TraceEvent::kCompensationStarted, kB),
                                             Ev(TraceEvent::kStepStarted, kD)};
  const auto bad = Check(events, false, saga::SagaOutcome::kRunning);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleNoStartAfterStop);
  EXPECT_EQ(bad->step, "d");
  EXPECT_NE(bad->details.find("compensation_started of step 'b'"), std::string::npos)
      << bad->details;
}

TEST(SagaHistoryCheckTest, ARetryAfterAnAbortIsAViolation) {
  // An abort cancels b (backing off after a failure); b's next attempt must not start.
  std::deque<rsm::SagaEventRecord> events = {Ev(TraceEvent::kSagaStarted),
                                             Ev(TraceEvent::kStepStarted, kA),
                                             Ev(TraceEvent::kStepSucceeded, kA),
                                             Ev(TraceEvent::kStepStarted, kB),
                                             Ev(TraceEvent::kStepFailed, kB, 1, 503),
                                             Ev(TraceEvent::kStepCancelled, kB, 1, 499),
                                             Ev(TraceEvent::kStepStarted, kB, 2)};
  const auto bad = Check(events, false, saga::SagaOutcome::kRunning);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleNoStartAfterStop);
  EXPECT_EQ(bad->step, "b");
}

TEST(SagaHistoryCheckTest, ARetryBeforeTheStopIsNoViolation) {
  std::deque<rsm::SagaEventRecord> events = {Ev(TraceEvent::kSagaStarted),
                                             Ev(TraceEvent::kStepStarted, kA),
                                             Ev(TraceEvent::kStepSucceeded, kA),
                                             Ev(TraceEvent::kStepStarted, kB),
                                             Ev(TraceEvent::kStepFailed, kB, 1, 503),
                                             Ev(TraceEvent::kStepStarted, kB, 2)};
  const auto bad = Check(events, false, saga::SagaOutcome::kRunning);
  EXPECT_FALSE(bad.has_value()) << bad->ToString();
}

TEST(SagaHistoryCheckTest, CompensatingAStepBeforeItsDependentFinishedIsAViolation) {
  // a's compensation starts while b (which needs a) is still compensating.
  std::deque<rsm::SagaEventRecord> events = {Ev(TraceEvent::kSagaStarted),
                                             Ev(TraceEvent::kStepStarted, kA),
                                             Ev(TraceEvent::kStepSucceeded, kA),
                                             Ev(TraceEvent::kStepStarted, kB),
                                             Ev(TraceEvent::kStepSucceeded, kB),
                                             Ev(TraceEvent::kStepStarted, kC),
                                             Ev(TraceEvent::kStepFailed, kC, 1, 500),
                                             Ev(TraceEvent::kCompensationStarted, kB),
                                             Ev(TraceEvent::kCompensationStarted, kA)};
  const auto bad = Check(events, false, saga::SagaOutcome::kRunning);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleCompensationOrder);
  EXPECT_EQ(bad->step, "a");
  EXPECT_NE(bad->details.find("dependent step 'b'"), std::string::npos) << bad->details;
}

TEST(SagaHistoryCheckTest,
     CompensatingAStepBeforeAFailedAttemptOfItsDependentIsRetriedIsAViolation) {
  // b's first compensation attempt failed and is retried later: not finished.
  std::deque<rsm::SagaEventRecord> events = {Ev(TraceEvent::kSagaStarted),
                                             Ev(TraceEvent::kStepStarted, kA),
                                             Ev(TraceEvent::kStepSucceeded, kA),
                                             Ev(TraceEvent::kStepStarted, kB),
                                             Ev(TraceEvent::kStepSucceeded, kB),
                                             Ev(TraceEvent::kStepStarted, kC),
                                             Ev(TraceEvent::kStepFailed, kC, 1, 500),
                                             Ev(TraceEvent::kCompensationStarted, kB),
                                             Ev(TraceEvent::kCompensationFailed, kB, 1, 500),
                                             Ev(TraceEvent::kCompensationStarted, kA),
                                             Ev(TraceEvent::kCompensationStarted, kB, 2)};
  const auto bad = Check(events, false, saga::SagaOutcome::kRunning);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rule, kRuleCompensationOrder);
  EXPECT_EQ(bad->step, "a");
}

// --- the log observer ----------------------------------------------------------

constexpr const char* kOneSleep = R"(name: one
steps:
  - id: work
    run: {sleep: {duration: 10ms}}
)";

class ObserverLog {
 public:
  void Add(const rsm::SagaCommand& command) {
    rsm::Command envelope;
    envelope.kind = rsm::CommandKind::kSaga;
    envelope.timestamp_ms = 1'000 + entries_.size();
    envelope.payload = rsm::EncodeSagaCommand(command);
    raft::Entry e;
    e.index = entries_.size() + 1;
    e.term = 1;
    e.data = rsm::EncodeCommand(envelope);
    entries_.push_back(std::move(e));
  }
  void Report(rsm::SagaInput::Kind kind, std::uint64_t dispatch) {
    rsm::SagaInput input;
    input.kind = kind;
    input.saga_id = "s1";
    input.step = 0;
    input.attempt = 1;
    input.dispatch = dispatch;
    Add(rsm::SagaInputsCommand{{input}});
  }
  void Feed(SagaLogObserver& observer) const {
    for (const raft::Entry& e : entries_)
      observer.Observe(e);
  }
  void Feed(SagaLogObserver& observer, std::size_t first, std::size_t count) const {
    for (std::size_t i = first; i < first + count; ++i)
      observer.Observe(entries_[i]);
  }
  void Feed(rsm::StateMachine& sm, std::size_t count) const {
    for (std::size_t i = 0; i < count; ++i)
      (void)sm.Apply(entries_[i].index, entries_[i].data);
  }

 private:
  std::vector<raft::Entry> entries_;
};

// Start, dispatch (entry 2), re-dispatch (entry 3), then the result of the
// first dispatch: superseded.
ObserverLog SupersededResultLog() {
  ObserverLog log;
  log.Add(rsm::SagaStartCommand{.saga_id = "s1", .inline_document = kOneSleep});
  log.Report(rsm::SagaInput::Kind::kStarted, 0);
  log.Report(rsm::SagaInput::Kind::kStarted, 0);
  log.Report(rsm::SagaInput::Kind::kSucceeded, 2);
  return log;
}

TEST(SagaLogObserverTest, ASupersededResultThatTheTableDropsPasses) {
  SagaLogObserver observer{rsm::SagaOptions{}};
  SupersededResultLog().Feed(observer);
  EXPECT_FALSE(observer.violation().has_value()) << observer.violation()->ToString();
  EXPECT_EQ(observer.stats().dispatches, 2u);
  EXPECT_EQ(observer.stats().stale_results_refused, 1u);
  EXPECT_EQ(observer.stats().results_applied, 0u);
}

TEST(SagaLogObserverTest, ASupersededResultThatTheTableAppliesIsAViolation) {
  rsm::SagaOptions buggy;
  buggy.testing_bugs.accept_stale_results = true;
  SagaLogObserver observer{buggy};
  SupersededResultLog().Feed(observer);
  ASSERT_TRUE(observer.violation().has_value());
  EXPECT_EQ(observer.violation()->rule, kRuleNoSupersededResult);
  EXPECT_EQ(observer.violation()->saga_id, "s1");
  EXPECT_EQ(observer.violation()->step, "work");
  EXPECT_NE(observer.violation()->details.find("dispatch 2 applied at entry 4"), std::string::npos)
      << observer.violation()->details;
  EXPECT_NE(observer.violation()->details.find("latest dispatch is 3"), std::string::npos);
}

TEST(SagaLogObserverTest, TheCurrentDispatchsResultAppliesAndFinishesTheSaga) {
  ObserverLog log;
  log.Add(rsm::SagaStartCommand{.saga_id = "s1", .inline_document = kOneSleep});
  log.Report(rsm::SagaInput::Kind::kStarted, 0);
  log.Report(rsm::SagaInput::Kind::kSucceeded, 2);
  SagaLogObserver observer{rsm::SagaOptions{}};
  log.Feed(observer);
  EXPECT_FALSE(observer.violation().has_value()) << observer.violation()->ToString();
  EXPECT_EQ(observer.stats().results_applied, 1u);
  const rsm::SagaInstance* instance = observer.table().Find("s1");
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(instance->orchestrator->outcome(), saga::SagaOutcome::kCompleted);
  EXPECT_FALSE(CheckSagaTable(observer.table()).has_value());
}

TEST(SagaLogObserverTest, AResultAfterAnAbortIsDroppedWithoutViolation) {
  ObserverLog log;
  log.Add(rsm::SagaStartCommand{.saga_id = "s1", .inline_document = kOneSleep});
  log.Report(rsm::SagaInput::Kind::kStarted, 0);
  log.Add(rsm::SagaAbortCommand{.saga_id = "s1"});
  log.Report(rsm::SagaInput::Kind::kSucceeded, 2);
  SagaLogObserver observer{rsm::SagaOptions{}};
  log.Feed(observer);
  EXPECT_FALSE(observer.violation().has_value()) << observer.violation()->ToString();
  EXPECT_EQ(observer.table().Find("s1")->orchestrator->outcome(), saga::SagaOutcome::kFailed);
}

TEST(SagaLogObserverTest, AfterAResyncTheTablesDispatchTokensCountAsTheLatest) {
  // The observer misses entry 2 (the dispatch, only in a snapshot) and goes on
  // from a replica's state at index 2; the result of that dispatch then applies.
  ObserverLog log;
  log.Add(rsm::SagaStartCommand{.saga_id = "s1", .inline_document = kOneSleep});
  log.Report(rsm::SagaInput::Kind::kStarted, 0);
  log.Report(rsm::SagaInput::Kind::kSucceeded, 2);
  rsm::StateMachine replica;
  log.Feed(replica, 2);
  SagaLogObserver observer{rsm::SagaOptions{}};
  log.Feed(observer, 0, 1);
  observer.ResyncFrom(replica);
  EXPECT_EQ(observer.observed_index(), 2u);
  log.Feed(observer, 2, 1);
  EXPECT_FALSE(observer.violation().has_value()) << observer.violation()->ToString();
  EXPECT_EQ(observer.stats().results_applied, 1u);
  EXPECT_EQ(observer.stats().resyncs, 1u);
}

TEST(SagaLogObserverTest, AResyncToAStateWhereAFinishedSagaRunsIsAViolation) {
  ObserverLog log;
  log.Add(rsm::SagaStartCommand{.saga_id = "s1", .inline_document = kOneSleep});
  log.Report(rsm::SagaInput::Kind::kStarted, 0);
  log.Report(rsm::SagaInput::Kind::kSucceeded, 2);
  SagaLogObserver observer{rsm::SagaOptions{}};
  log.Feed(observer);  // s1 completed
  ObserverLog other;   // a state in which s1 was started and nothing else
  other.Add(rsm::SagaStartCommand{.saga_id = "s1", .inline_document = kOneSleep});
  other.Add(rsm::SagaAbortCommand{.saga_id = "unknown"});
  other.Add(rsm::SagaAbortCommand{.saga_id = "unknown"});
  other.Add(rsm::SagaAbortCommand{.saga_id = "unknown"});
  rsm::StateMachine replica;
  other.Feed(replica, 4);
  observer.ResyncFrom(replica);
  ASSERT_TRUE(observer.violation().has_value());
  EXPECT_EQ(observer.violation()->rule, kRuleOneTerminalState);
  EXPECT_NE(observer.violation()->details.find("finished as completed, later running"),
            std::string::npos)
      << observer.violation()->details;
}

// --- the workload ---------------------------------------------------------------

TEST(SagaWorkloadTest, EveryGeneratedDocumentIsAValidSagaWithinTheStepBound) {
  SeededRng rng(7);
  for (std::uint32_t max_steps : {1u, 5u, 50u, 200u}) {
    for (int i = 0; i < 40; ++i) {
      std::uint32_t steps = 0;
      const std::string doc = GenerateSagaDocument(rng, "g", max_steps, &steps);
      auto spec = saga::ParseSaga(doc, "generated.yaml", saga::SagaLimits{});
      ASSERT_TRUE(spec.ok()) << spec.status().ToString() << "\n" << doc;
      EXPECT_EQ(spec->steps.size(), steps);
      EXPECT_GE(steps, 1u);
      EXPECT_LE(steps, max_steps);
    }
  }
}

TEST(SagaWorkloadTest, ThePlanIsTheSameForTheSameSeed) {
  SagaWorkloadOptions o;
  o.sagas = 20;
  SeededRng a(3), b(3), c(4);
  const auto first = PlanSagaWorkload(o, a);
  const auto second = PlanSagaWorkload(o, b);
  const auto other = PlanSagaWorkload(o, c);
  ASSERT_EQ(first.size(), 20u);
  bool differs = false;
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].id, second[i].id);
    EXPECT_EQ(first[i].document, second[i].document);
    EXPECT_EQ(first[i].start_at_us, second[i].start_at_us);
    EXPECT_EQ(first[i].abort_at_us, second[i].abort_at_us);
    differs = differs || first[i].document != other[i].document;
  }
  EXPECT_TRUE(differs);
}

// --- whole runs -------------------------------------------------------------------

SagaSimOptions SmallRun(std::uint64_t seed) {
  SagaSimOptions o;
  o.seed = seed;
  o.sagas = 15;
  o.max_steps = 15;
  EXPECT_TRUE(ParseSagaFaults("all", &o).ok());
  return o;
}

TEST(SagaSimTest, ARunReplaysExactlyFromItsSeed) {
  const SagaSimOptions o = SmallRun(5);
  const std::string first = FormatSagaSimResult(o, RunSagaSim(o));
  const std::string second = FormatSagaSimResult(o, RunSagaSim(o));
  EXPECT_EQ(first, second);
}

TEST(SagaSimTest, EverySagaFinishesAndEveryCheckPassesUnderAllFaults) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const SagaSimOptions o = SmallRun(seed);
    const SagaSimResult r = RunSagaSim(o);
    EXPECT_TRUE(r.ok) << FormatSagaSimResult(o, r);
    std::uint64_t finished = 0;
    for (const auto& [outcome, count] : r.outcomes) {
      EXPECT_NE(outcome, "running");
      finished += count;
    }
    EXPECT_EQ(finished, o.sagas);
  }
}

TEST(SagaSimTest, ATableThatAppliesSupersededResultsIsCaught) {
  bool caught = false;
  for (std::uint64_t seed = 1; seed <= 10 && !caught; ++seed) {
    SagaSimOptions o = SmallRun(seed);
    o.bug = SagaInjectedBug::kAcceptStaleResult;
    const SagaSimResult r = RunSagaSim(o);
    if (!r.ok) {
      EXPECT_EQ(r.violated, kRuleNoSupersededResult) << FormatSagaSimResult(o, r);
      caught = true;
    }
  }
  EXPECT_TRUE(caught);
}

TEST(SagaSimTest, FaultListsParseWithTheLateFault) {
  SagaSimOptions o;
  ASSERT_TRUE(ParseSagaFaults("crash,late", &o).ok());
  EXPECT_TRUE(o.late_reports);
  EXPECT_TRUE(o.faults.crash);
  EXPECT_FALSE(o.faults.partition);
  EXPECT_EQ(SagaFaultsToString(o), "crash,late");
  ASSERT_TRUE(ParseSagaFaults("all", &o).ok());
  EXPECT_EQ(SagaFaultsToString(o), "all");
  const Status bad = ParseSagaFaults("crash,typo", &o);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("typo"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace tri::sim
