// RunHttp against an httplib::Server on 127.0.0.1: statuses and the expect
// list, request delivery, transport errors, bounds, bad input, cancellation,
// redaction of credentials; https against a server whose CA the test makes.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "exec/blocking_actions.h"
#include "saga/events.h"

namespace tri::exec {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kPromptBound = 10s;

class HttpRunner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The server writes to clients that may have gone (cancel tests).
    ::signal(SIGPIPE, SIG_IGN);
  }

  void SetUp() override {
    server_.Get("/json", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"id": "r-1"})", "application/json");
    });
    server_.Get("/created", [](const httplib::Request&, httplib::Response& res) {
      res.status = 201;
      res.set_content("made", "text/plain");
    });
    server_.Get("/status/(\\d+)", [](const httplib::Request& req, httplib::Response& res) {
      res.status = std::stoi(req.matches[1]);
      res.set_content("status body", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.method + "|" + req.get_header_value("Content-Type") + "|" +
                          req.get_header_value("X-Trace") + "|" + req.body,
                      "text/plain");
    });
    server_.Put("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.method + "|" + req.body, "text/plain");
    });
    server_.Delete("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.method, "text/plain");
    });
    server_.Options("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Allow", "GET, POST, OPTIONS");
      res.set_content(req.method, "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100'000, 'x'), "text/plain");
    });
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(slow_mutex_);
      slow_entered_ = true;
      slow_cv_.notify_all();
      slow_cv_.wait_for(lock, 20s, [this] { return slow_release_; });
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    // Connections queue in the backlog until listen_after_bind accepts them.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Server::stop() is a no-op until the accept loop runs.
    auto deadline = Clock::now() + kPromptBound;
    while (!server_.is_running() && Clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(server_.is_running());
  }

  void TearDown() override {
    ReleaseSlow();
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  ActionOutcome Send(saga::HttpAction action) {
    CancelToken token;
    return RunHttp(action, options_, token);
  }
  ActionOutcome Get(const std::string& path, std::vector<int> expect = {}) {
    return Send({.url = Url(path), .expect = std::move(expect)});
  }

  bool WaitSlowEntered() {
    std::unique_lock<std::mutex> lock(slow_mutex_);
    return slow_cv_.wait_for(lock, kPromptBound, [this] { return slow_entered_; });
  }
  void ReleaseSlow() {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    slow_release_ = true;
    slow_cv_.notify_all();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  HttpOptions options_;
  std::mutex slow_mutex_;
  std::condition_variable slow_cv_;
  bool slow_entered_ = false;
  bool slow_release_ = false;
};

TEST_F(HttpRunner, OkResponseSucceedsWithTheBody) {
  ActionOutcome outcome = Get("/json");
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, R"({"id": "r-1"})");
}

TEST_F(HttpRunner, AnyTwoHundredIsSuccessWithoutAnExpectList) {
  EXPECT_TRUE(Get("/created").succeeded);
  EXPECT_TRUE(Get("/status/204").succeeded);
}

TEST_F(HttpRunner, ExpectListDecidesSuccess) {
  EXPECT_TRUE(Get("/status/404", {404}).succeeded);
  ActionOutcome outcome = Get("/json", {201});
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 200);
  EXPECT_FALSE(outcome.retryable);
}

TEST_F(HttpRunner, ServerErrorIsRetryableWithItsStatus) {
  ActionOutcome outcome = Get("/status/500");
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 500);
  EXPECT_TRUE(outcome.retryable);
  EXPECT_NE(outcome.message.find("unexpected status 500"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("status body"), std::string::npos) << outcome.message;
}

TEST_F(HttpRunner, ThrottlingAndTimeoutStatusesAreRetryable) {
  EXPECT_TRUE(Get("/status/429").retryable);
  EXPECT_TRUE(Get("/status/408").retryable);
  EXPECT_TRUE(Get("/status/503").retryable);
}

TEST_F(HttpRunner, ClientErrorIsNotRetryable) {
  ActionOutcome outcome = Get("/status/404");
  EXPECT_EQ(outcome.code, 404);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_EQ(Get("/no-route").code, 404);
}

TEST_F(HttpRunner, PostDeliversBodyHeadersAndDefaultContentType) {
  ActionOutcome outcome = Send({.method = "POST",
                                .url = Url("/echo"),
                                .headers = {{"X-Trace", "t-42"}},
                                .body = R"({"amount": 250})"});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, R"(POST|application/json|t-42|{"amount": 250})");
}

