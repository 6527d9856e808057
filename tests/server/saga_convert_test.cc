// The saga API's request checks and reply conversions (server/saga_convert.h),
// shared by the gRPC service and the HTTP API.
#include "server/saga_convert.h"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <string>

namespace tri::server {
namespace {

bool Mentions(const Status& st, const std::string& text) {
  return st.message().find(text) != std::string::npos;
}

TEST(SagaConvertTest, StartNeedsExactlyOneOfADefinitionNameAndAnInlineDocument) {
  const SagaApiLimits limits;
  trinity::v1::StartSagaRequest neither;
  auto r = FromProto(neither, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(r.status(), "exactly one of definition_name")) << r.status().message();

  trinity::v1::StartSagaRequest both;
  both.set_definition_name("order");
  both.set_document("name: order\n");
  EXPECT_FALSE(FromProto(both, limits).ok());

  trinity::v1::StartSagaRequest inline_with_version;
  inline_with_version.set_document("name: order\n");
  inline_with_version.set_definition_version(2);
  r = FromProto(inline_with_version, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.status(), "definition_version")) << r.status().message();
}

TEST(SagaConvertTest, StartCarriesEveryFieldToTheBackend) {
  trinity::v1::StartSagaRequest in;
  in.set_definition_name("order");
  in.set_definition_version(3);
  in.set_saga_id("order-42");
  (*in.mutable_inputs())["amount"] = "10";
  (*in.mutable_inputs())["user"] = "ada";
  auto r = FromProto(in, SagaApiLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition_name, "order");
  EXPECT_EQ(r->definition_version, 3u);
  EXPECT_EQ(r->saga_id, "order-42");
  EXPECT_TRUE(r->inline_document.empty());
  EXPECT_EQ(r->inputs, (std::map<std::string, std::string>{{"amount", "10"}, {"user", "ada"}}));
}

TEST(SagaConvertTest, StartRefusesABadSagaIdNamingTheField) {
  trinity::v1::StartSagaRequest in;
  in.set_definition_name("order");
  in.set_saga_id("has space");
  auto r = FromProto(in, SagaApiLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(r.status(), "saga_id")) << r.status().message();
}

TEST(SagaConvertTest, DocumentsAndInputsAreBoundedAndTheErrorSaysByHowMuch) {
  SagaApiLimits limits;
  limits.max_document_bytes = 16;
  limits.max_inputs = 2;
  limits.max_input_bytes = 8;

  trinity::v1::DefineSagaRequest define;
  define.set_document(std::string(17, 'x'));
  auto d = FromProto(define, limits);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(Mentions(d.status(), "17 bytes, more than the limit of 16")) << d.status().message();
  define.set_document(std::string(16, 'x'));
  EXPECT_TRUE(FromProto(define, limits).ok());
  define.set_document("");
  EXPECT_FALSE(FromProto(define, limits).ok());

  trinity::v1::StartSagaRequest start;
  start.set_document(std::string(17, 'x'));
  EXPECT_FALSE(FromProto(start, limits).ok());

  start.set_document("name: x");
  (*start.mutable_inputs())["a"] = "1";
  (*start.mutable_inputs())["b"] = "2";
  (*start.mutable_inputs())["c"] = "3";
  auto s = FromProto(start, limits);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Mentions(s.status(), "inputs: 3 given")) << s.status().message();

  start.mutable_inputs()->clear();
  (*start.mutable_inputs())["a"] = "12345678";
  s = FromProto(start, limits);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Mentions(s.status(), "9 bytes")) << s.status().message();
}

TEST(SagaConvertTest, DefineNamesTheRequestWhenNoSourceIsGiven) {
  trinity::v1::DefineSagaRequest in;
  in.set_document("name: a\n");
  auto r = FromProto(in, SagaApiLimits{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source_name, "request");
  in.set_source_name("order.yaml");
  EXPECT_EQ(FromProto(in, SagaApiLimits{})->source_name, "order.yaml");
}

TEST(SagaConvertTest, ListChecksTheStateTheRangeAndThePageSize) {
  const SagaApiLimits limits;
  trinity::v1::ListSagasRequest in;
  auto r = FromProto(in, limits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->limit, limits.default_list_limit);

  in.set_state("done");
  r = FromProto(in, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.status(), "\"done\" is not a saga state")) << r.status().message();
  for (const char* state :
       {"running", "completed", "failed", "compensated", "compensation_failed"}) {
    in.set_state(state);
    EXPECT_TRUE(FromProto(in, limits).ok()) << state;
  }

  in.set_created_after_ms(200);
  in.set_created_before_ms(200);
  r = FromProto(in, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.status(), "the range is empty")) << r.status().message();
  in.set_created_before_ms(201);
  EXPECT_TRUE(FromProto(in, limits).ok());

  in.set_limit(limits.max_list_limit + 1);
  EXPECT_FALSE(FromProto(in, limits).ok());
  in.set_limit(7);
  in.set_page_token("tok");
  in.set_definition_name("order");
  in.set_serializable(true);
  r = FromProto(in, limits);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->limit, 7u);
  EXPECT_EQ(r->page_token, "tok");
  EXPECT_EQ(r->definition_name, "order");
  EXPECT_EQ(r->created_after_ms, 200u);
  EXPECT_EQ(r->created_before_ms, 201u);
  EXPECT_TRUE(r->serializable);
}

