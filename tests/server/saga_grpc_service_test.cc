// trinity.v1.Sagas end to end in one process: the gRPC service
// (server/saga_grpc_service.h) on a free port over the fake backend, driven by
// the C++ client (client/saga_client.h).
#include "server/saga_grpc_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "client/saga_client.h"
#include "saga/saga_id.h"
#include "server/fake_saga_backend.h"
#include "server/metrics.h"

namespace tri::server {
namespace {

using testing::FakeSagaBackend;

class SagaGrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(SagaServiceOptions{}); }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  void StartServer(SagaServiceOptions options) {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    service_ = std::make_unique<SagaGrpcService>(backend_, options);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    service_->Register(builder);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
    client::ClientOptions copts;
    copts.endpoints = {"127.0.0.1:" + std::to_string(port_)};
    auto c = client::SagaClient::Connect(copts);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }

  void PutRunningSaga(const std::string& id) {
    SagaView v;
    v.id = id;
    v.definition_name = "order";
    v.state = "running";
    SagaStepView s;
    s.id = "a";
    s.state = "running";
    s.attempts = 1;
    v.steps = {s};
    backend_.PutSaga(v);
  }

  static SagaEventView Event(const std::string& name, const std::string& step = "") {
    SagaEventView e;
    e.event = name;
    e.step = step;
    return e;
  }

  FakeSagaBackend backend_;
  std::unique_ptr<SagaGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<client::SagaClient> client_;
};

TEST_F(SagaGrpcServiceTest, DefineStartGetListAndAbort) {
  trinity::v1::DefineSagaRequest define;
  define.set_document("name: order\nsteps: []\n");
  define.set_source_name("order.yaml");
  auto defined = client_->Define(define);
  ASSERT_TRUE(defined.ok()) << defined.status().ToString();
  EXPECT_EQ(defined->name(), "order");
  EXPECT_EQ(defined->version(), 1u);
  EXPECT_FALSE(defined->already_existed());

  trinity::v1::StartSagaRequest start;
  start.set_definition_name("order");
  start.set_saga_id("o-1");
  (*start.mutable_inputs())["n"] = "5";
  auto started = client_->Start(start);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->saga_id(), "o-1");
  started = client_->Start(start);
  ASSERT_TRUE(started.ok());
  EXPECT_TRUE(started->already_existed());

  auto saga = client_->Get("o-1");
  ASSERT_TRUE(saga.ok()) << saga.status().ToString();
  EXPECT_EQ(saga->state(), "running");
  EXPECT_EQ(saga->inputs().at("n"), "5");

  PutRunningSaga("o-2");
  saga = client_->Get("o-2");
  ASSERT_EQ(saga->steps_size(), 1);
  EXPECT_EQ(saga->steps(0).attempts(), 1u);

  trinity::v1::ListSagasRequest list;
  list.set_limit(1);
  auto page = client_->List(list);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->sagas_size(), 1);
  EXPECT_EQ(page->sagas(0).id(), "o-1");
  EXPECT_EQ(page->next_page_token(), "o-1");
  EXPECT_EQ(page->sagas(0).steps_size(), 0);

  auto aborted = client_->Abort("o-2");
  ASSERT_TRUE(aborted.ok()) << aborted.status().ToString();
  EXPECT_EQ(aborted->stop_cause(), "abort");
}

TEST_F(SagaGrpcServiceTest, EachMethodIsCountedInTheNodesMetrics) {
  MetricsRegistry registry;
  SagaServiceOptions options;
  options.metrics = &registry;
  StartServer(options);
  PutRunningSaga("m-1");
  ASSERT_TRUE(client_->Get("m-1").ok());
  ASSERT_FALSE(client_->Get("ghost").ok());
  ASSERT_FALSE(client_->Get("bad id").ok());
  ASSERT_EQ(client_->Watch("ghost", 0, [](const auto&) { return true; }).code(),
            StatusCode::kNotFound);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("grpc_server_handled_total{grpc_method=\"GetSaga\"} 3"), std::string::npos)
      << text;
  EXPECT_NE(text.find("grpc_server_failed_total{grpc_method=\"GetSaga\"} 2"), std::string::npos)
      << text;
  EXPECT_NE(text.find("grpc_server_failed_total{grpc_method=\"WatchSaga\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("grpc_server_handling_seconds_count{grpc_method=\"GetSaga\"} 3"),
            std::string::npos)
      << text;
}

TEST_F(SagaGrpcServiceTest, AStartWithoutAnIdGetsAClientGeneratedUlid) {
  trinity::v1::DefineSagaRequest define;
  define.set_document("name: order\n");
  ASSERT_TRUE(client_->Define(define).ok());
  trinity::v1::StartSagaRequest start;
  start.set_definition_name("order");
  auto a = client_->Start(start);
  auto b = client_->Start(start);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->saga_id(), b->saga_id());
  EXPECT_EQ(a->saga_id().size(), saga::kUlidLength);
  EXPECT_TRUE(saga::ValidateSagaId(a->saga_id()).ok());
  ASSERT_EQ(backend_.starts().size(), 2u);
  EXPECT_EQ(backend_.starts()[0].saga_id, a->saga_id()) << "the id travels with the request";
}

