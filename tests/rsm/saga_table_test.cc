// The replicated saga table: commands drive each saga's orchestrator the same
// way on every replica; dispatch tokens fence stale results; retention drops
// finished sagas deterministically; snapshots carry everything.
#include "rsm/saga_table.h"

#include <gtest/gtest.h>

#include "rsm/command.h"
#include "rsm/saga_codec.h"
#include "rsm/state_machine.h"

namespace tri::rsm {
namespace {

constexpr char kChain[] = R"(name: chain
inputs:
  who: {default: "x"}
steps:
  - id: a
    run: {sleep: {duration: 10ms}}
    compensate: noop
  - id: b
    needs: [a]
    run: noop
)";

class SagaTableTest : public ::testing::Test {
 protected:
  Applied Apply(const SagaCommand& c, std::uint64_t at_ms) {
    now_ms_ = std::max(now_ms_, at_ms);
    return sm_.Apply(++index_, EncodeCommand(Command{CommandKind::kSaga, index_, now_ms_,
                                                     EncodeSagaCommand(c)}));
  }
  SagaReply Ok(const SagaCommand& c, std::uint64_t at_ms = 0) {
    Applied a = Apply(c, at_ms);
    EXPECT_TRUE(a.result.ok()) << a.result.error().message;
    EXPECT_TRUE(a.saga.has_value());
    return a.saga.value_or(SagaReply{});
  }
  const SagaInstance& Saga(const std::string& id) {
    const SagaInstance* s = sm_.sagas().Find(id);
    EXPECT_NE(s, nullptr) << id;
    return *s;
  }
  static SagaInput Started(const std::string& id, saga::StepIndex step, std::uint32_t attempt,
                           saga::AttemptPhase phase = saga::AttemptPhase::kForward) {
    return SagaInput{.kind = SagaInput::Kind::kStarted,
                     .saga_id = id,
                     .phase = phase,
                     .step = step,
                     .attempt = attempt};
  }
  static SagaInput Succeeded(const std::string& id, saga::StepIndex step, std::uint32_t attempt,
                             std::uint64_t dispatch,
                             saga::AttemptPhase phase = saga::AttemptPhase::kForward) {
    return SagaInput{.kind = SagaInput::Kind::kSucceeded,
                     .saga_id = id,
                     .phase = phase,
                     .step = step,
                     .attempt = attempt,
                     .dispatch = dispatch};
  }