TEST(SagaConvertTest, SagaIdsFromClientsAreChecked) {
  EXPECT_TRUE(CheckSagaId("01HZX3K5Q8J2M4N6P8R0T2V4W6").ok());
  EXPECT_FALSE(CheckSagaId("").ok());
  EXPECT_FALSE(CheckSagaId("..").ok());
  const Status st = CheckSagaId("a/b");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Mentions(st, "saga_id")) << st.message();
}

TEST(SagaConvertTest, ASagaViewKeepsEveryFieldInItsProto) {
  SagaView v;
  v.id = "s1";
  v.definition_name = "order";
  v.definition_version = 2;
  v.state = "compensation_failed";
  v.stop_cause = "step_failed";
  v.compensating = true;
  v.created_ms = 1000;
  v.finished_ms = 2000;
  v.inputs = {{"a", "1"}};
  v.compensation_failed_steps = {"pay"};
  v.events = 9;
  v.attempts = 5;
  v.retries = 2;
  v.compensation_attempts = 3;
  v.stale_results_dropped = 1;
  SagaStepView s;
  s.id = "pay";
  s.state = "compensation_failed";
  s.forward_state = "succeeded";
  s.attempts = 2;
  s.compensation_attempts = 3;
  s.code = 503;
  s.message = "boom";
  s.output = "{\"id\":1}";
  s.started_ms = 1100;
  s.finished_ms = 1200;
  v.steps = {s};

  trinity::v1::Saga p;
  ToProto(v, &p);
  EXPECT_EQ(p.id(), "s1");
  EXPECT_EQ(p.definition_name(), "order");
  EXPECT_EQ(p.definition_version(), 2u);
  EXPECT_EQ(p.state(), "compensation_failed");
  EXPECT_EQ(p.stop_cause(), "step_failed");
  EXPECT_TRUE(p.compensating());
  EXPECT_EQ(p.created_ms(), 1000u);
  EXPECT_EQ(p.finished_ms(), 2000u);
  EXPECT_EQ(p.inputs().at("a"), "1");
  ASSERT_EQ(p.compensation_failed_steps_size(), 1);
  EXPECT_EQ(p.compensation_failed_steps(0), "pay");
  EXPECT_EQ(p.events(), 9u);
  EXPECT_EQ(p.attempts(), 5u);
  EXPECT_EQ(p.retries(), 2u);
  EXPECT_EQ(p.compensation_attempts(), 3u);
  EXPECT_EQ(p.stale_results_dropped(), 1u);
  ASSERT_EQ(p.steps_size(), 1);
  const trinity::v1::SagaStep& ps = p.steps(0);
  EXPECT_EQ(ps.id(), "pay");
  EXPECT_EQ(ps.state(), "compensation_failed");
  EXPECT_EQ(ps.forward_state(), "succeeded");
  EXPECT_EQ(ps.attempts(), 2u);
  EXPECT_EQ(ps.compensation_attempts(), 3u);
  EXPECT_EQ(ps.code(), 503);
  EXPECT_EQ(ps.message(), "boom");
  EXPECT_EQ(ps.output(), "{\"id\":1}");
  EXPECT_EQ(ps.started_ms(), 1100u);
  EXPECT_EQ(ps.finished_ms(), 1200u);
}

TEST(SagaConvertTest, EveryStatusCodeMapsToTheGrpcCodeOfTheSameMeaning) {
  const std::pair<StatusCode, grpc::StatusCode> cases[] = {
      {StatusCode::kOk, grpc::StatusCode::OK},
      {StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {StatusCode::kIoError, grpc::StatusCode::INTERNAL},
      {StatusCode::kCorruption, grpc::StatusCode::DATA_LOSS},
  };
  for (const auto& [code, grpc_code] : cases) {
    const grpc::Status g =
        ToGrpcStatus(code == StatusCode::kOk ? Status::Ok() : Status(code, "why"));
    EXPECT_EQ(g.error_code(), grpc_code) << StatusCodeName(code);
    if (code != StatusCode::kOk) {
      EXPECT_EQ(g.error_message(), "why");
    }
  }
}

}  // namespace
}  // namespace tri::server