TEST_F(HttpRunner, ExplicitContentTypeIsKept) {
  ActionOutcome outcome = Send({.method = "post",
                                .url = Url("/echo"),
                                .headers = {{"content-type", "text/csv"}},
                                .body = "a,b"});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "POST|text/csv||a,b");
}

TEST_F(HttpRunner, PutDeleteAndHeadAreSent) {
  EXPECT_EQ(Send({.method = "PUT", .url = Url("/echo"), .body = "x"}).output, "PUT|x");
  EXPECT_EQ(Send({.method = "DELETE", .url = Url("/echo")}).output, "DELETE");
  ActionOutcome head = Send({.method = "HEAD", .url = Url("/json")});
  EXPECT_TRUE(head.succeeded) << head.message;
  EXPECT_EQ(head.output, "");
}

TEST_F(HttpRunner, ConnectionRefusedIs503AndRetryable) {
  // A bound socket that never listens: connecting to it is refused.
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ActionOutcome outcome =
      Send({.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"});
  ::close(sock);
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 503);
  EXPECT_TRUE(outcome.retryable);
  EXPECT_NE(outcome.message.find(httplib::to_string(httplib::Error::Connection)), std::string::npos)
      << outcome.message;
}

TEST_F(HttpRunner, HttpsToAPlainServerIsATransportError) {
  ActionOutcome outcome = Send({.url = "https://127.0.0.1:" + std::to_string(port_) + "/json"});
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 503);
  EXPECT_TRUE(outcome.retryable);
}

TEST_F(HttpRunner, ReadTimeoutIs503) {
  options_.timeout = 200ms;
  ActionOutcome outcome = Get("/slow");
  EXPECT_EQ(outcome.code, 503);
  EXPECT_TRUE(outcome.retryable);
}

TEST_F(HttpRunner, MalformedUrlIs400AndNotRetryable) {
  for (const char* url : {"not a url", "ftp://127.0.0.1/", "http://", "http://h:99999/"}) {
    ActionOutcome outcome = Send({.url = url});
    EXPECT_EQ(outcome.code, 400) << url;
    EXPECT_FALSE(outcome.retryable) << url;
    EXPECT_NE(outcome.message.find(url), std::string::npos) << outcome.message;
  }
}

TEST_F(HttpRunner, UnsupportedMethodIs400) {
  ActionOutcome outcome = Send({.method = "BREW", .url = Url("/json")});
  EXPECT_EQ(outcome.code, 400);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("BREW"), std::string::npos);
}

TEST_F(HttpRunner, HeaderInjectionIs400) {
  ActionOutcome outcome =
      Send({.url = Url("/json"), .headers = {{"X-Evil", "a\r\nInjected: yes"}}});
  EXPECT_EQ(outcome.code, 400);
  EXPECT_FALSE(outcome.retryable);
}

TEST_F(HttpRunner, BodyOverTheLimitFailsNamingTheLimit) {
  options_.max_output_bytes = 1000;
  ActionOutcome outcome = Get("/big");
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, saga::kCodeFailed);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("1000 bytes"), std::string::npos) << outcome.message;
}

TEST_F(HttpRunner, FailureMessageIsBounded) {
  options_.max_message_bytes = 64;
  options_.max_output_bytes = 200'000;
  server_.Get("/big-error", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(std::string(100'000, 'e'), "text/plain");
  });
  ActionOutcome outcome = Get("/big-error");
  EXPECT_EQ(outcome.code, 500);
  EXPECT_LE(outcome.message.size(), 64u);
}

TEST_F(HttpRunner, CancelAbortsASlowRequestPromptly) {
  CancelToken token;
  auto start = Clock::now();
  saga::HttpAction action{.url = Url("/slow")};
  auto running = std::async(std::launch::async, [&] { return RunHttp(action, options_, token); });
  ASSERT_TRUE(WaitSlowEntered());
  token.Cancel();
  bool done = running.wait_for(kPromptBound) == std::future_status::ready;
  EXPECT_TRUE(done) << "cancel did not abort the request";
  ReleaseSlow();
  ActionOutcome outcome = running.get();
  EXPECT_LT(Clock::now() - start, kPromptBound);
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, saga::kCodeCancelled);
  EXPECT_FALSE(outcome.retryable);
}