  StateMachine sm_{KvOptions{}, SagaOptions{.retention_ms = 60'000, .max_finished_sagas = 3}};
  std::uint64_t index_ = 0;
  std::uint64_t now_ms_ = 1'000'000;
};

TEST_F(SagaTableTest, DispatchThenResultsDriveASagaToCompletion) {
  const SagaReply def = Ok(SagaDefineCommand{.document = kChain, .source_name = "chain.yaml"});
  EXPECT_EQ(def.name, "chain");
  EXPECT_EQ(def.version, 1u);
  Ok(SagaStartCommand{.saga_id = "s1", .definition_name = "chain"});
  const SagaInstance& s = Saga("s1");
  ASSERT_EQ(s.wanted.size(), 1u);
  EXPECT_EQ(s.wanted.begin()->second.dispatch, 0u) << "scheduled, not dispatched";

  const SagaReply started = Ok(SagaInputsCommand{{Started("s1", 0, 1)}});
  ASSERT_EQ(started.dispatch_tokens.size(), 1u);
  const std::uint64_t token = started.dispatch_tokens[0];
  EXPECT_EQ(token, index_) << "the token is the dispatch entry's index";
  EXPECT_EQ(Saga("s1").wanted.begin()->second.dispatch, token);

  Ok(SagaInputsCommand{{Succeeded("s1", 0, 1, token)}}, now_ms_ + 10);
  ASSERT_EQ(Saga("s1").wanted.size(), 1u);
  EXPECT_EQ(Saga("s1").wanted.begin()->first.second, 1u) << "b is scheduled once a succeeded";
  Ok(SagaInputsCommand{{Succeeded("s1", 1, 1, 0)}}, now_ms_ + 1);
  EXPECT_TRUE(Saga("s1").finished());
  EXPECT_EQ(Saga("s1").orchestrator->outcome(), saga::SagaOutcome::kCompleted);
  EXPECT_EQ(Saga("s1").inputs.at("who"), "x");
  EXPECT_TRUE(sm_.sagas().running().empty());
  EXPECT_EQ(Saga("s1").events.back().event, saga::TraceEvent::kSagaCompleted);
}

TEST_F(SagaTableTest, ResultsOfSupersededDispatchesAreCountedAndDropped) {
  Ok(SagaStartCommand{.saga_id = "s1", .inline_document = kChain});
  const std::uint64_t first = Ok(SagaInputsCommand{{Started("s1", 0, 1)}}).dispatch_tokens[0];
  // A new leader dispatches the same attempt again.
  const std::uint64_t second = Ok(SagaInputsCommand{{Started("s1", 0, 1)}}).dispatch_tokens[0];
  EXPECT_GT(second, first);
  Ok(SagaInputsCommand{{Succeeded("s1", 0, 1, first)}});
  EXPECT_EQ(Saga("s1").stale_results_dropped, 1u);
  EXPECT_EQ(Saga("s1").orchestrator->step_state(0), saga::StepState::kRunning);
  // A result for an attempt that was never scheduled is dropped too.
  Ok(SagaInputsCommand{{Succeeded("s1", 0, 7, second)}});
  EXPECT_EQ(sm_.sagas().stale_results_dropped(), 2u);
  Ok(SagaInputsCommand{{Succeeded("s1", 0, 1, second)}});
  EXPECT_EQ(Saga("s1").orchestrator->step_state(0), saga::StepState::kSucceeded);
}

TEST_F(SagaTableTest, NoForwardDispatchIsAcceptedAfterTheSagaBeganToStop) {
  Ok(SagaStartCommand{.saga_id = "s1", .inline_document = kChain});
  Ok(SagaAbortCommand{.saga_id = "s1"});
  const SagaReply late = Ok(SagaInputsCommand{{Started("s1", 0, 1)}});
  EXPECT_EQ(late.dispatch_tokens[0], 0u) << "the attempt was cancelled by the abort";
  EXPECT_TRUE(Saga("s1").finished());
  Applied again = Apply(SagaAbortCommand{.saga_id = "s1"}, 0);
  ASSERT_FALSE(again.result.ok());
  EXPECT_EQ(again.result.error().grpc_code, GrpcCode::kFailedPrecondition);
}

TEST_F(SagaTableTest, StartErrorsNameWhatIsWrongAndChangeNothing) {
  auto code = [&](const SagaCommand& c) {
    Applied a = Apply(c, 0);
    return a.result.ok() ? GrpcCode::kOk : a.result.error().grpc_code;
  };
  EXPECT_EQ(code(SagaStartCommand{.saga_id = "s1", .definition_name = "none"}),
            GrpcCode::kNotFound);
  EXPECT_EQ(code(SagaStartCommand{.saga_id = "bad id", .inline_document = kChain}),
            GrpcCode::kInvalidArgument);
  EXPECT_EQ(code(SagaStartCommand{.saga_id = "s1",
                                  .inline_document = kChain,
                                  .inputs = {{"unknown", "1"}}}),
            GrpcCode::kInvalidArgument);
  EXPECT_EQ(code(SagaDefineCommand{.document = "name: [", .source_name = "x.yaml"}),
            GrpcCode::kInvalidArgument);
  EXPECT_TRUE(sm_.sagas().sagas().empty());
  // Starting an existing id answers it instead of starting a second saga.
  Ok(SagaStartCommand{.saga_id = "s1", .inline_document = kChain});
  EXPECT_TRUE(Ok(SagaStartCommand{.saga_id = "s1", .inline_document = kChain}).already_existed);
  EXPECT_EQ(sm_.sagas().sagas().size(), 1u);
}

TEST_F(SagaTableTest, TooManyRunningSagasAreRefused) {
  StateMachine small(KvOptions{}, SagaOptions{.max_running_sagas = 1});
  auto start = [&](const char* id, std::uint64_t index) {
    return small.Apply(index, EncodeCommand(Command{CommandKind::kSaga, 1, 1,
                                                    EncodeSagaCommand(SagaStartCommand{
                                                        .saga_id = id, .inline_document = kChain})}));
  };
  EXPECT_TRUE(start("a", 1).result.ok());
  Applied refused = start("b", 2);
  ASSERT_FALSE(refused.result.ok());
  EXPECT_EQ(refused.result.error().grpc_code, GrpcCode::kResourceExhausted);
  EXPECT_NE(refused.result.error().message.find("too many running sagas"), std::string::npos);
}

TEST_F(SagaTableTest, RetentionAndTheCountBoundDropFinishedSagas) {
  for (const char* id : {"a", "b", "c", "d"}) {
    Ok(SagaStartCommand{.saga_id = id, .inline_document = kChain}, now_ms_ + 1);
    Ok(SagaAbortCommand{.saga_id = id});
  }
  // max_finished_sagas = 3: the oldest finished went.
  EXPECT_EQ(sm_.sagas().Find("a"), nullptr);
  auto swept = sm_.TakeSweptSagas();
  ASSERT_EQ(swept.size(), 1u);
  EXPECT_EQ(swept[0].saga_id, "a");
  EXPECT_STREQ(swept[0].reason, "count bound");
  // Any entry carries time: past the retention everything finished goes.
  Ok(SagaInputsCommand{}, now_ms_ + 60'001);
  EXPECT_TRUE(sm_.sagas().sagas().empty());
  EXPECT_EQ(sm_.TakeSweptSagas().size(), 3u);
}

TEST_F(SagaTableTest, SnapshotMidSagaRestoresTheSameStateAndContinuesIdentically) {
  Ok(SagaDefineCommand{.document = kChain, .source_name = "chain.yaml"});
  Ok(SagaStartCommand{.saga_id = "s1", .definition_name = "chain"});
  Ok(SagaStartCommand{.saga_id = "s2", .inline_document = kChain});
  const std::uint64_t token = Ok(SagaInputsCommand{{Started("s1", 0, 1)}}).dispatch_tokens[0];

  StateMachine copy(KvOptions{}, sm_.sagas().options());
  ASSERT_TRUE(copy.Restore(sm_.Snapshot()).ok());
  EXPECT_EQ(copy.StateHash(), sm_.StateHash());

  const std::string next = EncodeCommand(
      Command{CommandKind::kSaga, 0, now_ms_ + 20,
              EncodeSagaCommand(SagaInputsCommand{{Succeeded("s1", 0, 1, token)}})});
  EXPECT_TRUE(sm_.Apply(index_ + 1, next).result.ok());
  EXPECT_TRUE(copy.Apply(index_ + 1, next).result.ok());
  EXPECT_EQ(copy.StateHash(), sm_.StateHash());
  EXPECT_EQ(copy.sagas().Find("s1")->orchestrator->step_state(0), saga::StepState::kSucceeded);
}

TEST_F(SagaTableTest, CorruptSnapshotsAreRefusedWithAnError) {
  Ok(SagaStartCommand{.saga_id = "s1", .inline_document = kChain});
  const std::string good = sm_.Snapshot();
  for (std::size_t cut : {good.size() - 1, good.size() / 2, good.size() - 20}) {
    StateMachine copy;
    const Status s = copy.Restore(good.substr(0, cut));
    EXPECT_FALSE(s.ok()) << "cut at " << cut;
  }
}

TEST(SagaCodec, CommandsRoundTripAndBadBytesAreRefused) {
  const SagaCommand commands[] = {
      SagaDefineCommand{.document = "doc", .source_name = "a.yaml"},
      SagaStartCommand{.saga_id = "id", .definition_name = "n", .definition_version = 3,
                       .inputs = {{"k", "v"}}},
      SagaAbortCommand{.saga_id = "id"},
      SagaInputsCommand{{SagaInput{.kind = SagaInput::Kind::kFailed,
                                   .saga_id = "id",
                                   .phase = saga::AttemptPhase::kCompensate,
                                   .step = 4,
                                   .attempt = 2,
                                   .dispatch = 99,
                                   .code = 503,
                                   .retryable = false,
                                   .payload = "boom"},
                         SagaInput{.kind = SagaInput::Kind::kTimerFired, .saga_id = "id", .timer = 7}}},
  };
  for (const SagaCommand& c : commands) {
    const std::string bytes = EncodeSagaCommand(c);
    auto decoded = DecodeSagaCommand(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(EncodeSagaCommand(*decoded), bytes);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(DecodeSagaCommand(bytes.substr(0, cut)).ok()) << "cut at " << cut;
    }
    EXPECT_FALSE(DecodeSagaCommand(bytes + "x").ok()) << "trailing bytes";
  }
  const auto unknown = DecodeSagaCommand(std::string(1, '\x09'));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown operation 9"), std::string::npos);
}

}  // namespace
}  // namespace tri::rsm
