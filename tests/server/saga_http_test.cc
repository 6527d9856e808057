// The HTTP/JSON saga API (server/saga_http.h): request parsing and error
// mapping on their own, then a live server on a free port over the fake backend.
#include "server/saga_http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/config.h"
#include "server/fake_saga_backend.h"

namespace tri::server {
namespace {

using json = nlohmann::json;
using testing::FakeSagaBackend;

// ---- Without a server ----

TEST(SagaHttpTest, ErrorCodesMapToTheirHttpStatus) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kFailedPrecondition), 412);
  EXPECT_EQ(HttpStatusOf(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(StatusCode::kCorruption), 500);
}

TEST(SagaHttpTest, ErrorBodiesCarryTheGrpcCodeNameAndTheMessage) {
  const json body = json::parse(ErrorBody(NotFound("saga x not found")));
  EXPECT_EQ(body, json::parse(R"({"error":{"code":"NOT_FOUND","message":"saga x not found"}})"));
  // The names the gRPC service would answer, also for the codes gRPC lacks.
  EXPECT_EQ(ErrorCodeName(StatusCode::kIoError), "INTERNAL");
  EXPECT_EQ(ErrorCodeName(StatusCode::kCorruption), "DATA_LOSS");
  EXPECT_EQ(ErrorCodeName(StatusCode::kResourceExhausted), "RESOURCE_EXHAUSTED");
}

