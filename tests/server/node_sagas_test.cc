// Sagas on a real one-member node (loopback, a temporary data directory, fsync
// on): the SagaBackend end to end — define, start, watch, get, list, abort —
// and that a restart from the data directory keeps every saga.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <thread>

#include "server/config.h"
#include "server/node.h"

namespace tri::server {
namespace {

constexpr char kDiamond[] = R"(name: diamond
steps:
  - id: a
    run: noop
  - id: b
    needs: [a]
    run: noop
  - id: c
    needs: [a]
    run: {sleep: {duration: 20ms}}
  - id: d
    needs: [b, c]
    run: noop
)";

constexpr char kRefund[] = R"(name: refund
inputs:
  order: {default: "o-1"}
steps:
  - id: reserve
    run: noop
    compensate: noop
  - id: charge
    needs: [reserve]
    run: {fail: {code: 402, message: "card declined", retryable: false}}
  - id: ship
    needs: [charge]
    run: noop
)";

constexpr char kSlow[] = R"(name: slow
steps:
  - id: first
    run: noop
    compensate: noop
  - id: wait
    needs: [first]
    run: {sleep: {duration: 30s}}
)";

template <typename T>
T Await(std::function<void(std::function<void(T)>)> call) {
  std::promise<T> p;
  auto f = p.get_future();
  call([&p](T v) { p.set_value(std::move(v)); });
  EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  return f.get();
}

class NodeSagasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tri-node-sagas-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    StartNode();
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartNode() {
    ServerConfig c;
    c.name = "s1";
    c.data_dir = dir_.string();
    c.listen_client_urls = "http://127.0.0.1:0";
    c.advertise_client_urls = "http://127.0.0.1:1";
    c.listen_peer_urls = "http://127.0.0.1:0";
    c.initial_advertise_peer_urls = "http://127.0.0.1:1";
    c.listen_metrics_urls = "";
    c.listen_http_urls = "";
    c.heartbeat_interval_ms = 10;
    c.election_timeout_ms = 100;
    auto resolved = ResolveConfig(c);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    auto node = Node::Start(*resolved);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(*node);
  }

  SagaBackend& sagas() { return node_->sagas(); }

  Result<SagaDefineReply> Define(const std::string& doc) {
    return Await<Result<SagaDefineReply>>([&](auto done) {
      sagas().DefineSaga(SagaDefineRequest{.document = doc, .source_name = "test.yaml"}, done);
    });
  }
  Result<SagaStartReply> Start(SagaStartRequest request) {
    return Await<Result<SagaStartReply>>(
        [&](auto done) { sagas().StartSaga(std::move(request), done); });
  }
  Result<SagaView> Get(const std::string& id) {
    return Await<Result<SagaView>>([&](auto done) { sagas().GetSaga(id, false, done); });
  }
  // Watches from position 0 until the terminal event; returns the event names.
  std::vector<std::string> WatchToEnd(const std::string& id) {
    std::promise<std::vector<std::string>> p;
    auto f = p.get_future();
    auto names = std::make_shared<std::vector<std::string>>();
    auto positions_ok = std::make_shared<bool>(true);
    sagas().WatchSaga(
        id, 0,
        [names, positions_ok, &p](std::vector<SagaEventView> batch, bool finished) {
          for (const auto& e : batch) {
            if (e.position != names->size()) *positions_ok = false;
            names->push_back(e.event + (e.step.empty() ? "" : ":" + e.step));
          }
          if (finished) p.set_value(*names);
        },
        [&p](Status s) { p.set_value({"error: " + s.ToString()}); });
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    auto result = f.get();
    EXPECT_TRUE(*positions_ok) << "positions are dense from 0";
    return result;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
};

TEST_F(NodeSagasTest, RegisteredSagaRunsToCompletionAndIsReadBack) {
  auto def = Define(kDiamond);
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->name, "diamond");
  EXPECT_EQ(def->version, 1u);
  auto again = Define(kDiamond);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_existed);
  EXPECT_EQ(again->version, 1u);

  auto started = Start(SagaStartRequest{.definition_name = "diamond", .saga_id = "order-1"});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->saga_id, "order-1");
  const auto events = WatchToEnd("order-1");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "saga_started");
  EXPECT_EQ(events.back(), "saga_completed");

  auto view = Get("order-1");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->state, "completed");
  ASSERT_EQ(view->steps.size(), 4u);
  for (const auto& step : view->steps)
    EXPECT_EQ(step.state, "succeeded") << step.id;
  EXPECT_GT(view->finished_ms, 0u);

  // The same id again answers the existing saga.
  auto twice = Start(SagaStartRequest{.definition_name = "diamond", .saga_id = "order-1"});
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(twice->already_existed);
}

