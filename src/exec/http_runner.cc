// RunHttp: one request with cpp-httplib's blocking client.
//
// Cancellation does not call Client::stop(): httplib connects while holding
// the client's socket mutex, so stop() would block the cancelling thread (the
// runtime's event loop) for up to the connect timeout. Instead the client's
// socket-options hook hands us each socket as it is created; we keep a dup()
// of it (so the descriptor number cannot be recycled under us) and cancel
// with shutdown(SHUT_RDWR), which aborts a pending connect, TLS handshake,
// read or write at once without touching httplib's state.

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "base/assert.h"
#include "exec/blocking_actions.h"
#include "exec/text_bounds.h"
#include "exec/url.h"
#include "saga/dsl/http_methods.h"
#include "saga/events.h"

namespace tri::exec {
namespace {


// RFC 9110 token characters.
bool IsHeaderNameChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeaderName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsHeaderNameChar);
}

bool IsValidHeaderValue(const std::string& value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool IsRetryableStatus(int status) {
  return status == 408 || status == 429 || status >= 500;
}

bool Expected(const saga::HttpAction& action, int status) {
  if (action.expect.empty()) return status >= 200 && status <= 299;
  return std::find(action.expect.begin(), action.expect.end(), status) != action.expect.end();
}

// httplib (built with CPPHTTPLIB_SEND_FLAGS 0, and OpenSSL) writes with
// send()/write(), so a peer that closed the connection raises SIGPIPE, which
// would kill the process. Block it on this thread for the request and
// discard a SIGPIPE raised meanwhile (it is thread-directed, so it stays
// pending here). A SIGPIPE that was already pending is left alone.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = ::pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_) == 0;
  }
  ~ScopedSigpipeBlock() {
    if (!blocked_) return;
    if (!was_pending_) {
      const timespec zero{0, 0};
      while (::sigtimedwait(&pipe_set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool blocked_ = false;
};

// Shared between the request thread and the cancelling thread.
class SocketCanceller {
 public:
  SocketCanceller() = default;
  SocketCanceller(const SocketCanceller&) = delete;
  SocketCanceller& operator=(const SocketCanceller&) = delete;
  ~SocketCanceller() { Release(); }

  // Request thread: httplib created `sock` (once per address it tries).
  void Adopt(int sock) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dup_fd_ >= 0) ::close(dup_fd_);  // the previous attempt's socket
    dup_fd_ = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
    // Cancelled before this socket existed: a shut-down socket fails its
    // first send, so the request still ends without waiting for a reply.
    if (cancelled_) ::shutdown(sock, SHUT_RDWR);
  }

  // Any thread; cheap and non-blocking.
  void Cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    if (dup_fd_ >= 0) ::shutdown(dup_fd_, SHUT_RDWR);
  }

  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_;
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dup_fd_ >= 0) ::close(dup_fd_);
    dup_fd_ = -1;
  }

 private:
  mutable std::mutex mutex_;
  int dup_fd_ = -1;
  bool cancelled_ = false;
};

// How messages name the request: never with the URL's credentials.
std::string Describe(const std::string& method, const std::string& url) {
  return method + " " + RedactUrl(url);
}

}  // namespace

ActionOutcome RunHttp(const saga::HttpAction& action, const HttpOptions& options,
                      CancelToken& cancel) {
  TRI_ASSERT_MSG(options.timeout > Duration::zero(), "http timeout must be positive");
  const std::uint64_t max_message = options.max_message_bytes;
  std::string method = action.method;
  for (char& c : method)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!saga::IsSupportedHttpMethod(method)) {
    return FailedOutcome(400, false,
                         "unsupported HTTP method '" + action.method + "' (" +
                             saga::HttpMethodList() + " are)",
                         max_message);
  }
  Result<HttpUrl> url = ParseHttpUrl(action.url);
  if (!url.ok()) return FailedOutcome(400, false, url.status().message(), max_message);
  const std::string what = Describe(method, action.url);

  httplib::Request request;
  request.method = method;
  request.path = url->target;
  for (const auto& [name, value] : action.headers) {
    if (!IsValidHeaderName(name)) {
      return FailedOutcome(400, false, what + ": invalid header name '" + name + "'", max_message);
    }
    if (!IsValidHeaderValue(value)) {
      return FailedOutcome(400, false, what + ": header '" + name + "' has a line break or NUL",
                           max_message);
    }
    request.headers.emplace(name, value);
  }
  if (!request.has_header("Host")) request.headers.emplace("Host", url->host_header);
  if (!action.body.empty() && !request.has_header("Content-Type")) {
    request.headers.emplace("Content-Type", "application/json");
  }
  request.body = action.body;

  if (cancel.cancelled()) {
    return FailedOutcome(saga::kCodeCancelled, false, "cancelled before it started", max_message);
  }

  std::unique_ptr<httplib::ClientImpl> client;
  if (url->https) {
    auto ssl = std::make_unique<httplib::SSLClient>(url->host, url->port);
    if (!options.ca_file.empty()) {
      // Checked here: httplib would report an unreadable file as a generic
      // transport error, and a missing file is a configuration mistake that
      // no retry fixes.
      if (::access(options.ca_file.c_str(), R_OK) != 0) {
        return FailedOutcome(
            saga::kCodeFailed, false,
            what + ": cannot read the CA file '" + options.ca_file + "': " + std::strerror(errno),
            max_message);
      }
      ssl->set_ca_cert_path(options.ca_file.c_str());
    }
    // Verification stays on (httplib's default): the server's certificate
    // chain and host name are checked against the CA file or the system store.
    ssl->enable_server_certificate_verification(true);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(url->host, url->port);
  }
  client->set_connection_timeout(options.timeout);
  client->set_read_timeout(options.timeout);
  client->set_write_timeout(options.timeout);
  client->set_keep_alive(false);
  client->set_follow_location(false);
  client->set_url_encode(false);  // ParseHttpUrl already produced a valid target

  auto canceller = std::make_shared<SocketCanceller>();
  client->set_socket_options([canceller](int sock) { canceller->Adopt(sock); });

  std::string body;
  bool body_too_large = false;
  request.content_receiver = [&](const char* data, std::size_t size, std::uint64_t /*offset*/,
                                 std::uint64_t /*total*/) {
    if (body.size() + size > options.max_output_bytes) {
      body_too_large = true;
      return false;
    }
    body.append(data, size);
    return true;
  };

  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  bool sent;
  {
    ScopedSigpipeBlock no_sigpipe;
    cancel.OnCancel([canceller] { canceller->Cancel(); });
    sent = client->send(request, response, error);
    cancel.ClearOnCancel();
    // Our dup must not outlive the request: closing it lets the socket go.
    canceller->Release();
    client.reset();
  }

  if (body_too_large) {
    return FailedOutcome(saga::kCodeFailed, false,
                         what + ": response body exceeds the limit of " +
                             std::to_string(options.max_output_bytes) + " bytes",
                         max_message);
  }
  if (canceller->cancelled()) {
    return FailedOutcome(saga::kCodeCancelled, false, what + ": cancelled", max_message);
  }
  if (!sent) {
    return FailedOutcome(503, true, what + ": " + httplib::to_string(error), max_message);
  }
  const int status = response.status;
  if (Expected(action, status)) {
    return ActionOutcome{.succeeded = true, .output = std::move(body)};
  }
  std::string message = what + ": unexpected status " + std::to_string(status);
  if (!body.empty()) message += "; body: " + body;
  return FailedOutcome(status, IsRetryableStatus(status), std::move(message), max_message);
}

}  // namespace tri::exec