TEST_F(HttpRunner, CancelAbortsAPendingConnect) {
  // A listener that never accepts, its backlog filled: further connects stay
  // in SYN_SENT (or, if the kernel completes them, wait for a reply forever).
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(filler);
  }
  CancelToken token;
  saga::HttpAction action{.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"};
  auto start = Clock::now();
  auto running = std::async(std::launch::async, [&] { return RunHttp(action, options_, token); });
  std::this_thread::sleep_for(100ms);
  token.Cancel();
  bool done = running.wait_for(kPromptBound) == std::future_status::ready;
  EXPECT_TRUE(done) << "cancel did not abort the connect";
  ::close(listener);  // lets a hung request end, so the test cannot hang
  for (int filler : fillers)
    ::close(filler);
  ActionOutcome outcome = running.get();
  EXPECT_LT(Clock::now() - start, kPromptBound);
  EXPECT_EQ(outcome.code, saga::kCodeCancelled);
}

TEST_F(HttpRunner, CancelBeforeStartSendsNothing) {
  std::atomic<int> hits{0};
  server_.Get("/count", [&](const httplib::Request&, httplib::Response&) { ++hits; });
  CancelToken token;
  token.Cancel();
  ActionOutcome outcome = RunHttp({.url = Url("/count")}, options_, token);
  EXPECT_EQ(outcome.code, saga::kCodeCancelled);
  EXPECT_EQ(hits.load(), 0);
}

TEST_F(HttpRunner, OptionsIsSent) {
  ActionOutcome outcome = Send({.method = "options", .url = Url("/echo")});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "OPTIONS");
}

TEST_F(HttpRunner, FailureMessagesNeverShowUrlCredentialsOrHeaderValues) {
  ActionOutcome outcome = Send({.url = Url("/status/503?token=s3cret#frag-secret"),
                                .headers = {{"Authorization", "Bearer t0ken"}}});
  EXPECT_EQ(outcome.code, 503);
  EXPECT_EQ(outcome.message.find("s3cret"), std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.message.find("frag-secret"), std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.message.find("t0ken"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("/status/503?token=***"), std::string::npos) << outcome.message;
  // A transport error names the request the same way.
  const int closed_port = port_;
  server_.stop();
  thread_.join();
  thread_ = std::thread([] {});
  outcome = Send({.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/x?key=s3cret"});
  EXPECT_EQ(outcome.code, 503);
  EXPECT_EQ(outcome.message.find("s3cret"), std::string::npos) << outcome.message;
}

// An https server whose certificate is issued, at test time, by a CA that
// only the test knows (openssl CLI).
class HttpsRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tri-https-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    const std::string script =
        "cd " + dir_ +
        " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext"
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout ca.key -out ca.crt -days 2 -subj '/CN=tri test CA'"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout server.key -out server.csr -subj '/CN=localhost'"
        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
        " -out server.crt -days 2 -extfile san.ext) >" +
        dir_ + "/openssl.log 2>&1";
    ASSERT_EQ(std::system(("(" + script).c_str()), 0) << "openssl failed; see " << dir_;
    server_ = std::make_unique<httplib::SSLServer>((dir_ + "/server.crt").c_str(),
                                                   (dir_ + "/server.key").c_str());
    ASSERT_TRUE(server_->is_valid());
    server_->Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("over tls", "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    auto deadline = Clock::now() + kPromptBound;
    while (!server_->is_running() && Clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(server_->is_running());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->stop();
    if (thread_.joinable()) thread_.join();
    std::system(("rm -rf " + dir_).c_str());
  }

  ActionOutcome Get(const std::string& host, const HttpOptions& options) {
    CancelToken token;
    return RunHttp({.url = "https://" + host + ":" + std::to_string(port_) + "/hello"}, options,
                   token);
  }

  std::string dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpsRunner, RequestSucceedsWhenTheClientTrustsTheTestCa) {
  HttpOptions options;
  options.ca_file = dir_ + "/ca.crt";
  ActionOutcome outcome = Get("127.0.0.1", options);
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "over tls");
  outcome = Get("localhost", options);
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
}

TEST_F(HttpsRunner, UnknownCaIsRefusedByDefault) {
  ActionOutcome outcome = Get("127.0.0.1", HttpOptions{});
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 503);
  EXPECT_NE(outcome.message.find("SSL"), std::string::npos) << outcome.message;
}

TEST_F(HttpsRunner, MissingCaFileIsAConfigurationErrorNotARetry) {
  HttpOptions options;
  options.ca_file = dir_ + "/no-such-ca.crt";
  ActionOutcome outcome = Get("127.0.0.1", options);
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("no-such-ca.crt"), std::string::npos) << outcome.message;
}

}  // namespace
}  // namespace tri::exec