TEST_F(SagaGrpcServiceTest, ErrorsKeepTheirCodeAndMessage) {
  auto missing = client_->Get("ghost");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "saga ghost not found");

  auto bad_id = client_->Get("a b");
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_id.status().message().find("saga_id"), std::string::npos);

  trinity::v1::DefineSagaRequest define;
  define.set_document("steps: []\n");
  define.set_source_name("order.yaml");
  auto invalid = client_->Define(define);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.status().message(), "order.yaml:1:1: name: missing");

  backend_.FailCallsWith(ResourceExhausted("too many running sagas (limit 2)"));
  trinity::v1::StartSagaRequest start;
  start.set_definition_name("order");
  auto busy = client_->Start(start);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(busy.status().message(), "too many running sagas (limit 2)");
  backend_.FailCallsWith(Status::Ok());

  PutRunningSaga("done");
  backend_.AppendEvents("done", {Event("saga_completed")}, true);
  auto late = client_->Abort("done");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SagaGrpcServiceTest, WatchDeliversRecordedThenLiveEventsInOrderUntilTheEnd) {
  PutRunningSaga("w-1");
  backend_.AppendEvents("w-1", {Event("saga_started"), Event("step_started", "a")}, false);
  std::vector<std::uint64_t> positions;
  std::vector<std::string> names;
  std::thread producer([&] {
    while (backend_.watchers() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    backend_.AppendEvents("w-1", {Event("step_succeeded", "a")}, false);
    backend_.AppendEvents("w-1", {Event("saga_completed")}, true);
  });
  const Status st = client_->Watch("w-1", 0, [&](const trinity::v1::WatchSagaResponse& batch) {
    for (const auto& e : batch.events()) {
      positions.push_back(e.position());
      names.push_back(e.event());
    }
    return true;
  });
  producer.join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(positions, (std::vector<std::uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(names.back(), "saga_completed");

  // A finished saga's watch from a later position gets the rest and ends.
  positions.clear();
  ASSERT_TRUE(client_
                  ->Watch("w-1", 2,
                          [&](const trinity::v1::WatchSagaResponse& batch) {
                            for (const auto& e : batch.events())
                              positions.push_back(e.position());
                            return true;
                          })
                  .ok());
  EXPECT_EQ(positions, (std::vector<std::uint64_t>{2, 3}));
}

TEST_F(SagaGrpcServiceTest, WatchErrorsArriveAsTheStreamStatus) {
  const auto ignore = [](const trinity::v1::WatchSagaResponse&) { return true; };
  Status st = client_->Watch("ghost", 0, ignore);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  st = client_->Watch("bad id", 0, ignore);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  PutRunningSaga("w-2");
  st = client_->Watch("w-2", 7, ignore);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
}

TEST_F(SagaGrpcServiceTest, AWatcherThatStopsReadingCancelsTheBackendWatch) {
  PutRunningSaga("w-3");
  backend_.AppendEvents("w-3", {Event("saga_started")}, false);
  const Status st =
      client_->Watch("w-3", 0, [](const trinity::v1::WatchSagaResponse&) { return false; });
  EXPECT_EQ(st.code(), StatusCode::kCancelled);
  for (int i = 0; i < 500 && backend_.watchers() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(backend_.watchers(), 0u);
  EXPECT_EQ(backend_.cancels(), 1u);
}

TEST_F(SagaGrpcServiceTest, AWatcherTooFarBehindIsEndedWithResourceExhausted) {
  SagaServiceOptions options;
  options.max_watch_queue_batches = 2;
  StartServer(options);
  PutRunningSaga("w-4");
  // A raw stream that is not read while the saga produces far more than the
  // transport's flow-control window holds.
  trinity::v1::WatchSagaRequest request;
  request.set_saga_id("w-4");
  auto stub = trinity::v1::Sagas::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                              grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto reader = stub->WatchSaga(&context, request);
  while (backend_.watchers() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string big(4096, 's');
  for (int i = 0; i < 2000 && backend_.watchers() != 0; ++i)
    backend_.AppendEvents("w-4", {Event("step_started", big)}, false);
  trinity::v1::WatchSagaResponse batch;
  std::uint64_t next = 0;
  while (reader->Read(&batch)) {
    for (const auto& e : batch.events()) {
      EXPECT_EQ(e.position(), next) << "delivered events have no gaps";
      next = e.position() + 1;
    }
  }
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_NE(status.error_message().find("resume from position " + std::to_string(next)),
            std::string::npos)
      << status.error_message();
}

TEST_F(SagaGrpcServiceTest, TheClientFailsOverToTheNextEndpointWhenItsMemberGoesAway) {
  // Two members over the same backend; the client talks to one of them.
  SagaGrpcService second_service(backend_);
  grpc::ServerBuilder builder;
  int second_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &second_port);
  second_service.Register(builder);
  std::unique_ptr<grpc::Server> second = builder.BuildAndStart();
  ASSERT_TRUE(second != nullptr);
  const std::string first_target = "127.0.0.1:" + std::to_string(port_);
  const std::string second_target = "127.0.0.1:" + std::to_string(second_port);
  client::ClientOptions copts;
  copts.endpoints = {first_target, second_target};
  auto c = client::SagaClient::Connect(copts);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  PutRunningSaga("f-1");
  ASSERT_TRUE((*c)->Get("f-1").ok());
  const std::string used = (*c)->current_endpoint();

  // The member it talks to goes away.
  if (used == first_target) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  } else {
    second->Shutdown(std::chrono::system_clock::now());
    second.reset();
  }
  auto saga = (*c)->Get("f-1");
  ASSERT_TRUE(saga.ok()) << saga.status().ToString();
  EXPECT_EQ(saga->id(), "f-1");
  EXPECT_NE((*c)->current_endpoint(), used);
  if (second) second->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace tri::server
