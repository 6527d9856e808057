// How `tri saga` renders sagas (client/saga_format.h) and the JSON form shared
// with the HTTP API (client/saga_json.h).
#include "client/saga_format.h"

#include <gtest/gtest.h>

#include "client/saga_json.h"

namespace tri::client {
namespace {

trinity::v1::Saga FailedSaga() {
  trinity::v1::Saga s;
  s.set_id("o-1");
  s.set_state("compensation_failed");
  s.set_stop_cause("step_failed");
  s.set_created_ms(1'000);
  s.set_finished_ms(3'500);
  auto* a = s.add_steps();
  a->set_id("reserve");
  a->set_state("compensation_failed");
  a->set_forward_state("succeeded");
  a->set_code(500);
  a->set_message("undo\nfailed");
  auto* b = s.add_steps();
  b->set_id("pay");
  b->set_state("failed");
  b->set_forward_state("failed");
  b->set_code(402);
  b->set_finished_ms(2'000);
  auto* c = s.add_steps();
  c->set_id("late");
  c->set_state("failed");
  c->set_forward_state("timed_out");
  c->set_finished_ms(2'500);
  s.add_compensation_failed_steps("reserve");
  return s;
}

TEST(SagaFormatTest, TerminalStatesExitAsTriRunDoes) {
  EXPECT_EQ(ExitCodeOfSagaState("completed"), 0);
  EXPECT_EQ(ExitCodeOfSagaState("failed"), 1);
  EXPECT_EQ(ExitCodeOfSagaState("compensated"), 3);
  EXPECT_EQ(ExitCodeOfSagaState("compensation_failed"), 4);
  EXPECT_EQ(ExitCodeOfSagaState("running"), std::nullopt);
}

TEST(SagaFormatTest, TimesAreRfc3339UtcWithMillisecondsAndADashForNotYet) {
  EXPECT_EQ(FormatUnixMs(0), "-");
  EXPECT_EQ(FormatUnixMs(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

TEST(SagaFormatTest, AnEventLineReadsLikeTriRuns) {
  trinity::v1::SagaEvent e;
  e.set_time_ms(1'250);
  e.set_event("step_failed");
  e.set_step("pay");
  e.set_attempt(2);
  e.set_code(503);
  EXPECT_EQ(SagaEventLine(e, "o-1", 1'000),
            "[    0.250s] step pay: step_failed (attempt 2) code 503");
  e.clear_step();
  e.set_attempt(0);
  e.set_code(0);
  e.set_event("saga_started");
  EXPECT_EQ(SagaEventLine(e, "o-1", 2'000), "[    0.000s] saga o-1: saga_started");
}

TEST(SagaFormatTest, TheStopCauseNamesTheFirstStepWhoseForwardPhaseFailed) {
  trinity::v1::Saga s = FailedSaga();
  EXPECT_EQ(StopCauseText(s), "failure of step pay (code 402)");
  s.set_stop_cause("deadline");
  EXPECT_EQ(StopCauseText(s), "deadline");
  s.set_stop_cause("abort");
  EXPECT_EQ(StopCauseText(s), "abort");
  s.set_stop_cause("none");
  EXPECT_EQ(StopCauseText(s), "");
}

TEST(SagaFormatTest, TheSummaryCountsStepsByStateAndNamesFailures) {
  EXPECT_EQ(SagaSummary(FailedSaga()),
            "saga o-1: compensation_failed in 2.500s (2 failed, 1 compensation failed)\n"
            "  stopped by: failure of step pay (code 402)\n"
            "  reserve: compensation_failed, code 500: undo failed\n"
            "  pay: failed, code 402\n"
            "  compensation failed for: reserve\n");
}

TEST(SagaFormatTest, TheDetailTableKeepsEachStepOnOneLine) {
  const std::string text = RenderSagaDetail(FailedSaga());
  EXPECT_NE(text.find("definition:  (inline)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("undo failed"), std::string::npos) << text;
  EXPECT_EQ(text.find("undo\nfailed"), std::string::npos) << text;
}

TEST(SagaJsonTest, EveryFieldIsPresentWithProtoNamesAndNumbersAsNumbers) {
  trinity::v1::Saga s = FailedSaga();
  (*s.mutable_inputs())["b"] = "2";
  (*s.mutable_inputs())["a"] = "1";
  const nlohmann::json j = SagaToJson(s);
  EXPECT_EQ(j["id"], "o-1");
  EXPECT_EQ(j["created_ms"], 1000);
  EXPECT_EQ(j["definition_version"], 0);
  EXPECT_EQ(j["inputs"].dump(), R"({"a":"1","b":"2"})");
  EXPECT_EQ(j["steps"][1]["code"], 402);
  EXPECT_EQ(j["compensation_failed_steps"], nlohmann::json::array({"reserve"}));
  EXPECT_EQ(j.size(), 16u);
}

TEST(SagaJsonTest, InvalidUtf8InAStepOutputDoesNotBreakTheDump) {
  trinity::v1::Saga s;
  s.add_steps()->set_output(std::string("\xff\xfe ok", 5));
  const std::string text = DumpJson(SagaToJson(s));
  EXPECT_NE(text.find("ok"), std::string::npos);
}

}  // namespace
}  // namespace tri::client
