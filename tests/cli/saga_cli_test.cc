// `tri saga ...` as a user runs it: the real binary as a child process against
// the gRPC service in this process over the fake backend (no node needed).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "server/fake_saga_backend.h"
#include "server/saga_grpc_service.h"

namespace tri::server {
namespace {

using json = nlohmann::json;

struct Ran {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

class SagaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<SagaGrpcService>(backend_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    service_->Register(builder);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
  }
  void TearDown() override { server_->Shutdown(std::chrono::system_clock::now()); }

  Ran Tri(const std::string& args) {
    const std::string command = std::string(TRI_BINARY) + " " + args +
                                " --endpoints 127.0.0.1:" + std::to_string(port_) + " 2>&1";
    Ran ran;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return ran;
    std::array<char, 4096> buffer;
    std::size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
      ran.out.append(buffer.data(), n);
    const int status = pclose(pipe);
    ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return ran;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  void PutSaga(const std::string& id, const std::string& state) {
    SagaView v;
    v.id = id;
    v.definition_name = "order";
    v.definition_version = 1;
    v.state = state;
    v.created_ms = 1'700'000'000'000;
    SagaStepView pay;
    pay.id = "pay";
    pay.state = "compensated";
    pay.forward_state = "succeeded";
    pay.attempts = 1;
    SagaStepView ship;
    ship.id = "ship";
    ship.state = "failed";
    ship.forward_state = "failed";
    ship.attempts = 3;
    ship.code = 503;
    ship.message = "carrier down";
    v.steps = {pay, ship};
    v.stop_cause = "step_failed";  // ship failed; the saga compensates or has
    backend_.PutSaga(v);
  }

  static SagaEventView Event(const std::string& name, const std::string& step = "",
                             std::uint32_t attempt = 0, int code = 0) {
    SagaEventView e;
    e.event = name;
    e.step = step;
    e.attempt = attempt;
    e.code = code;
    e.time_ms = 1'700'000'000'250;
    return e;
  }

  // Finishes `id` once a watcher is there (from another thread).
  std::thread FinishWhenWatched(const std::string& id, const std::string& final_state) {
    return std::thread([this, id, final_state] {
      for (int i = 0; i < 2000 && backend_.watchers() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      backend_.AppendEvents(id, {Event("step_failed", "ship", 3, 503)}, false);
      backend_.AppendEvents(id, {Event("saga_" + final_state)}, true, final_state);
    });
  }

  testing::FakeSagaBackend backend_;
  std::unique_ptr<SagaGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(SagaCliTest, DefineAFileThenStartItByNameWithInputsAndAnId) {
  const std::string file = WriteFile("order.yaml", "name: order\nsteps: []\n");
  Ran ran = Tri("saga define " + file);
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_EQ(ran.out, "defined: order version 1\n");
  ran = Tri("saga define " + file + " -w json");
  EXPECT_EQ(json::parse(ran.out),
            json::parse(R"({"name":"order","version":1,"already_existed":true})"));

  ran = Tri("saga start order --input amount=10 --input user=ada --id o-1");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_EQ(ran.out, "started: saga o-1\n");
  ASSERT_EQ(backend_.starts().size(), 1u);
  EXPECT_EQ(backend_.starts()[0].definition_name, "order");
  EXPECT_EQ(backend_.starts()[0].inputs,
            (std::map<std::string, std::string>{{"amount", "10"}, {"user", "ada"}}));

  ran = Tri("saga start order --id o-1 -w json");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_EQ(json::parse(ran.out), json::parse(R"({"saga_id":"o-1","already_existed":true})"));
}

TEST_F(SagaCliTest, StartOfAFileDefinesItInlineAndGetsAGeneratedId) {
  const std::string file = WriteFile("inline.yaml", "name: inline\nsteps: []\n");
  const Ran ran = Tri("saga start " + file);
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  ASSERT_EQ(backend_.starts().size(), 1u);
  EXPECT_EQ(backend_.starts()[0].inline_document, "name: inline\nsteps: []\n");
  EXPECT_TRUE(backend_.starts()[0].definition_name.empty());
  EXPECT_EQ(backend_.starts()[0].saga_id.size(), 26u) << "a ULID";
  EXPECT_EQ(ran.out, "started: saga " + backend_.starts()[0].saga_id + "\n");
}

TEST_F(SagaCliTest, UsageErrorsExit2WithoutReachingTheServer) {
  EXPECT_EQ(Tri("saga start order --input novalue").exit_code, 2);
  EXPECT_EQ(Tri("saga start order --input a=1 --input a=2").exit_code, 2);
  Ran ran = Tri("saga start order --id 'a b'");
  EXPECT_EQ(ran.exit_code, 2);
  EXPECT_NE(ran.out.find("--id"), std::string::npos) << ran.out;
  ran = Tri("saga start missing/order.yaml");
  EXPECT_EQ(ran.exit_code, 2);
  EXPECT_NE(ran.out.find("missing/order.yaml: no such file"), std::string::npos) << ran.out;
  EXPECT_EQ(Tri("saga get").exit_code, 2);
  EXPECT_EQ(Tri("saga get o-1 -w yaml").exit_code, 2);
  EXPECT_EQ(Tri("saga list --limit 0").exit_code, 2);
  EXPECT_EQ(Tri("saga").exit_code, 2);
  EXPECT_TRUE(backend_.starts().empty());
}

TEST_F(SagaCliTest, ServerErrorsExit1WithTheServersMessage) {
  Ran ran = Tri("saga get ghost");
  EXPECT_EQ(ran.exit_code, 1);
  EXPECT_EQ(ran.out, "Error: saga ghost not found\n");
  ran = Tri("saga start unknown");
  EXPECT_EQ(ran.exit_code, 1);
  EXPECT_NE(ran.out.find("definition \"unknown\" is not registered"), std::string::npos) << ran.out;
}

TEST_F(SagaCliTest, GetShowsTheSagaAndATableOfItsSteps) {
  PutSaga("o-2", "compensated");
  Ran ran = Tri("saga get o-2");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("state:       compensated"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("stopped by:  failure of step ship (code 503)"), std::string::npos)
      << ran.out;
  EXPECT_NE(ran.out.find("created:     2023-11-14T22:13:20.000Z"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("| STEP |"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("carrier down"), std::string::npos) << ran.out;

  ran = Tri("saga get o-2 -w json");
  const json saga = json::parse(ran.out);
  EXPECT_EQ(saga["state"], "compensated");
  EXPECT_EQ(saga["steps"][1]["code"], 503);
}

TEST_F(SagaCliTest, ListFiltersAndShowsATable) {
  PutSaga("a-1", "running");
  PutSaga("a-2", "completed");
  Ran ran = Tri("saga list --state running --name order");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("a-1"), std::string::npos) << ran.out;
  EXPECT_EQ(ran.out.find("a-2"), std::string::npos) << ran.out;
  EXPECT_EQ(backend_.last_list().state, "running");
  EXPECT_EQ(backend_.last_list().definition_name, "order");

  ran = Tri("saga list --limit 1 -w json");
  const json page = json::parse(ran.out);
  EXPECT_EQ(page["sagas"].size(), 1u);
  EXPECT_EQ(page["next_page_token"], "a-1");
}

TEST_F(SagaCliTest, WatchPrintsOneLinePerEventAndExitsWithTheSagasState) {
  PutSaga("w-1", "running");
  backend_.AppendEvents("w-1", {Event("saga_started")}, false);
  std::thread finisher = FinishWhenWatched("w-1", "compensated");
  const Ran ran = Tri("saga watch w-1");
  finisher.join();
  EXPECT_EQ(ran.exit_code, 3) << ran.out;
  EXPECT_NE(ran.out.find("[    0.250s] saga w-1: saga_started\n"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("step ship: step_failed (attempt 3) code 503\n"), std::string::npos)
      << ran.out;
  EXPECT_NE(ran.out.find("saga w-1: compensated"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("stopped by: failure of step ship (code 503)"), std::string::npos)
      << ran.out;
}

TEST_F(SagaCliTest, StartWaitFollowsTheSagaAndExitsAsTriRunDoes) {
  backend_.DefineSaga({"name: order\n", "t"}, [](Result<SagaDefineReply>) {});
  std::thread finisher = FinishWhenWatched("o-9", "failed");
  const Ran ran = Tri("saga start order --id o-9 --wait");
  finisher.join();
  EXPECT_EQ(ran.exit_code, 1) << ran.out;
  EXPECT_NE(ran.out.find("started: saga o-9\n"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("saga o-9: saga_failed"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("saga o-9: failed"), std::string::npos) << ran.out;
}

TEST_F(SagaCliTest, AbortSaysWhatHappened) {
  PutSaga("x-1", "running");
  Ran ran = Tri("saga abort x-1");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_EQ(ran.out, "abort requested: saga x-1 is running (compensating)\n");
  backend_.AppendEvents("x-1", {Event("saga_compensated")}, true, "compensated");
  ran = Tri("saga abort x-1");
  EXPECT_EQ(ran.exit_code, 1);
  EXPECT_EQ(ran.out, "Error: saga x-1 already finished\n");
}

}  // namespace
}  // namespace tri::server