TEST(SagaHttpTest, StartBodyTakesEveryFieldAndTextNumbersAndBooleansAsInputs) {
  auto r = ParseStartSagaBody(
      R"({"definition":"order","version":2,"id":"o-1","inputs":{"n":5,"ok":true,"s":"x"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition_name(), "order");
  EXPECT_EQ(r->definition_version(), 2u);
  EXPECT_EQ(r->saga_id(), "o-1");
  EXPECT_EQ(r->inputs().at("n"), "5");
  EXPECT_EQ(r->inputs().at("ok"), "true");
  EXPECT_EQ(r->inputs().at("s"), "x");

  r = ParseStartSagaBody(R"({"document":"name: x\nsteps: []\n"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->document(), "name: x\nsteps: []\n");
}

TEST(SagaHttpTest, StartBodyErrorsNameTheField) {
  const auto message = [](std::string_view body) {
    auto r = ParseStartSagaBody(body);
    EXPECT_FALSE(r.ok()) << body;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(message("{"), "body: not valid JSON");
  EXPECT_NE(message("[1]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(message(R"({"defintion":"x"})").find("unknown field \"defintion\""), std::string::npos);
  EXPECT_NE(message(R"({"definition":1})").find("definition: expected a string"),
            std::string::npos);
  EXPECT_NE(message(R"({"version":-1})").find("version:"), std::string::npos);
  EXPECT_NE(message(R"({"version":4294967296})").find("version:"), std::string::npos);
  EXPECT_NE(message(R"({"inputs":[1]})").find("inputs: expected an object"), std::string::npos);
  EXPECT_NE(message(R"({"inputs":{"a":{"b":1}}})").find("inputs.a: expected a string"),
            std::string::npos);
}

TEST(SagaHttpTest, ListQueryTakesEveryFilterAndRefusesUnknownOrRepeatedParameters) {
  QueryParams params{{"state", "running"},      {"definition", "order"}, {"created_after", "100"},
                     {"created_before", "200"}, {"page_token", "tok"},   {"limit", "7"},
                     {"serializable", "true"}};
  auto r = ParseListSagasQuery(params);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state(), "running");
  EXPECT_EQ(r->definition_name(), "order");
  EXPECT_EQ(r->created_after_ms(), 100u);
  EXPECT_EQ(r->created_before_ms(), 200u);
  EXPECT_EQ(r->page_token(), "tok");
  EXPECT_EQ(r->limit(), 7u);
  EXPECT_TRUE(r->serializable());

  auto bad = ParseListSagasQuery({{"stat", "running"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown query parameter \"stat\""), std::string::npos);
  bad = ParseListSagasQuery({{"limit", "1"}, {"limit", "2"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("given twice"), std::string::npos);
  bad = ParseListSagasQuery({{"created_after", "yesterday"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("created_after: \"yesterday\""), std::string::npos);
  EXPECT_FALSE(ParseListSagasQuery({{"limit", "-1"}}).ok());
  EXPECT_FALSE(ParseListSagasQuery({{"serializable", "yes"}}).ok());
}

TEST(SagaHttpTest, TheQueryComesFromTheTargetPercentDecoded) {
  EXPECT_TRUE(QueryOf("/v1/sagas").empty());
  EXPECT_EQ(
      QueryOf("/v1/sagas?state=running&definition=my%20order&x&page_token=a+b"),
      (QueryParams{
          {"state", "running"}, {"definition", "my order"}, {"x", ""}, {"page_token", "a b"}}));
  EXPECT_EQ(QueryOf("/v1/sagas?bad=%zz%4"), (QueryParams{{"bad", "%zz%4"}}));
}

TEST(SagaHttpTest, AStreamResumesAfterLastEventIdWhichWinsOverFrom) {
  EXPECT_EQ(*ParseWatchStart({}, ""), 0u);
  EXPECT_EQ(*ParseWatchStart({{"from", "4"}}, ""), 4u);
  EXPECT_EQ(*ParseWatchStart({{"from", "4"}}, "9"), 10u);
  EXPECT_FALSE(ParseWatchStart({{"from", "x"}}, "").ok());
  EXPECT_FALSE(ParseWatchStart({}, "x").ok());
  EXPECT_FALSE(ParseWatchStart({{"to", "1"}}, "").ok());
}

TEST(SagaHttpTest, AnSseFrameHasThePositionAsIdTheEventAsTypeAndOneLineOfJson) {
  trinity::v1::SagaEvent e;
  e.set_position(3);
  e.set_time_ms(1700000000000);
  e.set_event("step_failed");
  e.set_step("pay\nment");
  e.set_attempt(2);
  e.set_code(503);
  const std::string frame = SseFrame(e);
  EXPECT_EQ(frame.rfind("id: 3\nevent: step_failed\ndata: {", 0), 0u) << frame;
  EXPECT_EQ(frame.substr(frame.size() - 2), "\n\n");
  const std::string data = frame.substr(frame.find("data: ") + 6);
  EXPECT_EQ(data.find('\n'), data.size() - 2) << "the data line must be one line";
  const json j = json::parse(data);
  EXPECT_EQ(j["step"], "pay\nment");
  EXPECT_EQ(j["code"], 503);
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_EQ(j["time_ms"], 1700000000000);
}

TEST(SagaHttpTest, ListenHttpUrlsDefaultsToLocalhost8080AndEmptyTurnsItOff) {
  auto r = ResolveConfig(ServerConfig{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->listen_http_urls.size(), 1u);
  EXPECT_EQ(r->listen_http_urls[0].host, "127.0.0.1");
  EXPECT_EQ(r->listen_http_urls[0].port, 8080);

  ServerConfig off;
  off.listen_http_urls = "";
  r = ResolveConfig(off);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->listen_http_urls.empty());

  ServerConfig bad;
  bad.listen_http_urls = "http://127.0.0.1:http";
  r = ResolveConfig(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--listen-http-urls"), std::string::npos)
      << r.status().message();
}

TEST(SagaHttpTest, TheConfigFileKeyIsListenHttpUrls) {
  const std::string path = ::testing::TempDir() + "/tri_saga_http_config.yaml";
  {
    std::ofstream f(path);
    f << "listen-http-urls: http://127.0.0.1:18080\n";
  }
  ServerConfig c;
  ASSERT_TRUE(LoadConfigFile(path, c).ok());
  EXPECT_EQ(c.listen_http_urls, "http://127.0.0.1:18080");
}

// ---- A live server over the fake backend ----

class SagaHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(SagaHttpOptions{}); }

  void StartServer(SagaHttpOptions options) {
    server_.reset();
    options.keepalive_interval = std::chrono::milliseconds(50);
    auto s = SagaHttpServer::Start(backend_, {Url{"http", "127.0.0.1", 0}}, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->ports()[0]);
  }

  static json Body(const httplib::Result& r) { return json::parse(r->body); }

  void PutRunningSaga(const std::string& id) {
    SagaView v;
    v.id = id;
    v.definition_name = "order";
    v.state = "running";
    backend_.PutSaga(v);
  }

  static SagaEventView Event(const std::string& name, const std::string& step = "") {
    SagaEventView e;
    e.event = name;
    e.step = step;
    e.time_ms = 1000;
    return e;
  }

  // Reads an event stream to its end; returns the raw text.
  std::string ReadStream(const std::string& path, const httplib::Headers& headers = {}) {
    std::string text;
    auto r = client_->Get(path.c_str(), headers, [&](const char* data, std::size_t n) {
      text.append(data, n);
      return true;
    });
    EXPECT_TRUE(r) << "stream request failed";
    if (r) {
      EXPECT_EQ(r->status, 200) << text;
    }
    return text;
  }

  FakeSagaBackend backend_;
  std::unique_ptr<SagaHttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(SagaHttpServerTest, DefineStartAndGetASaga) {
  auto r = client_->Post("/v1/definitions?source=order.yaml", "name: order\nsteps: []\n",
                         "application/yaml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Body(r), json::parse(R"({"name":"order","version":1,"already_existed":false})"));
  r = client_->Post("/v1/definitions", "name: order\nsteps: []\n", "application/yaml");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["already_existed"], true);

  r = client_->Post("/v1/sagas", R"({"definition":"order","id":"o-1","inputs":{"n":5}})",
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->get_header_value("Location"), "/v1/sagas/o-1");
  EXPECT_EQ(Body(r), json::parse(R"({"saga_id":"o-1","already_existed":false})"));
  ASSERT_EQ(backend_.starts().size(), 1u);
  EXPECT_EQ(backend_.starts()[0].inputs.at("n"), "5");

  r = client_->Post("/v1/sagas", R"({"definition":"order","id":"o-1"})", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["already_existed"], true);

  r = client_->Get("/v1/sagas/o-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json saga = Body(r);
  EXPECT_EQ(saga["id"], "o-1");
  EXPECT_EQ(saga["state"], "running");
  EXPECT_EQ(saga["definition_name"], "order");
  EXPECT_EQ(saga["inputs"], json::parse(R"({"n":"5"})"));
}

TEST_F(SagaHttpServerTest, BackendErrorsBecomeJsonErrorsWithTheMatchingStatus) {
  auto r = client_->Get("/v1/sagas/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r),
            json::parse(R"({"error":{"code":"NOT_FOUND","message":"saga nope not found"}})"));

  r = client_->Post("/v1/sagas", R"({"definition":"missing"})", "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["error"]["code"], "NOT_FOUND");

  PutRunningSaga("done-1");
  backend_.AppendEvents("done-1", {Event("saga_completed")}, true);
  r = client_->Post("/v1/sagas/done-1/abort", "", "application/json");
  EXPECT_EQ(r->status, 412);
  EXPECT_EQ(Body(r)["error"]["code"], "FAILED_PRECONDITION");

  const std::pair<Status, int> cases[] = {
      {Unavailable("no leader"), 503},
      {ResourceExhausted("too many running sagas"), 429},
      {DeadlineExceeded("request timed out"), 504},
  };
  for (const auto& [status, http] : cases) {
    backend_.FailCallsWith(status);
    r = client_->Get("/v1/sagas");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, http) << status.ToString();
    EXPECT_EQ(Body(r)["error"]["message"], status.message());
  }
  backend_.FailCallsWith(Status::Ok());
}

TEST_F(SagaHttpServerTest, BadRequestsAreRefusedBeforeTheBackendAndNameWhatIsWrong) {
  auto r = client_->Get("/v1/sagas/a%20b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(Body(r)["error"]["message"].get<std::string>().find("saga_id"), std::string::npos);

  r = client_->Post("/v1/sagas", R"({"definition":"order","document":"name: x"})",
                    "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r)["error"]["code"], "INVALID_ARGUMENT");

  r = client_->Get("/v1/sagas?state=done");
  EXPECT_EQ(r->status, 400);
  r = client_->Get("/v1/sagas/o-1?consistent=yes");
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(backend_.starts().empty());

  r = client_->Get("/v2/nothing");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["error"]["code"], "NOT_FOUND");
}

TEST_F(SagaHttpServerTest, AFormEncodedBodyIsTheBodyNotQueryParameters) {
  // What `curl -d '{...}'` sends: the form content type.
  auto r = client_->Post("/v1/sagas", R"({"definition":"order","id":"o-f"})",
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;  // reached the backend: no definition "order"
  EXPECT_EQ(Body(r)["error"]["code"], "NOT_FOUND");
  r = client_->Post("/v1/definitions", "name: order\nsteps: []\n",
                    "application/x-www-form-urlencoded");
  EXPECT_EQ(r->status, 201) << r->body;
}

TEST_F(SagaHttpServerTest, ABodyLargerThanTheBoundIsRefusedWith413) {
  SagaHttpOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  auto r = client_->Post("/v1/definitions", std::string(2048, 'x'), "application/yaml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(
      Body(r)["error"]["message"].get<std::string>().find("2048 bytes is larger than 1024 bytes"),
      std::string::npos);
}

TEST_F(SagaHttpServerTest, ListPassesTheFiltersAndPages) {
  for (const char* id : {"a", "b", "c"})
    PutRunningSaga(id);
  auto r = client_->Get("/v1/sagas?state=running&definition=order&limit=2&created_after=5");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  const json page = Body(r);
  ASSERT_EQ(page["sagas"].size(), 2u);
  EXPECT_EQ(page["sagas"][0]["id"], "a");
  EXPECT_EQ(page["next_page_token"], "b");
  EXPECT_EQ(backend_.last_list().created_after_ms, 5u);
  EXPECT_EQ(backend_.last_list().limit, 2u);

  r = client_->Get("/v1/sagas?limit=2&page_token=b");
  EXPECT_EQ(Body(r)["sagas"].size(), 1u);
  EXPECT_EQ(Body(r)["next_page_token"], "");
}

TEST_F(SagaHttpServerTest, AbortAnswersWithTheSaga) {
  PutRunningSaga("o-2");
  auto r = client_->Post("/v1/sagas/o-2/abort", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Body(r)["stop_cause"], "abort");
  EXPECT_EQ(Body(r)["compensating"], true);
}

TEST_F(SagaHttpServerTest, EventsStreamToTheTerminalEventAndResumeAfterLastEventId) {
  PutRunningSaga("o-3");
  backend_.AppendEvents("o-3", {Event("saga_started"), Event("step_started", "a")}, false);
  std::string text;
  std::thread reader([&] { text = ReadStream("/v1/sagas/o-3/events"); });
  // Live events after the recorded ones; the stream ends with the terminal one.
  backend_.AppendEvents("o-3", {Event("step_succeeded", "a")}, false);
  backend_.AppendEvents("o-3", {Event("saga_completed")}, true);
  reader.join();
  std::vector<std::string> ids;
  for (std::size_t at = text.find("id: "); at != std::string::npos; at = text.find("id: ", at + 1))
    ids.push_back(text.substr(at + 4, text.find('\n', at) - at - 4));
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "1", "2", "3"})) << text;
  EXPECT_NE(text.find("event: saga_completed\n"), std::string::npos);
  EXPECT_EQ(text.find("event: error"), std::string::npos) << text;

  const std::string resumed = ReadStream("/v1/sagas/o-3/events", {{"Last-Event-ID", "2"}});
  EXPECT_EQ(resumed.find("id: 2\n"), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("id: 3\nevent: saga_completed\n"), std::string::npos) << resumed;
  EXPECT_EQ(ReadStream("/v1/sagas/o-3/events?from=3"), resumed);
}

TEST_F(SagaHttpServerTest, EventsOfAnUnknownSagaAre404NotAStream) {
  auto r = client_->Get("/v1/sagas/ghost/events");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["error"]["code"], "NOT_FOUND");
}

TEST_F(SagaHttpServerTest, AnErrorAfterTheStreamStartedIsAnErrorEvent) {
  PutRunningSaga("o-4");
  const std::string text = ReadStream("/v1/sagas/o-4/events?from=5");
  EXPECT_NE(text.find("event: error\ndata: {\"error\":{\"code\":\"OUT_OF_RANGE\""),
            std::string::npos)
      << text;
}

TEST_F(SagaHttpServerTest, AStreamTooFarBehindIsEndedWithResourceExhausted) {
  SagaHttpOptions options;
  options.max_watch_queue_events = 3;
  StartServer(options);
  PutRunningSaga("o-5");
  std::vector<SagaEventView> many(5, Event("step_started", "a"));
  backend_.AppendEvents("o-5", many, false);
  const std::string text = ReadStream("/v1/sagas/o-5/events");
  EXPECT_NE(text.find("RESOURCE_EXHAUSTED"), std::string::npos) << text;
  EXPECT_NE(text.find("resume from position 0"), std::string::npos) << text;
  EXPECT_EQ(text.find("id: "), std::string::npos) << text;
}

TEST_F(SagaHttpServerTest, AClientThatGoesAwayCancelsItsWatch) {
  PutRunningSaga("o-6");
  backend_.AppendEvents("o-6", {Event("saga_started")}, false);
  auto r = client_->Get("/v1/sagas/o-6/events", [](const char*, std::size_t) { return false; });
  EXPECT_FALSE(r);  // the client stopped reading
  // The server notices at its next write (a keepalive every 50ms here).
  for (int i = 0; i < 400 && backend_.watchers() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(backend_.watchers(), 0u);
  EXPECT_GE(backend_.cancels(), 1u);
}

TEST_F(SagaHttpServerTest, StopEndsOpenStreamsWithUnavailable) {
  PutRunningSaga("o-7");
  backend_.AppendEvents("o-7", {Event("saga_started")}, false);
  std::string text;
  std::thread reader([&] { text = ReadStream("/v1/sagas/o-7/events"); });
  while (backend_.watchers() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Stop();
  reader.join();
  EXPECT_NE(text.find("id: 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\"code\":\"UNAVAILABLE\""), std::string::npos) << text;
  EXPECT_NE(text.find("reconnect with Last-Event-ID: 0 to resume"), std::string::npos) << text;
  EXPECT_EQ(backend_.watchers(), 0u);
}

TEST_F(SagaHttpServerTest, ABusyPortIsAnErrorNamingTheFlag) {
  const std::uint16_t taken = server_->ports()[0];
  auto second = SagaHttpServer::Start(backend_, {Url{"http", "127.0.0.1", taken}}, {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("--listen-http-urls: cannot listen on"),
            std::string::npos)
      << second.status().message();
}

}  // namespace
}  // namespace tri::server