TEST_F(NodeSagasTest, GeneratedIdsDifferAndFailureCompensates) {
  auto a = Start(SagaStartRequest{.inline_document = kRefund});
  auto b = Start(SagaStartRequest{.inline_document = kRefund});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->saga_id, b->saga_id);
  EXPECT_EQ(a->saga_id.size(), 26u);
  const auto events = WatchToEnd(a->saga_id);
  EXPECT_EQ(events.back(), "saga_compensated");
  auto view = Get(a->saga_id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->state, "compensated");
  EXPECT_EQ(view->stop_cause, "step_failed");
  EXPECT_EQ(view->inputs.at("order"), "o-1");
}

TEST_F(NodeSagasTest, StartWithWaitAnswersOnceTheSagaIsTerminal) {
  auto done = Start(SagaStartRequest{.inline_document = kRefund, .wait = true});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->state, "compensated");
  auto view = Get(done->saga_id);
  ASSERT_TRUE(view.ok());
  EXPECT_NE(view->finished_ms, 0u) << "answered only after the end";
  // Waiting on a saga that already finished answers at once.
  auto again =
      Start(SagaStartRequest{.inline_document = kRefund, .saga_id = done->saga_id, .wait = true});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_existed);
  EXPECT_EQ(again->state, "compensated");
}

TEST_F(NodeSagasTest, ErrorsNameWhatIsWrong) {
  auto unknown = Start(SagaStartRequest{.definition_name = "nope"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  auto bad_doc = Define("name: x\nsteps:\n  - id: a\n    needs: [zz]\n    run: noop\n");
  EXPECT_EQ(bad_doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_doc.status().message().find("zz"), std::string::npos)
      << bad_doc.status().ToString();
  auto bad_input = Start(SagaStartRequest{.inline_document = kRefund, .inputs = {{"x", "1"}}});
  EXPECT_EQ(bad_input.status().code(), StatusCode::kInvalidArgument);
  auto bad_id = Start(SagaStartRequest{.inline_document = kRefund, .saga_id = "a/b"});
  EXPECT_EQ(bad_id.status().code(), StatusCode::kInvalidArgument);
  auto missing = Get("missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(NodeSagasTest, AbortStopsARunningSagaAndRestartKeepsEverything) {
  auto s = Start(SagaStartRequest{.inline_document = kSlow, .saga_id = "slow-1"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Wait until the sleep runs, then abort.
  for (int i = 0; i < 200; ++i) {
    auto v = Get("slow-1");
    ASSERT_TRUE(v.ok());
    if (v->steps[1].state == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto aborted = Await<Result<SagaView>>([&](auto done) { sagas().AbortSaga("slow-1", done); });
  ASSERT_TRUE(aborted.ok()) << aborted.status().ToString();
  EXPECT_EQ(WatchToEnd("slow-1").back(), "saga_compensated");
  auto again = Await<Result<SagaView>>([&](auto done) { sagas().AbortSaga("slow-1", done); });
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);

  node_.reset();
  StartNode();
  auto view = Get("slow-1");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->state, "compensated");
  EXPECT_EQ(view->stop_cause, "abort");
  auto list = Await<Result<SagaListReply>>(
      [&](auto done) { sagas().ListSagas(SagaListRequest{.state = "compensated"}, done); });
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->sagas.size(), 1u);
  EXPECT_EQ(list->sagas[0].id, "slow-1");
}

TEST_F(NodeSagasTest, CompensationStartsOnlyAfterTheAbortedAttemptsProcessIsReaped) {
  // The forward step traps SIGTERM, takes its time and commits on its way out;
  // its compensation must see the commit (it runs only once the process group
  // of the cancelled attempt is gone).
  const std::string log = (dir_ / "effects.log").string();
  const std::string doc = R"(name: trap
steps:
  - id: pay
    run:
      exec:
        shell: true
        argv: ["trap 'sleep 0.3; echo committed >> LOG; exit 1' TERM; echo started >> LOG; sleep 30 & wait"]
    compensate:
      exec: {shell: true, argv: ["echo compensated >> LOG"]}
    compensate_when: attempted
)";
  std::string text = doc;
  for (std::size_t at; (at = text.find("LOG")) != std::string::npos;)
    text.replace(at, 3, log);
  std::filesystem::create_directories(dir_);
  auto s = Start(SagaStartRequest{.inline_document = text, .saga_id = "trap-1"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int i = 0; i < 500 && !std::filesystem::exists(log); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(std::filesystem::exists(log)) << "the forward action never started";
  auto aborted = Await<Result<SagaView>>([&](auto done) { sagas().AbortSaga("trap-1", done); });
  ASSERT_TRUE(aborted.ok()) << aborted.status().ToString();
  EXPECT_EQ(WatchToEnd("trap-1").back(), "saga_compensated");
  std::ifstream in(log);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "started\ncommitted\ncompensated\n");
}

}  // namespace
}  // namespace tri::server
